//! Authentication that holds and resource limits (issue 22): real `fedflow
//! server` processes on free ports, raw HTTP and raw TCP clients.

mod common;
use common::server::*;
use common::*;
use fedflow_server::api::auth::{self, BODY_HASH_HEADER};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const APP: &str = "fedflow-test-app";
const SECRET: &str = "s3cr3t";

fn keyed(dir: &Path, extra: &str) -> Server {
    let cfg = write(
        dir,
        "server.toml",
        &format!("app_key = \"{APP}\"\nsecret_key = \"{SECRET}\"\n{extra}"),
    );
    Server::start(&dir.join("srv"), &["-c", cfg.to_str().unwrap()])
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A reply whatever the HTTP status: (status, envelope).
fn reply(r: Result<ureq::Response, ureq::Error>) -> (u16, Value) {
    match r {
        Ok(r) => (r.status(), r.into_json().unwrap()),
        Err(ureq::Error::Status(code, r)) => {
            let t = r.into_string().unwrap_or_default();
            (
                code,
                serde_json::from_str(&t).unwrap_or_else(|_| json!({"retmsg": t})),
            )
        }
        Err(e) => panic!("{e}"),
    }
}

/// A JSON request signed as fate-client signs it (the test's own HMAC code),
/// with the given timestamp and nonce.
fn fate_signed(s: &Server, path_url: &str, body: &str, ts: &str, nonce: &str) -> (u16, Value) {
    let sig = fate_signature(SECRET, ts, nonce, APP, path_url, body.as_bytes());
    reply(
        ureq::post(&format!("{}{path_url}", s.url))
            .set("Content-Type", "application/json")
            .set("TIMESTAMP", ts)
            .set("NONCE", nonce)
            .set("APP_KEY", APP)
            .set("SIGNATURE", &sig)
            .send_string(body),
    )
}

fn signed_json(s: &Server, path_url: &str, body: &Value) -> Value {
    let ts = now_ms().to_string();
    let nonce = format!("n-{}-{}", ts, rand_suffix());
    fate_signed(s, path_url, &body.to_string(), &ts, &nonce).1
}

fn rand_suffix() -> String {
    auth::random_token()
}

fn multipart(csv: &str) -> (String, Vec<u8>) {
    let boundary = "fedflowtestboundary".to_string();
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"t.csv\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(csv.as_bytes());
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

fn upload_query(table: &str) -> String {
    format!("/v1/data/upload?table_name={table}&namespace=auth&head=1&partition=1")
}

/// Sends `sent` as a multipart upload signed over `signed_body`.
fn signed_upload(s: &Server, table: &str, signed_body: &[u8], sent: &[u8], ct: &str) -> Value {
    let path_url = upload_query(table);
    let mut req = ureq::post(&format!("{}{path_url}", s.url)).set("Content-Type", ct);
    for (h, v) in auth::sign_headers(APP, SECRET, &path_url, auth::Body::Hashed(signed_body)) {
        req = req.set(h, &v);
    }
    reply(req.send_bytes(sent)).1
}

fn table_exists(s: &Server, table: &str) -> i64 {
    let v = signed_json(
        s,
        "/v1/table/table_info",
        &json!({"namespace": "auth", "table_name": table}),
    );
    assert_eq!(v["retcode"], 0, "{v}");
    v["data"]["exist"].as_i64().unwrap()
}

#[test]
fn party_routes_and_replays_are_refused_without_a_fresh_signature() {
    let dir = tempfile::tempdir().unwrap();
    let s = keyed(dir.path(), "");
    let create = "/v1/party/202401010000000000001/guest/9999/create";

    // Unsigned party-route calls are refused (they used to create jobs).
    let (_, v) = reply(
        ureq::post(&format!("{}{create}", s.url))
            .set("Content-Type", "application/json")
            .send_string("{}"),
    );
    assert_eq!(v["retcode"], 109, "{v}");
    assert!(v["retmsg"].as_str().unwrap().contains("signed"), "{v}");
    let (_, v) = reply(
        ureq::post(&format!(
            "{}/v1/party/j/secure_add_example_0/0/guest/9999/stop/success",
            s.url
        ))
        .send_string(""),
    );
    assert_eq!(v["retcode"], 109, "{v}");

    // Signed by the server's own peer client code: accepted (the body is bad, not the caller).
    let path = "/v1/party/202401010000000000001/guest/9999/create";
    let mut req = ureq::post(&format!("{}{path}", s.url)).set("Content-Type", "application/json");
    for (h, v) in auth::sign_headers(APP, SECRET, path, auth::Body::Json(b"{}")) {
        req = req.set(h, &v);
    }
    let (_, v) = reply(req.send_string("{}"));
    assert_ne!(v["retcode"], 109, "{v}");
    assert_eq!(v["retcode"], 101, "{v}");

    // A replay of a signed public request is refused, a fresh nonce is not.
    let ts = now_ms().to_string();
    let (_, v) = fate_signed(&s, "/v1/version/get", "{}", &ts, "nonce-once");
    assert_eq!(v["retcode"], 0, "{v}");
    let (_, v) = fate_signed(&s, "/v1/version/get", "{}", &ts, "nonce-once");
    assert_eq!(v["retcode"], 109, "{v}");
    assert!(v["retmsg"].as_str().unwrap().contains("replay"), "{v}");
    let (_, v) = fate_signed(&s, "/v1/version/get", "{}", &ts, "nonce-twice");
    assert_eq!(v["retcode"], 0, "{v}");
    // A body changed under a valid signature is refused.
    let sig = fate_signature(
        SECRET,
        &ts,
        "n3",
        APP,
        "/v1/job/list/job",
        b"{\"limit\": 1}",
    );
    let (_, v) = reply(
        ureq::post(&format!("{}/v1/job/list/job", s.url))
            .set("Content-Type", "application/json")
            .set("TIMESTAMP", &ts)
            .set("NONCE", "n3")
            .set("APP_KEY", APP)
            .set("SIGNATURE", &sig)
            .send_string("{\"limit\": 2}"),
    );
    assert_eq!(v["retcode"], 109, "{v}");
}

#[test]
fn a_multipart_upload_is_signed_through_its_body_hash() {
    let dir = tempfile::tempdir().unwrap();
    let s = keyed(dir.path(), "");
    let (ct, body) = multipart("id,y,x0\n1,0,0.5\n2,1,0.25\n3,0,0.125\n");
    let mut tampered = body.clone();
    let at = tampered.windows(5).position(|w| w == b"0.25\n").unwrap();
    tampered[at] = b'9';

    let v = signed_upload(&s, "tampered", &body, &tampered, &ct);
    assert_eq!(v["retcode"], 109, "{v}");
    assert!(
        v["retmsg"].as_str().unwrap().contains(BODY_HASH_HEADER),
        "{v}"
    );
    assert_eq!(table_exists(&s, "tampered"), 0);

    // Without the hash header (fate-client's way), refused unless unsigned_multipart.
    let path_url = upload_query("nohash");
    let ts = now_ms().to_string();
    let sig = fate_signature(SECRET, &ts, "nh", APP, &path_url, b"");
    let (_, v) = reply(
        ureq::post(&format!("{}{path_url}", s.url))
            .set("Content-Type", &ct)
            .set("TIMESTAMP", &ts)
            .set("NONCE", "nh")
            .set("APP_KEY", APP)
            .set("SIGNATURE", &sig)
            .send_bytes(&body),
    );
    assert_eq!(v["retcode"], 109, "{v}");
    assert!(
        v["retmsg"].as_str().unwrap().contains("unsigned_multipart"),
        "{v}"
    );
    assert_eq!(table_exists(&s, "nohash"), 0);

    let v = signed_upload(&s, "intact", &body, &body, &ct);
    assert_eq!(v["retcode"], 0, "{v}");
    assert_eq!(table_exists(&s, "intact"), 1);
    let info = signed_json(
        &s,
        "/v1/table/table_info",
        &json!({"namespace": "auth", "table_name": "intact"}),
    );
    assert_eq!(info["data"]["count"], 3, "{info}");

    // fate-client compatibility switch: its unsigned multipart upload passes.
    let dir2 = tempfile::tempdir().unwrap();
    let s2 = keyed(dir2.path(), "unsigned_multipart = true\n");
    let ts = now_ms().to_string();
    let sig = fate_signature(SECRET, &ts, "fc", APP, &path_url, b"");
    let (_, v) = reply(
        ureq::post(&format!("{}{path_url}", s2.url))
            .set("Content-Type", &ct)
            .set("TIMESTAMP", &ts)
            .set("NONCE", "fc")
            .set("APP_KEY", APP)
            .set("SIGNATURE", &sig)
            .send_bytes(&body),
    );
    assert_eq!(v["retcode"], 0, "{v}");
}

#[test]
fn without_keys_or_tls_party_routes_answer_loopback_callers_only() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let (mut child, log) = spawn_server(dir.path(), &format!("0.0.0.0:{port}"), &[]);
    wait_up(&mut child, port, &log);
    let path = "/v1/party/202401010000000000001/guest/9999/create";
    // Loopback: served (a bad body, not an authentication error).
    let (_, v) = reply(
        ureq::post(&format!("http://127.0.0.1:{port}{path}"))
            .set("Content-Type", "application/json")
            .send_string("{}"),
    );
    assert_eq!(v["retcode"], 101, "{v}");
    match non_loopback_ip() {
        Some(ip) => {
            let (_, v) = reply(
                ureq::post(&format!("http://{ip}:{port}{path}"))
                    .set("Content-Type", "application/json")
                    .send_string("{}"),
            );
            assert_eq!(v["retcode"], 109, "{v}");
            let m = v["retmsg"].as_str().unwrap();
            assert!(m.contains("app_key") && m.contains("[tls]"), "{v}");
            // The public routes stay open (standalone without keys).
            let (_, v) =
                reply(ureq::post(&format!("http://{ip}:{port}/v1/version/get")).send_string("{}"));
            assert_eq!(v["retcode"], 0, "{v}");
        }
        None => eprintln!("no non-loopback address on this machine: remote half skipped"),
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn non_loopback_ip() -> Option<String> {
    // The address the kernel would use to reach the outside (no packet is sent).
    let s = std::net::UdpSocket::bind("0.0.0.0:0").ok()?;
    s.connect("192.0.2.1:9").ok()?;
    let ip = s.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then(|| ip.to_string())
}

fn spawn_server(
    dir: &Path,
    listen: &str,
    extra: &[&str],
) -> (std::process::Child, std::path::PathBuf) {
    std::fs::create_dir_all(dir).unwrap();
    let log = dir.join("server.log");
    let f = std::fs::File::create(&log).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_fedflow"))
        .arg("--data-dir")
        .arg(dir.join("data"))
        .args(["--log", "info", "server", "--listen", listen])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(f.try_clone().unwrap())
        .stderr(f)
        .spawn()
        .unwrap();
    (child, log)
}

fn wait_up(child: &mut std::process::Child, port: u16, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(Some(st)) = child.try_wait() {
            panic!(
                "server exited ({st}): {}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        if ureq::post(&format!("http://127.0.0.1:{port}/v1/version/get"))
            .timeout(Duration::from_secs(2))
            .send_string("{}")
            .is_ok()
        {
            return;
        }
        assert!(Instant::now() < deadline, "server not up");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn cluster_mode_on_a_public_address_needs_keys_tls_or_insecure() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let listen = format!("0.0.0.0:{port}");
    let o = Command::new(env!("CARGO_BIN_EXE_fedflow"))
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .args(["server", "--listen", &listen, "--party-id", "9999"])
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one line: {err}");
    for needle in ["app_key and secret_key", "[tls]", "--insecure", &listen] {
        assert!(lines[0].contains(needle), "{needle}: {err}");
    }
    // With --insecure it starts; with keys too.
    let (mut child, log) = spawn_server(
        &dir.path().join("a"),
        &listen,
        &["--party-id", "9999", "--insecure"],
    );
    wait_up(&mut child, port, &log);
    let _ = child.kill();
    let _ = child.wait();
    let cfg = write(
        dir.path(),
        "keys.toml",
        &format!("party_ids = [9999]\napp_key = \"{APP}\"\nsecret_key = \"{SECRET}\"\n"),
    );
    let port2 = free_port();
    let (mut child, log) = spawn_server(
        &dir.path().join("b"),
        &format!("0.0.0.0:{port2}"),
        &["-c", cfg.to_str().unwrap()],
    );
    wait_up(&mut child, port2, &log);
    let _ = child.kill();
    let _ = child.wait();
}

/// Raw HTTP/1.1 over TCP: writes `head` (and `body`, ignoring a peer that
/// closes early), reads the reply until EOF or `wait`.
fn raw(port: u16, head: &str, body: &[u8], wait: Duration) -> (String, Duration) {
    let t = Instant::now();
    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.set_read_timeout(Some(wait)).unwrap();
    let _ = c.write_all(head.as_bytes());
    let _ = c.write_all(body);
    let mut out = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        match c.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(_) => break,
        }
    }
    (String::from_utf8_lossy(&out).into_owned(), t.elapsed())
}

fn envelope(resp: &str) -> Value {
    let body = resp.split("\r\n\r\n").nth(1).unwrap_or("");
    serde_json::from_str(body.trim()).unwrap_or_else(|_| json!({"raw": resp}))
}

#[test]
fn bodies_over_the_limit_and_slow_clients_get_clean_errors_and_the_server_stays_up() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "limits.toml",
        "max_request_mb = 1\nmax_body_mb = 2\nrequest_timeout = 2\n",
    );
    let s = Server::start(&dir.path().join("srv"), &["-c", cfg.to_str().unwrap()]);

    // Announced too big: refused before the body is read.
    let (r, _) = raw(
        s.port,
        "POST /v1/job/list/job HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2000000\r\n\r\n",
        b"",
        Duration::from_secs(10),
    );
    assert!(r.starts_with("HTTP/1.1 413"), "{r}");
    let v = envelope(&r);
    assert_eq!(v["retcode"], 101, "{r}");
    assert!(
        v["retmsg"].as_str().unwrap().contains("max_request_mb"),
        "{r}"
    );
    // Sent chunked, without a length: cut at the limit.
    let mut chunked = Vec::new();
    for _ in 0..20 {
        chunked.extend_from_slice(format!("{:x}\r\n", 100_000).as_bytes());
        chunked.extend_from_slice(&vec![b' '; 100_000]);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let (r, _) = raw(
        s.port,
        "POST /v1/job/list/job HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
        &chunked,
        Duration::from_secs(10),
    );
    assert!(r.starts_with("HTTP/1.1 413"), "{r}");
    // An upload may be bigger than other requests, up to max_body_mb.
    let (r, _) = raw(
        s.port,
        "POST /v1/data/upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 3000000\r\n\r\n",
        b"",
        Duration::from_secs(10),
    );
    assert!(r.starts_with("HTTP/1.1 413"), "{r}");
    assert!(
        envelope(&r)["retmsg"]
            .as_str()
            .unwrap()
            .contains("max_body_mb"),
        "{r}"
    );

    // Half the headers, then silence: cut off after request_timeout (2 s).
    let (r, took) = raw(
        s.port,
        "POST /v1/version/get HTTP/1.1\r\nHost: x\r\n",
        b"",
        Duration::from_secs(15),
    );
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_secs(10),
        "{took:?} {r}"
    );
    assert!(r.is_empty() || r.starts_with("HTTP/1.1 408"), "{r}");
    // Headers, then a stalled body.
    let (r, took) = raw(
        s.port,
        "POST /v1/job/list/job HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n",
        b"{\"limit\":",
        Duration::from_secs(15),
    );
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_secs(10),
        "{took:?} {r}"
    );
    assert!(r.starts_with("HTTP/1.1 408"), "{r}");
    assert!(
        envelope(&r)["retmsg"]
            .as_str()
            .unwrap()
            .contains("request_timeout"),
        "{r}"
    );

    // Still serving.
    let v = s.post("version/get", json!({}));
    assert_eq!(v["retcode"], 0, "{v}");
    let v = s.post("job/list/job", json!({"limit": 5}));
    assert_eq!(v["retcode"], 0, "{v}");
}

