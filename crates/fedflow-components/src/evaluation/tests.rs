use super::metrics::*;
use super::*;
use crate::testutil::*;
use crate::{Dataset, MemoryTracker, Schema, PREDICTION_HEADER};
use fedflow_computing::parallelize;
use serde_json::json;
use std::sync::Arc;

fn close(a: f64, b: f64) {
    assert!((a - b).abs() < 1e-12, "{a} != {b}");
}

#[test]
fn auc_with_ties_and_ks_by_hand() {
    // Positives 0.9, 0.5, 0.4; negatives 0.5, 0.3, 0.1.
    // Pairs (p > n): 0.9 beats 3, 0.5 beats 2 + tie 0.5, 0.4 beats 2 → 7.5 / 9.
    let y = [1.0, 1.0, 1.0, 0.0, 0.0, 0.0];
    let s = [0.9, 0.5, 0.4, 0.5, 0.3, 0.1];
    close(auc(&y, &s).unwrap(), 7.5 / 9.0);
    // Thresholds: 0.9 → tpr 1/3 fpr 0; 0.5 → 2/3, 1/3; 0.4 → 1, 1/3; 0.3 → 1, 2/3.
    close(ks(&y, &s), 2.0 / 3.0);
    assert!(auc(&[1.0, 1.0], &[0.1, 0.2]).is_none());
    close(auc(&[0.0, 1.0], &[0.5, 0.5]).unwrap(), 0.5);
    let (p, r) = precision_recall(&[1.0, 1.0, 0.0, 0.0], &[1.0, 0.0, 1.0, 1.0], 1.0);
    close(p, 1.0 / 3.0);
    close(r, 0.5);
    let lg = lift_gain(&y, &s, 2);
    // Top half: 0.9, 0.5 (pos or neg tie order), 0.5 → 2 positives of 3.
    close(lg[1].2, 1.0);
    close(lg[1].1, 1.0);
}

#[test]
fn regression_and_multi_by_hand() {
    let y = [3.0, -0.5, 2.0, 7.0];
    let p = [2.5, 0.0, 2.0, 8.0];
    let [rmse, mse, mae, medae, r2, _] = regression(&y, &p);
    close(mse, 0.375);
    close(rmse, 0.375f64.sqrt());
    close(mae, 0.5);
    close(medae, 0.5);
    // sklearn's r2_score for this example: 0.9486081370449679.
    close(r2, 0.948_608_137_044_967_9);
    close(accuracy(&[0.0, 1.0, 2.0, 2.0], &[0.0, 2.0, 2.0, 2.0]), 0.75);
    let (mp, mr) = macro_precision_recall(&[0.0, 1.0, 2.0, 2.0], &[0.0, 2.0, 2.0, 2.0]);
    close(mp, (1.0 + 0.0 + 2.0 / 3.0) / 3.0);
    close(mr, (1.0 + 0.0 + 1.0) / 3.0);
}

#[test]
fn component_summary_is_keyed_by_upstream_component() {
    let rows: Vec<(String, Prediction)> = [
        (1.0, 0.9),
        (1.0, 0.5),
        (1.0, 0.4),
        (0.0, 0.5),
        (0.0, 0.3),
        (0.0, 0.1),
    ]
    .iter()
    .enumerate()
    .map(|(i, &(l, s))| {
        (
            format!("{i}"),
            Prediction {
                label: l,
                predict_result: if s > 0.45 { 1.0 } else { 0.0 },
                predict_score: s,
                predict_detail: String::new(),
                kind: "train".into(),
            },
        )
    })
    .collect();
    let t = parallelize(session().as_ref(), rows, 2).unwrap();
    let mut extra = serde_json::Map::new();
    extra.insert("source_component".into(), "hetero_lr_0".into());
    let d = Dataset {
        table: t.raw().clone(),
        schema: Schema {
            sid: "id".into(),
            header: PREDICTION_HEADER.iter().map(|s| s.to_string()).collect(),
            label_name: None,
            extra,
        },
    };
    let dir = tempfile::tempdir().unwrap();
    let mut c = ctx(
        dir.path(),
        "evaluation_0",
        GUEST,
        json!({"eval_type": "binary"}),
        inputs("data", d),
    );
    let tracker = Arc::new(MemoryTracker::default());
    c.tracker = tracker.clone();
    let out = Evaluation.run(&c).unwrap();
    close(
        out.summary["hetero_lr_0"]["auc"].as_f64().unwrap(),
        7.5 / 9.0,
    );
    close(
        out.summary["hetero_lr_0"]["ks"].as_f64().unwrap(),
        2.0 / 3.0,
    );
    assert!(tracker
        .metrics()
        .iter()
        .any(|m| m.name == "roc" && m.points.len() == 6));
}
