//! Server configuration: a TOML file, then environment overrides, then flags.
//!
//! ```toml
//! listen = "127.0.0.1:9380"
//! data_dir = "/var/lib/fedflow/9999"
//! party_ids = [9999]                 # parties this server hosts; empty = all (standalone)
//! meta_url = "mysql://root@127.0.0.1:3306/fedflow_9999"   # default: sqlite in data_dir
//! federation_dir = "/var/lib/fedflow/federation"          # standalone mailboxes; default data_dir/federation
//! app_key = "…"                      # optional: require fate-client's HMAC signature
//! secret_key = "…"                   #   (the same pair on every server of a federation)
//! unsigned_multipart = false         # true: accept fate-client's uploads, whose file part it does not sign
//! insecure = false                   # true: cluster mode on a public address without keys or [tls]
//! max_body_mb = 4096                 # largest upload (multipart / data/upload) body
//! max_request_mb = 16                # largest body of any other request
//! request_timeout = 30               # s for a request's headers, and between two pieces of its body
//! max_executors = 16                 # task executors running at once on this server; default 2 × cores (4..=64)
//! [route]                            # other parties' servers
//! 10000 = "http://127.0.0.1:9381"
//! [federation]                       # cluster federation (jobs with federation_engine RABBITMQ or GRPC)
//! amqp_url = "amqp://guest:guest@127.0.0.1:5672"
//! rabbitmq_mode = "auto"             # vhost per party pair when the management API answers, else queues
//! grpc_listen = "0.0.0.0:9370"       # this party's federation endpoint; default its own route
//! tls_ca = "/etc/fedflow/ca.crt"     # with tls_cert/tls_key: mTLS (`fedflow cert`)
//! tls_cert = "/etc/fedflow/party-{party_id}.crt"
//! tls_key = "/etc/fedflow/party-{party_id}.key"
//! connect_timeout = 30               # s a sender retries a peer endpoint that refuses connections
//! [federation.grpc_routes]           # party id → federation endpoint
//! 9999 = "127.0.0.1:9370"
//! 10000 = "127.0.0.1:9371"
//! [tls]                              # control plane over HTTPS with mTLS (routes written https://)
//! listen = "127.0.0.1:9443"          # other servers call this; /v1/party/* is refused on `listen`
//! ca = "/etc/fedflow/ca.crt"
//! cert = "/etc/fedflow/party-{party_id}.crt"
//! key = "/etc/fedflow/party-{party_id}.key"
//! ```
//!
//! A server with `party_ids` and a gRPC route for its first party (or
//! `grpc_listen`) hosts that party's federation endpoint itself (FATE's
//! rollsite role): its executors send to the peers' servers and receive
//! through it.
//!
//! # Authentication
//!
//! * **Public routes** (`/v1/…` but `/v1/party/…`): with `app_key`/`secret_key`
//!   every request carries fate-client's signature (headers `TIMESTAMP`,
//!   `NONCE`, `APP_KEY`, `SIGNATURE`; see [`crate::api::auth`]); a
//!   (timestamp, nonce) pair is accepted once within the 60 s window. The
//!   board logs in with the key pair into a session cookie
//!   (`POST /board/api/login`). Without keys they are open (standalone use on
//!   a trusted machine: the default `listen` is loopback).
//! * **Party routes** (`/v1/party/…`, the control plane between servers) are
//!   authenticated in every configuration: with `[tls]` only over the mTLS
//!   listener (a party certificate from the federation's CA); else with keys
//!   by the same signature, which the peer client ([`crate::scheduler::Http`])
//!   sends (servers of one federation share the key pair); with neither, only
//!   from loopback peers (this machine: the standalone start, test clusters on
//!   127.0.0.1); a non-loopback caller gets retcode 109 naming what to
//!   configure. `insecure = true` (`fedflow server --insecure`) lifts that
//!   last restriction, for closed test networks only.
//! * **Bodies are signed whatever their type**: JSON bodies are a line of
//!   fate-client's signed message, form bodies their sorted fields; any other
//!   body (multipart uploads, raw bytes) must come with `X-Fedflow-Body-Sha256`
//!   (hex SHA-256 of the raw body), which is signed as a 7th line and checked
//!   against the bytes received. fate-client 1.11.3 does not sign multipart
//!   bodies (its `flow data upload` signs the upload conf, sent in the query
//!   string, but not the file): such uploads are refused unless
//!   `unsigned_multipart = true`.
//! * **Cluster mode** (`party_ids` or `route` set) on a non-loopback `listen`
//!   address refuses to start without keys or `[tls]`, unless `insecure`.
//!
//! # Resource limits
//!
//! Bodies over `max_body_mb` (uploads) / `max_request_mb` (the rest) get HTTP
//! 413 in FATE's envelope; a client whose headers, or the next piece of whose
//! body, do not arrive within `request_timeout` seconds is cut off (408 or a
//! closed connection); at most `max_executors` task executors run at once:
//! the scheduler starts a component's tasks on this server only when slots
//! for all of them are free, so jobs beyond the cap stay `waiting`.
//!
//! The `[federation]` section reaches the task executors through the
//! environment: [`ServerConfig::apply_env`] merges `FEDFLOW_AMQP_URL`,
//! `FEDFLOW_GRPC_ROUTES`, … into it and exports the result as
//! `FEDFLOW_FEDERATION` (JSON), which executors inherit.

