use super::*;
use crate::testutil::*;
use crate::Inputs;
use serde_json::json;

// Column x1 has a blank (NaN after DataTransform), x0 and x2 have zeros.
const CSV: &str = "id,x0,x1,x2\na,0,0.5,2\nb,1,,5\nc,3,2.5,0\nd,0,-1,5\ne,5,4,1\n";

fn dataset(csv: &str) -> Dataset {
    let dir = tempfile::tempdir().unwrap();
    let c = ctx(
        dir.path(),
        "dt",
        HOST,
        json!({}),
        inputs("data", raw_dataset(csv, 2)),
    );
    crate::data_transform::DataTransform
        .run(&c)
        .unwrap()
        .data
        .remove(0)
}

fn run(params: Value, i: Inputs) -> Result<ComponentOutput, ComponentError> {
    let dir = tempfile::tempdir().unwrap();
    crate::run(&FeatureImputation, &ctx(dir.path(), "fi", HOST, params, i))
}

fn rows(d: &Dataset) -> BTreeMap<String, Vec<f64>> {
    let t: TypedTable<String, Instance> = TypedTable::from_raw(d.table.clone());
    t.collect()
        .unwrap()
        .into_iter()
        .map(|(k, v)| (k, v.features))
        .collect()
}

/// The imputation computed directly on the rows: per column, the values
/// that are not `missing`, reduced by `method`, replace the missing ones.
fn direct(
    input: &BTreeMap<String, Vec<f64>>,
    methods: &[Option<&str>],
    is_missing: &dyn Fn(f64) -> bool,
    designated: &[f64],
) -> BTreeMap<String, Vec<f64>> {
    let fill: Vec<Option<f64>> = methods
        .iter()
        .enumerate()
        .map(|(j, m)| {
            let mut present: Vec<f64> = input
                .values()
                .map(|r| r[j])
                .filter(|&x| !is_missing(x) && !x.is_nan())
                .collect();
            present.sort_by(f64::total_cmp);
            m.map(|m| match m {
                "min" => present[0],
                "max" => *present.last().unwrap(),
                "mean" => present.iter().sum::<f64>() / present.len() as f64,
                "median" => {
                    let n = present.len();
                    if n % 2 == 1 {
                        present[n / 2]
                    } else {
                        (present[n / 2 - 1] + present[n / 2]) / 2.0
                    }
                }
                _ => designated[j],
            })
        })
        .collect();
    input
        .iter()
        .map(|(k, r)| {
            let out = r
                .iter()
                .zip(&fill)
                .map(|(&x, f)| match f {
                    Some(f) if is_missing(x) => *f,
                    _ => x,
                })
                .collect();
            (k.clone(), out)
        })
        .collect()
}

fn same(a: &BTreeMap<String, Vec<f64>>, b: &BTreeMap<String, Vec<f64>>) {
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (k, r) in a {
        let s = &b[k];
        assert_eq!(r.len(), s.len());
        for (x, y) in r.iter().zip(s) {
            assert!(
                x == y || (x.is_nan() && y.is_nan()),
                "row {k}: {r:?} vs {s:?}"
            );
        }
    }
}

#[test]
fn every_method_fills_the_listed_missing_values_as_a_direct_computation() {
    let d = dataset(CSV);
    let input = rows(&d);
    for m in ["min", "max", "mean", "median", "designated"] {
        let out = run(
            json!({"missing_fill_method": m, "missing_impute": [0], "default_value": 42}),
            inputs("data", d.clone()),
        )
        .unwrap();
        let expect = direct(&input, &[Some(m); 3], &|x| x == 0.0, &[42.0; 3]);
        same(&rows(&out.data[0]), &expect);
        // Zeros were listed, NaN was not: x1's blank stays NaN (as FATE).
        assert!(rows(&out.data[0])["b"][1].is_nan());
        assert_eq!(out.summary["missing_impute_rate"]["x0"], json!(0.4));
        assert_eq!(out.summary["missing_impute_rate"]["x2"], json!(0.2));
        assert_eq!(out.summary["skip_cols"], json!([]));
    }
}

