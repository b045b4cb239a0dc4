//! Choosing and configuring a federation engine: [`open`].
//!
//! Settings come, lowest precedence first, from the server config's
//! `[federation]` section (which the server exports to its task executors as
//! `FEDFLOW_FEDERATION`, JSON), from single environment variables, and from
//! the job's `rabbitmq_run`:
//!
//! | setting | env | `[federation]` key | `rabbitmq_run` key |
//! | --- | --- | --- | --- |
//! | AMQP URL | `FEDFLOW_AMQP_URL` | `amqp_url` | `amqp_url`, or `host`/`port`/`user`/`password` |
//! | management API | `FEDFLOW_RABBITMQ_MANAGEMENT_URL` | `rabbitmq_management_url` | `mng_url` / `mng_port` |
//! | vhost or queue naming | `FEDFLOW_RABBITMQ_MODE` (`auto`, `vhost`, `queue`) | `rabbitmq_mode` | `mode` |
//! | gRPC listen address | `FEDFLOW_GRPC_LISTEN` | `grpc_listen` | |
//! | gRPC routes | `FEDFLOW_GRPC_ROUTES` (`9999=127.0.0.1:50051,10000=…`) | `[federation.grpc_routes]` | |
//! | CA / cert / key (PEM; `{party_id}` is replaced) | `FEDFLOW_TLS_CA`, `FEDFLOW_TLS_CERT`, `FEDFLOW_TLS_KEY` | `tls_ca`, `tls_cert`, `tls_key` | |
//! | chunk size | `FEDFLOW_FEDERATION_CHUNK_BYTES` | `chunk_bytes` | `max_message_size` |
//! | gRPC: retry a refusing peer for (s) | | `connect_timeout` | |
//! | gRPC: receive through the server's endpoint | | `grpc_mailbox` (set by the server) | |

use crate::grpc::{GrpcFederation, GrpcOptions, TlsFiles};
use crate::rabbitmq::{RabbitMode, RabbitMqFederation, RabbitMqOptions};
use crate::standalone::{StandaloneFederation, StandaloneFederationOptions};
use crate::{Federation, FederationError, Result, Roster};
use fedflow_core::Party;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The environment variable holding a whole [`FederationSettings`] as JSON.
pub const SETTINGS_ENV: &str = "FEDFLOW_FEDERATION";

/// Where the engines find their peers and brokers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FederationSettings {
    /// Standalone: the mailbox directory shared by the parties.
    pub standalone_dir: Option<PathBuf>,
    /// RabbitMQ: `amqp://user:password@host:port` (default `amqp://guest:guest@127.0.0.1:5672`).
    pub amqp_url: Option<String>,
    /// RabbitMQ management API (default `http://{amqp host}:15672`).
    pub rabbitmq_management_url: Option<String>,
    /// `auto` (vhost per party pair when the management API answers, else
    /// queues in the default vhost), `vhost` or `queue`.
    pub rabbitmq_mode: Option<String>,
    /// gRPC: this party's federation endpoint (default: its own route).
    pub grpc_listen: Option<String>,
    /// gRPC: party id → `host:port`.
    pub grpc_routes: BTreeMap<String, String>,
    /// TLS trust set (CA certificate, PEM). With cert and key: mTLS.
    pub tls_ca: Option<PathBuf>,
    /// This party's certificate (PEM); `{party_id}` is replaced.
    pub tls_cert: Option<PathBuf>,
    /// This party's key (PEM); `{party_id}` is replaced.
    pub tls_key: Option<PathBuf>,
    /// The largest chunk (default 1 MiB, as FATE's `max_message_size`).
    pub chunk_bytes: Option<usize>,
    /// gRPC: where arrivals nobody is reading yet spill (default: the temp dir).
    pub spool_dir: Option<PathBuf>,
    /// gRPC: receive through the party server's endpoint, which writes
    /// arrivals into this mailbox directory (set by `fedflow server` for its
    /// task executors when it hosts the endpoint); the executor then binds no port.
    pub grpc_mailbox: Option<PathBuf>,
    /// gRPC: seconds a sender retries a peer endpoint that refuses
    /// connections (exponential backoff) before failing (default 30).
    pub connect_timeout: Option<u64>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Parses `9999=127.0.0.1:50051,10000=127.0.0.1:50052`.
