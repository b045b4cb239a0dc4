//! Cluster mode end to end: three `fedflow server` processes on loopback
//! (guest 9999 with its meta store in MariaDB, host 10000, arbiter 10001),
//! each with its own data dir, the control plane between them over HTTPS with
//! mTLS, each server hosting its party's gRPC federation endpoint (mTLS), and
//! RabbitMQ for the RABBITMQ jobs. Results are compared with a standalone
//! `fedflow job run` of the same job; failures (a killed server, a refusing
//! peer, an untrusted client certificate) must end cleanly.

mod common;
use common::server::*;
use common::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(240);
const PARTIES: [(&str, u64); 3] = [("guest", 9999), ("host", 10000), ("arbiter", 10001)];

fn broker() {
    fedflow_federation::rabbitmq::testing::ensure_broker()
        .unwrap_or_else(|e| panic!("RabbitMQ is needed for the cluster tests: {e}"));
}

/// A free port below the ephemeral range (outgoing connections of the many
/// processes here cannot take it between our check and the server's bind).
fn port() -> u16 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    loop {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos() as u64
            ^ (std::process::id() as u64) << 20
            ^ N.fetch_add(7919, Ordering::Relaxed);
        let p = 20_000 + (seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) % 12_000;
        if std::net::TcpListener::bind(("127.0.0.1", p as u16)).is_ok() {
            return p as u16;
        }
    }
}