#[test]
fn default_missing_is_nan_and_column_methods_override_with_unlisted_columns_skipped() {
    let d = dataset(CSV);
    let input = rows(&d);
    // No missing_impute: NaN (the blank) is missing. Only x1 named: others skipped.
    let out = run(
        json!({"col_missing_fill_method": {"x1": "MEAN"}}),
        inputs("data", d.clone()),
    )
    .unwrap();
    let expect = direct(
        &input,
        &[None, Some("mean"), None],
        &|x| x.is_nan(),
        &[0.0; 3],
    );
    same(&rows(&out.data[0]), &expect);
    assert_eq!(rows(&out.data[0])["b"][1], (0.5 + 2.5 - 1.0 + 4.0) / 4.0);
    assert_eq!(out.summary["skip_cols"], json!(["x0", "x2"]));
    // A method for all plus a designated list, one value per column.
    let out = run(
        json!({"missing_fill_method": "designated", "default_value": [7, 8, 9],
               "col_missing_fill_method": {"x0": "max"}, "missing_impute": [0, ""]}),
        inputs("data", d.clone()),
    )
    .unwrap();
    let expect = direct(
        &input,
        &[Some("max"), Some("designated"), Some("designated")],
        &|x| x == 0.0 || x.is_nan(),
        &[7.0, 8.0, 9.0],
    );
    same(&rows(&out.data[0]), &expect);
    assert_eq!(rows(&out.data[0])["b"][1], 8.0);
}

#[test]
fn a_predict_job_fills_by_the_model_and_need_run_false_passes_through() {
    let d = dataset(CSV);
    let out = run(
        json!({"missing_fill_method": "mean", "missing_impute": [0]}),
        inputs("data", d.clone()),
    )
    .unwrap();
    // Predict on other rows: the training means fill them, not theirs.
    let other = dataset("id,x0,x1,x2\nq,0,100,0\nr,100,0,100\n");
    let mut i = inputs("data", other);
    i.models.push(out.model.clone().unwrap());
    let pred = run(json!({}), i).unwrap();
    let got = rows(&pred.data[0]);
    let mean0 = (1.0 + 3.0 + 5.0) / 3.0;
    let mean1 = (0.5 + 2.5 - 1.0 + 4.0) / 4.0;
    let mean2 = (2.0 + 5.0 + 5.0 + 1.0) / 4.0;
    assert_eq!(got["q"], vec![mean0, 100.0, mean2]);
    assert_eq!(got["r"], vec![100.0, mean1, 100.0]);
    assert_eq!(pred.summary["missing_impute_rate"]["x0"], json!(0.5));
    // need_run false: the rows are the input's.
    let out = run(
        json!({"need_run": false, "missing_fill_method": "max"}),
        inputs("data", d.clone()),
    )
    .unwrap();
    same(&rows(&out.data[0]), &rows(&d));
    assert_eq!(out.summary["need_run"], json!(false));
}

#[test]
fn bad_parameters_fail_naming_the_field() {
    let d = dataset(CSV);
    for (p, path, what) in [
        (
            json!({"missing_fill_method": "mode"}),
            "fi.missing_fill_method",
            "expected one of",
        ),
        (
            json!({"col_missing_fill_method": {"x9": "min"}}),
            "fi.col_missing_fill_method.x9",
            "not in the data's header",
        ),
        (
            json!({"col_missing_fill_method": {"x0": "avg"}}),
            "fi.col_missing_fill_method.x0",
            "expected one of",
        ),
        (
            json!({"missing_fill_method": "designated", "default_value": [1, 2]}),
            "fi.default_value",
            "2 values for 3 columns",
        ),
        (
            json!({"missing_fill_method": "designated", "default_value": "abc"}),
            "fi.default_value",
            "expected a number",
        ),
        (
            json!({"missing_impute": ["zero"]}),
            "fi.missing_impute[0]",
            "expected a number or a missing marker",
        ),
        (json!({"missing_fill_methd": "min"}), "fi", "unknown field"),
    ] {
        let e = run(p.clone(), inputs("data", d.clone()))
            .unwrap_err()
            .to_string();
        assert!(e.contains(path) && e.contains(what), "{p}: {e}");
    }
}
