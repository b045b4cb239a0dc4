use super::*;
use crate::testutil::*;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

fn rows_of(d: &Dataset) -> BTreeMap<String, Instance> {
    let t: TypedTable<String, Instance> = TypedTable::from_raw(d.table.clone());
    t.collect().unwrap().into_iter().collect()
}

/// Guest input, host input, guest result, host result.
type Pair = (
    Dataset,
    Dataset,
    Result<ComponentOutput, ComponentError>,
    Result<ComponentOutput, ComponentError>,
);

/// Guest and host of breast (569 shared ids) through FederatedSample.
fn run_pair(params: serde_json::Value, host_data: Dataset) -> Pair {
    run_pair_with(params.clone(), params, host_data)
}

fn run_pair_with(
    params: serde_json::Value,
    host_params: serde_json::Value,
    host_data: Dataset,
) -> Pair {
    let dir = tempfile::tempdir().unwrap();
    let g = transformed("breast_hetero_guest.csv", true, GUEST);
    let c = vec![
        ctx(
            dir.path(),
            "fs",
            GUEST,
            params.clone(),
            inputs("data", g.clone()),
        ),
        ctx(
            dir.path(),
            "fs",
            HOST,
            host_params,
            inputs("data", host_data.clone()),
        ),
    ];
    let mut r = run_all(&FederatedSample, c);
    let h = r.pop().unwrap();
    let gr = r.pop().unwrap();
    (g, host_data, gr, h)
}

fn label_counts(rows: &BTreeMap<String, Instance>) -> BTreeMap<i64, usize> {
    let mut c = BTreeMap::new();
    for i in rows.values() {
        *c.entry(i.label.unwrap() as i64).or_default() += 1;
    }
    c
}

#[test]
fn stratified_upsample_counts_and_same_rows_on_both_sides() {
    let params = json!({"mode": "stratified", "method": "upsample",
        "fractions": [[0, 1.5], [1, 2.0]], "random_state": 7});
    let host = transformed("breast_hetero_host.csv", false, HOST);
    let (g_in, h_in, g, h) = run_pair(params, host);
    let (g, h) = (g.unwrap(), h.unwrap());
    let (gi, hi) = (rows_of(&g_in), rows_of(&h_in));
    let before = label_counts(&gi);
    let (go, ho) = (rows_of(&g.data[0]), rows_of(&h.data[0]));
    let after = label_counts(&go);
    // Exactly ⌊ratio · n_label⌋ per label, so the class ratio moves as asked.
    assert_eq!(after[&0], (1.5 * before[&0] as f64) as usize);
    assert_eq!(after[&1], 2 * before[&1]);
    assert_eq!(go.len(), after[&0] + after[&1]);
    // New ids 0..n on both sides.
    let want: BTreeSet<String> = (0..go.len()).map(|i| i.to_string()).collect();
    assert_eq!(go.keys().cloned().collect::<BTreeSet<_>>(), want);
    assert_eq!(ho.keys().cloned().collect::<BTreeSet<_>>(), want);
    // Row i copies the same original id on both sides: recompute the draw.
    let labels: Vec<(String, Option<f64>)> = gi.iter().map(|(k, v)| (k.clone(), v.label)).collect();
    let fr = Fractions::Stratified(vec![(0.0, 1.5), (1.0, 2.0)]);
    let (d, counts) = draw(labels, &fr, true, 7).unwrap();
    assert_eq!(
        counts,
        vec![(0.0, before[&0], after[&0]), (1.0, before[&1], after[&1])]
    );
    let Draw::Copy(ids) = d else {
        panic!("upsample gives copies")
    };
    for (i, orig) in ids.iter().enumerate() {
        assert_eq!(go[&i.to_string()], gi[orig]);
        assert_eq!(ho[&i.to_string()], hi[orig]);
    }
    assert_eq!(g.summary["sample_count"]["1"], json!(2 * before[&1]));
}

#[test]
fn random_downsample_keeps_ids_and_is_deterministic() {
    let params = json!({"fractions": 0.3, "random_state": 11});
    let host = transformed("breast_hetero_host.csv", false, HOST);
    let (g_in, h_in, g, h) = run_pair(params.clone(), host.clone());
    let (go, ho) = (rows_of(&g.unwrap().data[0]), rows_of(&h.unwrap().data[0]));
    assert_eq!(go.len(), (0.3 * 569.0) as usize);
    assert_eq!(go.keys().collect::<Vec<_>>(), ho.keys().collect::<Vec<_>>());
    let (gi, hi) = (rows_of(&g_in), rows_of(&h_in));
    for (k, v) in &ho {
        assert_eq!(&hi[k], v);
        assert_eq!(&gi[k], &go[k]);
    }
    // Same seed, same sample; another seed, another one.
    let (_, _, g2, _) = run_pair(params, host.clone());
    assert_eq!(
        rows_of(&g2.unwrap().data[0]).keys().collect::<Vec<_>>(),
        go.keys().collect::<Vec<_>>()
    );
    let (_, _, g3, _) = run_pair(json!({"fractions": 0.3, "random_state": 12}), host);
    assert_ne!(
        rows_of(&g3.unwrap().data[0]).keys().collect::<Vec<_>>(),
        go.keys().collect::<Vec<_>>()
    );
}

