//! The server's shared state.

use crate::config::ServerConfig;
use crate::ServerError;
use fedflow_flow::store::{status, JobStore};
use fedflow_flow::ModelStore;
use fedflow_storage::StorageContext;
use parking_lot::Mutex;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::process::Child;

/// Identifies a running executor process.
pub(crate) type TaskKey = (String, String, i64, String, u64);

/// Everything handlers and the scheduler share.
pub struct App {
    /// Settings.
    pub config: ServerConfig,
    /// Jobs, tasks, metrics, models.
    pub store: JobStore,
    /// Tables.
    pub storage: StorageContext,
    /// Model files.
    pub models: ModelStore,
    /// The executable that runs tasks.
    pub executor: PathBuf,
    /// Where requests may read and write files.
    pub confine: crate::confine::Confinement,
    pub(crate) children: Mutex<HashMap<TaskKey, Child>>,
    /// Jobs a user asked to stop, with the state to end in.
    pub(crate) stopping: Mutex<HashMap<String, String>>,
    /// Jobs whose scheduler thread runs here.
    pub(crate) scheduling: Mutex<HashSet<String>>,
    /// Signatures seen within the window (replays are refused).
    pub(crate) nonces: Mutex<crate::api::auth::NonceCache>,
    /// Board sessions: token → expiry (ms).
    pub(crate) sessions: Mutex<HashMap<String, i64>>,
    /// Executor slots in use (running executors plus reservations).
    executors: Mutex<usize>,
}

impl App {
    /// Opens the stores.
    pub fn open(config: ServerConfig) -> Result<Self, ServerError> {
        config.validate()?;
        std::fs::create_dir_all(&config.data_dir).map_err(|e| {
            ServerError::Config(format!("data dir {}: {e}", config.data_dir.display()))
        })?;
        let url = config.meta_url();
        let db = fedflow_storage::open_db(&url)?;
        let store = JobStore::new(db)?;
        let mut storage = StorageContext::open(&config.data_dir, Some(&url))?;
        let confine =
            crate::confine::Confinement::new(&config.paths, &config.data_dir, &storage.path_root)
                .map_err(|e| ServerError::Config(format!("[paths]: {e}")))?;
        storage.address_roots = Some(confine.address_roots.clone());
        crate::confine::clean_upload_temp(&config.data_dir);
        let models = ModelStore::new(&config.data_dir);
        let executor = match &config.executor {
            Some(p) => p.clone(),
            None => std::env::current_exe()
                .map_err(|e| ServerError::Config(format!("locating the executor: {e}")))?,
        };
        Ok(App {
            config,
            store,
            storage,
            models,
            executor,
            confine,
            children: Mutex::new(HashMap::new()),
            stopping: Mutex::new(HashMap::new()),
            scheduling: Mutex::new(HashSet::new()),
            nonces: Mutex::new(crate::api::auth::NonceCache::default()),
            sessions: Mutex::new(HashMap::new()),
            executors: Mutex::new(0),
        })
    }

    /// Takes `n` executor slots if they are free (`max_executors`); a request
    /// for more than the cap is granted when nothing runs, so a job with many
    /// local parties still starts.
    pub(crate) fn try_take_executors(&self, n: usize) -> bool {
        if n == 0 {
            return true;
        }
        let mut busy = self.executors.lock();
        if *busy + n <= self.config.max_executors || (*busy == 0 && n > 0) {
            *busy += n;
            true
        } else {
            false
        }
    }

    /// Takes one slot whatever the cap (a task a remote initiator starts).
    pub(crate) fn take_executor_unchecked(&self) {
        *self.executors.lock() += 1;
    }

    /// Gives back `n` slots (an executor ended, or a reservation was not used).
    pub(crate) fn release_executors(&self, n: usize) {
        let mut busy = self.executors.lock();
        *busy = busy.saturating_sub(n);
    }

