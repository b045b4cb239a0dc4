use super::*;
use crate::testutil::*;
use std::collections::BTreeMap;

fn run(params: Value, i: crate::Inputs) -> Result<ComponentOutput, ComponentError> {
    let dir = tempfile::tempdir().unwrap();
    crate::run(&ColumnExpand, &ctx(dir.path(), "ce", GUEST, params, i))
}

const A: &str = "id,y,x0\na,1,0.5\nb,0,1.5\n";

#[test]
fn appended_columns_reach_data_transform_and_a_predict_job_expands_alike() {
    let p = json!({"append_header": ["x_0", "x_1"], "method": "manual", "fill_value": [0, 0.2]});
    let out = run(p, inputs("data", raw_dataset(A, 2))).unwrap();
    assert_eq!(out.data[0].schema.header, vec!["y", "x0", "x_0", "x_1"]);
    let dir = tempfile::tempdir().unwrap();
    let c = ctx(
        dir.path(),
        "dt",
        GUEST,
        json!({"with_label": true}),
        inputs("data", out.data[0].clone()),
    );
    let d = crate::data_transform::DataTransform
        .run(&c)
        .unwrap()
        .data
        .remove(0);
    assert_eq!(d.schema.header, vec!["x0", "x_0", "x_1"]);
    let t: TypedTable<String, crate::Instance> = TypedTable::from_raw(d.table.clone());
    let rows: BTreeMap<_, _> = t.collect().unwrap().into_iter().collect();
    assert_eq!(rows["b"].features, vec![1.5, 0.0, 0.2]);
    // Predict: the model's columns and values.
    let mut i = inputs("data", raw_dataset("id,y,x0\nq,1,7\n", 1));
    i.models.push(out.model.unwrap());
    let pred = run(json!({}), i).unwrap();
    let t: TypedTable<String, String> = TypedTable::from_raw(pred.data[0].table.clone());
    assert_eq!(
        t.collect().unwrap(),
        vec![("q".to_string(), "1,7,0,0.2".to_string())]
    );
}

#[test]
fn one_fill_value_serves_every_column_and_bad_input_fails_naming_the_field() {
    let out = run(
        json!({"append_header": ["u", "v"], "fill_value": "k"}),
        inputs("data", raw_dataset(A, 1)),
    )
    .unwrap();
    let t: TypedTable<String, String> = TypedTable::from_raw(out.data[0].table.clone());
    let rows: BTreeMap<_, _> = t.collect().unwrap().into_iter().collect();
    assert_eq!(rows["a"], "1,0.5,k,k");
    for (p, path, what) in [
        (
            json!({"append_header": ["u"], "fill_value": [1, 2]}),
            "ce.fill_value",
            "2 values for 1",
        ),
        (
            json!({"append_header": ["u"], "method": "auto"}),
            "ce.method",
            "expected manual",
        ),
        (
            json!({"append_header": ["x0"]}),
            "ce.append_header",
            "already a column",
        ),
        (
            json!({"append_header": [3]}),
            "ce.append_header[0]",
            "expected a string",
        ),
    ] {
        let e = run(p.clone(), inputs("data", raw_dataset(A, 1)))
            .unwrap_err()
            .to_string();
        assert!(e.contains(path) && e.contains(what), "{p}: {e}");
    }
}
