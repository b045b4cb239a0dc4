//! The board (FATE Board's pages served by `fedflow server` at `/`) in a real
//! browser: a real server on a free port, real jobs, then
//! `node tests/board/board.test.mjs <url> <job ids…>` drives Debian's
//! chromium through playwright-core (installed by `tests/board/setup.sh`;
//! the test fails when they cannot be installed). Screenshots go to
//! `target/board-screenshots/`.

mod common;
use common::server::*;
use common::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(600);
/// Synthetic finished jobs added to the database for the page-load figure.
const BULK_JOBS: usize = 500;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(
        &std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())),
    )
    .unwrap()
}

/// Installs chromium and playwright-core if needed; panics (never skips)
/// when that fails.
fn setup_browser() {
    let out = Command::new("bash")
        .arg(repo().join("tests/board/setup.sh"))
        .output()
        .expect("run tests/board/setup.sh");
    assert!(
        out.status.success(),
        "the board's browser tests need chromium and playwright-core, and installing them FAILED:\n{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(
        Path::new("/usr/bin/chromium").exists(),
        "/usr/bin/chromium is missing"
    );
}

/// Adds `n` finished copies of a job's rows (older than every real job) straight
/// into the server's SQLite meta store, so the list has hundreds of jobs.
fn add_bulk_jobs(data_dir: &Path, template: &str, n: usize) {
    let db = fedflow_storage::open_db(&format!(
        "sqlite:{}",
        data_dir.join("meta.sqlite").display()
    ))
    .unwrap();
    let store = fedflow_flow::store::JobStore::new(db).unwrap();
    let rows = store.jobs(Some(template), None, None, None).unwrap();
    assert!(!rows.is_empty());
    let t = Instant::now();
    for i in 0..n {
        for r in &rows {
            let mut j = r.clone();
            j.job_id = format!("{}{:04}", &template[..template.len().min(14)], i);
            j.create_time -= 3_600_000 + i as i64 * 1000;
            j.start_time = j.start_time.map(|s| s - 3_600_000 - i as i64 * 1000);
            j.end_time = j.end_time.map(|s| s - 3_600_000 - i as i64 * 1000);
            store.create_job(&j).unwrap();
        }
    }
    eprintln!(
        "added {n} finished jobs ({} rows) to the meta store in {:.2} s",
        n * rows.len(),
        t.elapsed().as_secs_f64()
    );
}

/// The DSL without components whose module is not registered (nor anything
/// downstream of them), and the conf without their parameters.
fn registered_only(mut conf: Value, mut dsl: Value) -> (Value, Value) {
    let comps = dsl["components"].as_object_mut().unwrap();
    loop {
        let names: Vec<String> = comps.keys().cloned().collect();
        let drop: Vec<String> = names
            .iter()
            .filter(|n| {
                let module = comps[n.as_str()]["module"].as_str().unwrap_or("");
                !fedflow_components::MODULES.contains(&module)
            })
            .cloned()
            .collect();
        let upstream_gone: Vec<String> = names
            .iter()
            .filter(|n| {
                let inputs = comps[n.as_str()]
                    .get("input")
                    .map(|i| i.to_string())
                    .unwrap_or_default();
                drop.iter().any(|d| inputs.contains(&format!("\"{d}.")))
            })
            .cloned()
            .collect();
        let all: Vec<String> = drop.into_iter().chain(upstream_gone).collect();
        if all.is_empty() {
            break;
        }
        for d in &all {
            comps.remove(d);
            if let Some(c) = conf["component_parameters"]["common"].as_object_mut() {
                c.remove(d);
            }
            if let Some(roles) = conf["component_parameters"]["role"].as_object_mut() {
                for by_idx in roles.values_mut() {
                    if let Some(m) = by_idx.as_object_mut() {
                        for p in m.values_mut() {
                            if let Some(p) = p.as_object_mut() {
                                p.remove(d);
                            }
                        }
                    }
                }
            }
        }
    }
    (conf, dsl)
}

