//! A local Spark standalone cluster (one master, one worker, bound to
//! 127.0.0.1): what `fedflow spark up`, `fedflow toy --backend spark` and the
//! tests run jobs on. The daemons are started with `spark-class` (a pip-installed
//! Spark has no `sbin/start-*.sh`).

use crate::{find_spark_home, SparkError};
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A running local cluster, as recorded in `<dir>/cluster.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ClusterInfo {
    /// `spark://127.0.0.1:<port>`.
    pub master_url: String,
    /// The master's web UI.
    pub ui_url: String,
    /// Process id of the master JVM.
    pub master_pid: u32,
    /// Process id of the worker JVM.
    pub worker_pid: u32,
    /// The cluster's directory (logs, worker dir).
    pub dir: PathBuf,
}

/// A local cluster owned by this process: stopped when dropped, unless detached.
pub struct LocalCluster {
    info: ClusterInfo,
    detached: bool,
}

fn free_port() -> Result<u16, SparkError> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Fetches `http://127.0.0.1:<port><path>` (a tiny client for the master's JSON).
pub fn http_get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect_timeout(
        &std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        Duration::from_secs(2),
    )
    .ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut body = String::new();
    s.read_to_string(&mut body).ok()?;
    body.split_once("\r\n\r\n").map(|(_, b)| b.to_string())
}

impl ClusterInfo {
    fn ui_port(&self) -> Option<u16> {
        self.ui_url.rsplit(':').next()?.parse().ok()
    }

    /// Number of ALIVE workers the master reports (None: master unreachable).
    pub fn alive_workers(&self) -> Option<usize> {
        let body = http_get(self.ui_port()?, "/json/")?;
        let v: serde_json::Value = serde_json::from_str(&body).ok()?;
        Some(
            v["workers"]
                .as_array()
                .map(|w| w.iter().filter(|w| w["state"] == "ALIVE").count())
                .unwrap_or(0),
        )
    }

    /// Stops both daemons (TERM, then KILL after 10 s).
    pub fn stop(&self) {
        for pid in [self.worker_pid, self.master_pid] {
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        for pid in [self.worker_pid, self.master_pid] {
            while Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
                if is_zombie(pid) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
            if Path::new(&format!("/proc/{pid}")).exists() && !is_zombie(pid) {
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            }
        }
        let _ = std::fs::remove_file(self.dir.join("cluster.json"));
    }
}

fn is_zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            s.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
        .unwrap_or(true)
}

impl LocalCluster {
    /// Starts a master and one worker (`cores` cores, `memory` e.g. "4g")
    /// under `dir` and waits (up to 90 s) until the worker has registered.
    pub fn start(
        dir: &Path,
        cores: usize,
        memory: &str,
        spark_home: Option<&Path>,
    ) -> Result<LocalCluster, SparkError> {
        let home = find_spark_home(spark_home)?;
        std::fs::create_dir_all(dir)?;
        let dir = dir.canonicalize()?;
        std::fs::create_dir_all(dir.join("local"))?;
        let (port, ui, wui) = (free_port()?, free_port()?, free_port()?);
        let class = home.join("bin/spark-class");
        let spawn = |args: &[&str], log: &str| -> Result<u32, SparkError> {
            let out = std::fs::File::create(dir.join(log))?;
            let child = Command::new(&class)
                .args(args)
                .env("SPARK_HOME", &home)
                .env("SPARK_LOCAL_IP", "127.0.0.1")
                .env("SPARK_MASTER_OPTS", "-Dspark.master.rest.enabled=false")
                .env("SPARK_WORKER_DIR", dir.join("work"))
                // Executors' scratch (shuffle files, stored tables) in the
                // cluster's folder rather than /tmp: one place to watch.
                .env("SPARK_LOCAL_DIRS", dir.join("local"))
                .stdin(Stdio::null())
                .stdout(out.try_clone()?)
                .stderr(out)
                .current_dir(&dir)
                .spawn()
                .map_err(|e| SparkError::Start(format!("cannot run {}: {e}", class.display())))?;
            Ok(child.id())
        };
        let master_url = format!("spark://127.0.0.1:{port}");
        let master_pid = spawn(
            &[
                "org.apache.spark.deploy.master.Master",
                "--host",
                "127.0.0.1",
                "--port",
                &port.to_string(),
                "--webui-port",
                &ui.to_string(),
            ],
            "master.log",
        )?;
        let worker_pid = spawn(
            &[
                "org.apache.spark.deploy.worker.Worker",
                &master_url,
                "--host",
                "127.0.0.1",
                "--cores",
                &cores.to_string(),
                "--memory",
                memory,
                "--webui-port",
                &wui.to_string(),
                "--work-dir",
                &dir.join("work").display().to_string(),
            ],
            "worker.log",
        )?;
        let cluster = LocalCluster {
            info: ClusterInfo {
                master_url,
                ui_url: format!("http://127.0.0.1:{ui}"),
                master_pid,
                worker_pid,
                dir: dir.clone(),
            },
            detached: false,
        };
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if cluster.info.alive_workers().unwrap_or(0) >= 1 {
                break;
            }
            for (pid, log) in [(master_pid, "master.log"), (worker_pid, "worker.log")] {
                if is_zombie(pid) {
                    return Err(SparkError::Start(format!(
                        "the Spark {} exited; see {}",
                        log.trim_end_matches(".log"),
                        dir.join(log).display()
                    )));
                }
            }
            if Instant::now() > deadline {
                return Err(SparkError::Start(format!(
                    "no worker registered with {} within 90 s; see {}",
                    cluster.info.master_url,
                    dir.display()
                )));
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        std::fs::write(
            dir.join("cluster.json"),
            serde_json::to_string_pretty(&cluster.info).unwrap_or_default(),
        )?;
        Ok(cluster)
    }

    /// The cluster's facts.
    pub fn info(&self) -> &ClusterInfo {
        &self.info
    }

    /// The master URL.
    pub fn master_url(&self) -> &str {
        &self.info.master_url
    }

    /// Leaves the daemons running after this value is dropped.
    pub fn detach(mut self) -> ClusterInfo {
        self.detached = true;
        self.info.clone()
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        if !self.detached {
            self.info.stop();
        }
    }
}

/// The cluster recorded under `dir`, if its master answers with a live worker.
pub fn find_running(dir: &Path) -> Option<ClusterInfo> {
    let text = std::fs::read_to_string(dir.join("cluster.json")).ok()?;
    let info: ClusterInfo = serde_json::from_str(&text).ok()?;
    (info.alive_workers()? >= 1).then_some(info)
}

/// The cluster under `dir` if it runs, else a new one left running.
pub fn ensure_running(dir: &Path, cores: usize, memory: &str) -> Result<ClusterInfo, SparkError> {
    if let Some(info) = find_running(dir) {
        return Ok(info);
    }
    if let Ok(text) = std::fs::read_to_string(dir.join("cluster.json")) {
        if let Ok(old) = serde_json::from_str::<ClusterInfo>(&text) {
            old.stop();
        }
    }
    Ok(LocalCluster::start(dir, cores, memory, None)?.detach())
}

/// Stops the cluster recorded under `dir`; false if none was recorded.
pub fn stop_running(dir: &Path) -> bool {
    let Some(info) = std::fs::read_to_string(dir.join("cluster.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<ClusterInfo>(&t).ok())
    else {
        return false;
    };
    info.stop();
    true
}
