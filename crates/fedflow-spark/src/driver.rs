//! The connection to the Spark driver: a `spark-submit`ted Python program
//! (`driver.py`, embedded) that runs the Spark SQL fedflow sends. It connects
//! back to a loopback socket fedflow listens on (spark-submit does not pass
//! its stdin to Python): one JSON request per line, one reply per line.

use crate::{SparkError, SparkOptions};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The driver program, written next to the session's files.
pub const DRIVER_PY: &str = include_str!("driver.py");

/// Facts about the running Spark application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppInfo {
    /// Spark's application id (`app-…`).
    pub app_id: String,
    /// The application's web UI.
    pub ui_url: String,
    /// The master it runs on.
    pub master: String,
}

struct Io {
    stdin: TcpStream,
    replies: Receiver<Value>,
}

/// A running driver. Requests are serialised.
pub(crate) struct Driver {
    io: Mutex<Option<Io>>,
    child: Mutex<Child>,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
    op_timeout: Duration,
    pub(crate) info: AppInfo,
    /// Whether materialised tables are local checkpoints (`spark.fedflow.lineage`
    /// `local`): their input files are then not needed once loaded.
    pub(crate) lineage_cut: bool,
    log_path: PathBuf,
}

/// Where Spark is: `$SPARK_HOME`, else the project's `.venv-spark` (searched
/// upwards from the current directory and from the running binary).
pub fn find_spark_home(explicit: Option<&Path>) -> Result<PathBuf, SparkError> {
    let ok = |p: &Path| p.join("bin/spark-submit").is_file();
    if let Some(p) = explicit {
        return if ok(p) {
            Ok(p.to_path_buf())
        } else {
            Err(SparkError::NotFound(format!(
                "{} has no bin/spark-submit",
                p.display()
            )))
        };
    }
    if let Some(h) = std::env::var_os("SPARK_HOME").filter(|h| !h.is_empty()) {
        let p = PathBuf::from(h);
        return if ok(&p) {
            Ok(p)
        } else {
            Err(SparkError::NotFound(format!(
                "SPARK_HOME={} has no bin/spark-submit",
                p.display()
            )))
        };
    }
    let mut starts: Vec<PathBuf> = Vec::new();
    if let Ok(d) = std::env::current_dir() {
        starts.push(d);
    }
    if let Ok(e) = std::env::current_exe() {
        starts.push(e);
    }
    for start in starts {
        for dir in start.ancestors() {
            let lib = dir.join(".venv-spark/lib");
            let Ok(entries) = std::fs::read_dir(&lib) else {
                continue;
            };
            for e in entries.flatten() {
                let p = e.path().join("site-packages/pyspark");
                if ok(&p) {
                    return Ok(p);
                }
            }
        }
    }
    Err(SparkError::NotFound(
        "set SPARK_HOME or run scripts/spark.sh (installs pyspark into .venv-spark)".into(),
    ))
}

/// The binary to ship: a stripped copy (cached under `work_dir`) when `strip`
/// is available and the binary carries debug info, else the binary itself.
fn shipped(bin: &Path, work_dir: &Path) -> PathBuf {
    let Ok(meta) = std::fs::metadata(bin) else {
        return bin.to_path_buf();
    };
    if meta.len() < 64 << 20 {
        return bin.to_path_buf();
    }
    let stamp = meta
        .modified()
        .ok()
        .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let Some(name) = bin.file_name() else {
        return bin.to_path_buf();
    };
    let dir = work_dir.join(format!("worker-{}-{stamp}", meta.len()));
    let out = dir.join(name);
    if out.is_file() {
        return out;
    }
    let tmp = dir.join(format!(".tmp-{}", std::process::id()));
    let ok = std::fs::create_dir_all(&dir).is_ok()
        && Command::new("strip")
            .arg("--strip-debug")
            .arg("-o")
            .arg(&tmp)
            .arg(bin)
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
        && std::fs::rename(&tmp, &out).is_ok();
    if ok {
        out
    } else {
        let _ = std::fs::remove_file(&tmp);
        bin.to_path_buf()
    }
}

/// The Python of the venv that holds a pip-installed Spark home, if any.
fn venv_python(home: &Path) -> Option<PathBuf> {
    // <venv>/lib/python3.x/site-packages/pyspark
    let venv = home.ancestors().nth(4)?;
    let py = venv.join("bin/python3");
    py.is_file().then_some(py)
}