use crate::ServerError;
use fedflow_flow::task::{FederationSettings, FEDERATION_SETTINGS_ENV};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The server's settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// Data directory.
    #[serde(default = "default_data_dir")]
    pub data_dir: PathBuf,
    /// Parties hosted here; empty means every party of a job (standalone).
    #[serde(default)]
    pub party_ids: Vec<u64>,
    /// Meta store URL; default SQLite in the data directory.
    #[serde(default)]
    pub meta_url: Option<String>,
    /// Standalone federation mailbox directory.
    #[serde(default)]
    pub federation_dir: Option<PathBuf>,
    /// Other parties' servers: party id → base URL.
    #[serde(default)]
    pub route: BTreeMap<String, String>,
    /// HMAC app key (with `secret_key`): requests must be signed as fate-client signs them.
    #[serde(default)]
    pub app_key: Option<String>,
    /// HMAC secret.
    #[serde(default)]
    pub secret_key: Option<String>,
    /// Seconds a peer server may be unreachable before its job fails.
    #[serde(default = "default_heartbeat")]
    pub heartbeat_timeout: u64,
    /// The `fedflow` executable that runs tasks; default: this process's own.
    #[serde(default)]
    pub executor: Option<PathBuf>,
    /// Endpoints of the cluster federation engines (RabbitMQ, gRPC).
    #[serde(default)]
    pub federation: FederationSettings,
    /// The control plane between servers over HTTPS with mTLS ([`crate::tls`]).
    #[serde(default)]
    pub tls: Option<crate::tls::ControlTls>,
    /// Where requests may make this server read and write files
    /// ([`crate::confine`]).
    #[serde(default)]
    pub paths: crate::confine::PathsConfig,
    /// Accept multipart bodies that carry no signed `X-Fedflow-Body-Sha256`
    /// (fate-client's `flow data upload` on a signing server).
    #[serde(default)]
    pub unsigned_multipart: bool,
    /// Run cluster mode on a public address without keys or `[tls]`, and
    /// accept party routes from any address when neither is set.
    #[serde(default)]
    pub insecure: bool,
    /// Largest upload body (multipart, `/v1/data/upload`), MiB.
    #[serde(default = "default_max_body_mb")]
    pub max_body_mb: u64,
    /// Largest body of any other request, MiB.
    #[serde(default = "default_max_request_mb")]
    pub max_request_mb: u64,
    /// Seconds a client has to send its request headers, and between two
    /// pieces of its body.
    #[serde(default = "default_request_timeout")]
    pub request_timeout: u64,
    /// Task executors running at once on this server.
    #[serde(default = "default_max_executors")]
    pub max_executors: usize,
}

