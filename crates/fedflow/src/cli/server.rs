//! `fedflow server` and the task executor `fedflow task run`.

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use fedflow_core::{Party, Role};
use fedflow_flow::task::{execute, TaskEnv, TaskSpec};
use fedflow_flow::ModelStore;
use fedflow_server::ServerConfig;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct ServerArgs {
    /// TOML config (listen, data_dir, party_ids, meta_url, route, app_key/secret_key).
    #[arg(short = 'c', long)]
    config: Option<PathBuf>,
    /// Address to listen on (overrides the config).
    #[arg(long)]
    listen: Option<String>,
    /// Meta store URL: sqlite:PATH or mysql://user@host:port/db (overrides the config).
    #[arg(long)]
    meta_url: Option<String>,
    /// Party ids this server hosts (repeatable; default: all, standalone).
    #[arg(long = "party-id")]
    party_ids: Vec<u64>,
    /// Start a cluster-mode server on a non-loopback address without
    /// app_key/secret_key or [tls] (and accept party routes from any address):
    /// for closed test networks only.
    #[arg(long)]
    insecure: bool,
    /// Task executors running at once (overrides max_executors).
    #[arg(long)]
    max_executors: Option<usize>,
}

pub fn run_server(a: ServerArgs, data_dir: Option<&Path>) -> Result<()> {
    let mut cfg = match &a.config {
        Some(p) => ServerConfig::from_file(p)?,
        None => ServerConfig::default(),
    };
    cfg.apply_env()?;
    if let Some(d) = data_dir {
        cfg.data_dir = d.to_path_buf();
    }
    if let Some(l) = a.listen {
        cfg.listen = l;
    }
    if let Some(m) = a.meta_url {
        cfg.meta_url = Some(m);
    }
    if !a.party_ids.is_empty() {
        cfg.party_ids = a.party_ids;
    }
    if a.insecure {
        cfg.insecure = true;
    }
    if let Some(n) = a.max_executors {
        cfg.max_executors = n;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(fedflow_server::serve(cfg))?;
    Ok(())
}

/// Exits this process (code 1) once its parent process `parent` (the
/// server's pid, passed on the command line) is gone: an executor whose
/// server was killed stops instead of waiting for peers forever; the
/// restarted server records its task as failed. The pid comes from the
/// server rather than from `getppid` at start-up, so a server killed before
/// this process got that far is noticed too (the executor has already been
/// re-parented then).
fn watch_parent_process(parent: u32) {
    #[cfg(unix)]
    {
        let check = move || std::os::unix::process::parent_id() != parent;
        if check() {
            eprintln!("error: the server (pid {parent}) that started this task is gone; exiting");
            std::process::exit(1);
        }
        std::thread::spawn(move || loop {
            std::thread::sleep(std::time::Duration::from_millis(250));
            if check() {
                tracing::error!(
                    "the server (pid {parent}) that started this task is gone; exiting"
                );
                eprintln!(
                    "error: the server (pid {parent}) that started this task is gone; exiting"
                );
                // `_exit`, not `exit`: no atexit handler or lock held by a
                // busy thread can keep an orphaned executor alive.
                // SAFETY: `_exit` only ends the process; nothing is shared.
                unsafe { libc::_exit(1) };
            }
        });
    }
}

#[derive(Subcommand, Debug)]
pub enum TaskCommand {
    /// Execute one task of a job recorded in the meta store (what the server runs).
    Run {
        #[arg(long)]
        job_id: String,
        #[arg(long)]
        component: String,
        #[arg(long)]
        role: Role,
        #[arg(long)]
        party_id: u64,
        #[arg(long, default_value_t = 0)]
        task_version: i64,
        /// Meta store URL (default: SQLite in the data dir).
        #[arg(long)]
        meta_url: Option<String>,
        /// Standalone federation mailbox directory (default: DATA_DIR/federation).
        #[arg(long)]
        federation_dir: Option<PathBuf>,
        /// Exit when the server whose pid this is (it started this process) is gone,
        /// so that no executor outlives a killed server.
        #[arg(long, hide = true, value_name = "SERVER_PID")]
        watch_parent: Option<u32>,
    },
}

pub fn run_task(cmd: TaskCommand, dir: &Path) -> Result<()> {
    let TaskCommand::Run {
        job_id,
        component,
        role,
        party_id,
        task_version,
        meta_url,
        federation_dir,
        watch_parent,
    } = cmd;
    if let Some(parent) = watch_parent {
        watch_parent_process(parent);
    }
    let url = meta_url.unwrap_or_else(|| format!("sqlite:{}", dir.join("meta.sqlite").display()));
    let db = fedflow_storage::open_db(&url)?;
    let env = TaskEnv {
        data_dir: dir.to_path_buf(),
        federation_dir: federation_dir.unwrap_or_else(|| dir.join("federation")),
        storage: fedflow_storage::StorageContext::open(dir, Some(&url))?,
        store: fedflow_flow::store::JobStore::new(db)?,
        models: ModelStore::new(dir),
    };
    let spec = TaskSpec {
        job_id,
        component,
        party: Party::new(role, party_id),
        task_version,
    };
    execute(&env, &spec).map_err(|e| {
        anyhow::anyhow!(
            "task {} {} {}: {e}",
            spec.job_id,
            spec.component,
            spec.party
        )
    })
}