/// Makes a CA and the three parties' certificates with `fedflow cert`.
fn certs(dir: &Path) -> PathBuf {
    let certs = dir.join("certs");
    let o = fedflow(
        dir,
        &["cert", "ca", "--out", dir.join("ca").to_str().unwrap()],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    for (_, pid) in PARTIES {
        let o = fedflow(
            dir,
            &[
                "cert",
                "party",
                "--ca",
                dir.join("ca").to_str().unwrap(),
                "--party-id",
                &pid.to_string(),
                "--out",
                certs.to_str().unwrap(),
            ],
        );
        assert!(o.status.success(), "{}", stderr(&o));
    }
    certs
}

/// Three servers, one per party.
struct Cluster {
    servers: Vec<Server>,
    _mysql: Option<MariaDb>,
    /// Per party: control-plane (https) port, gRPC port.
    ports: Vec<(u16, u16)>,
}

/// What to change in one party's config.
#[derive(Default, Clone)]
struct Tweaks {
    /// Party id → gRPC address override in the guest's route table.
    guest_grpc_route: Option<(u64, String)>,
    heartbeat: Option<u64>,
}

impl Cluster {
    fn start(dir: &Path, mysql_guest: bool, t: Tweaks) -> Cluster {
        let certs = certs(dir);
        let ports: Vec<(u16, u16)> = PARTIES.iter().map(|_| (port(), port())).collect();
        let mysql = mysql_guest.then(MariaDb::new);
        let mut servers = Vec::new();
        for (i, (role, pid)) in PARTIES.iter().enumerate() {
            let mut routes = String::new();
            let mut grpc = String::new();
            for (j, (_, other)) in PARTIES.iter().enumerate() {
                if other != pid {
                    routes.push_str(&format!("{other} = \"https://127.0.0.1:{}\"\n", ports[j].0));
                }
                let mut addr = format!("127.0.0.1:{}", ports[j].1);
                if let (0, Some((p, a))) = (i, &t.guest_grpc_route) {
                    if p == other {
                        addr = a.clone();
                    }
                }
                grpc.push_str(&format!("{other} = \"{addr}\"\n"));
            }
            let meta = match (&mysql, i) {
                (Some(m), 0) => format!("meta_url = \"{}\"\n", m.url),
                _ => String::new(),
            };
            let c = certs.display();
            let cfg = format!(
                "party_ids = [{pid}]\n{meta}heartbeat_timeout = {hb}\n\
                 [route]\n{routes}\n\
                 [tls]\nlisten = \"127.0.0.1:{tls}\"\nca = \"{c}/ca.crt\"\n\
                 cert = \"{c}/party-{{party_id}}.crt\"\nkey = \"{c}/party-{{party_id}}.key\"\n\
                 [federation]\namqp_url = \"amqp://guest:guest@127.0.0.1:5672\"\n\
                 tls_ca = \"{c}/ca.crt\"\ntls_cert = \"{c}/party-{{party_id}}.crt\"\n\
                 tls_key = \"{c}/party-{{party_id}}.key\"\nconnect_timeout = 3\n\
                 [federation.grpc_routes]\n{grpc}",
                hb = t.heartbeat.unwrap_or(10),
                tls = ports[i].0,
            );
            let path = write(dir, &format!("{role}-{pid}.toml"), &cfg);
            servers.push(Server::start_on(
                &dir.join(format!("{role}-{pid}")),
                port(),
                &["-c", path.to_str().unwrap()],
            ));
        }
        Cluster {
            servers,
            _mysql: mysql,
            ports,
        }
    }

    fn guest(&self) -> &Server {
        &self.servers[0]
    }
    fn host(&self) -> &Server {
        &self.servers[1]
    }
    fn arbiter(&self) -> &Server {
        &self.servers[2]
    }

    fn logs(&self) -> String {
        self.servers
            .iter()
            .zip(PARTIES)
            .map(|(s, (r, _))| format!("--- {r} server:\n{}", s.log_text()))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Uploads breast_hetero_{guest,host} to namespace `experiment` on the guest's and host's servers.
    fn upload_breast(&self, work: &Path) {
        for (who, s) in [("guest", self.guest()), ("host", self.host())] {
            let conf = json!({
                "file": shared().join(format!("data/breast_hetero_{who}.csv")),
                "head": 1, "partition": 4,
                "table_name": format!("breast_hetero_{who}"), "namespace": "experiment",
            });
            let p = write(work, &format!("up_{who}.json"), &conf.to_string());
            let o = fedflow(
                work,
                &[
                    "--server",
                    &s.url,
                    "data",
                    "upload",
                    "-c",
                    p.to_str().unwrap(),
                ],
            );
            assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
        }
    }
}

/// FATE's hetero_lr_normal conf with the arbiter on its own party, the engine and max_iter set.
fn lr_conf(engine: Option<&str>, max_iter: u64) -> (Value, Value) {
    let ex = shared().join("examples/fate");
    let mut conf: Value = serde_json::from_str(
        &std::fs::read_to_string(ex.join("hetero_lr_normal_conf.json")).unwrap(),
    )
    .unwrap();
    let dsl: Value = serde_json::from_str(
        &std::fs::read_to_string(ex.join("hetero_lr_normal_dsl.json")).unwrap(),
    )
    .unwrap();
    conf["role"]["arbiter"] = json!([10001]);
    conf["component_parameters"]["common"]["hetero_lr_0"]["max_iter"] = json!(max_iter);
    if let Some(e) = engine {
        conf["job_parameters"]["common"]["federation_engine"] = json!(e);
        conf["job_parameters"]["common"]["timeout"] = json!(600);
    }
    (conf, dsl)
}

fn toy_conf(engine: Option<&str>) -> (Value, Value) {
    let (mut conf, dsl) = toy(20_000);
    if let Some(e) = engine {
        conf["job_parameters"]["common"]["federation_engine"] = json!(e);
    }
    (conf, dsl)
}

fn save(work: &Path, name: &str, v: &Value) -> String {
    write(work, name, &v.to_string()).display().to_string()
}

/// Numbers equal within 1e-9, everything else exactly.
fn assert_close(a: &Value, b: &Value, path: &str) {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!((x - y).abs() <= 1e-9, "{path}: {x} vs {y}");
        }
        (Value::Object(x), Value::Object(y)) => {
            let kx: std::collections::BTreeSet<_> = x.keys().collect();
            let ky: std::collections::BTreeSet<_> = y.keys().collect();
            assert_eq!(kx, ky, "{path}: keys differ");
            for (k, v) in x {
                assert_close(v, &y[k], &format!("{path}.{k}"));
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{path}: lengths differ");
            for (i, (u, v)) in x.iter().zip(y).enumerate() {
                assert_close(u, v, &format!("{path}[{i}]"));
            }
        }
        _ => assert_eq!(a, b, "{path}"),
    }
}

/// A model file of a job (`models/<model_id>/<job>/<role>-<pid>/<component>.json`) under `dir`.
fn model(dir: &Path, job: &str, party: &str, component: &str) -> Value {
    let models = dir.join("models");
    for id in std::fs::read_dir(&models).unwrap().flatten() {
        let p = id
            .path()
            .join(job)
            .join(party)
            .join(format!("{component}.json"));
        if p.exists() {
            return serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
        }
    }
    panic!(
        "no model {job} {party} {component} under {}",
        models.display()
    );
}

/// The standalone reference: `fedflow job run` in one process; its job id and summary line.
fn standalone_lr(work: &Path, max_iter: u64) -> (PathBuf, String, Value) {
    let dir = work.join("standalone");
    std::fs::create_dir_all(&dir).unwrap();
    for who in ["guest", "host"] {
        let conf = json!({
            "file": shared().join(format!("data/breast_hetero_{who}.csv")),
            "head": 1, "partition": 4,
            "table_name": format!("breast_hetero_{who}"), "namespace": "experiment",
        });
        let p = write(&dir, &format!("up_{who}.json"), &conf.to_string());
        let o = fedflow(&dir, &["data", "upload", "-c", p.to_str().unwrap()]);
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let (conf, dsl) = lr_conf(None, max_iter);
    let (c, d) = (
        save(&dir, "lr.json", &conf),
        save(&dir, "lr_dsl.json", &dsl),
    );
    let o = fedflow(&dir, &["job", "run", "-c", &c, "-d", &d]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    let job = job_id_in(&out);
    let summary = out
        .split("hetero_lr_0=")
        .nth(1)
        .and_then(|s| s.lines().next())
        .unwrap_or_else(|| panic!("no evaluation summary in: {out}"));
    (dir, job, serde_json::from_str(summary).unwrap())
}

/// The guest's evaluation metrics of a cluster job as `{name: value}`.
fn cluster_eval(c: &Cluster, job: &str) -> Value {
    let m = c.guest().ok(
        "tracking/component/metric/all",
        json!({"job_id": job, "role": "guest", "party_id": 9999, "component_name": "evaluation_0"}),
    );
    let mut out = serde_json::Map::new();
    for (k, v) in m["data"]["hetero_lr_0"]
        .as_object()
        .unwrap_or_else(|| panic!("{m}"))
    {
        if v["meta"]["metric_type"] == "EVALUATION_SUMMARY" {
            out.insert(k.clone(), v["data"][0][1].clone());
        }
    }
    Value::Object(out)
}

fn secure_sum(s: &Server, job: &str) -> f64 {
    let m = s.ok(
        "tracking/component/metric/all",
        json!({"job_id": job, "role": "guest", "party_id": 9999, "component_name": "secure_add_example_0"}),
    );
    m["data"]["train"]["secure_sum"]["data"][0][1]
        .as_f64()
        .unwrap_or_else(|| panic!("{m}"))
}

fn job_rows(s: &Server, job: &str) -> Vec<Value> {
    s.ok("job/query", json!({"job_id": job}))["data"]
        .as_array()
        .unwrap()
        .clone()
}

#[test]
fn toy_and_hetero_lr_across_three_servers_over_grpc_and_rabbitmq_match_standalone() {
    broker();
    let work = tempfile::tempdir().unwrap();
    let c = Cluster::start(work.path(), true, Tweaks::default());
    c.upload_breast(work.path());
    let (sa_dir, sa_job, sa_eval) = standalone_lr(work.path(), 5);
    for engine in ["GRPC", "RABBITMQ"] {
        let (conf, dsl) = toy_conf(Some(engine));
        let t = Instant::now();
        let job = c.guest().submit(&conf, &dsl);
        assert_eq!(c.guest().wait_job(&job, WAIT), "success", "{}", c.logs());
        let sum = secure_sum(c.guest(), &job);
        assert!(
            (sum - 40_000.0).abs() < 1e-6,
            "toy {engine}: secure_sum {sum}"
        );
        eprintln!(
            "toy over {engine} across three servers: {:.2} s",
            t.elapsed().as_secs_f64()
        );

        let (conf, dsl) = lr_conf(Some(engine), 5);
        let t = Instant::now();
        let job = c.guest().submit(&conf, &dsl);
        assert_eq!(
            c.guest().wait_job(&job, WAIT),
            "success",
            "{}",
            c.guest().initiator_row(&job)["f_error"]
        );
        eprintln!(
            "hetero LR (5 iterations) over {engine} across three servers: {:.2} s",
            t.elapsed().as_secs_f64()
        );
        // Every party's server has its own row, ended success.
        for (s, (role, pid)) in c.servers.iter().zip(PARTIES) {
            let rows = job_rows(s, &job);
            assert_eq!(rows.len(), 1, "{role}: {rows:?}");
            assert_eq!(rows[0]["f_role"], role);
            assert_eq!(rows[0]["f_party_id"], pid.to_string());
            assert_eq!(rows[0]["f_status"], "success", "{role}: {}", rows[0]);
        }
        let eval = cluster_eval(&c, &job);
        assert!(eval["auc"].as_f64().unwrap() > 0.95, "{eval}");
        assert_close(&eval, &sa_eval, &format!("{engine} evaluation"));
        for (i, party) in ["guest-9999", "host-10000", "arbiter-10001"]
            .iter()
            .enumerate()
        {
            let got = model(&c.servers[i].dir, &job, party, "hetero_lr_0");
            let want = model(&sa_dir, &sa_job, party, "hetero_lr_0");
            assert_close(&got, &want, &format!("{engine} {party} model"));
        }
    }
    // Nothing is left in the servers' federation mailboxes.
    for s in &c.servers {
        let left: Vec<_> = std::fs::read_dir(s.dir.join("federation"))
            .map(|d| d.flatten().map(|e| e.file_name()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "{}: {left:?}", s.dir.display());
    }
}

/// FATE's homo_lr_train job (DataTransform, FeatureScale, HomoLR,
/// Evaluation) with the arbiter on its own party, the engine and max_iter set.
fn homo_lr_conf(engine: Option<&str>, max_iter: u64) -> (Value, Value) {
    let ex = shared().join("examples/fate/homo_logistic_regression");
    let read = |f: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(ex.join(f)).unwrap()).unwrap()
    };
    let (mut conf, dsl) = (
        read("homo_lr_train_conf.json"),
        read("homo_lr_train_dsl.json"),
    );
    conf["role"]["arbiter"] = json!([10001]);
    conf["component_parameters"]["common"]["homo_lr_0"]["max_iter"] = json!(max_iter);
    if let Some(e) = engine {
        conf["job_parameters"]["common"]["federation_engine"] = json!(e);
        conf["job_parameters"]["common"]["timeout"] = json!(600);
    }
    (conf, dsl)
}

/// Uploads breast_homo_{guest,host} to `experiment` through `fedflow` in
/// `dir` (on the guest's and host's servers when given).
fn upload_breast_homo(dir: &Path, servers: Option<(&Server, &Server)>) {
    upload_shared(dir, servers.map(|s| s.0.url.as_str()), "breast_homo_guest");
    upload_shared(dir, servers.map(|s| s.1.url.as_str()), "breast_homo_host");
}

#[test]
fn homo_lr_across_three_servers_over_grpc_and_rabbitmq_matches_standalone() {
    broker();
    let work = tempfile::tempdir().unwrap();
    // The standalone reference.
    let sa = work.path().join("standalone");
    std::fs::create_dir_all(&sa).unwrap();
    upload_breast_homo(&sa, None);
    let (conf, dsl) = homo_lr_conf(None, 5);
    let o = fedflow(
        &sa,
        &[
            "job",
            "run",
            "-c",
            &save(&sa, "c.json", &conf),
            "-d",
            &save(&sa, "d.json", &dsl),
        ],
    );
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    let sa_job = job_id_in(&out);
    let want = model(&sa, &sa_job, "guest-9999", "homo_lr_0");
    // Every client ends with the same aggregated model.
    assert_close(
        &model(&sa, &sa_job, "host-10000", "homo_lr_0")["param"]["weight"],
        &want["param"]["weight"],
        "standalone host vs guest weights",
    );

    let c = Cluster::start(work.path(), true, Tweaks::default());
    upload_breast_homo(work.path(), Some((c.guest(), c.host())));
    for engine in ["GRPC", "RABBITMQ"] {
        let (conf, dsl) = homo_lr_conf(Some(engine), 5);
        let t = Instant::now();
        let job = c.guest().submit(&conf, &dsl);
        assert_eq!(
            c.guest().wait_job(&job, WAIT),
            "success",
            "{}",
            c.guest().initiator_row(&job)["f_error"]
        );
        eprintln!(
            "HomoLR (5 epochs) over {engine} across three servers: {:.2} s",
            t.elapsed().as_secs_f64()
        );
        for (i, party) in ["guest-9999", "host-10000"].iter().enumerate() {
            let got = model(&c.servers[i].dir, &job, party, "homo_lr_0");
            let want = model(&sa, &sa_job, party, "homo_lr_0");
            assert_close(
                &got["param"],
                &want["param"],
                &format!("{engine} {party} model"),
            );
        }
    }
}

/// Waits until `component` has a running task with a pid on `s`; the pids.
fn wait_running(s: &Server, job: &str, component: &str) -> Vec<i64> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let v = s.post("job/task/query", json!({"job_id": job}));
        let pids: Vec<i64> = v["data"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|t| t["f_component_name"] == component && t["f_status"] == "running")
            .filter_map(|t| t["f_run_pid"].as_i64())
            .collect();
        if !pids.is_empty() {
            return pids;
        }
        assert!(Instant::now() < deadline, "{component} never ran: {v}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn running_pids(s: &Server, job: &str) -> Vec<i64> {
    s.post("job/task/query", json!({"job_id": job}))["data"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["f_run_pid"].as_i64())
        .collect()
}

#[test]
fn killing_the_host_server_fails_the_job_everywhere_and_rerun_resumes_it() {
    let work = tempfile::tempdir().unwrap();
    let heartbeat = 5;
    let mut c = Cluster::start(
        work.path(),
        false,
        Tweaks {
            heartbeat: Some(heartbeat),
            ..Default::default()
        },
    );
    c.upload_breast(work.path());
    let (conf, dsl) = lr_conf(Some("GRPC"), 30);
    let job = c.guest().submit(&conf, &dsl);
    let host_exec = wait_running(c.host(), &job, "hetero_lr_0");
    let guest_exec = wait_running(c.guest(), &job, "hetero_lr_0");
    let arbiter_exec = wait_running(c.arbiter(), &job, "hetero_lr_0");
    let killed = Instant::now();
    c.servers[1].kill9();
    assert_eq!(c.guest().wait_job(&job, Duration::from_secs(60)), "failed");
    let detected = killed.elapsed();
    eprintln!(
        "host server killed mid-job: guest marked the job failed after {:.2} s (heartbeat_timeout {heartbeat} s)",
        detected.as_secs_f64()
    );
    assert!(
        detected < Duration::from_secs(heartbeat + 5),
        "the failure took {detected:?}"
    );
    let arbiter_row = job_rows(c.arbiter(), &job).remove(0);
    assert_eq!(arbiter_row["f_status"], "failed", "{arbiter_row}");
    let err = c.guest().initiator_row(&job)["f_error"].to_string();
    assert!(err.contains("10000"), "the error names the host: {err}");
    // No executor hangs: the guest's and arbiter's are stopped, the host's exit with their server.
    wait_dead(
        &[guest_exec, arbiter_exec, host_exec].concat(),
        Duration::from_secs(10),
    );
    eprintln!(
        "all executors gone {:.2} s after the kill",
        killed.elapsed().as_secs_f64()
    );

    // Restart the host; rerun resumes from hetero_lr_0.
    c.servers[1].restart();
    let host_row = job_rows(c.host(), &job).remove(0);
    assert_eq!(host_row["f_status"], "failed", "{host_row}");
    let r = c.guest().ok("job/rerun", json!({"job_id": job}));
    assert_eq!(r["retcode"], 0, "{r}");
    assert_eq!(c.guest().wait_job(&job, WAIT), "success", "{}", c.logs());
    for s in &c.servers {
        let ts = s.ok("job/task/query", json!({"job_id": job}))["data"].clone();
        // The latest version of each task.
        let mut latest: std::collections::BTreeMap<String, Value> = Default::default();
        for t in ts.as_array().unwrap() {
            let k = t["f_component_name"].as_str().unwrap().to_string();
            if latest
                .get(&k)
                .is_none_or(|l| l["f_task_version"].as_i64() < t["f_task_version"].as_i64())
            {
                latest.insert(k, t.clone());
            }
        }
        assert_eq!(latest.len(), 5, "{ts}");
        for t in latest.values() {
            assert_eq!(t["f_status"], "success", "{t}");
            let v = t["f_task_version"].as_i64().unwrap();
            match t["f_component_name"].as_str().unwrap() {
                "reader_0" | "data_transform_0" | "intersection_0" => {
                    assert_eq!(v, 0, "kept, not rerun: {t}")
                }
                "hetero_lr_0" => assert_eq!(v, 1, "rerun once: {t}"),
                _ => assert_eq!(v, 0, "{t}"),
            }
        }
        assert!(running_pids(s, &job).is_empty());
    }
    let eval = cluster_eval(&c, &job);
    assert!(eval["auc"].as_f64().unwrap() > 0.95, "{eval}");
}

#[test]
fn a_peer_endpoint_refusing_connections_fails_the_job_naming_the_peer() {
    let work = tempfile::tempdir().unwrap();
    let dead = format!("127.0.0.1:{}", port());
    let c = Cluster::start(
        work.path(),
        false,
        Tweaks {
            guest_grpc_route: Some((10000, dead.clone())),
            ..Default::default()
        },
    );
    let (conf, dsl) = toy_conf(Some("GRPC"));
    let t = Instant::now();
    let job = c.guest().submit(&conf, &dsl);
    assert_eq!(c.guest().wait_job(&job, WAIT), "failed");
    eprintln!(
        "refusing peer: job failed after {:.2} s",
        t.elapsed().as_secs_f64()
    );
    let err = c.guest().initiator_row(&job)["f_error"].to_string();
    assert!(
        err.contains("party 10000") && err.contains(&dead) && err.contains("attempt"),
        "{err}"
    );
    for s in &c.servers[..2] {
        let rows = job_rows(s, &job);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0]["f_status"], "failed", "{}", rows[0]);
    }
}