fn default_max_body_mb() -> u64 {
    4096
}
fn default_max_request_mb() -> u64 {
    16
}
fn default_request_timeout() -> u64 {
    30
}
/// Twice the cores, between 4 and 64.
fn default_max_executors() -> usize {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2);
    (2 * cores).clamp(4, 64)
}

fn default_listen() -> String {
    "127.0.0.1:9380".into()
}
fn default_data_dir() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
        .join(".fedflow")
}
fn default_heartbeat() -> u64 {
    30
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: default_listen(),
            data_dir: default_data_dir(),
            party_ids: Vec::new(),
            meta_url: None,
            federation_dir: None,
            route: BTreeMap::new(),
            app_key: None,
            secret_key: None,
            heartbeat_timeout: default_heartbeat(),
            executor: None,
            federation: FederationSettings::default(),
            tls: None,
            paths: crate::confine::PathsConfig::default(),
            unsigned_multipart: false,
            insecure: false,
            max_body_mb: default_max_body_mb(),
            max_request_mb: default_max_request_mb(),
            request_timeout: default_request_timeout(),
            max_executors: default_max_executors(),
        }
    }
}

impl ServerConfig {
    /// Reads a TOML file (errors name the file and the field).
    pub fn from_file(path: &Path) -> Result<Self, ServerError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ServerError::Config(format!("{}: {e}", path.display())))?;
        toml::from_str(&text).map_err(|e| {
            ServerError::Config(format!(
                "{}: {}",
                path.display(),
                e.to_string().replace('\n', " ")
            ))
        })
    }

    /// Applies `FEDFLOW_LISTEN`, `FEDFLOW_DATA_DIR` (or `FEDFLOW_HOME`), `FEDFLOW_META_URL`,
    /// `FEDFLOW_PARTY_IDS` (comma-separated), `FEDFLOW_APP_KEY`, `FEDFLOW_SECRET_KEY`.
    pub fn apply_env(&mut self) -> Result<(), ServerError> {
        if let Ok(v) = std::env::var("FEDFLOW_LISTEN") {
            self.listen = v;
        }
        if let Some(v) =
            std::env::var_os("FEDFLOW_DATA_DIR").or_else(|| std::env::var_os("FEDFLOW_HOME"))
        {
            self.data_dir = PathBuf::from(v);
        }
        if let Ok(v) = std::env::var("FEDFLOW_META_URL") {
            self.meta_url = Some(v);
        }
        if let Ok(v) = std::env::var("FEDFLOW_PARTY_IDS") {
            self.party_ids = v
                .split(',')
                .filter(|s| !s.trim().is_empty())
                .map(|s| {
                    s.trim().parse().map_err(|_| {
                        ServerError::Config(format!("FEDFLOW_PARTY_IDS: '{s}' is not a party id"))
                    })
                })
                .collect::<Result<_, _>>()?;
        }
        if let Ok(v) = std::env::var("FEDFLOW_APP_KEY") {
            self.app_key = Some(v);
        }
        if let Ok(v) = std::env::var("FEDFLOW_SECRET_KEY") {
            self.secret_key = Some(v);
        }
        self.federation
            .apply_env()
            .map_err(|e| ServerError::Config(e.to_string()))?;
        self.export_federation();
        Ok(())
    }

    /// Exports the `[federation]` section as `FEDFLOW_FEDERATION` (JSON) so
    /// that the task executors this server starts inherit it. Call it before
    /// starting threads (it sets a process environment variable).
    pub fn export_federation(&self) {
        if self.federation != FederationSettings::default() {
            if let Ok(json) = serde_json::to_string(&self.federation) {
                std::env::set_var(FEDERATION_SETTINGS_ENV, json);
            }
        }
    }

    /// Checks the settings.
    ///
    /// (The federation section is checked when a job opens it.)
    pub fn validate(&self) -> Result<(), ServerError> {
        for (pid, url) in &self.route {
            pid.parse::<u64>().map_err(|_| {
                ServerError::Config(format!("route: key '{pid}' is not a party id"))
            })?;
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(ServerError::Config(format!(
                    "route.{pid}: '{url}' is not an http(s) URL"
                )));
            }
            if url.starts_with("https://") && self.tls.is_none() {
                return Err(ServerError::Config(format!(
                    "route.{pid}: '{url}' is https: add a [tls] section (ca, cert, key) for the client certificate"
                )));
            }
        }
        if self.app_key.is_some() != self.secret_key.is_some() {
            return Err(ServerError::Config(
                "app_key and secret_key go together".into(),
            ));
        }
        if self.app_key.as_deref() == Some("") || self.secret_key.as_deref() == Some("") {
            return Err(ServerError::Config(
                "app_key and secret_key must not be empty".into(),
            ));
        }
        if self.max_executors == 0 || self.max_body_mb == 0 || self.max_request_mb == 0 {
            return Err(ServerError::Config(
                "max_executors, max_body_mb and max_request_mb must be at least 1".into(),
            ));
        }
        if self.request_timeout == 0 {
            return Err(ServerError::Config(
                "request_timeout must be at least 1 s".into(),
            ));
        }
        if self.is_cluster()
            && !self.listen_is_loopback()
            && self.keys().is_none()
            && self.tls.is_none()
            && !self.insecure
        {
            return Err(ServerError::Config(format!(
                "listen {}: a cluster-mode server (party_ids/route set) on a non-loopback address needs \
                 authentication: set app_key and secret_key (the same on every server of the federation) \
                 or a [tls] section (mTLS), or pass --insecure (insecure = true) to run it unauthenticated",
                self.listen
            )));
        }
        Ok(())
    }

    /// Cluster mode: this server hosts some parties (`party_ids`) or routes to
    /// other parties' servers.
    pub fn is_cluster(&self) -> bool {
        !self.party_ids.is_empty() || !self.route.is_empty()
    }

    /// True when `listen` is a loopback address (`127.0.0.0/8`, `::1`, `localhost`).
    pub fn listen_is_loopback(&self) -> bool {
        if let Ok(a) = self.listen.parse::<std::net::SocketAddr>() {
            return a.ip().is_loopback();
        }
        let host = self
            .listen
            .rsplit_once(':')
            .map(|(h, _)| h)
            .unwrap_or(&self.listen);
        host.eq_ignore_ascii_case("localhost")
    }

    /// The HMAC key pair, when both are set.
    pub fn keys(&self) -> Option<(&str, &str)> {
        match (&self.app_key, &self.secret_key) {
            (Some(k), Some(s)) => Some((k.as_str(), s.as_str())),
            _ => None,
        }
    }

    /// The address of the gRPC federation endpoint this server hosts for its
    /// parties (FATE's rollsite role): `[federation] grpc_listen`, else the
    /// `grpc_routes` entry of its first party. `None` in standalone mode (no
    /// `party_ids`) without `grpc_listen`, or without either setting.
    pub fn grpc_endpoint(&self) -> Option<String> {
        if let Some(l) = &self.federation.grpc_listen {
            return Some(l.clone());
        }
        let me = self.party_ids.first()?;
        self.federation.grpc_routes.get(&me.to_string()).cloned()
    }

    /// The federation settings the task executors get (`FEDFLOW_FEDERATION`):
    /// the `[federation]` section, and when this server hosts the gRPC
    /// endpoint, executors receive through its mailbox instead of listening.
    pub fn executor_federation(&self) -> FederationSettings {
        let mut f = self.federation.clone();
        if self.grpc_endpoint().is_some() {
            f.grpc_listen = None;
            f.grpc_mailbox = Some(self.federation_dir());
        }
        f
    }

    /// True when this server runs the given party's tasks.
    pub fn hosts(&self, party_id: u64) -> bool {
        self.party_ids.is_empty() || self.party_ids.contains(&party_id)
    }

    /// The mailbox directory of the standalone federation.
    pub fn federation_dir(&self) -> PathBuf {
        self.federation_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("federation"))
    }

    /// The meta store URL.
    pub fn meta_url(&self) -> String {
        self.meta_url
            .clone()
            .unwrap_or_else(|| format!("sqlite:{}", self.data_dir.join("meta.sqlite").display()))
    }
}