#[test]
fn stratified_downsample_ratios_within_bounds() {
    let rows: Vec<(String, Option<f64>)> = (0..1000)
        .map(|i| (format!("id{i}"), Some(if i % 4 == 0 { 1.0 } else { 0.0 })))
        .collect();
    let fr = Fractions::Stratified(vec![(0.0, 0.2), (1.0, 0.8)]);
    let (d, counts) = draw(rows.clone(), &fr, false, 3).unwrap();
    assert_eq!(counts, vec![(0.0, 750, 150), (1.0, 250, 200)]);
    let Draw::Keep(ids) = &d else { panic!() };
    let distinct: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), 350, "downsample draws without replacement");
    // Random upsample of 2.5x: ⌊2.5·1000⌋ draws, with repeats.
    let (d, _) = draw(rows, &Fractions::Random(2.5), true, 3).unwrap();
    let Draw::Copy(ids) = &d else { panic!() };
    assert_eq!(ids.len(), 2500);
    assert!(ids.iter().collect::<BTreeSet<_>>().len() < 1000);
}

#[test]
fn host_missing_a_sampled_id_fails() {
    let host = raw_dataset("id,x0\n133,1\n", 1);
    let dir = tempfile::tempdir().unwrap();
    let c = ctx(dir.path(), "dt", HOST, json!({}), inputs("data", host));
    let host = crate::data_transform::DataTransform
        .run(&c)
        .unwrap()
        .data
        .remove(0);
    let (_, _, g, h) = run_pair(json!({"fractions": 0.5, "random_state": 1}), host);
    assert!(g.is_ok());
    let e = h.unwrap_err().to_string();
    assert!(
        e.contains("of the 284 sampled ids are not among this party's rows"),
        "{e}"
    );
}

#[test]
fn bad_params_name_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let g = transformed("breast_hetero_guest.csv", true, GUEST);
    let err = |p: serde_json::Value| {
        let c = ctx(dir.path(), "fs", GUEST, p, inputs("data", g.clone()));
        FederatedSample.run(&c).unwrap_err().to_string()
    };
    let e = err(json!({"fractions": 1.5}));
    assert!(
        e.starts_with("parameter fs.fractions: 1.5: downsample ratios"),
        "{e}"
    );
    let e = err(json!({"mode": "stratified", "fractions": [[0, 0.5], [1, "x"]]}));
    assert!(e.starts_with("parameter fs.fractions[1][1]:"), "{e}");
    let e = err(json!({"mode": "exact", "fractions": 0.5}));
    assert!(e.starts_with("parameter fs.mode: 'exact'"), "{e}");
    let e = err(json!({"method": "up", "fractions": 0.5}));
    assert!(e.starts_with("parameter fs.method:"), "{e}");
    let e = err(json!({}));
    assert!(e.starts_with("parameter fs.fractions: required"), "{e}");
    let e = err(json!({"mode": "stratified", "fractions": [[0, 0.5]], "task_type": "homo"}));
    assert!(e.contains("label 1 has no ratio in fractions"), "{e}");
    // need_run false: the data passes through.
    let c = ctx(
        dir.path(),
        "fs",
        GUEST,
        json!({"need_run": false, "fractions": 0.1}),
        inputs("data", g.clone()),
    );
    assert_eq!(
        rows_of(&FederatedSample.run(&c).unwrap().data[0]).len(),
        569
    );
}

#[test]
fn hetero_host_needs_no_fractions_of_its_own() {
    let host = transformed("breast_hetero_host.csv", false, HOST);
    let params =
        json!({"mode": "stratified", "fractions": [[0, 0.5], [1, 0.25]], "random_state": 5});
    let (_, _, g, h) = run_pair_with(params, json!({}), host);
    let (g, h) = (g.unwrap(), h.unwrap());
    let (go, ho) = (rows_of(&g.data[0]), rows_of(&h.data[0]));
    assert_eq!(go.keys().collect::<Vec<_>>(), ho.keys().collect::<Vec<_>>());
    let c = label_counts(&go);
    assert_eq!(g.summary["sample_count"]["0"], json!(c[&0]));
    assert_eq!(
        c[&0],
        g.summary["original_count"]["0"].as_u64().unwrap() as usize / 2
    );
    assert_eq!(h.summary["sample_count"], json!(go.len()));
}