#[test]
fn the_control_plane_requires_a_client_certificate_from_the_party_ca() {
    let work = tempfile::tempdir().unwrap();
    let c = Cluster::start(work.path(), false, Tweaks::default());
    let host_tls = format!("https://127.0.0.1:{}", c.ports[1].0);
    let probe = format!("{host_tls}/v1/version/get");
    let certs = work.path().join("certs");
    let tls = |dir: &Path| fedflow_server::tls::ControlTls {
        listen: None,
        ca: certs.join("ca.crt"),
        cert: dir.join("party-{party_id}.crt"),
        key: dir.join("party-{party_id}.key"),
    };
    // A party of the CA: accepted.
    let ok = ureq::AgentBuilder::new()
        .tls_connector(tls(&certs).connector(9999, 10000).unwrap())
        .build()
        .post(&probe)
        .send_string("{}")
        .expect("a trusted client is served");
    assert_eq!(ok.status(), 200);
    // The same party id with a certificate from another CA: refused in the handshake.
    let other = work.path().join("other");
    for args in [
        vec!["cert", "ca", "--out", other.to_str().unwrap()],
        vec![
            "cert",
            "party",
            "--ca",
            other.to_str().unwrap(),
            "--party-id",
            "9999",
            "--out",
            other.to_str().unwrap(),
        ],
    ] {
        assert!(fedflow(work.path(), &args).status.success());
    }
    let e = ureq::AgentBuilder::new()
        .tls_connector(tls(&other).connector(9999, 10000).unwrap())
        .build()
        .post(&probe)
        .send_string("{}")
        .expect_err("an untrusted client certificate is refused");
    eprintln!("untrusted client: {e}");
    // Party-to-party routes are refused on the plain listener.
    let v = c.host().post("party/x/guest/9999/status/failed", json!({}));
    assert_eq!(v["retcode"], 403, "{v}");
    // And the job still runs over the HTTPS control plane.
    let (conf, dsl) = toy_conf(Some("GRPC"));
    let job = c.guest().submit(&conf, &dsl);
    assert_eq!(c.guest().wait_job(&job, WAIT), "success", "{}", c.logs());
}

