use super::*;
use crate::testutil::*;
use crate::Inputs;
use std::collections::BTreeMap;

fn named(mut d: Dataset, name: &str) -> Dataset {
    d.schema
        .extra
        .insert("source_component".into(), name.into());
    d
}

fn instances(csv: &str, parts: usize) -> Dataset {
    let dir = tempfile::tempdir().unwrap();
    let c = ctx(
        dir.path(),
        "dt",
        GUEST,
        json!({"with_label": true}),
        inputs("data", raw_dataset(csv, parts)),
    );
    crate::data_transform::DataTransform
        .run(&c)
        .unwrap()
        .data
        .remove(0)
}

fn run(params: serde_json::Value, sets: Vec<Dataset>) -> Result<ComponentOutput, ComponentError> {
    let dir = tempfile::tempdir().unwrap();
    let mut i = Inputs::default();
    i.data.insert("data".into(), sets);
    crate::run(&Union, &ctx(dir.path(), "union_0", GUEST, params, i))
}

const A: &str = "id,y,x0\na,1,0.5\nb,0,1.5\nc,1,2.5\n";
const B: &str = "id,y,x0\nc,0,9\nd,1,3.5\n";

#[test]
fn instance_tables_unite_keeping_the_first_row_of_a_repeated_id() {
    let out = run(
        json!({}),
        vec![
            named(instances(A, 2), "dt_0"),
            named(instances(B, 3), "dt_1"),
        ],
    )
    .unwrap();
    let t: TypedTable<String, Instance> = TypedTable::from_raw(out.data[0].table.clone());
    let rows: BTreeMap<String, Instance> = t.collect().unwrap().into_iter().collect();
    assert_eq!(rows.keys().collect::<Vec<_>>(), vec!["a", "b", "c", "d"]);
    assert_eq!(rows["c"].features, vec![2.5]);
    assert_eq!(out.summary, json!({"dt_0": 3, "dt_1": 2, "Total": 4}));
    // keep_duplicate: every row, ids suffixed with their table's source.
    let out = run(
        json!({"keep_duplicate": true}),
        vec![
            named(instances(A, 2), "dt_0"),
            named(instances(B, 3), "dt_1"),
        ],
    )
    .unwrap();
    let t: TypedTable<String, Instance> = TypedTable::from_raw(out.data[0].table.clone());
    let rows: BTreeMap<String, Instance> = t.collect().unwrap().into_iter().collect();
    assert_eq!(rows.len(), 5);
    assert_eq!(rows["c_dt_1"].features, vec![9.0]);
    assert_eq!(rows["c_dt_0"].features, vec![2.5]);
}

#[test]
fn raw_tables_unite_and_mismatches_fail_naming_the_table() {
    let out = run(
        json!({}),
        vec![
            named(raw_dataset(A, 2), "reader_0"),
            named(raw_dataset(B, 1), "reader_1"),
        ],
    )
    .unwrap();
    let t: TypedTable<String, String> = TypedTable::from_raw(out.data[0].table.clone());
    let rows: BTreeMap<String, String> = t.collect().unwrap().into_iter().collect();
    assert_eq!(rows["c"], "1,2.5");
    assert_eq!(rows["d"], "1,3.5");
    let other = raw_dataset("id,y,x1\nz,1,2\n", 1);
    let e = run(
        json!({}),
        vec![
            named(raw_dataset(A, 2), "reader_0"),
            named(other, "reader_1"),
        ],
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("the header of reader_1") && e.contains("reader_0"),
        "{e}"
    );
    let e = run(
        json!({}),
        vec![
            named(raw_dataset(A, 2), "reader_0"),
            named(instances(B, 1), "dt_1"),
        ],
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("dt_1") && e.contains("one kind"), "{e}");
    let e = run(json!({}), vec![named(raw_dataset(A, 2), "reader_0")])
        .unwrap_err()
        .to_string();
    assert!(e.contains("two or more"), "{e}");
    let e = run(json!({"keep_duplicates": true}), vec![])
        .unwrap_err()
        .to_string();
    assert!(e.contains("union_0") && e.contains("unknown field"), "{e}");
}