pub fn parse_routes(s: &str) -> Result<BTreeMap<String, String>> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').ok_or_else(|| {
                FederationError::Usage(format!("grpc route '{p}': expected party_id=host:port"))
            })?;
            k.trim().parse::<u64>().map_err(|_| {
                FederationError::Usage(format!("grpc route '{p}': '{k}' is not a party id"))
            })?;
            Ok((k.trim().to_string(), v.trim().to_string()))
        })
        .collect()
}

impl FederationSettings {
    /// `FEDFLOW_FEDERATION` (JSON), then the single variables.
    pub fn from_env() -> Result<Self> {
        let mut s = match env(SETTINGS_ENV) {
            Some(json) => serde_json::from_str(&json)
                .map_err(|e| FederationError::Usage(format!("{SETTINGS_ENV}: {e}")))?,
            None => FederationSettings::default(),
        };
        s.apply_env()?;
        Ok(s)
    }

    /// Applies the single environment variables over these settings.
    pub fn apply_env(&mut self) -> Result<()> {
        if let Some(v) = env("FEDFLOW_AMQP_URL") {
            self.amqp_url = Some(v);
        }
        if let Some(v) = env("FEDFLOW_RABBITMQ_MANAGEMENT_URL") {
            self.rabbitmq_management_url = Some(v);
        }
        if let Some(v) = env("FEDFLOW_RABBITMQ_MODE") {
            self.rabbitmq_mode = Some(v);
        }
        if let Some(v) = env("FEDFLOW_GRPC_LISTEN") {
            self.grpc_listen = Some(v);
        }
        if let Some(v) = env("FEDFLOW_GRPC_ROUTES") {
            self.grpc_routes.extend(parse_routes(&v)?);
        }
        if let Some(v) = env("FEDFLOW_TLS_CA") {
            self.tls_ca = Some(v.into());
        }
        if let Some(v) = env("FEDFLOW_TLS_CERT") {
            self.tls_cert = Some(v.into());
        }
        if let Some(v) = env("FEDFLOW_TLS_KEY") {
            self.tls_key = Some(v.into());
        }
        if let Some(v) = env("FEDFLOW_FEDERATION_CHUNK_BYTES") {
            self.chunk_bytes = Some(v.parse().map_err(|_| {
                FederationError::Usage(format!(
                    "FEDFLOW_FEDERATION_CHUNK_BYTES: '{v}' is not a number"
                ))
            })?);
        }
        Ok(())
    }

