use super::*;
use crate::testutil::*;
use std::collections::BTreeMap;

fn run(params: Value, i: crate::Inputs) -> Result<ComponentOutput, ComponentError> {
    let dir = tempfile::tempdir().unwrap();
    crate::run(&SampleWeight, &ctx(dir.path(), "sw", GUEST, params, i))
}

fn data(text: &str) -> Dataset {
    instances(text)
}

fn weights(d: &Dataset) -> BTreeMap<String, (Vec<f64>, f64)> {
    let t: TypedTable<String, Instance> = TypedTable::from_raw(d.table.clone());
    t.collect()
        .unwrap()
        .into_iter()
        .map(|(k, v)| (k, (v.features, v.weight)))
        .collect()
}

const D: &str = "id,y,x0,w\na,1,0.5,2\nb,0,1.5,4\nc,0,2.5,6\nd,0,3.5,0\n";

#[test]
fn balanced_weights_are_sklearns_and_a_model_reapplies_them() {
    let out = run(json!({"class_weight": "balanced"}), inputs("data", data(D))).unwrap();
    let w = weights(&out.data[0]);
    // n / (classes · n_class): 4 / (2·1) for label 1, 4 / (2·3) for label 0.
    assert_eq!(w["a"].1, 2.0);
    assert!((w["b"].1 - 4.0 / 6.0).abs() < 1e-15);
    assert!(is_weighted(&out.data[0].schema));
    assert_eq!(out.data[0].schema.header, vec!["x0", "w"]);
    // The model keeps the training weights on data with another balance.
    let mut i = inputs("data", data("id,y,x0,w\nq,1,1,1\nr,1,2,1\n"));
    i.models.push(out.model.unwrap());
    let again = weights(&run(json!({}), i).unwrap().data[0]);
    assert_eq!(again["q"].1, 2.0);
}

#[test]
fn class_dicts_and_weight_columns_set_weights_and_normalize_divides_by_the_mean() {
    let out = run(
        json!({"class_weight": {"0": 1, "1": 2.5}}),
        inputs("data", data(D)),
    )
    .unwrap();
    let w = weights(&out.data[0]);
    assert_eq!((w["a"].1, w["b"].1), (2.5, 1.0));
    let out = run(
        json!({"sample_weight_name": "w", "normalize": true, "class_weight": "balanced"}),
        inputs("data", data(D)),
    )
    .unwrap();
    assert_eq!(out.data[0].schema.header, vec!["x0"]);
    let w = weights(&out.data[0]);
    // Mean of w is 3.
    assert_eq!(w["c"], (vec![2.5], 2.0));
    assert_eq!(w["d"].1, 0.0);
    // Column 0 works too (FATE's `if weight_loc:` would refuse it).
    let out = run(json!({"sample_weight_name": "x0"}), inputs("data", data(D))).unwrap();
    assert_eq!(weights(&out.data[0])["b"], (vec![4.0], 1.5));
}

#[test]
fn need_run_false_and_no_source_pass_through_unweighted_and_bad_input_names_the_field() {
    for p in [
        json!({"need_run": false, "class_weight": "balanced"}),
        json!({}),
    ] {
        let out = run(p, inputs("data", data(D))).unwrap();
        assert!(!is_weighted(&out.data[0].schema));
        assert_eq!(weights(&out.data[0])["a"].1, 1.0);
    }
    for (p, what) in [
        (json!({"class_weight": "even"}), "sw.class_weight"),
        (json!({"class_weight": {"x": 1}}), "label 'x'"),
        (json!({"class_weight": {"1": -1}}), "sw.class_weight.1"),
        (
            json!({"sample_weight_name": "nope"}),
            "'nope' is not a column",
        ),
        (json!({"weight": 1}), "weight"),
    ] {
        let e = run(p, inputs("data", data(D))).unwrap_err().to_string();
        assert!(e.contains(what), "{e}");
    }
    let e = run(
        json!({"sample_weight_name": "w"}),
        inputs("data", data("id,y,x0,w\na,1,0.5,-2\n")),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("sample weight -2"), "{e}");
}

#[test]
fn models_that_cannot_honour_weights_refuse_weighted_input() {
    let out = run(json!({"class_weight": "balanced"}), inputs("data", data(D))).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let c = ctx(
        dir.path(),
        "homo_lr_0",
        GUEST,
        json!({}),
        inputs("train_data", out.data[0].clone()),
    );
    let e = crate::homo::lr::HomoLR.run(&c).unwrap_err().to_string();
    assert!(
        e.contains("homo_lr_0: its train_data has sample weights"),
        "{e}"
    );
}
