//! The horizontal family end to end: FATE's own HomoLR example jobs through
//! `fedflow testsuite` (train, predict with the trained model, validation,
//! evaluation, one-vs-rest), each party evaluating its own predictions.

mod common;
use common::*;
use serde_json::{json, Value};

#[test]
fn fate_homo_logistic_regression_testsuite_passes() {
    let dir = tempfile::tempdir().unwrap();
    let suite = shared()
        .join("examples/fate/homo_logistic_regression/homo_logistic_regression_testsuite.json");
    let o = testsuite(dir.path(), &suite, &["--json"]);
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    let results: Value = serde_json::from_slice(&o.stdout).unwrap();
    let rows = results.as_array().unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r["task"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "train",
            "predict",
            "train-eval",
            "single_eval",
            "one_vs_all"
        ],
        "{results}"
    );
    for r in rows {
        assert_eq!(r["status"], "success", "{r}");
    }
    // FATE's breast homo LR reaches AUC ≈ 0.98 on the guest's rows.
    let text = results.to_string();
    assert!(text.contains("auc"), "{text}");
    for r in rows
        .iter()
        .filter(|r| r["task"] != "predict" && r["task"] != "one_vs_all")
    {
        let auc = find_number(r, "auc").unwrap_or_else(|| panic!("no auc in {r}"));
        assert!(auc > 0.98, "{}: auc {auc}", r["task"]);
    }
}

/// The first number under a key named `key`, anywhere in `v`.
fn find_number(v: &Value, key: &str) -> Option<f64> {
    match v {
        Value::Object(m) => m
            .iter()
            .find_map(|(k, x)| if k == key { x.as_f64() } else { None })
            .or_else(|| m.values().find_map(|x| find_number(x, key))),
        Value::Array(a) => a.iter().find_map(|x| find_number(x, key)),
        Value::String(s) => s.split([',', ' ']).find_map(|p| {
            p.strip_prefix(&format!("{key}="))
                .and_then(|n| n.parse().ok())
        }),
        _ => None,
    }
}

