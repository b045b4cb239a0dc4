//! End to end: FATE's toy job through the real binary.

mod common;
use common::*;
use std::time::{Duration, Instant};

fn secure_sum(out: &str) -> f64 {
    let line = out
        .lines()
        .find(|l| l.starts_with("secure_add_guest: success"))
        .expect("result line");
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

#[test]
fn toy_in_one_process_and_in_two() {
    let dir = tempfile::tempdir().unwrap();
    let o = fedflow(
        dir.path(),
        &[
            "toy",
            "--guest",
            "9999",
            "--host",
            "10000",
            "--data-num",
            "20000",
            "--partition",
            "6",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!((secure_sum(&stdout(&o)) - 40_000.0).abs() < 1e-6);

    let o = fedflow(dir.path(), &["toy", "--processes", "--data-num", "5000"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("success (two processes)"),
        "{}",
        stdout(&o)
    );
    let guest = stdout(&o)
        .lines()
        .find(|l| l.contains("guest 9999"))
        .map(str::to_string)
        .expect("guest line");
    let sum: f64 = guest
        .split("secure_sum=")
        .nth(1)
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        guest.contains("success") && (sum - 10_000.0).abs() < 1e-6,
        "{guest}"
    );
    // The mailboxes of finished jobs are gone.
    assert_eq!(
        std::fs::read_dir(dir.path().join("federation"))
            .unwrap()
            .count(),
        0
    );
}

#[test]
fn fate_v2_toy_files_and_fate_15_v1_conf() {
    let dir = tempfile::tempdir().unwrap();
    let ex = shared().join("examples/fate");
    let conf = ex.join("toy_example_conf.json");
    let dsl = ex.join("toy_example_dsl.json");
    let o = fedflow(
        dir.path(),
        &[
            "job",
            "run",
            "-c",
            conf.to_str().unwrap(),
            "-d",
            dsl.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("secure_sum=2000"), "{}", stdout(&o));

    let v1 = write(
        dir.path(),
        "v1.json",
        r#"{"initiator": {"role": "guest", "party_id": 9999},
            "job_parameters": {"work_mode": 0, "backend": 0},
            "role": {"guest": [9999], "host": [10000]},
            "role_parameters": {"guest": {"secure_add_example_0": {"seed": [123]}},
                                "host": {"secure_add_example_0": {"seed": [321]}}},
            "algorithm_parameters": {"secure_add_example_0": {"partition": 48, "data_num": 1000}}}"#,
    );
    let o = fedflow(
        dir.path(),
        &[
            "job",
            "run",
            "-c",
            v1.to_str().unwrap(),
            "-d",
            dsl.to_str().unwrap(),
            "--json",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(report["status"], "success");
    assert_eq!(
        report["tasks"][0]["summary"]["secure_sum"]
            .as_f64()
            .map(|s| (s - 2000.0).abs() < 1e-6),
        Some(true)
    );
}

#[test]
fn guest_and_host_as_separate_job_run_processes() {
    let dir = tempfile::tempdir().unwrap();
    let ex = shared().join("examples/fate");
    let (conf, dsl) = (
        ex.join("toy_example_conf.json"),
        ex.join("toy_example_dsl.json"),
    );
    let spawn = |party: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_fedflow"))
            .arg("--data-dir")
            .arg(dir.path())
            .args([
                "--log",
                "warn",
                "job",
                "run",
                "-c",
                conf.to_str().unwrap(),
                "-d",
                dsl.to_str().unwrap(),
            ])
            .args(["--party", party, "--job-id", "sep_1"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let host = spawn("host:10000");
    let guest = spawn("guest:9999");
    let g = guest.wait_with_output().unwrap();
    let h = host.wait_with_output().unwrap();
    assert!(
        g.status.success() && h.status.success(),
        "{} {}",
        stderr(&g),
        stderr(&h)
    );
    assert!(stdout(&g).contains("secure_sum=2000"));
    assert!(
        !stdout(&h).contains("guest 9999"),
        "the host process ran only the host's task"
    );
}

/// Whether some session under `fed` has the host's pid file.
fn host_registered(fed: &std::path::Path) -> bool {
    std::fs::read_dir(fed).is_ok_and(|d| {
        d.flatten()
            .any(|s| s.path().join("parties").join("host-10000.pid").exists())
    })
}

#[test]
fn a_peer_killed_mid_job_fails_the_job_quickly() {
    let dir = tempfile::tempdir().unwrap();
    let ex = shared().join("examples/fate");
    let conf = write(
        dir.path(),
        "big.json",
        r#"{"dsl_version": 2, "initiator": {"role": "guest", "party_id": 9999},
            "role": {"guest": [9999], "host": [10000]},
            "component_parameters": {"common": {"secure_add_example_0": {"partition": 4, "data_num": 6000000}}}}"#,
    );
    let dsl = ex.join("toy_example_dsl.json");
    let mut host = std::process::Command::new(env!("CARGO_BIN_EXE_fedflow"))
        .arg("--data-dir")
        .arg(dir.path())
        .args([
            "--log",
            "warn",
            "job",
            "run",
            "-c",
            conf.to_str().unwrap(),
            "-d",
            dsl.to_str().unwrap(),
        ])
        .args(["--party", "host:10000", "--job-id", "kill_1"])
        .spawn()
        .unwrap();
    // Let the host register (its pid file in the session's mailbox) and start
    // working, then kill it. Polling, not a fixed sleep: a loaded machine may
    // take seconds to get there.
    let registered = Instant::now();
    while !host_registered(&dir.path().join("federation")) {
        assert!(
            registered.elapsed() < Duration::from_secs(60),
            "the host never registered in the federation directory"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(200));
    host.kill().unwrap();
    host.wait().unwrap();
    let t = Instant::now();
    let g = fedflow(
        dir.path(),
        &[
            "job",
            "run",
            "-c",
            conf.to_str().unwrap(),
            "-d",
            dsl.to_str().unwrap(),
            "--party",
            "guest:9999",
            "--job-id",
            "kill_1",
            "--timeout",
            "60",
        ],
    );
    assert_fails_with(
        &g,
        &["job kill_1 failed", "peer host:10000 is gone", "exited"],
    );
    assert!(
        t.elapsed() < Duration::from_secs(30),
        "failed fast, not at the 60 s timeout"
    );
    assert!(stdout(&g).contains("failed"), "{}", stdout(&g));
}

#[test]
fn bad_job_input_gets_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let ex = shared().join("examples/fate");
    let dsl = ex.join("toy_example_dsl.json");
    let d = dsl.to_str().unwrap();
    let o = fedflow(
        dir.path(),
        &["job", "run", "-c", "/nonexistent/conf.json", "-d", d],
    );
    assert_fails_with(&o, &["conf /nonexistent/conf.json", "No such file"]);
    let bad = write(
        dir.path(),
        "bad.json",
        "{\"dsl_version\": 2,\n \"role\": [}",
    );
    let o = fedflow(
        dir.path(),
        &["job", "run", "-c", bad.to_str().unwrap(), "-d", d],
    );
    assert_fails_with(&o, &["not valid JSON", "line 2"]);
    let noparty = write(
        dir.path(),
        "np.json",
        r#"{"dsl_version": 2, "initiator": {"role": "guest", "party_id": 9999}, "role": {"guest": [9999], "host": [10000]}}"#,
    );
    let o = fedflow(
        dir.path(),
        &[
            "job",
            "run",
            "-c",
            noparty.to_str().unwrap(),
            "-d",
            d,
            "--party",
            "host:777",
        ],
    );
    assert_fails_with(&o, &["--party host:777: not a party of this job"]);
    let o = fedflow(
        dir.path(),
        &[
            "job",
            "run",
            "-c",
            noparty.to_str().unwrap(),
            "-d",
            d,
            "--party",
            "hots:1",
        ],
    );
    assert_fails_with(&o, &["unknown role 'hots'"]);
    let badparam = write(
        dir.path(),
        "bp.json",
        r#"{"dsl_version": 2, "initiator": {"role": "guest", "party_id": 9999}, "role": {"guest": [9999], "host": [10000]},
            "component_parameters": {"common": {"secure_add_example_0": {"data_num": -5}}}}"#,
    );
    let o = fedflow(
        dir.path(),
        &["job", "run", "-c", badparam.to_str().unwrap(), "-d", d],
    );
    assert_fails_with(
        &o,
        &[
            "component_parameters (for guest 9999)",
            "parameter secure_add_example_0.data_num",
        ],
    );
    let baddsl = write(
        dir.path(),
        "dsl.json",
        r#"{"components": {"x_0": {"module": "NoSuchModule"}}}"#,
    );
    let o = fedflow(
        dir.path(),
        &[
            "job",
            "run",
            "-c",
            noparty.to_str().unwrap(),
            "-d",
            baddsl.to_str().unwrap(),
        ],
    );
    assert_fails_with(
        &o,
        &["components.x_0.module: unknown module 'NoSuchModule'"],
    );
    // The Spark engine without a Spark install: the task fails, cause in one line.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_fedflow"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["--log", "warn", "toy", "--backend", "spark"])
        .args(["--spark-master", "spark://127.0.0.1:9"])
        .env("SPARK_HOME", dir.path().join("no-spark"))
        .output()
        .unwrap();
    assert_fails_with(&o, &["Spark not found", "has no bin/spark-submit"]);
}
