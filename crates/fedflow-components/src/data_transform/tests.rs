use super::*;
use crate::testutil::*;
use crate::Inputs;
use fedflow_computing::TypedTable;
use serde_json::json;

fn instances(out: &ComponentOutput) -> Vec<(String, Instance)> {
    let t: TypedTable<String, Instance> = TypedTable::from_raw(out.data[0].table.clone());
    let mut v = t.collect().unwrap();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

#[test]
fn breast_guest_has_569_instances_10_features_and_labels() {
    let dir = tempfile::tempdir().unwrap();
    let c = ctx(
        dir.path(),
        "data_transform_0",
        GUEST,
        json!({"with_label": true, "output_format": "dense"}),
        inputs("data", raw_file("breast_hetero_guest.csv")),
    );
    let out = DataTransform.run(&c).unwrap();
    let rows = instances(&out);
    assert_eq!(rows.len(), 569);
    assert_eq!(out.data[0].schema.header.len(), 10);
    assert_eq!(out.data[0].schema.header[0], "x0");
    assert_eq!(out.data[0].schema.label_name.as_deref(), Some("y"));
    let ones = rows.iter().filter(|(_, i)| i.label == Some(1.0)).count();
    let zeros = rows.iter().filter(|(_, i)| i.label == Some(0.0)).count();
    assert_eq!((ones, zeros), (357, 212));
    assert!(rows.iter().all(|(_, i)| i.features.len() == 10));
    assert_eq!(out.summary["count"], 569);
    // Host: 20 features, no label.
    let c = ctx(
        dir.path(),
        "data_transform_0",
        HOST,
        json!({}),
        inputs("data", raw_file("breast_hetero_host.csv")),
    );
    let out = DataTransform.run(&c).unwrap();
    let rows = instances(&out);
    assert_eq!(rows.len(), 569);
    assert!(rows
        .iter()
        .all(|(_, i)| i.features.len() == 20 && i.label.is_none()));
}

#[test]
fn malformed_value_names_row_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let d = raw_dataset("id,y,x0,x1\na,1,0.5,0.25\nb,0,oops,1\n", 2);
    let c = ctx(
        dir.path(),
        "dt",
        GUEST,
        json!({"with_label": true}),
        inputs("data", d),
    );
    let e = DataTransform.run(&c).unwrap_err().to_string();
    assert!(
        e.contains("row 'b', column 'x0': 'oops' is not a number"),
        "{e}"
    );
    let d = raw_dataset("id,y,x0\na,1,0.5,7\n", 1);
    let c = ctx(
        dir.path(),
        "dt",
        GUEST,
        json!({"with_label": true}),
        inputs("data", d),
    );
    let e = DataTransform.run(&c).unwrap_err().to_string();
    assert!(
        e.contains("row 'a': 3 values, but the header has 2 columns"),
        "{e}"
    );
    let c = ctx(
        dir.path(),
        "dt",
        GUEST,
        json!({"with_label": "yes"}),
        Inputs::default(),
    );
    // No data (arbiter): nothing to do, no parameter check needed.
    assert!(DataTransform.run(&c).unwrap().data.is_empty());
}

#[test]
fn missing_fill_and_outliers() {
    let dir = tempfile::tempdir().unwrap();
    let text = "id,y,x0,x1\na,1,1,NA\nb,0,,4\nc,1,3,-999\nd,0,5,2\n";
    let run = |params: serde_json::Value| {
        let c = ctx(
            dir.path(),
            "dt",
            GUEST,
            params,
            inputs("data", raw_dataset(text, 2)),
        );
        let out = DataTransform.run(&c).unwrap();
        (instances(&out), out.model.unwrap())
    };
    let (rows, _) = run(json!({"with_label": true}));
    assert!(rows[1].1.features[0].is_nan() && rows[0].1.features[1].is_nan());
    let (rows, _) = run(json!({"with_label": true, "missing_fill": true, "default_value": 7}));
    assert_eq!(rows[1].1.features[0], 7.0);
    assert_eq!(rows[0].1.features[1], 7.0);
    let (rows, model) = run(json!({"with_label": true, "missing_fill": true,
        "missing_fill_method": "mean", "outlier_replace": true, "outlier_impute": [-999],
        "outlier_replace_method": "max"}));
    assert_eq!(rows[1].1.features[0], 3.0); // mean of 1, 3, 5
    assert_eq!(rows[0].1.features[1], 3.0); // mean of 4, 2 (outlier excluded)
    assert_eq!(rows[2].1.features[1], 4.0); // max of 4, 2
                                            // Predict with the model: same fill values, whatever the new data's statistics.
    let mut i = inputs("data", raw_dataset("id,y,x0,x1\nz,1,,100\n", 1));
    i.models.push(model);
    let c = ctx(dir.path(), "dt", GUEST, json!({}), i);
    let rows = instances(&DataTransform.run(&c).unwrap());
    assert_eq!(rows[0].1.features, vec![3.0, 100.0]);
    assert_eq!(rows[0].1.label, Some(1.0));
}

