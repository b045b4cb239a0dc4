use super::*;
use crate::testutil::*;
use crate::{Inputs, Schema};
use fedflow_computing::parallelize;
use serde_json::json;
use std::collections::BTreeMap;

fn dataset(csv: &str) -> Dataset {
    instances(csv)
}

fn run(params: Value, i: Inputs) -> Result<ComponentOutput, ComponentError> {
    let dir = tempfile::tempdir().unwrap();
    crate::run(&LabelTransform, &ctx(dir.path(), "lt", GUEST, params, i))
}

fn labels(d: &Dataset) -> BTreeMap<String, f64> {
    let t: TypedTable<String, Instance> = TypedTable::from_raw(d.table.clone());
    t.collect()
        .unwrap()
        .into_iter()
        .map(|(k, v)| (k, v.label.unwrap()))
        .collect()
}

const CSV: &str = "id,y,x0\na,5,1\nb,9,2\nc,7,3\nd,5,4\n";
const FOUR: &str = "id,y,x0\na,0,1\nb,1,2\nc,2,3\nd,3,4\n";

#[test]
fn without_an_encoder_the_sorted_labels_get_their_rank() {
    let out = run(json!({}), inputs("data", dataset(CSV))).unwrap();
    let got = labels(&out.data[0]);
    assert_eq!(
        got,
        BTreeMap::from([
            ("a".into(), 0.0),
            ("b".into(), 2.0),
            ("c".into(), 1.0),
            ("d".into(), 0.0)
        ])
    );
    let m = out.model.unwrap();
    assert_eq!(
        m.param["label_encoder"],
        json!({"5": "0", "7": "1", "9": "2"})
    );
    assert_eq!(m.param["encoder_key_type"]["5"], json!("int"));
    // Features are untouched.
    let t: TypedTable<String, Instance> = TypedTable::from_raw(out.data[0].table.clone());
    let rows: BTreeMap<String, Instance> = t.collect().unwrap().into_iter().collect();
    assert_eq!(rows["b"].features, vec![2.0]);
}

#[test]
fn a_given_encoder_maps_and_after_a_model_decodes_predictions() {
    let d = dataset(FOUR);
    let p = json!({"label_encoder": {"0": 1, "1": 0, "2": 2, "3": 3}, "label_list": [0, 1, 2, 3]});
    let out = run(p, inputs("data", d.clone())).unwrap();
    assert_eq!(
        labels(&out.data[0]).values().copied().collect::<Vec<_>>(),
        vec![1.0, 0.0, 2.0, 3.0]
    );
    // A model's predictions in codes: decoded back to the original labels.
    let rows = vec![
        (
            "a".to_string(),
            Prediction {
                label: 1.0,
                predict_result: 0.0,
                predict_score: 0.7,
                predict_detail: r#"{"0": 0.7, "1": 0.1, "2": 0.1, "3": 0.1}"#.into(),
                kind: "train".into(),
            },
        ),
        (
            "b".to_string(),
            Prediction {
                label: 0.0,
                predict_result: 3.0,
                predict_score: 0.6,
                predict_detail: r#"{"0": 0.2, "1": 0.1, "2": 0.1, "3": 0.6}"#.into(),
                kind: "train".into(),
            },
        ),
    ];
    let s = session();
    let t = parallelize(s.as_ref(), rows, 2).unwrap();
    let pred = Dataset {
        table: t.raw().clone(),
        schema: Schema {
            sid: "id".into(),
            header: PREDICTION_HEADER.iter().map(|s| s.to_string()).collect(),
            label_name: None,
            extra: Default::default(),
        },
    };
    let mut i = inputs("data", pred);
    i.models.push(out.model.unwrap());
    let back = run(json!({}), i).unwrap();
    let t: TypedTable<String, Prediction> = TypedTable::from_raw(back.data[0].table.clone());
    let got: BTreeMap<String, Prediction> = t.collect().unwrap().into_iter().collect();
    assert_eq!((got["a"].label, got["a"].predict_result), (0.0, 1.0));
    assert_eq!((got["b"].label, got["b"].predict_result), (1.0, 3.0));
    let detail: serde_json::Map<String, Value> =
        serde_json::from_str(&got["a"].predict_detail).unwrap();
    assert_eq!(detail["1"], json!(0.7));
    assert_eq!(detail["0"], json!(0.1));
}

#[test]
fn a_partial_encoder_keeps_unnamed_labels_unless_that_merges_classes() {
    let d = dataset(FOUR);
    let out = run(
        json!({"label_encoder": {"0": 1, "1": 0}}),
        inputs("data", d.clone()),
    )
    .unwrap();
    assert_eq!(
        labels(&out.data[0]).values().copied().collect::<Vec<_>>(),
        vec![1.0, 0.0, 2.0, 3.0]
    );
    let e = run(
        json!({"label_encoder": {"0": 1}}),
        inputs("data", d.clone()),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("label 1 is not in the label encoder") && e.contains("merge two classes"),
        "{e}"
    );
    // need_run false: labels as they were.
    let out = run(
        json!({"need_run": false, "label_encoder": {"0": 1}}),
        inputs("data", d.clone()),
    )
    .unwrap();
    assert_eq!(labels(&out.data[0]), labels(&d));
}

#[test]
fn bad_parameters_fail_naming_the_field() {
    let d = dataset(FOUR);
    for (p, path, what) in [
        (
            json!({"label_encoder": {"0": 1, "1": 0}, "label_list": [0]}),
            "lt.label_list",
            "1 labels for 2",
        ),
        (
            json!({"label_encoder": {"0": 1, "1": 0}, "label_list": [0, 2]}),
            "lt.label_list",
            "key '1' is not in label_list",
        ),
        (
            json!({"label_encoder": {"yes": 1}}),
            "lt.label_encoder.yes",
            "labels are numbers",
        ),
        (
            json!({"label_encoder": {"0": "one"}}),
            "lt.label_encoder.0",
            "expected a number",
        ),
        (json!({"label_encoders": {}}), "lt", "unknown field"),
    ] {
        let e = run(p.clone(), inputs("data", d.clone()))
            .unwrap_err()
            .to_string();
        assert!(e.contains(path) && e.contains(what), "{p}: {e}");
    }
}
