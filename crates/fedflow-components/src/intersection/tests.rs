use super::*;
use crate::testutil::*;
use crate::{Inputs, Schema};
use fedflow_computing::parallelize;
use serde_json::json;
use std::collections::BTreeSet;

fn instances(ids: &[String]) -> Dataset {
    let rows: Vec<(String, Instance)> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            (
                id.clone(),
                Instance {
                    features: vec![i as f64],
                    label: Some((i % 2) as f64),
                    weight: 1.0,
                },
            )
        })
        .collect();
    let t = parallelize(session().as_ref(), rows, 3).unwrap();
    Dataset {
        table: t.raw().clone(),
        schema: Schema {
            sid: "id".into(),
            header: vec!["x0".into()],
            label_name: Some("y".into()),
            extra: Default::default(),
        },
    }
}

fn keys(out: &ComponentOutput) -> Vec<String> {
    let t: TypedTable<String, Instance> = TypedTable::from_raw(out.data[0].table.clone());
    let mut v: Vec<String> = t.collect().unwrap().into_iter().map(|(k, _)| k).collect();
    v.sort();
    v
}

fn run(
    params: serde_json::Value,
    guest: &[String],
    hosts: &[&[String]],
) -> (ComponentOutput, Vec<ComponentOutput>) {
    let dir = tempfile::tempdir().unwrap();
    let host_ids: Vec<u64> = (0..hosts.len() as u64).map(|i| 10000 + i).collect();
    let r = roster(&host_ids);
    let mut ctxs = vec![ctx_with(
        dir.path(),
        "intersection_0",
        GUEST,
        params.clone(),
        inputs("data", instances(guest)),
        r.clone(),
    )];
    for (i, h) in hosts.iter().enumerate() {
        ctxs.push(ctx_with(
            dir.path(),
            "intersection_0",
            fedflow_core::Party::new(Role::Host, host_ids[i]),
            params.clone(),
            inputs("data", instances(h)),
            r.clone(),
        ));
    }
    let mut outs: Vec<ComponentOutput> = run_all(&Intersection, ctxs)
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    let g = outs.remove(0);
    (g, outs)
}

fn ids(r: std::ops::Range<u32>) -> Vec<String> {
    r.map(|i| format!("id{i}")).collect()
}

fn breast_ids(file: &str, col: usize) -> Vec<String> {
    std::fs::read_to_string(data(file))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(col).unwrap().to_string())
        .collect()
}

#[test]
fn breast_guest_vs_host_subset_rsa_ecdh_dh() {
    let g = breast_ids("breast_hetero_guest.csv", 0);
    let h = breast_ids("breast_hetero_host_sample_id.csv", 1);
    assert_eq!((g.len(), h.len()), (569, 299));
    let truth: Vec<String> = {
        let gs: BTreeSet<&String> = g.iter().collect();
        let mut v: Vec<String> = h.iter().filter(|x| gs.contains(x)).cloned().collect();
        v.sort();
        v.dedup();
        v
    };
    assert_eq!(truth.len(), 299);
    for params in [
        json!({"intersect_method": "rsa", "rsa_params": {"key_length": 1024}}),
        json!({"intersect_method": "ecdh", "ecdh_params": {"salt": "12345"}}),
        json!({"intersect_method": "dh", "dh_params": {"salt": "12345", "key_length": 1024}}),
    ] {
        let (go, hos) = run(params, &g, &[&h]);
        assert_eq!(keys(&go), truth);
        assert_eq!(keys(&hos[0]), truth);
        assert_eq!(go.summary["intersect_num"], 299);
        let rate = go.summary["intersect_rate"].as_f64().unwrap();
        assert!((rate - 299.0 / 569.0).abs() < 1e-12);
        // The rows are the parties' own instances, unchanged.
        let t: TypedTable<String, Instance> = TypedTable::from_raw(go.data[0].table.clone());
        for (k, inst) in t.collect().unwrap() {
            let i = g.iter().position(|x| *x == k).unwrap();
            assert_eq!(inst.features, vec![i as f64]);
        }
    }
}

#[test]
fn duplicates_empty_sides_and_no_sync() {
    let mut g = ids(0..50);
    g.extend(ids(10..20)); // repeated ids
    let h = ids(40..100);
    for method in ["rsa", "ecdh", "dh"] {
        let (go, hos) = run(
            json!({"intersect_method": method, "rsa_params": {"key_length": 512}, "dh_params": {"key_length": 512}}),
            &g,
            &[&h],
        );
        let mut want = ids(40..50);
        want.sort();
        assert_eq!(keys(&go), want);
        assert_eq!(keys(&hos[0]), want);
        // An empty side: empty intersection, no error.
        let (go, hos) = run(json!({"intersect_method": method}), &[], &[&h]);
        assert!(keys(&go).is_empty() && keys(&hos[0]).is_empty());
        let (go, hos) = run(json!({"intersect_method": method}), &g, &[&[]]);
        assert!(keys(&go).is_empty() && keys(&hos[0]).is_empty());
        // Without sync the host learns nothing.
        let (go, hos) = run(
            json!({"intersect_method": method, "sync_intersect_ids": false, "only_output_key": true}),
            &g,
            &[&h],
        );
        assert_eq!(keys(&go), want);
        assert!(keys(&hos[0]).is_empty());
        assert_eq!(hos[0].summary, json!({"sync_intersect_ids": false}));
        // Cardinality only: a count, no data.
        let (go, hos) = run(
            json!({"cardinality_only": true, "cardinality_method": method, "sync_cardinality": true}),
            &g,
            &[&h],
        );
        assert!(go.data.is_empty() && hos[0].data.is_empty());
        assert_eq!(go.summary["intersect_num"], 10);
        assert_eq!(hos[0].summary["intersect_num"], 10);
    }
}

#[test]
fn two_hosts_intersect_over_both() {
    let g = ids(0..100);
    let h1 = ids(20..80);
    let h2 = ids(50..150);
    let (go, hos) = run(json!({"intersect_method": "ecdh"}), &g, &[&h1, &h2]);
    let mut want = ids(50..80);
    want.sort();
    assert_eq!(keys(&go), want);
    assert_eq!(keys(&hos[0]), want);
    assert_eq!(keys(&hos[1]), want);
}

#[test]
fn unsupported_methods_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let c = ctx(
        dir.path(),
        "intersect_0",
        GUEST,
        json!({"intersect_method": "raw"}),
        Inputs::default(),
    );
    let e = Intersection.run(&c).unwrap_err().to_string();
    assert!(
        e.contains("intersect_0.intersect_method: 'raw' is not implemented"),
        "{e}"
    );
}
