use super::*;
use crate::testutil::*;
use crate::Inputs;
use serde_json::json;

const CSV: &str = "id,x0,x1,x2\na,0,0.5,2\nb,1,1.5,5\nc,3,2.5,2\nd,1,-1,5\ne,-0,4,2\n";

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

fn run(params: serde_json::Value, i: Inputs) -> Result<ComponentOutput, ComponentError> {
    let dir = tempfile::tempdir().unwrap();
    OneHotEncoder.run(&ctx(dir.path(), "oh", HOST, params, i))
}

fn rows(d: &Dataset) -> BTreeMap<String, Vec<f64>> {
    let t: TypedTable<String, Instance> = TypedTable::from_raw(d.table.clone());
    t.collect()
        .unwrap()
        .into_iter()
        .map(|(k, v)| (k, v.features))
        .collect()
}

/// The expected encoding, computed directly from the input rows.
fn direct(input: &Dataset, cols: &[(&str, &[f64])]) -> (Vec<String>, BTreeMap<String, Vec<f64>>) {
    let h = &input.schema.header;
    let mut header = Vec::new();
    for name in h {
        match cols.iter().find(|c| c.0 == name) {
            Some((_, vals)) => header.extend(vals.iter().map(|v| format!("{name}_{v}"))),
            None => header.push(name.clone()),
        }
    }
    let out = rows(input)
        .into_iter()
        .map(|(k, f)| {
            let mut r = Vec::new();
            for (j, name) in h.iter().enumerate() {
                match cols.iter().find(|c| c.0 == name) {
                    Some((_, vals)) => {
                        r.extend(vals.iter().map(|&v| f64::from(u8::from(f[j] == v))))
                    }
                    None => r.push(f[j]),
                }
            }
            (k, r)
        })
        .collect();
    (header, out)
}

#[test]
fn encodes_chosen_columns_like_a_direct_computation() {
    let d = dataset(CSV);
    let out = run(
        json!({"transform_col_indexes": [0], "transform_col_names": ["x2"]}),
        inputs("data", d.clone()),
    )
    .unwrap();
    let (want_header, want) = direct(&d, &[("x0", &[0.0, 1.0, 3.0]), ("x2", &[2.0, 5.0])]);
    assert_eq!(
        out.data[0].schema.header,
        vec!["x0_0", "x0_1", "x0_3", "x1", "x2_2", "x2_5"]
    );
    assert_eq!(out.data[0].schema.header, want_header);
    assert_eq!(rows(&out.data[0]), want);
    let m = out.model.unwrap();
    let param: OneHotModelParam = serde_json::from_value(m.param.clone()).unwrap();
    assert_eq!(param.col_map["x0"].values, vec!["0", "1", "3"]);
    assert_eq!(
        param.col_map["x2"].transformed_headers,
        vec!["x2_2", "x2_5"]
    );
    assert_eq!(m.meta["transform_col_names"], json!(["x0", "x2"]));

    // Predict with the model: same columns; the unseen value 7 gives zeros.
    let new = dataset("id,x0,x1,x2\nf,7,1,5\ng,3,2,2\n");
    let mut i = inputs("data", new);
    i.models.push(m);
    let p = run(json!({}), i).unwrap();
    assert_eq!(p.data[0].schema.header, want_header);
    let r = rows(&p.data[0]);
    assert_eq!(r["f"], vec![0.0, 0.0, 0.0, 1.0, 0.0, 1.0]);
    assert_eq!(r["g"], vec![0.0, 0.0, 1.0, 2.0, 1.0, 0.0]);
}

#[test]
fn all_columns_by_default_and_integers_only() {
    let d = dataset("id,a,b\n1,2,0\n2,4,1\n3,2,1\n");
    let out = run(json!({}), inputs("data", d.clone())).unwrap();
    let (h, want) = direct(&d, &[("a", &[2.0, 4.0]), ("b", &[0.0, 1.0])]);
    assert_eq!(out.data[0].schema.header, h);
    assert_eq!(rows(&out.data[0]), want);
    // x1 holds 0.5: FATE refuses non-integer values.
    let e = run(json!({}), inputs("data", dataset(CSV)))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("column 'x1'") && e.contains("must be integers"),
        "{e}"
    );
}

#[test]
fn bad_params_name_the_field_and_need_run_false_passes_through() {
    let d = dataset(CSV);
    let e = run(
        json!({"transform_col_indexes": "x"}),
        inputs("data", d.clone()),
    )
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("parameter oh.transform_col_indexes:"), "{e}");
    let e = run(
        json!({"transform_col_indexes": [9]}),
        inputs("data", d.clone()),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("expected a column index below 3"), "{e}");
    let e = run(
        json!({"transform_col_names": ["nope"], "transform_col_indexes": []}),
        inputs("data", d.clone()),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("'nope' is not in the header"), "{e}");
    let e = run(json!({"need_run": "yes"}), inputs("data", d.clone()))
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("parameter oh.need_run:"), "{e}");
    let out = run(json!({"need_run": false}), inputs("data", d.clone())).unwrap();
    assert_eq!(out.data[0].schema.header, d.schema.header);
    assert_eq!(rows(&out.data[0]), rows(&d));
}
