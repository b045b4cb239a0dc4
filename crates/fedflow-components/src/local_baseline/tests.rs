use super::*;
use crate::testutil::*;
use crate::Dataset;
use fedflow_computing::TypedTable;

/// scikit-learn's converged fits on the shipped data (`sklearn_reference.py`).
fn reference(name: &str) -> (Vec<Vec<f64>>, Vec<f64>, Vec<Vec<f64>>) {
    let text = include_str!("sklearn_reference.json");
    let v: Value = serde_json::from_str(text).unwrap();
    let fit = v["fits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no reference {name}"));
    fn get<T: serde::de::DeserializeOwned>(fit: &Value, k: &str) -> T {
        serde_json::from_value(fit[k].clone()).unwrap()
    }
    (
        get(fit, "coef"),
        get(fit, "intercept"),
        get(fit, "proba_first_rows"),
    )
}

fn run(params: Value, i: crate::Inputs) -> Result<ComponentOutput, ComponentError> {
    let dir = tempfile::tempdir().unwrap();
    crate::run(
        &LocalBaseline,
        &ctx(dir.path(), "local_baseline_0", GUEST, params, i),
    )
}

fn tight(mut opts: Value) -> Value {
    opts["tol"] = json!(1e-9);
    opts["max_iter"] = json!(100_000);
    json!({ "model_opts": opts })
}

/// The model's weights per output, in header order, and intercepts.
fn weights_of(out: &ComponentOutput) -> (Vec<Vec<f64>>, Vec<f64>) {
    let m = Model::from_model(out.model.as_ref().unwrap()).unwrap();
    (
        m.weights.iter().map(|w| w.ordered()).collect(),
        m.weights.iter().map(|w| w.intercept).collect(),
    )
}

fn predictions(d: &Dataset) -> Vec<(String, Prediction)> {
    let t: TypedTable<String, Prediction> = TypedTable::from_raw(d.table.clone());
    let mut rows = t.collect().unwrap();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

fn assert_close(name: &str, out: &ComponentOutput, tol: f64) {
    let (coef, icpt, _) = reference(name);
    let (w, b) = weights_of(out);
    assert_eq!(w.len(), coef.len(), "{name}: outputs");
    let mut gap: f64 = 0.0;
    for (c, (wc, rc)) in w.iter().zip(&coef).enumerate() {
        for (a, r) in wc.iter().zip(rc) {
            gap = gap.max((a - r).abs());
        }
        gap = gap.max((b[c] - icpt[c]).abs());
    }
    assert!(gap < tol, "{name}: largest gap to sklearn {gap}");
}

#[test]
fn fits_equal_sklearns_for_every_penalty_and_solver() {
    let breast = || {
        inputs(
            "train_data",
            transformed("breast_hetero_guest.csv", true, GUEST),
        )
    };
    for (name, opts, tol) in [
        ("l2_lbfgs", json!({}), 1e-5),
        ("l2_C0.05", json!({"C": 0.05, "solver": "newton-cg"}), 1e-5),
        ("none", json!({"penalty": null}), 1e-4),
        (
            "l1_liblinear",
            json!({"penalty": "l1", "C": 0.1, "solver": "liblinear"}),
            1e-4,
        ),
        (
            "l1_saga",
            json!({"penalty": "l1", "C": 0.1, "solver": "saga"}),
            1e-4,
        ),
        (
            "elasticnet_saga",
            json!({"penalty": "elasticnet", "l1_ratio": 0.5, "C": 0.2, "solver": "saga"}),
            1e-4,
        ),
        ("balanced", json!({"class_weight": "balanced"}), 1e-5),
    ] {
        let out = run(tight(opts), breast()).unwrap();
        assert_close(name, &out, tol);
    }
}

#[test]
fn l1_zeroes_weights_and_scores_are_sklearns_predict_proba() {
    let d = transformed("breast_hetero_guest.csv", true, GUEST);
    let out = run(
        tight(json!({"penalty": "l1", "C": 0.1, "solver": "liblinear"})),
        inputs("train_data", d.clone()),
    )
    .unwrap();
    let (w, _) = weights_of(&out);
    let (coef, _, _) = reference("l1_liblinear");
    let zeros = |v: &[f64]| v.iter().filter(|x| x.abs() < 1e-8).count();
    assert!(zeros(&coef[0]) > 0, "the reference has zero weights");
    assert_eq!(zeros(&w[0]), zeros(&coef[0]));
    // The first 5 rows of the file, in file order, against sklearn's proba.
    let out = run(tight(json!({})), inputs("train_data", d)).unwrap();
    let (_, _, proba) = reference("l2_lbfgs");
    let preds = predictions(&out.data[0]);
    let text = std::fs::read_to_string(data("breast_hetero_guest.csv")).unwrap();
    for (line, p) in text.lines().skip(1).zip(&proba) {
        let id = line.split(',').next().unwrap();
        let row = &preds.iter().find(|r| r.0 == id).unwrap().1;
        assert!((row.predict_score - p[1]).abs() < 1e-6, "{id}");
        assert_eq!(row.predict_result, if p[1] > 0.5 { 1.0 } else { 0.0 });
        assert_eq!(row.kind, "train");
    }
}

#[test]
fn multi_class_ovr_and_multinomial_equal_sklearns_and_a_predict_job_scores_alike() {
    let vehicle = || {
        inputs(
            "train_data",
            transformed("vehicle_scale_hetero_guest.csv", true, GUEST),
        )
    };
    let ovr = run(tight(json!({"multi_class": "ovr"})), vehicle()).unwrap();
    assert_close("ovr", &ovr, 1e-4);
    let multi = run(tight(json!({})), vehicle()).unwrap();
    assert_close("multinomial", &multi, 1e-4);
    assert_eq!(
        multi.model.as_ref().unwrap().meta["multi_class"],
        "multinomial"
    );
    // Scores: sklearn's predict_proba, top class.
    for (name, out) in [("ovr", &ovr), ("multinomial", &multi)] {
        let (_, _, proba) = reference(name);
        let preds = predictions(&out.data[0]);
        let text = std::fs::read_to_string(data("vehicle_scale_hetero_guest.csv")).unwrap();
        for (line, p) in text.lines().skip(1).zip(&proba) {
            let id = line.split(',').next().unwrap();
            let row = &preds.iter().find(|r| r.0 == id).unwrap().1;
            let top = p.iter().cloned().fold(0.0, f64::max);
            assert!((row.predict_score - top).abs() < 1e-5, "{name} {id}");
        }
    }
    // A predict job with the model gives the same scores on the same rows.
    let mut i = inputs(
        "test_data",
        transformed("vehicle_scale_hetero_guest.csv", true, GUEST),
    );
    i.models.push(multi.model.clone().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let mut c = ctx(dir.path(), "local_baseline_0", GUEST, json!({}), i);
    c.job_type = "predict".into();
    let pred = crate::run(&LocalBaseline, &c).unwrap();
    let a = predictions(&multi.data[0]);
    let b = predictions(&pred.data[0]);
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.0, y.0);
        assert!((x.1.predict_score - y.1.predict_score).abs() < 1e-12);
        assert_eq!(x.1.predict_result, y.1.predict_result);
        assert_eq!(y.1.kind, "test");
    }
}