#[test]
fn a_host_evaluates_its_own_predictions_and_a_bad_homo_job_fails_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let ex = shared().join("examples/fate/homo_logistic_regression");
    let read = |f: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(ex.join(f)).unwrap()).unwrap()
    };
    for csv in ["breast_homo_guest", "breast_homo_host"] {
        upload_shared(dir.path(), None, csv);
    }
    let mut conf = read("homo_lr_train_conf.json");
    let dsl = read("homo_lr_train_dsl.json");
    conf["role"]["arbiter"] = json!([10001]);
    conf["component_parameters"]["common"]["homo_lr_0"]["max_iter"] = json!(5);
    // The host evaluates too.
    conf["component_parameters"]["role"]["host"]["0"]["evaluation_0"]["need_run"] = json!(true);
    let o = job_run(dir.path(), dir.path(), "train", &conf, &dsl, &[]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    let host_eval = r["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["component"] == "evaluation_0" && t["party"]["role"] == "host")
        .unwrap_or_else(|| panic!("{r}"));
    let auc = find_number(&host_eval["summary"], "auc").unwrap_or_else(|| panic!("{host_eval}"));
    assert!(auc > 0.95, "host auc {auc}");

    // Paillier HomoLR is refused before any task runs, naming the parameter.
    conf["component_parameters"]["common"]["homo_lr_0"]["encrypt_param"] =
        json!({"method": "Paillier"});
    let o = job_run(dir.path(), dir.path(), "paillier", &conf, &dsl, &[]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(err.contains("homo_lr_0.encrypt_param.method"), "{err}");
}

#[test]
fn fate_homo_onehot_testsuite_passes_with_string_features() {
    let dir = tempfile::tempdir().unwrap();
    let ex = shared().join("examples/fate/homo_onehot");
    let o = testsuite(
        dir.path(),
        &ex.join("homo_onehot_testsuite.json"),
        &["--json"],
    );
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    let results: Value = serde_json::from_slice(&o.stdout).unwrap();
    let rows = results.as_array().unwrap();
    assert_eq!(rows.len(), 3, "{results}");
    for r in rows {
        assert_eq!(r["status"], "success", "{r}");
    }
    // Numeric: one-hot (aligned) → scale → HomoLR → evaluation of train and test rows.
    let numeric = rows
        .iter()
        .find(|r| r["task"] == "homo_onehot_test")
        .unwrap();
    let auc = find_number(numeric, "auc").unwrap_or_else(|| panic!("no auc in {results}"));
    assert!(auc > 0.85, "auc {auc}");
    // Strings (DataTransform data_type str): 8 of the 20 columns encoded, by
    // their letters, the same header on both parties; the other 12 stay strings.
    let read = |f: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(ex.join(f)).unwrap()).unwrap()
    };
    let conf = read("homo_onehot_string_partial_col_test_conf.json");
    let dsl = read("homo_onehot_string_partial_col_test_dsl.json");
    let o = job_run(dir.path(), dir.path(), "partial", &conf, &dsl, &[]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    let summary = |role: &str| -> Value {
        r["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["component"] == "homo_onehot_0" && t["party"]["role"] == role)
            .unwrap_or_else(|| panic!("{r}"))["summary"]
            .clone()
    };
    let (g, h) = (summary("guest"), summary("host"));
    assert_eq!(g, h);
    assert_eq!(g["output_columns"], 8 * 5 + 12, "{g}");
    // A numeric component fed the 12 string columns fails the job naming them.
    let mut dsl = dsl;
    dsl["components"]["scale_0"] = json!({"module": "FeatureScale",
        "input": {"data": {"data": ["homo_onehot_0.data"]}}, "output": {"data": ["data"]}});
    let o = job_run(dir.path(), dir.path(), "strings", &conf, &dsl, &[]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("scale_0 (FeatureScale): columns [") && err.contains("are strings"),
        "{err}"
    );
}

#[test]
fn fate_homo_feature_binning_testsuite_passes_and_every_party_gets_the_same_split_points() {
    let dir = tempfile::tempdir().unwrap();
    let ex = shared().join("examples/fate/homo-feature-binning");
    let o = testsuite(
        dir.path(),
        &ex.join("homo_feature_binning_testsuite.json"),
        &["--json"],
    );
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    let results: Value = serde_json::from_slice(&o.stdout).unwrap();
    let rows = results.as_array().unwrap();
    assert_eq!(rows.len(), 5, "{results}");
    for r in rows {
        assert_eq!(r["status"], "success", "{r}");
    }
    // FATE's recursive-query job, then its predict-style job (a second
    // binning fed the first one's model): both parties end with the same
    // split points, at most bin_num per column.
    let read = |f: &str| -> Value {
        serde_json::from_str(&std::fs::read_to_string(ex.join(f)).unwrap()).unwrap()
    };
    // (testsuite uploaded the tables into this data dir)
    let conf = read("homo_recursive_binning_predict_conf.json");
    let dsl = read("homo_recursive_binning_predict_dsl.json");
    let o = job_run(dir.path(), dir.path(), "binning", &conf, &dsl, &[]);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let r: Value = serde_json::from_slice(&o.stdout).unwrap();
    let summary = |cpn: &str, role: &str| -> Value {
        r["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["component"] == cpn && t["party"]["role"] == role)
            .unwrap_or_else(|| panic!("no {cpn} {role} in {r}"))["summary"]["split_points"]
            .clone()
    };
    let guest = summary("homo_binning_0", "guest");
    assert_eq!(guest, summary("homo_binning_0", "host"));
    assert_eq!(
        guest,
        summary("homo_binning_1", "guest"),
        "the model is reused"
    );
    let cols = guest.as_object().unwrap();
    assert_eq!(cols.len(), 30, "{guest}");
    for (c, sp) in cols {
        let sp: Vec<f64> = serde_json::from_value(sp.clone()).unwrap();
        assert!(sp.len() >= 3 && sp.len() <= 10, "{c}: {sp:?}");
        assert!(sp.windows(2).all(|w| w[0] < w[1]), "{c}: {sp:?}");
    }
}

#[test]
fn data_gen_homo_splits_rows_over_parties_and_bench_homo_trains_on_three_clients() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("gen");
    let o = fedflow(
        dir.path(),
        &[
            "data",
            "gen",
            "--homo",
            "3",
            "--rows",
            "3000",
            "--features",
            "5",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let mut ids = std::collections::BTreeSet::new();
    for k in 0..3 {
        let text = std::fs::read_to_string(out.join(format!("party_{k}.csv"))).unwrap();
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some("id,y,x0,x1,x2,x3,x4"));
        let n = lines
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                assert_eq!(f.len(), 7, "{l}");
                assert!(f[1] == "0" || f[1] == "1", "{l}");
                assert!(ids.insert(f[0].to_string()), "id {} twice", f[0]);
            })
            .count();
        assert_eq!(n, 1000, "party {k}");
    }
    // --overlap belongs to the vertical split.
    let o = fedflow(
        dir.path(),
        &[
            "data",
            "gen",
            "--homo",
            "2",
            "--rows",
            "10",
            "--overlap",
            "0.5",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--overlap"), "{}", stderr(&o));
    // The bench: a guest and two hosts train HomoLR and bin, end to end.
    let o = fedflow(
        dir.path(),
        &["bench", "homo", "--rows", "6000", "--epochs", "5"],
    );
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let text = stdout(&o);
    let auc: f64 = text
        .split("guest train auc ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{text}"));
    assert!(auc > 0.8, "{text}");
    assert!(
        text.contains("HomoFeatureBinning virtual_summary"),
        "{text}"
    );
}

#[test]
fn testsuite_on_a_folder_runs_every_suite_and_prints_the_coverage_table() {
    let dir = tempfile::tempdir().unwrap();
    let ex = dir.path().join("examples");
    // One real suite, copied whole …
    let src = shared().join("examples/fate/homo-feature-binning");
    let dst = ex.join("homo-feature-binning");
    std::fs::create_dir_all(&dst).unwrap();
    for e in std::fs::read_dir(&src).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, dst.join(p.file_name().unwrap())).unwrap();
    }
    // … and one whose module fedflow lacks: skipped, naming the module.
    let other = ex.join("nope");
    std::fs::create_dir_all(&other).unwrap();
    let dsl = json!({"components": {"reader_0": {"module": "Reader", "output": {"data": ["data"]}},
        "x_0": {"module": "NoSuchModule", "input": {"data": {"data": ["reader_0.data"]}}}}});
    std::fs::write(other.join("x_dsl.json"), dsl.to_string()).unwrap();
    std::fs::copy(
        src.join("homo_recursive_binning_conf.json"),
        other.join("x_conf.json"),
    )
    .unwrap();
    let suite = json!({"data": [], "tasks": {"x": {"conf": "x_conf.json", "dsl": "x_dsl.json"}}});
    std::fs::write(other.join("x_testsuite.json"), suite.to_string()).unwrap();
    let o = testsuite(dir.path(), &ex, &[]);
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    let line = |name: &str| -> Vec<String> {
        out.lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} row in\n{out}"))
            .split_whitespace()
            .map(str::to_string)
            .collect()
    };
    assert_eq!(
        line("homo-feature-binning/homo_feature_binning_testsuite.json")[1..],
        ["5", "5", "0", "0"],
        "{out}"
    );
    assert_eq!(
        line("nope/x_testsuite.json")[1..],
        ["1", "0", "1", "0"],
        "{out}"
    );
    assert!(out.contains("module NoSuchModule not implemented"), "{out}");
    assert_eq!(line("total")[1..], ["6", "5", "1", "0"], "{out}");
}