#[cfg(test)]
mod federation_section_tests {
    use super::*;

    #[test]
    fn the_federation_section_parses_and_reaches_executors_as_json() {
        let cfg: ServerConfig = toml::from_str(
            r#"
listen = "127.0.0.1:9380"
[federation]
amqp_url = "amqp://u:p@10.0.0.1:5672"
rabbitmq_mode = "queue"
tls_ca = "/etc/fedflow/ca.crt"
tls_cert = "/etc/fedflow/party-{party_id}.crt"
tls_key = "/etc/fedflow/party-{party_id}.key"
[federation.grpc_routes]
9999 = "127.0.0.1:9370"
10000 = "127.0.0.1:9371"
"#,
        )
        .unwrap();
        assert_eq!(
            cfg.federation.amqp_url.as_deref(),
            Some("amqp://u:p@10.0.0.1:5672")
        );
        assert_eq!(cfg.federation.grpc_routes["10000"], "127.0.0.1:9371");
        let json = serde_json::to_string(&cfg.federation).unwrap();
        let back: FederationSettings = serde_json::from_str(&json).unwrap();
        assert_eq!(back, cfg.federation);
        let bad = toml::from_str::<ServerConfig>("[federation]\nampq_url = \"x\"\n");
        assert!(bad.unwrap_err().to_string().contains("ampq_url"));
    }

