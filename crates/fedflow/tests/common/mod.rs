//! Helpers for the end-to-end tests: run the real `fedflow` binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The shared example data and FATE job files (`../shared` beside the repo).
pub fn shared() -> PathBuf {
    if let Some(p) = std::env::var_os("FEDFLOW_SHARED") {
        return PathBuf::from(p);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared")
}

/// Runs `fedflow --data-dir DIR ARGS…`.
pub fn fedflow(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fedflow"))
        .arg("--data-dir")
        .arg(dir)
        .args(["--log", "warn"])
        .args(args)
        .output()
        .expect("run fedflow")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Asserts the command failed with exactly one `error: …` line containing every needle.
pub fn assert_fails_with(o: &Output, needles: &[&str]) {
    assert!(
        !o.status.success(),
        "expected failure, got success: {}",
        stdout(o)
    );
    let err = stderr(o);
    let lines: Vec<&str> = err.lines().filter(|l| l.starts_with("error: ")).collect();
    assert_eq!(lines.len(), 1, "one error line expected, got: {err}");
    for n in needles {
        assert!(lines[0].contains(n), "'{n}' not in: {}", lines[0]);
    }
}

pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Writes `STEM_conf.json` and `STEM_dsl.json` into `dir` and runs
/// `fedflow --data-dir DATA job run -c … -d … --json EXTRA…`.
pub fn job_run(
    data: &Path,
    dir: &Path,
    stem: &str,
    conf: &serde_json::Value,
    dsl: &serde_json::Value,
    extra: &[&str],
) -> Output {
    let c = write(dir, &format!("{stem}_conf.json"), &conf.to_string());
    let d = write(dir, &format!("{stem}_dsl.json"), &dsl.to_string());
    let mut args = vec![
        "job",
        "run",
        "-c",
        c.to_str().unwrap(),
        "-d",
        d.to_str().unwrap(),
        "--json",
    ];
    args.extend_from_slice(extra);
    fedflow(data, &args)
}

/// `fedflow testsuite -i SUITE --data-base <shared data> EXTRA…` in `dir`.
pub fn testsuite(dir: &Path, suite: &Path, extra: &[&str]) -> Output {
    let data = shared().join("data");
    let mut args = vec![
        "testsuite",
        "-i",
        suite.to_str().unwrap(),
        "--data-base",
        data.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    fedflow(dir, &args)
}

/// Uploads `../shared/data/<csv>.csv` as `experiment.<csv>` (4 partitions)
/// through `fedflow` in `dir`, to `server` when given; must succeed.
pub fn upload_shared(dir: &Path, server: Option<&str>, csv: &str) {
    let conf = serde_json::json!({
        "file": shared().join(format!("data/{csv}.csv")),
        "head": 1, "partition": 4, "table_name": csv, "namespace": "experiment",
    });
    let p = write(dir, &format!("up_{csv}.json"), &conf.to_string());
    let mut args = vec![];
    if let Some(url) = server {
        args.extend(["--server", url]);
    }
    args.extend(["data", "upload", "-c", p.to_str().unwrap()]);
    let o = fedflow(dir, &args);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
}

/// The job id (20+ digits) a `job run` printed.
pub fn job_id_in(out: &str) -> String {
    out.split_whitespace()
        .map(|w| w.trim_end_matches(':'))
        .find(|w| w.len() >= 20 && w.chars().all(|c| c.is_ascii_digit()))
        .unwrap_or_else(|| panic!("no job id in: {out}"))
        .to_string()
}

/// The repository's root.
pub fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

/// Installs Spark into .venv-spark if needed; fails loudly if it cannot.
pub fn ensure_spark() {
    let st = std::process::Command::new(repo().join("scripts/spark.sh"))
        .status()
        .expect("run scripts/spark.sh");
    assert!(
        st.success(),
        "scripts/spark.sh failed: Spark cannot be installed"
    );
}

/// Options of a test Spark application on `master`: one executor core, the
/// test's own `fedflow` binary as the worker.
pub fn spark_options(work: &Path, master: &str) -> fedflow_spark::SparkOptions {
    let mut o = fedflow_spark::SparkOptions::new(work);
    o.master = Some(master.to_string());
    o.worker_binary = Some(env!("CARGO_BIN_EXE_fedflow").into());
    o.submit_args = vec!["--total-executor-cores".into(), "1".into()];
    o
}

pub mod server;