impl Driver {
    /// Starts the driver with spark-submit and waits until it has an executor.
    pub(crate) fn start(options: &SparkOptions, dir: &Path) -> Result<Driver, SparkError> {
        let home = find_spark_home(options.spark_home.as_deref())?;
        let script = dir.join("fedflow_driver.py");
        std::fs::write(&script, DRIVER_PY)?;
        let worker = options.worker_binary()?;
        let mut cmd = Command::new(home.join("bin/spark-submit"));
        cmd.env("SPARK_HOME", &home);
        if std::env::var_os("SPARK_LOCAL_IP").is_none() {
            cmd.env("SPARK_LOCAL_IP", "127.0.0.1");
        }
        if let Some(py) = venv_python(&home) {
            cmd.env("PYSPARK_PYTHON", &py)
                .env("PYSPARK_DRIVER_PYTHON", &py);
        }
        cmd.env(
            "FEDFLOW_SPARK_START_TIMEOUT",
            options.start_timeout.as_secs_f64().to_string(),
        )
        .env(
            "FEDFLOW_SPARK_LOST_TIMEOUT",
            options.lost_timeout.as_secs_f64().to_string(),
        );
        if let Some(m) = &options.master {
            cmd.arg("--master").arg(m);
        }
        cmd.arg("--name").arg(&options.app_name);
        cmd.args(&options.submit_args);
        for (k, v) in options.effective_conf() {
            cmd.arg("--conf").arg(format!("{k}={v}"));
        }
        if options.worker_command.is_none() {
            cmd.arg("--files").arg(shipped(&worker, &options.work_dir));
        }
        cmd.arg(&script);
        let listener = TcpListener::bind("127.0.0.1:0")?;
        cmd.env(
            "FEDFLOW_SPARK_PORT",
            listener.local_addr()?.port().to_string(),
        );
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .current_dir(dir);
        tracing::info!(command = ?cmd, "starting the Spark driver");
        let mut child = cmd.spawn().map_err(|e| {
            SparkError::Start(format!(
                "cannot run {}: {e}",
                home.join("bin/spark-submit").display()
            ))
        })?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| SparkError::Start("no stdout".into()))?;
        let stderr = child
            .stderr
            .take()
            .ok_or_else(|| SparkError::Start("no stderr".into()))?;
        let log_path = dir.join("spark-driver.log");
        let stderr_tail = Arc::new(Mutex::new(VecDeque::new()));
        let log = Arc::new(Mutex::new(std::fs::File::create(&log_path)?));
        for (stream, tail) in [
            (Box::new(stdout) as Box<dyn std::io::Read + Send>, None),
            (Box::new(stderr), Some(stderr_tail.clone())),
        ] {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    if let Ok(mut f) = log.lock() {
                        let _ = writeln!(f, "{line}");
                    }
                    if let Some(Ok(mut t)) = tail.as_ref().map(|t| t.lock()) {
                        if t.len() >= 200 {
                            t.pop_front();
                        }
                        t.push_back(line);
                    }
                }
            });
        }
        // JVM start-up; the driver connects before creating its SparkContext.
        let wait = Duration::from_secs(60);
        let started = Instant::now();
        listener.set_nonblocking(true)?;
        let stream = loop {
            match listener.accept() {
                Ok((s, _)) => break s,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e.into()),
            }
            let exited = !matches!(child.try_wait(), Ok(None));
            if exited || started.elapsed() > wait {
                let _ = child.kill();
                let _ = child.wait();
                let why = if exited {
                    "spark-submit exited".to_string()
                } else {
                    format!("the driver did not connect within {}s", wait.as_secs())
                };
                std::thread::sleep(Duration::from_millis(200));
                return Err(SparkError::Start(format!(
                    "{why}: {}",
                    last_error(&stderr_tail, &log_path)
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        stream.set_nonblocking(false)?;
        let reader = stream.try_clone()?;
        let (tx, replies) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(reader).lines() {
                let Ok(line) = line else { break };
                let v = serde_json::from_str(&line)
                    .unwrap_or_else(|e| json!({"error": format!("bad driver reply: {e}")}));
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        let stdin = stream;
        let io = Io { stdin, replies };
        // The driver waits start_timeout for an executor itself; bound it here
        // too, since an unreachable standalone master blocks SparkContext ~60 s.
        let wait = options.start_timeout + Duration::from_secs(15);
        let first = match io.replies.recv_timeout(wait) {
            Ok(v) => v,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                let why = match e {
                    RecvTimeoutError::Timeout => format!(
                        "no Spark executor registered within {}s (master unreachable, or no free worker cores/memory)",
                        wait.as_secs()
                    ),
                    RecvTimeoutError::Disconnected => "the driver closed its connection".into(),
                };
                return Err(SparkError::Start(format!(
                    "{why}: {}",
                    last_error(&stderr_tail, &log_path)
                )));
            }
        };
        if let Some(e) = first.get("error").and_then(Value::as_str) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(SparkError::Start(e.to_string()));
        }
        let s = |k: &str| {
            first
                .get(k)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        let info = AppInfo {
            app_id: s("app_id"),
            ui_url: s("ui"),
            master: s("master"),
        };
        tracing::info!(
            app_id = %info.app_id, ui = %info.ui_url, master = %info.master,
            secs = started.elapsed().as_secs_f64(), "Spark application started"
        );
        Ok(Driver {
            io: Mutex::new(Some(io)),
            child: Mutex::new(child),
            stderr_tail,
            op_timeout: options.op_timeout,
            info,
            lineage_cut: s("lineage") == "local",
            log_path,
        })
    }

    /// Sends a request and waits for its reply.
    pub(crate) fn call(&self, req: Value) -> Result<Value, SparkError> {
        let mut guard = self
            .io
            .lock()
            .map_err(|_| SparkError::Driver("driver connection poisoned".into()))?;
        let Some(io) = guard.as_mut() else {
            return Err(SparkError::Driver("the Spark session is stopped".into()));
        };
        let what = req
            .get("what")
            .or_else(|| req.get("op"))
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string();
        let line = format!("{req}\n");
        if io
            .stdin
            .write_all(line.as_bytes())
            .and_then(|_| io.stdin.flush())
            .is_err()
        {
            *guard = None;
            return Err(SparkError::Driver(format!(
                "the Spark driver is gone: {}",
                last_error(&self.stderr_tail, &self.log_path)
            )));
        }
        match io.replies.recv_timeout(self.op_timeout) {
            Ok(v) => {
                if let Some(e) = v.get("error").and_then(Value::as_str) {
                    let detail = v
                        .get("detail")
                        .and_then(Value::as_str)
                        .unwrap_or(e)
                        .to_string();
                    return Err(match v.get("kind").and_then(Value::as_str) {
                        Some("oom") => SparkError::OutOfMemory { detail, what },
                        Some("lost") => SparkError::ExecutorLost { detail, what },
                        _ => SparkError::Job(e.to_string()),
                    });
                }
                Ok(v.get("ok").cloned().unwrap_or(Value::Null))
            }
            Err(RecvTimeoutError::Timeout) => {
                *guard = None;
                self.kill();
                Err(SparkError::Driver(format!(
                    "Spark request '{what}' did not finish within {}s; the application was stopped",
                    self.op_timeout.as_secs()
                )))
            }
            Err(RecvTimeoutError::Disconnected) => {
                *guard = None;
                Err(SparkError::Driver(format!(
                    "the Spark driver exited: {}",
                    last_error(&self.stderr_tail, &self.log_path)
                )))
            }
        }
    }

    fn kill(&self) {
        if let Ok(mut c) = self.child.lock() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Stops the application (politely, then by force after 20 s).
    pub(crate) fn stop(&self) {
        let io = self.io.lock().ok().and_then(|mut g| g.take());
        if let Some(mut io) = io {
            let _ = io.stdin.write_all(b"{\"op\":\"stop\"}\n");
            let _ = io.stdin.flush();
            drop(io);
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                let done = self
                    .child
                    .lock()
                    .map(|mut c| !matches!(c.try_wait(), Ok(None)))
                    .unwrap_or(true);
                if done || Instant::now() > deadline {
                    break;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        self.kill();
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The last line of the driver's stderr that says what went wrong.
fn last_error(tail: &Mutex<VecDeque<String>>, log: &Path) -> String {
    let tail = tail.lock().map(|t| t.clone()).unwrap_or_default();
    let pick = tail
        .iter()
        .rev()
        .find(|l| {
            l.contains("Exception")
                || l.contains("Error")
                || l.contains("ERROR")
                || l.contains("error:")
        })
        .or_else(|| tail.back())
        .cloned()
        .unwrap_or_else(|| "no output".into());
    format!("{} (log: {})", pick.trim(), log.display())
}