    /// Executor slots in use.
    pub fn executors_busy(&self) -> usize {
        *self.executors.lock()
    }

    /// After a restart: tasks and jobs left running by the previous process
    /// are marked failed, never left "running" forever.
    pub fn recover(&self) {
        match self.store.unfinished_tasks() {
            Ok(tasks) => {
                for mut t in tasks {
                    if !self.config.hosts(t.party.party_id) {
                        continue;
                    }
                    if let Some(pid) = t.pid {
                        // The executor may have outlived the server; stop it.
                        let _ = std::process::Command::new("kill")
                            .arg("-9")
                            .arg(pid.to_string())
                            .status();
                    }
                    t.status = status::FAILED.into();
                    t.error = Some("the server restarted while this task ran".into());
                    t.end_time = Some(fedflow_flow::store::now_ms());
                    t.pid = None;
                    let _ = self.store.put_task(&t);
                }
            }
            Err(e) => tracing::error!("recovery: reading unfinished tasks: {e}"),
        }
        for st in [status::RUNNING, status::WAITING] {
            if let Ok(jobs) = self.store.jobs(None, None, Some(st), None) {
                for j in jobs
                    .into_iter()
                    .filter(|j| self.config.hosts(j.party.party_id))
                {
                    tracing::warn!(
                        "recovery: job {} ({}) was {st}; marking it failed",
                        j.job_id,
                        j.party
                    );
                    let _ = self.store.set_job_status(
                        &j.job_id,
                        Some(j.party),
                        status::FAILED,
                        Some("the server restarted while the job ran; use job rerun to resume it"),
                    );
                }
            }
        }
    }

    /// Starts the gRPC federation endpoint this server hosts for its parties,
    /// if it is configured ([`ServerConfig::grpc_endpoint`]); with
    /// `tls_ca`/`tls_cert`/`tls_key` it requires mTLS.
    pub fn start_federation_endpoint(&self) -> Result<(), ServerError> {
        let Some(listen) = self.config.grpc_endpoint() else {
            return Ok(());
        };
        let f = &self.config.federation;
        let tls = match (&f.tls_ca, &f.tls_cert, &f.tls_key) {
            (None, None, None) => None,
            (Some(ca), Some(cert), Some(key)) => Some(fedflow_federation::grpc::TlsFiles {
                ca: ca.clone(),
                cert: cert.clone(),
                key: key.clone(),
            }),
            _ => {
                return Err(ServerError::Config(
                    "federation: tls_ca, tls_cert and tls_key go together".into(),
                ))
            }
        };
        let pid = self.config.party_ids.first().copied().unwrap_or(0);
        let addr = fedflow_federation::grpc::serve_mailbox_endpoint(
            &listen,
            tls.as_ref(),
            pid,
            &self.config.federation_dir(),
        )
        .map_err(|e| ServerError::Config(format!("federation.grpc_listen: {e}")))?;
        println!("fedflow federation endpoint (grpc) listening on {addr}");
        Ok(())
    }

    /// Where a task's log goes (FATE's layout: `logs/{job}/{role}/{party}/{component}/INFO.log`).
    pub fn task_log_dir(
        &self,
        job_id: &str,
        role: &str,
        party_id: u64,
        component: &str,
    ) -> Result<PathBuf, fedflow_core::names::NameError> {
        fedflow_core::names::check("role", role)?;
        fedflow_core::names::check("component_name", component)?;
        Ok(self
            .job_log_dir(job_id)?
            .join(role)
            .join(party_id.to_string())
            .join(component))
    }

    /// A job's log directory (the job id checked by [`fedflow_core::names`]
    /// first, so no id climbs out of the logs tree).
    pub fn job_log_dir(&self, job_id: &str) -> Result<PathBuf, fedflow_core::names::NameError> {
        fedflow_core::names::check("job_id", job_id)?;
        Ok(self.config.data_dir.join("logs").join(job_id))
    }
}
