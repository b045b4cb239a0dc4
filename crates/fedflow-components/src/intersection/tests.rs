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

/// ECDH with two hosts on ids with repeats, ids on one side only and ids
/// missing from one host: each party's output is exactly its rows whose id
/// is in the plain set intersection of all three, and no id crosses the wire.
#[test]
fn ecdh_two_hosts_equals_plain_set_intersection_and_no_id_on_the_wire() {
    use crate::hetero_lr::harness::{run_job, Frame};
    let frame = |ids: Vec<String>| Frame {
        x: (0..ids.len()).map(|i| vec![i as f64]).collect(),
        y: Some((0..ids.len()).map(|i| (i % 2) as f64).collect()),
        header: vec!["x0".into()],
        ids,
    };
    let name = |i: u32| format!("user-{i:06}");
    // guest: 0..3000 plus repeats of 100..400; host 1: 1000..5000 every
    // second id, repeats of 2000..2100; host 2: 0..2500 every third and 7000..8000.
    let mut g: Vec<String> = (0..3000).map(name).collect();
    g.extend((100..400).map(name));
    let mut h1: Vec<String> = (1000..5000).step_by(2).map(name).collect();
    h1.extend((2000..2100).step_by(2).map(name));
    let mut h2: Vec<String> = (0..2500).step_by(3).map(name).collect();
    h2.extend((7000..8000).map(name));
    let sets: Vec<BTreeSet<&String>> = [&g, &h1, &h2].iter().map(|v| v.iter().collect()).collect();
    let truth: BTreeSet<String> = sets[0]
        .iter()
        .filter(|id| sets[1].contains(*id) && sets[2].contains(*id))
        .map(|s| s.to_string())
        .collect();
    assert_eq!(truth.len(), (1000..2500).filter(|i| i % 6 == 0).count());
    let frames = [frame(g.clone()), frame(h1.clone()), frame(h2.clone())];
    let run = run_job(
        || Box::new(Intersection),
        json!({"intersect_method": "ecdh", "ecdh_params": {"salt": "s1"}}),
        &frames,
        false,
        "train",
        None,
    );
    // Each party's rows (as its input table holds them) whose id is in the truth.
    for (out, ids) in std::iter::once(&run.guest)
        .chain(&run.hosts)
        .zip([&g, &h1, &h2])
    {
        let input = parallelize(
            session().as_ref(),
            ids.iter().map(|k| (k.clone(), 0u8)).collect(),
            4,
        )
        .unwrap();
        let mut want: Vec<String> = input
            .collect()
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .filter(|k| truth.contains(k))
            .collect();
        want.sort();
        assert_eq!(keys(out), want);
        assert_eq!(out.summary["intersect_num"], want.len());
        let n = input.count().unwrap() as f64;
        let rate = out.summary["intersect_rate"].as_f64().unwrap();
        assert!((rate - want.len() as f64 / n).abs() < 1e-12);
    }
    // The wire: the protocol's variables, and not one id in plaintext.
    let names: BTreeSet<&str> = run.wire.iter().map(|s| s.name.as_str()).collect();
    for v in [
        "guest_ecdh_ids",
        "host_ecdh_ids",
        "guest_double_ids",
        "intersect_ids",
        "intersect_tags",
    ] {
        assert!(names.contains(v), "{v} not sent: {names:?}");
    }
    let sent: usize = run.wire.iter().map(|s| s.bytes.len()).sum();
    assert!(
        sent > 32 * (3000 + 2000 + 1167),
        "tags were sent ({sent} bytes)"
    );
    // Every id is 11 bytes ("user-" + 6 digits).
    let all: BTreeSet<&[u8]> = g
        .iter()
        .chain(&h1)
        .chain(&h2)
        .map(|s| s.as_bytes())
        .collect();
    for s in &run.wire {
        assert!(
            !s.bytes.windows(5).any(|w| w == b"user-")
                && !s.bytes.windows(11).any(|w| all.contains(w)),
            "{} from {:?} carries an id",
            s.name,
            s.src
        );
    }
}
