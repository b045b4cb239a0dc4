use super::*;
use crate::hetero_lr::harness::{self, Frame};
use fedflow_computing::TypedTable;

fn make() -> Box<dyn Component> {
    Box::new(HomoOneHotEncoder)
}

fn frame(rows: &[[f64; 3]]) -> Frame {
    Frame {
        ids: (0..rows.len()).map(|i| i.to_string()).collect(),
        header: vec!["a".into(), "b".into(), "c".into()],
        x: rows.iter().map(|r| r.to_vec()).collect(),
        y: Some(vec![1.0; rows.len()]),
    }
}

fn encoded(out: &ComponentOutput) -> (Vec<String>, Vec<Vec<f64>>) {
    let d = &out.data[0];
    let t: TypedTable<String, crate::Instance> = TypedTable::from_raw(d.table.clone());
    let mut rows = t.collect().unwrap();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    (
        d.schema.header.clone(),
        rows.into_iter().map(|r| r.1.features).collect(),
    )
}

#[test]
fn every_party_encodes_with_the_united_values() {
    let g = frame(&[[0.0, 1.0, 0.5], [2.0, 1.0, 0.5]]);
    let h = frame(&[[1.0, 3.0, 0.5], [0.0, 1.0, 0.5]]);
    let run = harness::run_job(
        make,
        serde_json::json!({"transform_col_indexes": [0, 1]}),
        &[g, h],
        true,
        "train",
        None,
    );
    let (gh, grows) = encoded(&run.guest);
    let (hh, hrows) = encoded(&run.hosts[0]);
    assert_eq!(gh, ["a_0", "a_1", "a_2", "b_1", "b_3", "c"]);
    assert_eq!(gh, hh, "both parties' headers");
    assert_eq!(grows[1], [0.0, 0.0, 1.0, 1.0, 0.0, 0.5]);
    assert_eq!(hrows[0], [0.0, 1.0, 0.0, 0.0, 1.0, 0.5]);
    // Without alignment each party keeps its own values.
    let g = frame(&[[0.0, 1.0, 0.5]]);
    let h = frame(&[[1.0, 1.0, 0.5]]);
    let run = harness::run_job(
        make,
        serde_json::json!({"transform_col_indexes": [0], "need_alignment": false}),
        &[g, h],
        true,
        "train",
        None,
    );
    assert_eq!(encoded(&run.guest).0, ["a_0", "b", "c"]);
    assert_eq!(encoded(&run.hosts[0]).0, ["a_1", "b", "c"]);
    assert!(run.wire.is_empty());
}

#[test]
fn a_clients_error_or_other_columns_fail_every_party_naming_it() {
    let clients = [
        fedflow_core::Party::new(Role::Guest, 9999),
        fedflow_core::Party::new(Role::Host, 10000),
    ];
    // The arbiter's union, given a client's error, fails with it.
    let e = arbiter::unite(
        &clients,
        vec![
            Ok(Default::default()),
            Err("column a row 0: 0.5 is not an integer".into()),
        ],
    )
    .unwrap_err();
    assert!(e.starts_with("host:10000: column a"), "{e}");
    let mut a = ColumnValues::new();
    a.insert("a".into(), vec!["0".to_string()]);
    let mut b = ColumnValues::new();
    b.insert("b".into(), vec!["0".to_string()]);
    let e = arbiter::unite(&clients, vec![Ok(a), Ok(b)]).unwrap_err();
    assert!(e.contains("every party needs the same"), "{e}");
}

#[test]
fn string_values_unite_as_text_and_numbers_numerically() {
    let clients = [
        fedflow_core::Party::new(Role::Guest, 9999),
        fedflow_core::Party::new(Role::Host, 10000),
    ];
    let col = |v: &[&str]| -> ColumnValues {
        let mut m = ColumnValues::new();
        m.insert("x0".into(), v.iter().map(|s| s.to_string()).collect());
        m
    };
    let u = arbiter::unite(&clients, vec![Ok(col(&["A", "B"])), Ok(col(&["A", "C"]))]).unwrap();
    assert_eq!(u["x0"], ["A", "B", "C"]);
    let u = arbiter::unite(&clients, vec![Ok(col(&["2", "10"])), Ok(col(&["-1", "2"]))]).unwrap();
    assert_eq!(u["x0"], ["-1", "2", "10"]);
}