#[test]
fn tag_value_and_svmlight() {
    let dir = tempfile::tempdir().unwrap();
    let d = raw_dataset("id,h\na,b:2,a:1\nb,c:3.5\n", 2);
    let c = ctx(
        dir.path(),
        "dt",
        HOST,
        json!({"input_format": "tag", "tag_with_value": true}),
        inputs("data", d),
    );
    let out = DataTransform.run(&c).unwrap();
    assert_eq!(out.data[0].schema.header, vec!["a", "b", "c"]);
    let rows = instances(&out);
    assert_eq!(rows[0].1.features, vec![1.0, 2.0, 0.0]);
    assert_eq!(rows[1].1.features, vec![0.0, 0.0, 3.5]);
    let d = raw_dataset("id,h\na,1,0:0.5,3:2\nb,0,1:1\n", 1);
    let c = ctx(
        dir.path(),
        "dt",
        GUEST,
        json!({"input_format": "sparse", "with_label": true}),
        inputs("data", d),
    );
    let out = DataTransform.run(&c).unwrap();
    assert_eq!(out.data[0].schema.header, vec!["0", "1", "2", "3"]);
    let rows = instances(&out);
    assert_eq!(rows[0].1.features, vec![0.5, 0.0, 0.0, 2.0]);
    assert_eq!((rows[0].1.label, rows[1].1.label), (Some(1.0), Some(0.0)));
    let d = raw_dataset("id,h\na,1,0:x\n", 1);
    let c = ctx(
        dir.path(),
        "dt",
        GUEST,
        json!({"input_format": "sparse", "with_label": true}),
        inputs("data", d),
    );
    let e = DataTransform.run(&c).unwrap_err().to_string();
    assert!(
        e.contains("row 'a', column '0': 'x' is not a number"),
        "{e}"
    );
}

#[test]
fn data_type_str_codes_values_by_a_per_dataset_dictionary_and_one_hot_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let d = raw_dataset("id,y,x0,x1\na,1,B,7\nb,0,A,NA\nc,1,B,10\n", 2);
    let c = ctx(
        dir.path(),
        "dt",
        GUEST,
        json!({"with_label": true, "data_type": "str"}),
        inputs("data", d),
    );
    let out = DataTransform.run(&c).unwrap();
    let strs = crate::io::str_values(&out.data[0].schema);
    assert_eq!(strs["x0"], ["A", "B"]);
    assert_eq!(strs["x1"], ["10", "7"], "numbers are strings too under str");
    let rows = instances(&out);
    assert_eq!(rows[0].1.features, [1.0, 1.0]);
    assert_eq!(rows[1].1.features[0], 0.0);
    assert!(rows[1].1.features[1].is_nan(), "NA is missing");
    // OneHotEncoder encodes by the strings: FATE's `x0_A` headers.
    let c = ctx(
        dir.path(),
        "oh",
        GUEST,
        json!({"transform_col_names": ["x0"], "transform_col_indexes": []}),
        inputs("data", out.data[0].clone()),
    );
    let oh = crate::run(&crate::one_hot_encoder::OneHotEncoder, &c).unwrap();
    assert_eq!(oh.data[0].schema.header, ["x0_A", "x0_B", "x1"]);
    assert_eq!(
        crate::io::str_values(&oh.data[0].schema)
            .keys()
            .collect::<Vec<_>>(),
        ["x1"],
        "x1 is still a string column"
    );
    assert_eq!(instances(&oh)[0].1.features, [0.0, 1.0, 1.0]);
    // A numeric component refuses the string column x1, naming it.
    let c = ctx(
        dir.path(),
        "scale_0",
        GUEST,
        json!({}),
        inputs("data", oh.data[0].clone()),
    );
    let e = crate::run(&crate::feature_scale::FeatureScale, &c)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("scale_0 (FeatureScale): columns [\"x1\"] are strings"),
        "{e}"
    );
    // data_type int refuses a fraction; an unknown data_type fails at check.
    let d = raw_dataset("id,x0\na,1.5\n", 1);
    let c = ctx(
        dir.path(),
        "dt",
        HOST,
        json!({"data_type": "int"}),
        inputs("data", d),
    );
    let e = DataTransform.run(&c).unwrap_err().to_string();
    assert!(e.contains("'1.5' is not an integer (data_type int)"), "{e}");
    let e = DataTransform
        .check_params(
            "dt",
            fedflow_core::Role::Guest,
            &json!({"data_type": "complex"}),
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("dt.data_type"), "{e}");
    let e = DataTransform
        .check_params(
            "dt",
            fedflow_core::Role::Guest,
            &json!({"data_type": "str", "missing_fill": true}),
        )
        .unwrap_err()
        .to_string();
    assert!(e.contains("dt.missing_fill"), "{e}");
}