/// Live `fedflow task run` processes of this data dir.
fn executors(data_dir: &Path) -> usize {
    let want = data_dir.display().to_string();
    let mut n = 0;
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i64>().ok()) else {
            continue;
        };
        let Ok(cmd) = std::fs::read(e.path().join("cmdline")) else {
            continue;
        };
        let args: Vec<String> = cmd
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let is_task = args.windows(2).any(|w| w[0] == "task" && w[1] == "run");
        if is_task && args.contains(&want) && alive(pid) {
            n += 1;
        }
    }
    n
}

#[test]
fn submits_beyond_max_executors_wait_and_all_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("srv");
    let s = Server::start(&data, &["--max-executors", "2"]);
    let (conf, dsl) = toy(200_000);
    let n = 8;
    let jobs: Vec<String> = (0..n).map(|_| s.submit(&conf, &dsl)).collect();
    let mut peak = 0;
    let mut saw_waiting = false;
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        peak = peak.max(executors(&data));
        let v = s.ok("job/list/job", json!({"limit": 100}));
        let rows = v["data"]["jobs"].as_array().cloned().unwrap_or_default();
        let mine: Vec<&Value> = rows
            .iter()
            .filter(|r| jobs.iter().any(|j| r["f_job_id"] == j.as_str()))
            .collect();
        let statuses: Vec<&str> = mine.iter().filter_map(|r| r["f_status"].as_str()).collect();
        if statuses.contains(&"waiting") && statuses.contains(&"running") {
            saw_waiting = true;
        }
        if statuses.len() >= n
            && statuses
                .iter()
                .all(|s| ["success", "failed", "canceled", "timeout"].contains(s))
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "jobs did not finish: {statuses:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    for j in &jobs {
        assert_eq!(s.wait_job(j, Duration::from_secs(5)), "success", "{j}");
    }
    eprintln!("{n} toy jobs with max_executors = 2: peak {peak} executors");
    assert!(peak <= 2, "peak {peak} executors > max_executors 2");
    assert!(peak >= 1, "never saw an executor");
    assert!(saw_waiting, "no job was seen waiting while another ran");
}