#[test]
fn sample_weights_from_sample_weight_are_fitted() {
    let d = transformed("breast_hetero_guest.csv", true, GUEST);
    let dir = tempfile::tempdir().unwrap();
    let sw = crate::preprocess::sample_weight::SampleWeight
        .run(&ctx(
            dir.path(),
            "sample_weight_0",
            GUEST,
            json!({"class_weight": {"0": 3, "1": 1}}),
            inputs("data", d.clone()),
        ))
        .unwrap();
    let weighted = run(tight(json!({})), inputs("train_data", sw.data[0].clone())).unwrap();
    assert_close("sample_weight", &weighted, 1e-5);
    // The same through model_opts.class_weight.
    let cw = run(
        tight(json!({"class_weight": {"0": 3, "1": 1}})),
        inputs("train_data", d),
    )
    .unwrap();
    assert_close("sample_weight", &cw, 1e-5);
}

#[test]
fn bad_options_fail_naming_them_and_need_run_false_passes_through() {
    let d = || {
        inputs(
            "train_data",
            transformed("breast_hetero_guest.csv", true, GUEST),
        )
    };
    for (params, path, what) in [
        (
            json!({"model_opts": {"solverr": "lbfgs"}}),
            "local_baseline_0.model_opts",
            "solverr",
        ),
        (
            json!({"model_opts": {"solver": "lbfgs", "penalty": "l1"}}),
            "model_opts.penalty",
            "supports only",
        ),
        (
            json!({"model_opts": {"solver": "sgd"}}),
            "model_opts.solver",
            "expected one of",
        ),
        (
            json!({"model_opts": {"dual": true}}),
            "model_opts.dual",
            "not implemented",
        ),
        (
            json!({"model_opts": {"penalty": "elasticnet", "solver": "saga"}}),
            "model_opts.l1_ratio",
            "l1_ratio",
        ),
        (json!({"model_opts": {"C": 0}}), "model_opts.C", "positive"),
        (
            json!({"model_opts": {"multi_class": "multinomial", "solver": "liblinear"}}),
            "model_opts.multi_class",
            "liblinear",
        ),
        (
            json!({"model_opts": {"class_weight": {"7": 2}}}),
            "model_opts.class_weight",
            "not among",
        ),
        (
            json!({"model_name": "SVC"}),
            "local_baseline_0.model_name",
            "only LogisticRegression",
        ),
        (json!({"model_opts": [1]}), "model_opts", "None or dict"),
    ] {
        let e = run(params.clone(), d()).unwrap_err().to_string();
        assert!(e.contains(path) && e.contains(what), "{params}: {e}");
    }
    // Data it cannot fit: no labels (a host), one class.
    let host = inputs(
        "train_data",
        transformed("breast_hetero_host.csv", false, HOST),
    );
    let e = run(json!({}), host).unwrap_err().to_string();
    assert!(e.contains("has no label") && e.contains("need_run"), "{e}");
    let one = inputs("train_data", instances("id,y,x0\na,1,0.5\nb,1,1.5\n"));
    let e = run(json!({}), one).unwrap_err().to_string();
    assert!(e.contains("one class"), "{e}");
    // need_run false: the input as it came, no model.
    let input = transformed("breast_hetero_host.csv", false, HOST);
    let out = run(
        json!({"need_run": false}),
        inputs("train_data", input.clone()),
    )
    .unwrap();
    assert!(out.model.is_none());
    assert_eq!(out.data[0].schema.header, input.schema.header);
    assert_eq!(out.data[0].table.count().unwrap(), 569);
    // max_iter is honoured: FATE's job runs 5 lbfgs iterations, not converged.
    let out = run(json!({"model_opts": {"max_iter": 5}}), d()).unwrap();
    let p = &out.model.unwrap().param;
    assert_eq!(
        (p["iters"].as_u64(), p["is_converged"].as_bool()),
        (Some(5), Some(false))
    );
}