/// Evaluation-shaped metrics (AUC, ROC, KS, lift, gain) and a loss curve on the
/// toy's guest task, namespace `board_synthetic`, so the browser test draws
/// every chart kind whichever components this build registers.
fn add_synthetic_metrics(data_dir: &Path, job: &str) {
    use fedflow_core::{Party, Role};
    use fedflow_flow::store::MetricRecord;
    let db = fedflow_storage::open_db(&format!(
        "sqlite:{}",
        data_dir.join("meta.sqlite").display()
    ))
    .unwrap();
    let store = fedflow_flow::store::JobStore::new(db).unwrap();
    let grid: Vec<f64> = (0..=10).map(|i| i as f64 / 10.0).collect();
    let m = |name: &str, ty: &str, points: Vec<(f64, f64)>| MetricRecord {
        namespace: "board_synthetic".into(),
        name: name.into(),
        metric_type: ty.into(),
        points,
    };
    for r in [
        m("auc", "EVALUATION_SUMMARY", vec![(0.0, 0.987_654_321)]),
        m("ks", "EVALUATION_SUMMARY", vec![(0.0, 0.8125)]),
        m(
            "roc",
            "ROC_EVALUATION",
            grid.iter().map(|&x| (x, x.sqrt())).collect(),
        ),
        m(
            "ks_tpr",
            "KS_EVALUATION",
            grid.iter().map(|&x| (x, 1.0 - x * x)).collect(),
        ),
        m(
            "ks_fpr",
            "KS_EVALUATION",
            grid.iter().map(|&x| (x, 1.0 - x)).collect(),
        ),
        m(
            "lift",
            "LIFT_EVALUATION",
            grid[1..].iter().map(|&x| (x, 1.0 / x.sqrt())).collect(),
        ),
        m(
            "gain",
            "GAIN_EVALUATION",
            grid.iter().map(|&x| (x, x.sqrt())).collect(),
        ),
        m(
            "loss",
            "LOSS",
            (0..30)
                .map(|i| (i as f64, 0.69 / (1.0 + i as f64 * 0.2)))
                .collect(),
        ),
    ] {
        store
            .put_metric(
                job,
                "secure_add_example_0",
                Party::new(Role::Guest, 9999),
                &r,
            )
            .unwrap();
    }
}

#[test]
fn board_pages_in_chromium() {
    setup_browser();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("srv");
    let s = Server::start(&data, &[]);

    // The page and its assets are served by the server itself.
    for (path, needle) in [
        ("/", "/board/app.js"),
        ("/board/app.js", "jobsPage"),
        ("/board/app.css", ".badge"),
    ] {
        let r = ureq::get(&format!("{}{path}", s.url)).call().unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.into_string().unwrap().contains(needle), "{path}");
    }

    let mut jobs = Vec::new();
    let (conf, dsl) = toy(1000);
    let toy_job = s.submit(&conf, &dsl);
    assert_eq!(s.wait_job(&toy_job, WAIT), "success", "{}", s.log_text());

    // The log endpoint tails from an offset.
    let url = format!(
        "{}/board/api/log?job_id={toy_job}&role=guest&party_id=9999&component=secure_add_example_0",
        s.url
    );
    let v: Value = ureq::get(&url).call().unwrap().into_json().unwrap();
    assert_eq!(v["retcode"], 0, "{v}");
    let size = v["data"]["size"].as_u64().unwrap();
    assert!(size > 0 && v["data"]["offset"] == size, "{v}");
    let v: Value = ureq::get(&format!("{url}&offset={size}"))
        .call()
        .unwrap()
        .into_json()
        .unwrap();
    assert_eq!(v["data"]["text"], "", "{v}");
    let v: Value = ureq::get(&format!(
        "{}/board/api/log?job_id=..&role=guest&party_id=9999&component=x",
        s.url
    ))
    .call()
    .unwrap()
    .into_json()
    .unwrap();
    assert_ne!(v["retcode"], 0, "{v}");

    add_bulk_jobs(&data, &toy_job, BULK_JOBS);
    add_synthetic_metrics(&data, &toy_job);
    jobs.push(toy_job);

    // The breast pipeline (reader → data_transform → intersection → hetero_lr →
    // evaluation), trimmed to the modules this build registers.
    let work = dir.path();
    for side in ["guest", "host"] {
        let name = format!("breast_hetero_{side}");
        let c = write(
            work,
            &format!("{name}_upload.json"),
            &json!({
                "file": shared().join(format!("data/{name}.csv")).display().to_string(),
                "table_name": name, "namespace": "experiment", "head": 1, "partition": 4,
            })
            .to_string(),
        );
        let o = fedflow(
            work,
            &[
                "--server",
                &s.url,
                "data",
                "upload",
                "-c",
                &c.display().to_string(),
            ],
        );
        assert!(o.status.success(), "{}", stderr(&o));
    }
    let ex = shared().join("examples/fate");
    let (conf, dsl) = registered_only(
        read_json(&ex.join("hetero_lr_normal_conf.json")),
        read_json(&ex.join("hetero_lr_normal_dsl.json")),
    );
    eprintln!(
        "breast pipeline components: {:?}",
        dsl["components"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>()
    );
    let lr_job = s.submit(&conf, &dsl);
    assert_eq!(s.wait_job(&lr_job, WAIT), "success", "{}", s.log_text());
    jobs.push(lr_job);

    let mut cmd = Command::new("node");
    cmd.arg(repo().join("tests/board/board.test.mjs"))
        .arg(&s.url)
        .args(&jobs)
        .env("BOARD_SCREENSHOTS", repo().join("target/board-screenshots"));
    let t = Instant::now();
    let out = cmd.output().expect("run node");
    eprintln!(
        "browser test ({:.1} s):\n{}{}",
        t.elapsed().as_secs_f64(),
        stdout(&out),
        stderr(&out)
    );
    assert!(out.status.success(), "the browser test failed (see above)");
    assert!(stdout(&out).contains("BOARD_JOBS_PAGE_LOAD_MS="));
}