#[test]
fn the_board_logs_in_into_a_session_cookie() {
    let dir = tempfile::tempdir().unwrap();
    let s = keyed(dir.path(), "");
    // The page itself is open.
    let r = ureq::get(&format!("{}/", s.url)).call().unwrap();
    assert!(r.into_string().unwrap().contains("/board/app.js"));
    let js = ureq::get(&format!("{}/board/app.js", s.url))
        .call()
        .unwrap()
        .into_string()
        .unwrap();
    assert!(js.contains("X-Fedflow-Board"), "the board sends its header");
    // What the browser carries before logging in: refused.
    let list = |cookie: Option<&str>, board_header: bool| {
        let mut req = ureq::post(&format!("{}/v1/job/list/job", s.url))
            .set("Content-Type", "application/json");
        if board_header {
            req = req.set("X-Fedflow-Board", "1");
        }
        if let Some(c) = cookie {
            req = req.set("Cookie", c);
        }
        reply(req.send_string("{}")).1
    };
    assert_eq!(list(None, true)["retcode"], 109);
    let login = |secret: &str| {
        let r = ureq::post(&format!("{}/board/api/login", s.url))
            .set("Content-Type", "application/json")
            .send_string(&json!({"app_key": APP, "secret_key": secret}).to_string());
        match r {
            Ok(r) => (
                r.header("set-cookie").map(str::to_string),
                r.into_json::<Value>().unwrap(),
            ),
            Err(ureq::Error::Status(_, r)) => (None, r.into_json().unwrap()),
            Err(e) => panic!("{e}"),
        }
    };
    let (c, v) = login("wrong");
    assert_eq!(v["retcode"], 109, "{v}");
    assert!(c.is_none());
    let (c, v) = login(SECRET);
    assert_eq!(v["retcode"], 0, "{v}");
    let c = c.expect("Set-Cookie");
    assert!(
        c.contains("HttpOnly") && c.contains("SameSite=Strict"),
        "{c}"
    );
    let cookie = c.split(';').next().unwrap().to_string();
    assert!(!cookie.contains(SECRET));
    let v = list(Some(&cookie), true);
    assert_eq!(v["retcode"], 0, "{v}");
    let r = ureq::get(&format!("{}/board/api/jobs?limit=5", s.url))
        .set("Cookie", &cookie)
        .set("X-Fedflow-Board", "1")
        .call()
        .unwrap();
    let v: Value = r.into_json().unwrap();
    assert_eq!(v["retcode"], 0, "{v}");
    // A cross-site form cannot add the header: the cookie alone is not enough.
    assert_eq!(list(Some(&cookie), false)["retcode"], 109);
    // A made-up session is not one; nor does a session open the party routes.
    assert_eq!(list(Some("fedflow_board=0123"), true)["retcode"], 109);
    let (_, v) = reply(
        ureq::post(&format!("{}/v1/party/j/guest/9999/create", s.url))
            .set("Cookie", &cookie)
            .set("X-Fedflow-Board", "1")
            .send_string("{}"),
    );
    assert_eq!(v["retcode"], 109, "{v}");
}