    #[test]
    fn cluster_mode_on_a_public_address_needs_keys_tls_or_insecure() {
        let mut c = ServerConfig {
            listen: "0.0.0.0:9380".into(),
            party_ids: vec![9999],
            ..ServerConfig::default()
        };
        let e = c.validate().unwrap_err().to_string();
        assert!(
            e.contains("app_key and secret_key") && e.contains("[tls]") && e.contains("--insecure"),
            "{e}"
        );
        assert!(!e.contains('\n'), "one line: {e}");
        c.insecure = true;
        c.validate().unwrap();
        c.insecure = false;
        c.app_key = Some("k".into());
        c.secret_key = Some("s".into());
        c.validate().unwrap();
        // Loopback or standalone: no keys needed.
        let lo = ServerConfig {
            listen: "127.0.0.1:9380".into(),
            party_ids: vec![9999],
            ..ServerConfig::default()
        };
        lo.validate().unwrap();
        let standalone = ServerConfig {
            listen: "0.0.0.0:9380".into(),
            ..ServerConfig::default()
        };
        standalone.validate().unwrap();
        assert!(ServerConfig {
            listen: "localhost:1".into(),
            ..ServerConfig::default()
        }
        .listen_is_loopback());
    }

    #[test]
    fn the_sample_cluster_configs_are_valid() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/cluster");
        let mut seen = Vec::new();
        for (file, pid) in [
            ("guest-9999.toml", 9999u64),
            ("host-10000.toml", 10000),
            ("arbiter-10001.toml", 10001),
        ] {
            let cfg = ServerConfig::from_file(&dir.join(file)).unwrap();
            cfg.validate().unwrap();
            assert_eq!(cfg.party_ids, vec![pid]);
            assert!(
                cfg.grpc_endpoint().is_some(),
                "{file} hosts its federation endpoint"
            );
            assert!(cfg.tls.as_ref().and_then(|t| t.listen.as_ref()).is_some());
            assert!(cfg.route.values().all(|u| u.starts_with("https://")));
            assert_eq!(cfg.route.len(), 2);
            let ex = cfg.executor_federation();
            assert!(ex.grpc_mailbox.is_some() && ex.grpc_listen.is_none());
            seen.push((cfg.listen.clone(), cfg.meta_url.clone()));
        }
        assert!(seen[0].1.as_deref().unwrap_or("").starts_with("mysql://"));
        seen.dedup_by(|a, b| a.0 == b.0);
        assert_eq!(seen.len(), 3, "distinct listen addresses");
    }
}