#[test]
fn fate_homo_secureboost_testsuite_passes_cross_validation_included() {
    let dir = tempfile::tempdir().unwrap();
    let suite = shared().join("examples/fate/homo_secureboost/homo_secureboost_testsuite.json");
    let o = testsuite(dir.path(), &suite, &["--json"]);
    let results: Value = serde_json::from_slice(&o.stdout).unwrap();
    let rows = results.as_array().unwrap();
    assert_eq!(rows.len(), 11, "{results}");
    for r in rows {
        let task = r["task"].as_str().unwrap();
        if task == "train_binary_predict" {
            // FATE's predict job configures reader_0 while its DSL reads
            // through reader_1: no data reaches the model, and the job fails
            // saying so (FATE's Reader would fail on the missing table too).
            assert_eq!(r["status"], "failed", "{r}");
            assert!(r["detail"].as_str().unwrap().contains("Reader"), "{r}");
            assert!(!o.status.success(), "a failed task makes the exit non-zero");
        } else {
            assert_eq!(r["status"], "success", "{r}");
        }
    }
    let metric = |task: &str, key: &str| -> f64 {
        let m = rows.iter().find(|r| r["task"] == task).unwrap()["metric"]
            .as_str()
            .unwrap()
            .to_string();
        // The first evaluated component's metric (others follow after ", ").
        m.split(", ")
            .next()
            .unwrap_or_default()
            .split(&format!("{key}="))
            .nth(1)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{task}: no {key} in {m:?}"))
    };
    // Evaluation on the shipped data (breast: validate rows included).
    assert!(metric("train_binary", "auc") > 0.97);
    assert!(metric("train_multi", "accuracy") > 0.7);
    assert!(metric("train_regression", "root_mean_squared_error") < 5.0);
    // Cross validation: the mean validate metric over FATE's 5 folds.
    assert!(metric("cv_binary", "auc") > 0.95);
    assert!(metric("cv_multi", "accuracy") > 0.6);
    assert!(metric("cv_regression", "root_mean_squared_error") < 6.0);
}