#[test]
fn two_servers_with_keys_sign_their_party_calls() {
    let dir = tempfile::tempdir().unwrap();
    let fed = dir.path().join("federation");
    let (gp, hp) = (free_port(), free_port());
    let cfg = |me: u64, other: u64, port: u16| {
        write(
            dir.path(),
            &format!("server_{me}.toml"),
            &format!(
                "party_ids = [{me}]\nfederation_dir = \"{}\"\napp_key = \"{APP}\"\nsecret_key = \"{SECRET}\"\n[route]\n{other} = \"http://127.0.0.1:{port}\"\n",
                fed.display()
            ),
        )
    };
    let gcfg = cfg(9999, 10000, hp);
    let hcfg = cfg(10000, 9999, gp);
    let host = Server::start_on(
        &dir.path().join("host"),
        hp,
        &["-c", hcfg.to_str().unwrap()],
    );
    let guest = Server::start_on(
        &dir.path().join("guest"),
        gp,
        &["-c", gcfg.to_str().unwrap()],
    );
    let (conf, dsl) = toy(1000);
    let v = signed_json(
        &guest,
        "/v1/job/submit",
        &json!({"job_runtime_conf": conf, "job_dsl": dsl}),
    );
    assert_eq!(v["retcode"], 0, "{v}");
    let job = v["jobId"].as_str().unwrap().to_string();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let q = signed_json(&guest, "/v1/job/query", &json!({"job_id": job}));
        let st = q["data"][0]["f_status"].as_str().unwrap_or("").to_string();
        if st == "success" {
            break;
        }
        assert!(
            !["failed", "canceled", "timeout"].contains(&st.as_str()),
            "{q}\nguest: {}\nhost: {}",
            guest.log_text(),
            host.log_text()
        );
        assert!(Instant::now() < deadline, "{q}");
        std::thread::sleep(Duration::from_millis(100));
    }
    let h = signed_json(&host, "/v1/job/query", &json!({"job_id": job}));
    assert_eq!(h["data"][0]["f_status"], "success", "{h}");
}
