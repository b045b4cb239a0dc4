use super::*;
use crate::testutil::*;
use std::collections::BTreeSet;

fn ids_of(d: &Dataset) -> BTreeSet<String> {
    let t: TypedTable<String, Instance> = TypedTable::from_raw(d.table.clone());
    t.collect().unwrap().into_iter().map(|(k, _)| k).collect()
}

fn labels_of(d: &Dataset) -> Vec<f64> {
    let t: TypedTable<String, Instance> = TypedTable::from_raw(d.table.clone());
    t.collect()
        .unwrap()
        .into_iter()
        .map(|(_, v)| v.label.unwrap())
        .collect()
}

fn homo(params: Value, d: Dataset) -> Result<ComponentOutput, ComponentError> {
    let dir = tempfile::tempdir().unwrap();
    crate::run(
        &HomoDataSplit,
        &ctx(dir.path(), "split", GUEST, params, inputs("data", d)),
    )
}

#[test]
fn sizes_complete_as_fate_and_bad_ones_fail_naming_the_field() {
    let p = |v: Value| -> DataSplitParam { serde_json::from_value(v).unwrap() };
    assert_eq!(sizes("s", &p(json!({})), 569).unwrap(), [0.8, 0.2, 0.0]);
    assert_eq!(
        sizes("s", &p(json!({"test_size": 0.3})), 569).unwrap(),
        [0.7, 0.0, 0.3]
    );
    let s = sizes(
        "s",
        &p(json!({"test_size": 0.3, "validate_size": 0.2})),
        569,
    )
    .unwrap();
    assert!((s[0] - 0.5).abs() < 1e-12);
    assert_eq!(
        sizes("s", &p(json!({"train_size": 400, "test_size": 100})), 569).unwrap(),
        [400.0, 69.0, 100.0]
    );
    let e = sizes(
        "s",
        &p(json!({"train_size": 0.8, "validate_size": 0.3, "test_size": 0.1})),
        569,
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("s.train_size") && e.contains("sum to 1.0"),
        "{e}"
    );
    let e = sizes("s", &p(json!({"train_size": 1.5})), 569)
        .unwrap_err()
        .to_string();
    assert!(e.contains("s.train_size") && e.contains("at most 1"), "{e}");
    let d = transformed("breast_homo_guest.csv", true, GUEST);
    let e = homo(json!({"stratified": true, "shuffle": false}), d.clone())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("split.stratified") && e.contains("shuffle"),
        "{e}"
    );
    let e = homo(json!({"validate_sise": 0.2}), d)
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown field"), "{e}");
}

#[test]
fn a_stratified_split_keeps_class_shares_and_a_seed_repeats_it() {
    let d = transformed("breast_homo_guest.csv", true, GUEST);
    let all = labels_of(&d);
    let n = all.len();
    let pos = all.iter().filter(|&&y| y == 1.0).count();
    let p = json!({"validate_size": 0.2, "test_size": 0.1, "stratified": true, "random_state": 7});
    let out = homo(p.clone(), d.clone()).unwrap();
    let parts: Vec<BTreeSet<String>> = out.data.iter().map(ids_of).collect();
    // Disjoint, covering every row; sizes as train_test_split's.
    assert_eq!(parts.iter().map(BTreeSet::len).sum::<usize>(), n);
    assert!(
        parts[0].is_disjoint(&parts[1])
            && parts[1].is_disjoint(&parts[2])
            && parts[0].is_disjoint(&parts[2])
    );
    let n_train = (0.7 * n as f64).round() as usize;
    assert_eq!(parts[0].len(), n_train);
    let rest = n - n_train;
    assert_eq!(parts[1].len(), ((2.0 / 3.0) * rest as f64).round() as usize);
    // Each part's positive share is the data's, to within one row.
    for (part, d) in parts.iter().zip(&out.data) {
        let p1 = labels_of(d).iter().filter(|&&y| y == 1.0).count() as f64;
        let expect = pos as f64 * part.len() as f64 / n as f64;
        assert!((p1 - expect).abs() <= 1.0, "{p1} vs {expect}");
    }
    assert_eq!(
        out.summary["data_split_label_info"]["original"]["1"],
        json!(pos)
    );
    assert_eq!(out.summary["random_state"], json!(7));
    // The same seed on the rows in other partitions: the same split.
    let again = homo(p, transformed("breast_homo_guest.csv", true, GUEST)).unwrap();
    assert_eq!(again.data.iter().map(ids_of).collect::<Vec<_>>(), parts);
    // need_run false: everything is train data.
    let out = homo(json!({"need_run": false}), d.clone()).unwrap();
    assert_eq!(ids_of(&out.data[0]).len(), n);
    assert!(ids_of(&out.data[1]).is_empty() && ids_of(&out.data[2]).is_empty());
}

#[test]
fn hetero_hosts_get_the_guests_split_and_a_host_missing_ids_fails_naming_itself() {
    let dir = tempfile::tempdir().unwrap();
    let p = json!({"test_size": 0.3, "stratified": true, "split_points": [0.0, 0.2], "random_state": 3});
    // motor's label is motor_speed, a float.
    let c = ctx(
        dir.path(),
        "dt",
        GUEST,
        json!({"with_label": true, "label_name": "motor_speed", "label_type": "float"}),
        inputs("data", raw_file("motor_hetero_guest.csv")),
    );
    let g = crate::data_transform::DataTransform
        .run(&c)
        .unwrap()
        .data
        .remove(0);
    let h = transformed("motor_hetero_host.csv", false, HOST);
    let outs = run_all(
        &HeteroDataSplit,
        vec![
            ctx(
                dir.path(),
                "split",
                GUEST,
                p.clone(),
                inputs("data", g.clone()),
            ),
            ctx(
                dir.path(),
                "split",
                HOST,
                p.clone(),
                inputs("data", h.clone()),
            ),
        ],
    );
    let (go, ho) = (outs[0].as_ref().unwrap(), outs[1].as_ref().unwrap());
    for k in 0..3 {
        assert_eq!(ids_of(&go.data[k]), ids_of(&ho.data[k]));
    }
    assert_eq!(go.summary["data_split_count_info"]["validate"], json!(0));
    let info = &go.summary["data_split_label_info"];
    assert_eq!(info["continuous_label"], json!(true));
    // Three bins, each split 70/30 within a row.
    for bin in ["0", "1", "2"] {
        let (all, tr) = (
            info["original"][bin].as_u64().unwrap() as f64,
            info["train"][bin].as_u64().unwrap() as f64,
        );
        assert!((tr - 0.7 * all).abs() <= 1.0, "bin {bin}: {tr} of {all}");
    }
    // A host without some of the guest's ids.
    let dir = tempfile::tempdir().unwrap();
    let few = raw_dataset("id,x0\n0,1\n1,2\n", 1);
    let c = ctx(dir.path(), "dt", HOST, json!({}), inputs("data", few));
    let few = crate::data_transform::DataTransform
        .run(&c)
        .unwrap()
        .data
        .remove(0);
    let outs = run_all(
        &HeteroDataSplit,
        vec![
            ctx(dir.path(), "split", GUEST, p.clone(), inputs("data", g)),
            ctx(dir.path(), "split", HOST, p, inputs("data", few)),
        ],
    );
    let e = outs[1].as_ref().unwrap_err().to_string();
    assert!(
        e.contains("host 10000") && e.contains("run Intersection"),
        "{e}"
    );
}
