//! Acceptance: FATE's own Python client (`flow`, fate-client 1.11.3) against a
//! fresh `fedflow server`. Needs `.venv/bin/flow` in the repository root,
//! created by `scripts/test.sh` (or `python3 -m venv .venv && .venv/bin/pip
//! install fate-client==1.11.3 "urllib3<2"`).

mod common;
use common::server::*;
use common::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn flow_bin() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/flow");
    assert!(
        p.exists(),
        "FATE's client is missing: {} does not exist. Run scripts/test.sh, or in the \
         repository root: python3 -m venv .venv && .venv/bin/pip install fate-client==1.11.3 \"urllib3<2\"",
        p.display()
    );
    p
}

/// Runs `flow ARGS…`; the JSON it prints (after its "Import torch failed" line).
fn flow(cwd: &Path, args: &[&str]) -> Value {
    let o = Command::new(flow_bin())
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run flow");
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    let start = out
        .find('{')
        .unwrap_or_else(|| panic!("flow {args:?}: no JSON in: {out}{}", stderr(&o)));
    serde_json::from_str(&out[start..])
        .unwrap_or_else(|e| panic!("flow {args:?}: bad JSON ({e}): {out}{}", stderr(&o)))
}

/// `flow ARGS…`, asserting retcode 0 as the client prints it.
fn flow_ok(cwd: &Path, args: &[&str]) -> Value {
    let v = flow(cwd, args);
    assert_eq!(v["retcode"], 0, "flow {args:?}: {v}");
    v
}

fn wait_flow_job(cwd: &Path, job: &str, want: &[&str], timeout: Duration) -> String {
    let deadline = Instant::now() + timeout;
    loop {
        let v = flow_ok(cwd, &["job", "query", "-j", job]);
        let rows = v["data"].as_array().unwrap();
        let init = rows
            .iter()
            .find(|r| r["f_is_initiator"] == true)
            .unwrap_or(&rows[0]);
        let st = init["f_status"].as_str().unwrap().to_string();
        if want.contains(&st.as_str()) {
            return st;
        }
        assert!(
            !["failed", "canceled", "timeout", "success"].contains(&st.as_str()),
            "job {job} ended {st}: {v}"
        );
        assert!(Instant::now() < deadline, "job {job} still {st}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn fate_client_against_fedflow_server() {
    let flow_path = flow_bin();
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    let s = Server::start(&work.join("srv"), &[]);
    let t0 = Instant::now();

    let port = s.port.to_string();
    let v = flow(work, &["init", "--ip", "127.0.0.1", "--port", &port]);
    assert_eq!(v["retcode"], 0, "flow init ({}): {v}", flow_path.display());

    // Upload FATE's breast data for both parties.
    for (name, csv) in [
        ("breast_hetero_guest", "breast_hetero_guest.csv"),
        ("breast_hetero_host", "breast_hetero_host.csv"),
    ] {
        let conf = write(
            work,
            &format!("upload_{name}.json"),
            &json!({
                "file": shared().join("data").join(csv).display().to_string(),
                "table_name": name, "namespace": "experiment", "head": 1, "partition": 4,
            })
            .to_string(),
        );
        let v = flow_ok(work, &["data", "upload", "-c", conf.to_str().unwrap()]);
        assert_eq!(v["data"]["count"], 569, "{v}");
        let v = flow_ok(work, &["table", "info", "-t", name, "-n", "experiment"]);
        assert_eq!(v["data"]["count"], 569, "{v}");
        assert_eq!(v["data"]["exist"], 1, "{v}");
    }

    // FATE's toy files, unchanged.
    let ex = shared().join("examples/fate");
    let conf = ex.join("toy_example_conf.json");
    let dsl = ex.join("toy_example_dsl.json");
    let v = flow_ok(
        work,
        &[
            "job",
            "submit",
            "-c",
            conf.to_str().unwrap(),
            "-d",
            dsl.to_str().unwrap(),
        ],
    );
    let job = v["jobId"].as_str().expect("jobId").to_string();
    assert_eq!(
        wait_flow_job(work, &job, &["success"], Duration::from_secs(120)),
        "success"
    );

    let out = work.join("logs_out");
    flow_ok(
        work,
        &["job", "log", "-j", &job, "-o", out.to_str().unwrap()],
    );
    let logs: Vec<PathBuf> = walk(&out);
    assert!(
        logs.iter().any(|p| p
            .display()
            .to_string()
            .ends_with("guest/9999/secure_add_example_0/INFO.log")),
        "{logs:?}"
    );

    let v = flow_ok(work, &["job", "list"]);
    assert!(v["data"].to_string().contains(&job), "{v}");

    // A long job, stopped.
    let mut long: Value = serde_json::from_str(&std::fs::read_to_string(&conf).unwrap()).unwrap();
    long["component_parameters"]["common"]["secure_add_example_0"]["data_num"] = json!(3_000_000);
    long["component_parameters"]["common"]["secure_add_example_0"]["partition"] = json!(4);
    let long_conf = write(work, "long_conf.json", &long.to_string());
    let v = flow_ok(
        work,
        &[
            "job",
            "submit",
            "-c",
            long_conf.to_str().unwrap(),
            "-d",
            dsl.to_str().unwrap(),
        ],
    );
    let long_job = v["jobId"].as_str().unwrap().to_string();
    s.wait_running_pids(&long_job, 2);
    flow_ok(work, &["job", "stop", "-j", &long_job]);
    assert_eq!(
        wait_flow_job(work, &long_job, &["canceled"], Duration::from_secs(20)),
        "canceled"
    );
    eprintln!("fate-client session: {:.2} s", t0.elapsed().as_secs_f64());
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}
