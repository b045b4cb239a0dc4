//! The cluster federation engines with real services: RabbitMQ on this
//! machine (started, and its management plugin enabled, if needed) and gRPC
//! endpoints on free loopback ports; parties in separate processes.

mod common;
use common::*;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};

fn broker() {
    fedflow_federation::rabbitmq::testing::ensure_broker()
        .unwrap_or_else(|e| panic!("RabbitMQ is needed for these tests: {e}"));
}

fn free_ports() -> (u16, u16) {
    let a = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let b = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    (
        a.local_addr().unwrap().port(),
        b.local_addr().unwrap().port(),
    )
}

fn secure_sum(out: &str) -> f64 {
    out.split("secure_sum=")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| {
            s.trim_matches(|c: char| !c.is_ascii_digit() && c != '.' && c != '-')
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no secure_sum in: {out}"))
}

/// The toy conf with `federation_engine` set (None: as shipped).
fn toy_conf(dir: &Path, engine: Option<&str>) -> (String, String) {
    let ex = shared().join("examples/fate");
    let mut conf: Value =
        serde_json::from_str(&std::fs::read_to_string(ex.join("toy_example_conf.json")).unwrap())
            .unwrap();
    if let Some(e) = engine {
        conf["job_parameters"]["common"]["federation_engine"] = e.into();
    }
    conf["job_parameters"]["common"]["timeout"] = 120.into();
    conf["component_parameters"]["common"]["secure_add_example_0"]["data_num"] = 20000.into();
    let name = format!("toy_{}.json", engine.unwrap_or("standalone"));
    let p = write(dir, &name, &conf.to_string());
    (
        p.to_str().unwrap().to_string(),
        ex.join("toy_example_dsl.json")
            .to_str()
            .unwrap()
            .to_string(),
    )
}

fn job_id(engine: &str) -> String {
    format!("fed_{}_{}", engine.to_lowercase(), std::process::id())
}

/// Guest and host as separate `fedflow job run --party …` processes.
fn toy_two_processes(engine: &str, env: &[(&str, String)]) -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let (conf, dsl) = toy_conf(dir.path(), Some(engine));
    let job_id = job_id(engine);
    let spawn = |party: &str| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_fedflow"));
        c.arg("--data-dir")
            .arg(dir.path().join(party.replace(':', "_")))
            .args(["--log", "warn", "job", "run", "-c", &conf, "-d", &dsl])
            .args(["--party", party, "--job-id", &job_id])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            c.env(k, v);
        }
        c.spawn().unwrap()
    };
    let host = spawn("host:10000");
    let guest = spawn("guest:9999");
    let g = guest.wait_with_output().unwrap();
    let h = host.wait_with_output().unwrap();
    assert!(
        g.status.success() && h.status.success(),
        "{engine}: guest: {} host: {}",
        stderr(&g),
        stderr(&h)
    );
    secure_sum(&stdout(&g))
}

fn standalone_sum() -> f64 {
    let dir = tempfile::tempdir().unwrap();
    let (conf, dsl) = toy_conf(dir.path(), None);
    let o = fedflow(dir.path(), &["job", "run", "-c", &conf, "-d", &dsl]);
    assert!(o.status.success(), "{}", stderr(&o));
    secure_sum(&stdout(&o))
}

#[test]
fn toy_over_rabbitmq_in_two_processes_matches_standalone() {
    broker();
    let want = standalone_sum();
    let got = toy_two_processes(
        "RABBITMQ",
        &[(
            "FEDFLOW_AMQP_URL",
            "amqp://guest:guest@127.0.0.1:5672".into(),
        )],
    );
    assert!(
        (got - want).abs() < 1e-6,
        "rabbitmq {got} vs standalone {want}"
    );
}

#[test]
fn toy_over_grpc_with_mtls_in_two_processes_matches_standalone() {
    let want = standalone_sum();
    let certs = tempfile::tempdir().unwrap();
    let c = certs.path().to_str().unwrap();
    let o = fedflow(certs.path(), &["cert", "ca", "--out", c]);
    assert!(o.status.success(), "{}", stderr(&o));
    for pid in ["9999", "10000"] {
        let o = fedflow(
            certs.path(),
            &["cert", "party", "--ca", c, "--party-id", pid, "--out", c],
        );
        assert!(o.status.success(), "{}", stderr(&o));
    }
    for f in [
        "ca.crt",
        "ca.key",
        "party-9999.crt",
        "party-9999.key",
        "party-10000.crt",
    ] {
        assert!(certs.path().join(f).exists(), "{f}");
    }
    let (p1, p2) = free_ports();
    let got = toy_two_processes(
        "GRPC",
        &[
            (
                "FEDFLOW_GRPC_ROUTES",
                format!("9999=127.0.0.1:{p1},10000=127.0.0.1:{p2}"),
            ),
            ("FEDFLOW_TLS_CA", format!("{c}/ca.crt")),
            ("FEDFLOW_TLS_CERT", format!("{c}/party-{{party_id}}.crt")),
            ("FEDFLOW_TLS_KEY", format!("{c}/party-{{party_id}}.key")),
        ],
    );
    assert!((got - want).abs() < 1e-6, "grpc {got} vs standalone {want}");
}

#[test]
fn toy_over_grpc_in_one_process() {
    let dir = tempfile::tempdir().unwrap();
    let (conf, dsl) = toy_conf(dir.path(), Some("GRPC"));
    let (p1, p2) = free_ports();
    let o = Command::new(env!("CARGO_BIN_EXE_fedflow"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["--log", "warn", "job", "run", "-c", &conf, "-d", &dsl])
        .env(
            "FEDFLOW_GRPC_ROUTES",
            format!("9999=127.0.0.1:{p1},10000=127.0.0.1:{p2}"),
        )
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!((secure_sum(&stdout(&o)) - standalone_sum()).abs() < 1e-6);
}

#[test]
fn values_and_50mb_tables_between_processes_on_both_engines() {
    broker();
    let dir = tempfile::tempdir().unwrap();
    let o = fedflow(
        dir.path(),
        &[
            "bench",
            "federation",
            "--mb",
            "50",
            "--mode",
            "table",
            "--timeout",
            "120",
            "--json",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{}", stdout(&o));
    for l in &lines {
        // The receiver's rows and checksum equal the sender's (checked by the bench).
        assert!(l["digest"].as_str().unwrap().starts_with("51200:"), "{l}");
    }
}

#[test]
fn a_stream_between_processes_keeps_memory_bounded() {
    broker();
    let dir = tempfile::tempdir().unwrap();
    let o = fedflow(
        dir.path(),
        &["bench", "federation", "--mb", "256", "--json"],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    for l in stdout(&o).lines() {
        let v: Value = serde_json::from_str(l).unwrap();
        assert_eq!(v["mib"], 256.0, "{v}");
        for k in ["sender_peak_rss_mib", "receiver_peak_rss_mib"] {
            assert!(
                v[k].as_f64().unwrap() < 200.0,
                "{k} grew with the stream: {v}"
            );
        }
    }
}