/// Benchmark (ignored; run with `--ignored --nocapture`): 20 toy jobs at once
/// across the three servers, over gRPC (mTLS), each server initiating jobs
/// as guest with the next server's party as host; all must succeed.
#[test]
#[ignore]
fn bench_twenty_concurrent_toy_jobs_across_three_servers() {
    let work = tempfile::tempdir().unwrap();
    let c = Cluster::start(work.path(), true, Tweaks::default());
    let jobs = 20;
    let t = Instant::now();
    let submitted: Vec<(usize, String)> = (0..jobs)
        .map(|i| {
            let g = i % 3;
            let h = (g + 1) % 3;
            let (mut conf, dsl) = toy_conf(Some("GRPC"));
            conf["initiator"]["party_id"] = json!(PARTIES[g].1);
            conf["role"] = json!({"guest": [PARTIES[g].1], "host": [PARTIES[h].1]});
            (g, c.servers[g].submit(&conf, &dsl))
        })
        .collect();
    let ids: std::collections::BTreeSet<_> = submitted.iter().map(|(_, j)| j).collect();
    assert_eq!(ids.len(), jobs);
    let mut states = Vec::new();
    for (g, job) in &submitted {
        states.push(c.servers[*g].wait_job(job, WAIT));
    }
    let secs = t.elapsed().as_secs_f64();
    let ok = states.iter().filter(|s| *s == "success").count();
    eprintln!("{jobs} concurrent toy jobs (data_num 20000, GRPC) across three servers: {ok} success, {secs:.2} s in all");
    assert_eq!(ok, jobs, "{states:?}\n{}", c.logs());
}
