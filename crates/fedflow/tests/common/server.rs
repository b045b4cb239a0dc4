//! Helpers for the server tests: a real `fedflow server` process on a free
//! loopback port, killed when dropped; a small JSON client; MariaDB.

use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A free loopback port (bound then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running `fedflow server`.
pub struct Server {
    pub child: Child,
    pub port: u16,
    pub url: String,
    pub dir: PathBuf,
    pub log: PathBuf,
    args: Vec<String>,
}

impl Server {
    /// Starts `fedflow --data-dir DIR server --listen 127.0.0.1:PORT EXTRA…` and
    /// waits until `/v1/version/get` answers.
    pub fn start(dir: &Path, extra: &[&str]) -> Server {
        Self::start_on(dir, free_port(), extra)
    }

    /// The same on a given port.
    pub fn start_on(dir: &Path, port: u16, extra: &[&str]) -> Server {
        std::fs::create_dir_all(dir).unwrap();
        let log = dir.join(format!("server-{port}.log"));
        let args: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        let child = spawn(dir, port, &args, &log);
        let mut s = Server {
            child,
            port,
            url: format!("http://127.0.0.1:{port}"),
            dir: dir.to_path_buf(),
            log,
            args,
        };
        s.wait_ready();
        s
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(st)) = self.child.try_wait() {
                panic!(
                    "fedflow server exited at start-up ({st}): {}",
                    self.log_text()
                );
            }
            if let Ok(r) = ureq::post(&format!("{}/v1/version/get", self.url))
                .timeout(Duration::from_secs(2))
                .send_string("{}")
            {
                // Any FATE envelope will do (a signing server answers 109).
                let v: Value = r.into_json().unwrap();
                assert!(v.get("retcode").is_some(), "{v}");
                return;
            }
            assert!(
                Instant::now() < deadline,
                "fedflow server did not answer within 30 s: {}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The server's stderr so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The server process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL, reaped.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the same server again (same dir, port and arguments).
    pub fn restart(&mut self) {
        self.kill9();
        self.child = spawn(&self.dir, self.port, &self.args, &self.log);
        self.wait_ready();
    }

    /// POST a JSON body; the parsed reply (any retcode).
    pub fn post(&self, path: &str, body: Value) -> Value {
        self.post_raw(path, &body.to_string(), "application/json")
    }

    /// POST a raw body; the parsed reply.
    pub fn post_raw(&self, path: &str, body: &str, content_type: &str) -> Value {
        let url = format!("{}/v1/{}", self.url, path.trim_start_matches('/'));
        let r = ureq::post(&url)
            .set("Content-Type", content_type)
            .timeout(Duration::from_secs(60))
            .send_string(body);
        match r {
            Ok(r) => r
                .into_json()
                .unwrap_or_else(|e| panic!("{url}: bad JSON: {e}")),
            Err(ureq::Error::Status(code, r)) => {
                let t = r.into_string().unwrap_or_default();
                serde_json::from_str(&t).unwrap_or_else(|_| json!({"retcode": code, "retmsg": t}))
            }
            Err(e) => panic!("{url}: {e}"),
        }
    }

    /// POST and assert retcode 0; the reply.
    pub fn ok(&self, path: &str, body: Value) -> Value {
        let v = self.post(path, body.clone());
        assert_eq!(v["retcode"], 0, "{path} {body}: {v}");
        v
    }

    /// POST; the raw reply bytes.
    pub fn post_bytes(&self, path: &str, body: Value) -> Vec<u8> {
        let url = format!("{}/v1/{}", self.url, path);
        let r = ureq::post(&url)
            .timeout(Duration::from_secs(60))
            .send_json(body)
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut r.into_reader(), &mut out).unwrap();
        out
    }

    /// Submits a job; its id.
    pub fn submit(&self, conf: &Value, dsl: &Value) -> String {
        let v = self.ok(
            "job/submit",
            json!({"job_runtime_conf": conf, "job_dsl": dsl}),
        );
        v["jobId"].as_str().expect("jobId").to_string()
    }

    /// The initiator's row of a job.
    pub fn initiator_row(&self, job_id: &str) -> Value {
        let v = self.ok("job/query", json!({"job_id": job_id}));
        v["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["f_is_initiator"] == true)
            .cloned()
            .unwrap_or_else(|| panic!("no initiator row: {v}"))
    }

    /// Waits until the job (initiator row) ends; its final status.
    pub fn wait_job(&self, job_id: &str, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let r = self.initiator_row(job_id);
            let st = r["f_status"].as_str().unwrap().to_string();
            if ["success", "failed", "canceled", "timeout"].contains(&st.as_str()) {
                return st;
            }
            if Instant::now() >= deadline {
                // Where it stands, for the failure message: every task's
                // state on this server and the end of its log.
                let tasks = self.post("job/task/query", serde_json::json!({"job_id": job_id}));
                let log = self.log_text();
                let mut from = log.len().saturating_sub(6000);
                while !log.is_char_boundary(from) {
                    from += 1;
                }
                let tail = &log[from..];
                panic!(
                    "job {job_id} still {st} after {timeout:?}\ntasks: {tasks}\nlog tail:\n{tail}"
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Waits until a job has a running task with a recorded pid on each given party.
    pub fn wait_running_pids(&self, job_id: &str, parties: usize) -> Vec<i64> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let v = self.post("job/task/query", json!({"job_id": job_id}));
            let pids: Vec<i64> = v["data"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|t| t["f_status"] == "running")
                .filter_map(|t| t["f_run_pid"].as_i64())
                .collect();
            if pids.len() >= parties {
                return pids;
            }
            assert!(
                Instant::now() < deadline,
                "job {job_id}: no running tasks: {v}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill9();
    }
}

fn spawn(dir: &Path, port: u16, args: &[String], log: &Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    Command::new(env!("CARGO_BIN_EXE_fedflow"))
        .arg("--data-dir")
        .arg(dir)
        .args(["--log", "info", "server", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("start fedflow server")
}

/// True while a process exists and is not a zombie.
pub fn alive(pid: i64) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => {
            let state = s
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next())
                .unwrap_or("");
            state != "Z" && state != "X"
        }
        Err(_) => false,
    }
}

/// Waits up to `timeout` for all the processes to be gone.
pub fn wait_dead(pids: &[i64], timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while pids.iter().any(|p| alive(*p)) {
        assert!(
            Instant::now() < deadline,
            "executor processes still alive:\n{}",
            pids.iter()
                .filter(|p| alive(**p))
                .map(|p| {
                    let read = |f: &str| {
                        std::fs::read_to_string(format!("/proc/{p}/{f}"))
                            .unwrap_or_default()
                            .replace('\0', " ")
                    };
                    format!(
                        "{p}: {} | stat {} | wchan {}",
                        read("cmdline"),
                        read("stat").trim(),
                        read("wchan")
                    )
                })
                .collect::<Vec<_>>()
                .join("\n")
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// FATE's toy conf and DSL, with the given data_num for every party.
pub fn toy(data_num: i64) -> (Value, Value) {
    let dir = super::shared().join("examples/fate");
    let conf: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("toy_example_conf.json")).unwrap())
            .unwrap();
    let dsl: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("toy_example_dsl.json")).unwrap())
            .unwrap();
    let mut conf = conf;
    conf["component_parameters"]["common"]["secure_add_example_0"]["data_num"] = json!(data_num);
    conf["component_parameters"]["common"]["secure_add_example_0"]["partition"] = json!(4);
    (conf, dsl)
}

/// A MariaDB meta store URL with a fresh database (`fedflow_srvtest_{pid}_{n}`),
/// the server started if needed; dropped with the guard.
pub struct MariaDb {
    pub url: String,
}

impl MariaDb {
    pub fn new() -> MariaDb {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let server = std::env::var("FEDFLOW_TEST_MYSQL_SERVER")
            .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into());
        let host_port = server
            .rsplit_once('@')
            .map(|(_, h)| h.trim_end_matches('/').to_string())
            .expect("FEDFLOW_TEST_MYSQL_SERVER is mysql://user@host:port");
        let reachable = || std::net::TcpStream::connect(&host_port).is_ok();
        if !reachable() {
            eprintln!("MariaDB not reachable on {host_port}: starting /usr/sbin/mariadbd");
            let st = Command::new("start-stop-daemon")
                .args([
                    "--start",
                    "--oknodo",
                    "--background",
                    "--exec",
                    "/usr/sbin/mariadbd",
                ])
                .status();
            let deadline = Instant::now() + Duration::from_secs(30);
            while !reachable() {
                assert!(
                    Instant::now() < deadline,
                    "MariaDB is required by the server tests and is not reachable on {host_port} \
                     (start-stop-daemon: {st:?}); start it with `start-stop-daemon --start --oknodo \
                     --background --exec /usr/sbin/mariadbd` or set FEDFLOW_TEST_MYSQL_SERVER"
                );
                std::thread::sleep(Duration::from_millis(250));
            }
        }
        MariaDb {
            url: format!(
                "{}/fedflow_srvtest_{}_{}",
                server.trim_end_matches('/'),
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ),
        }
    }
}

impl Drop for MariaDb {
    fn drop(&mut self) {
        if let Err(e) = fedflow_storage::db_mysql::MysqlDb::drop_database(&self.url) {
            eprintln!("warning: could not drop {}: {e}", self.url);
        }
    }
}

/// fate-client's request signature: base64(HMAC-SHA1(secret,
/// "\n".join([timestamp, nonce, app_key, path_url, json_body, form_body]))).
pub fn fate_signature(
    secret: &str,
    timestamp: &str,
    nonce: &str,
    app_key: &str,
    path_url: &str,
    json_body: &[u8],
) -> String {
    let mut msg = Vec::new();
    for (i, part) in [
        timestamp.as_bytes(),
        nonce.as_bytes(),
        app_key.as_bytes(),
        path_url.as_bytes(),
        json_body,
        b"",
    ]
    .iter()
    .enumerate()
    {
        if i > 0 {
            msg.push(b'\n');
        }
        msg.extend_from_slice(part);
    }
    base64(&hmac_sha1(secret.as_bytes(), &msg))
}

fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0];
    let mut m = data.to_vec();
    let bits = (data.len() as u64).wrapping_mul(8);
    m.push(0x80);
    while m.len() % 64 != 56 {
        m.push(0);
    }
    m.extend_from_slice(&bits.to_be_bytes());
    for chunk in m.chunks(64) {
        let mut w = [0u32; 80];
        for i in 0..16 {
            w[i] = u32::from_be_bytes(chunk[i * 4..i * 4 + 4].try_into().unwrap());
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let (mut a, mut b, mut c, mut d, mut e) = (h[0], h[1], h[2], h[3], h[4]);
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A827999),
                20..=39 => (b ^ c ^ d, 0x6ED9EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1BBCDC),
                _ => (b ^ c ^ d, 0xCA62C1D6u32),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 20];
    for (i, x) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&x.to_be_bytes());
    }
    out
}

fn hmac_sha1(key: &[u8], msg: &[u8]) -> [u8; 20] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..20].copy_from_slice(&sha1(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner: Vec<u8> = k.iter().map(|b| b ^ 0x36).collect();
    inner.extend_from_slice(msg);
    let mut outer: Vec<u8> = k.iter().map(|b| b ^ 0x5c).collect();
    outer.extend_from_slice(&sha1(&inner));
    sha1(&outer)
}

fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in data.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        s.push(T[(n >> 18) as usize & 63] as char);
        s.push(T[(n >> 12) as usize & 63] as char);
        s.push(if c.len() > 1 {
            T[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        s.push(if c.len() > 2 {
            T[n as usize & 63] as char
        } else {
            '='
        });
    }
    s
}

/// RFC 2202 test case 2, checked by the HMAC test.
pub fn hmac_known_answer() -> String {
    base64(&hmac_sha1(b"Jefe", b"what do ya want for nothing?"))
}
