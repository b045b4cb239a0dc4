use super::*;
use crate::data_transform::DataTransform;
use crate::testutil::*;
use crate::Dataset;
use serde_json::json;

fn transformed(file: &str, with_label: bool) -> Dataset {
    let dir = tempfile::tempdir().unwrap();
    let c = ctx(
        dir.path(),
        "dt",
        GUEST,
        json!({ "with_label": with_label }),
        inputs("data", raw_file(file)),
    );
    DataTransform.run(&c).unwrap().data.remove(0)
}

fn stats_of(d: Dataset, params: serde_json::Value) -> StatisticsModelParam {
    let dir = tempfile::tempdir().unwrap();
    let c = ctx(dir.path(), "st", GUEST, params, inputs("data", d));
    let out = DataStatistics.run(&c).unwrap();
    serde_json::from_value(out.model.unwrap().param).unwrap()
}

/// Columns of the breast guest file, parsed directly from the CSV.
fn breast_columns() -> (Vec<String>, Vec<Vec<f64>>) {
    let text = std::fs::read_to_string(data("breast_hetero_guest.csv")).unwrap();
    let mut lines = text.lines();
    let head: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .skip(2)
        .map(str::to_string)
        .collect();
    let mut cols = vec![Vec::new(); head.len()];
    for l in lines.filter(|l| !l.is_empty()) {
        for (j, v) in l.split(',').skip(2).enumerate() {
            cols[j].push(v.parse::<f64>().unwrap());
        }
    }
    (head, cols)
}

#[test]
fn breast_statistics_equal_a_direct_computation() {
    let m = stats_of(
        transformed("breast_hetero_guest.csv", true),
        json!({"statistics": ["summary", "95%", "25%"]}),
    );
    let (head, cols) = breast_columns();
    assert_eq!(m.columns, head);
    for (name, xs) in head.iter().zip(&cols) {
        let n = xs.len() as f64;
        // FATE's formulas on raw moments: E[x^k].
        let e = |k: i32| xs.iter().map(|x| x.powi(k)).sum::<f64>() / n;
        let mu = e(1);
        let var = e(2) - mu * mu;
        let m3 = e(3) - 3.0 * mu * e(2) + 2.0 * mu.powi(3);
        let m4 = e(4) - 4.0 * mu * e(3) + 6.0 * mu * mu * e(2) - 3.0 * mu.powi(4);
        let mut sorted = xs.clone();
        sorted.sort_by(f64::total_cmp);
        let rank = |q: f64| sorted[(q * n).ceil() as usize - 1];
        let want = [
            ("count", n),
            ("sum", mu * n),
            ("mean", mu),
            ("variance", var),
            ("stddev", var.sqrt()),
            // FATE divides by 1e-8 when |mean| < 1e-8 (standardised columns here).
            (
                "coefficient_of_variance",
                (var.sqrt() / if mu.abs() < 1e-8 { 1e-8 } else { mu }).abs(),
            ),
            ("skewness", m3 / var.powf(1.5)),
            ("kurtosis", m4 / (var * var) - 3.0),
            ("min", sorted[0]),
            ("max", sorted[sorted.len() - 1]),
            ("median", rank(0.5)),
            ("95%", rank(0.95)),
            ("25%", rank(0.25)),
            ("missing_count", 0.0),
            ("missing_ratio", 0.0),
        ];
        for (k, w) in want {
            let got = m.value(k, name).unwrap();
            let tol = 1e-9 * w.abs().max(1.0);
            assert!((got - w).abs() <= tol, "{name} {k}: {got} vs {w}");
        }
    }
    // Population variance, not the sample one: x0 differs from the n-1 form.
    let n = cols[0].len() as f64;
    let v = m.value("variance", "x0").unwrap();
    let mu = cols[0].iter().sum::<f64>() / n;
    let sample = cols[0].iter().map(|x| (x - mu).powi(2)).sum::<f64>() / (n - 1.0);
    assert!((v * n / (n - 1.0) - sample).abs() < 1e-9 && (v - sample).abs() > 1e-6);
    assert_eq!(m.value("std", "x0"), m.value("stddev", "x0"));
}

#[test]
fn missing_values_abnormal_list_and_unbiased_moments() {
    let dir = tempfile::tempdir().unwrap();
    let raw = raw_dataset("id,a,b\n1,1,5\n2,,6\n3,3,-999\n4,4,8\n5,10,9\n", 2);
    let c = ctx(dir.path(), "dt", HOST, json!({}), inputs("data", raw));
    let d = DataTransform.run(&c).unwrap().data.remove(0);
    let m = stats_of(
        d,
        json!({"statistics": ["missing_count", "missing_ratio", "skewness", "kurtosis", "median"],
               "abnormal_list": [-999], "bias": false, "column_names": ["b"], "column_indexes": []}),
    );
    assert_eq!(m.columns, vec!["b".to_string()]);
    assert_eq!(m.value("missing_count", "b"), Some(1.0));
    assert_eq!(m.value("missing_ratio", "b"), Some(0.2));
    assert_eq!(m.value("count", "b"), Some(4.0));
    // b = 5, 6, 8, 9: symmetric → skewness 0; median = rank ceil(2) = 6.
    assert!(m.value("skewness", "b").unwrap().abs() < 1e-12);
    assert_eq!(m.value("median", "b"), Some(6.0));
    // Sample-corrected excess kurtosis of 5,6,8,9 (k-statistics): m2 = 2.5,
    // m4 = (2.5^4*2 + 1.5^4*2)/4... computed by hand: G2 = -3.3.
    let xs = [5.0f64, 6.0, 8.0, 9.0];
    let m2 = xs.iter().map(|x| (x - 7.0).powi(2)).sum::<f64>() / 4.0;
    let m4 = xs.iter().map(|x| (x - 7.0).powi(4)).sum::<f64>() / 4.0;
    assert_eq!(m2, 2.5);
    let g2 = (15.0 * m4 / (m2 * m2) - 27.0) / 2.0;
    assert!((m.value("kurtosis", "b").unwrap() - g2).abs() < 1e-12);
    assert!((g2 - (-3.3)).abs() < 1e-9);
    // Column a was not asked for.
    assert_eq!(m.value("mean", "a"), None);
}

#[test]
fn unknown_statistic_is_a_param_error() {
    let dir = tempfile::tempdir().unwrap();
    let d = transformed("breast_hetero_guest.csv", true);
    let c = ctx(
        dir.path(),
        "st",
        GUEST,
        json!({"statistics": ["modus"]}),
        inputs("data", d),
    );
    let e = DataStatistics.run(&c).err().unwrap().to_string();
    assert!(e.contains("modus"), "{e}");
}

#[test]
fn columns_this_party_lacks_are_skipped_as_fate_does_and_listed() {
    let dir = tempfile::tempdir().unwrap();
    let raw = raw_dataset("id,a,b\n1,1,5\n2,2,6\n", 1);
    let c = ctx(dir.path(), "dt", HOST, json!({}), inputs("data", raw));
    let d = DataTransform.run(&c).unwrap().data.remove(0);
    let c = ctx(
        dir.path(),
        "statistic_0",
        HOST,
        json!({"statistics": ["mean"], "column_names": ["x3", "b"], "column_indexes": [0, 7]}),
        inputs("data", d),
    );
    let out = DataStatistics.run(&c).unwrap();
    assert_eq!(out.summary["skipped_columns"], json!(["index 7", "'x3'"]));
    assert_eq!(out.summary["mean"]["a"], 1.5);
    assert_eq!(out.summary["mean"]["b"], 5.5);
}
