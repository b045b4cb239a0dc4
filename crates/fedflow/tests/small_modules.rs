//! FATE's small modules end to end: LocalBaseline jobs through
//! `fedflow testsuite` (next to HeteroLR on vehicle, next to HomoLR on
//! breast), FeldmanVerifiableSum's and SecureInformationRetrieval's jobs, and
//! the testsuite's `--data-only` /
//! `--skip-data` / `--timeout`.

mod common;
use common::*;
use serde_json::Value;

/// The metric the suite printed for `component` (`hetero_lr_0 accuracy=0.59, …`).
fn metric_of(row: &Value, component: &str) -> f64 {
    let m = row["metric"].as_str().unwrap();
    m.split(", ")
        .find_map(|p| p.strip_prefix(&format!("{component} ")))
        .and_then(|p| p.split_once('='))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or_else(|| panic!("no {component} metric in {m}"))
}

#[test]
fn fate_local_baseline_jobs_pass_and_the_baseline_is_evaluated() {
    let dir = tempfile::tempdir().unwrap();
    let suite = shared().join("examples/fate/local_baseline/local_baseline_testsuite.json");
    let o = testsuite(dir.path(), &suite, &["--json"]);
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    let rows: Value = serde_json::from_slice(&o.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    for r in rows {
        assert_eq!(r["status"], "success", "{r}");
    }
    // vehicle (4 classes), the guest's 9 features, 5 lbfgs iterations.
    let acc = metric_of(&rows[0], "local_baseline_0");
    assert!(acc > 0.45 && acc < 1.0, "{}", rows[0]);
    // breast, the guest's 227 rows alone, 2 saga iterations.
    let auc = metric_of(&rows[1], "local_baseline_0");
    assert!(auc > 0.98, "{}", rows[1]);
    assert!(metric_of(&rows[1], "homo_lr_0") > 0.98, "{}", rows[1]);
}

#[test]
fn testsuite_uploads_only_skips_data_and_times_tasks_out() {
    let dir = tempfile::tempdir().unwrap();
    let suite = shared().join("examples/fate/local_baseline/local_baseline_testsuite.json");
    let o = testsuite(dir.path(), &suite, &["--data-only"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("uploaded experiment.breast_homo_host: 228 rows"));
    assert!(!stderr(&o).contains("task "), "{}", stderr(&o));
    // The tables are there: --skip-data runs on them. The hetero job (RSA
    // intersection + 30 Paillier iterations) takes longer than 1 s.
    let o = testsuite(
        dir.path(),
        &suite,
        &["--skip-data", "--timeout", "1", "--json"],
    );
    assert!(!o.status.success());
    assert!(!stderr(&o).contains("uploaded"), "{}", stderr(&o));
    let rows: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(rows[0]["status"], "failed", "{rows}");
    assert!(
        rows[0]["detail"].as_str().unwrap().contains("timeout"),
        "{rows}"
    );
    assert_eq!(rows[1]["status"], "success", "{rows}");
}

/// FATE ships FeldmanVerifiableSum's job without a testsuite: the folder's
/// conf/DSL pair becomes one, its data the table the conf reads.
#[test]
fn fate_feldman_verifiable_sum_job_runs_from_its_folder() {
    let dir = tempfile::tempdir().unwrap();
    let folder = shared().join("examples/fate/feldman_verifiable_sum");
    let o = testsuite(dir.path(), &folder, &["--json"]);
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    assert!(
        stderr(&o).contains("uploaded experiment.breast_homo_test"),
        "{}",
        stderr(&o)
    );
    let rows: Value = serde_json::from_slice(&o.stdout).unwrap();
    let tasks = rows[0]["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 1, "{rows}");
    assert_eq!(tasks[0]["task"], "test_feldman_verifiable_sum");
    assert_eq!(tasks[0]["status"], "success", "{rows}");
}

/// FATE's SecureInformationRetrieval job (no testsuite shipped either):
/// the guest retrieves x0 and x3 of the host's rows through 45 blocks and
/// oblivious transfer.
#[test]
fn fate_secure_information_retrieval_job_runs_from_its_folder() {
    let dir = tempfile::tempdir().unwrap();
    let folder = shared().join("examples/fate/secure_information_retrieval");
    let o = testsuite(dir.path(), &folder, &["--json"]);
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    let rows: Value = serde_json::from_slice(&o.stdout).unwrap();
    let tasks = rows[0]["tasks"].as_array().unwrap();
    assert_eq!(tasks.len(), 1, "{rows}");
    assert_eq!(tasks[0]["status"], "success", "{rows}");
}