    /// Applies a job's `rabbitmq_run` (FATE's keys where they exist).
    pub fn apply_rabbitmq_run(&mut self, run: &serde_json::Value) -> Result<()> {
        let Some(o) = run.as_object() else {
            return Ok(());
        };
        let s = |k: &str| {
            o.get(k).and_then(|v| match v {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
        };
        if let Some(u) = s("amqp_url") {
            self.amqp_url = Some(u);
        } else if o.contains_key("host") || o.contains_key("port") || o.contains_key("user") {
            self.amqp_url = Some(format!(
                "amqp://{}:{}@{}:{}",
                s("user").unwrap_or_else(|| "guest".into()),
                s("password").unwrap_or_else(|| "guest".into()),
                s("host").unwrap_or_else(|| "127.0.0.1".into()),
                s("port").unwrap_or_else(|| "5672".into()),
            ));
        }
        if let Some(u) = s("mng_url") {
            self.rabbitmq_management_url = Some(u);
        } else if let Some(p) = s("mng_port") {
            let host = s("host").unwrap_or_else(|| "127.0.0.1".into());
            self.rabbitmq_management_url = Some(format!("http://{host}:{p}"));
        }
        if let Some(m) = s("mode") {
            self.rabbitmq_mode = Some(m);
        }
        if let Some(n) = o.get("max_message_size").and_then(|v| v.as_u64()) {
            self.chunk_bytes = Some(n as usize);
        }
        Ok(())
    }

    fn chunk(&self) -> usize {
        self.chunk_bytes.unwrap_or(1 << 20).max(1024)
    }
}

/// The engines `open` knows.
pub const ENGINES: &[&str] = &["STANDALONE", "RABBITMQ", "GRPC"];

/// Opens party `local`'s end of federation session `session` on `engine`
/// (`None`, `STANDALONE` or `EGGROLL`: the standalone default; `RABBITMQ`;
/// `GRPC`; any case).
pub fn open(
    engine: Option<&str>,
    settings: &FederationSettings,
    session: &str,
    local: Party,
    roster: &Roster,
    timeout: Duration,
) -> Result<Arc<dyn Federation>> {
    let name = engine.unwrap_or("STANDALONE").trim().to_ascii_uppercase();
    match name.as_str() {
        // EGGROLL deployments run standalone in fedflow, as for computing.
        "STANDALONE" | "EGGROLL" | "" => {
            let dir = settings.standalone_dir.clone().ok_or_else(|| {
                FederationError::Usage(
                    "the standalone federation needs its mailbox directory".into(),
                )
            })?;
            Ok(Arc::new(StandaloneFederation::new(
                &dir,
                session,
                local,
                StandaloneFederationOptions {
                    timeout,
                    chunk_bytes: settings.chunk(),
                },
            )?))
        }
        "RABBITMQ" => {
            let mode = match settings
                .rabbitmq_mode
                .as_deref()
                .map(str::to_ascii_lowercase)
                .as_deref()
            {
                None | Some("auto") => RabbitMode::Auto,
                Some("vhost") => RabbitMode::Vhost,
                Some("queue") => RabbitMode::Queue,
                Some(m) => {
                    return Err(FederationError::Usage(format!(
                        "rabbitmq mode '{m}': expected auto, vhost or queue"
                    )))
                }
            };
            let mut o = RabbitMqOptions {
                timeout,
                chunk_bytes: settings.chunk(),
                mode,
                management_url: settings.rabbitmq_management_url.clone(),
                ..Default::default()
            };
            if let Some(u) = &settings.amqp_url {
                o.url = u.clone();
            }
            Ok(Arc::new(RabbitMqFederation::new(
                session, local, roster, o,
            )?))
        }
        "GRPC" => {
            let routes = settings
                .grpc_routes
                .iter()
                .map(|(k, v)| {
                    k.parse::<u64>().map(|k| (k, v.clone())).map_err(|_| {
                        FederationError::Usage(format!("grpc route: '{k}' is not a party id"))
                    })
                })
                .collect::<Result<BTreeMap<_, _>>>()?;
            let tls = match (&settings.tls_ca, &settings.tls_cert, &settings.tls_key) {
                (None, None, None) => None,
                (Some(ca), Some(cert), Some(key)) => Some(TlsFiles {
                    ca: ca.clone(),
                    cert: cert.clone(),
                    key: key.clone(),
                }),
                _ => {
                    return Err(FederationError::Usage(
                        "grpc TLS needs all of tls_ca, tls_cert and tls_key".into(),
                    ))
                }
            };
            let o = GrpcOptions {
                timeout,
                chunk_bytes: settings.chunk(),
                listen: settings.grpc_listen.clone(),
                routes,
                tls,
                spool_dir: settings.spool_dir.clone(),
                mailbox: settings.grpc_mailbox.clone(),
                connect_patience: Duration::from_secs(settings.connect_timeout.unwrap_or(30)),
                ..Default::default()
            };
            Ok(Arc::new(GrpcFederation::new(session, local, roster, o)?))
        }
        other => Err(FederationError::Usage(format!(
            "federation_engine '{other}' is not supported: expected one of {}",
            ENGINES.join(", ")
        ))),
    }
}
