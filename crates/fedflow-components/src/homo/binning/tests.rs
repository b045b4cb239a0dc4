//! HomoFeatureBinning against a plain replay of FATE's two methods on the
//! pooled rows (written out with loops over the raw values), a wire audit,
//! predict without federation, and the errors.

use super::*;
use crate::hetero_feature_binning::{bin_of, BinningModelParam};
use crate::hetero_lr::harness::{self, read_csv, Frame};
use crate::Instance;
use fedflow_computing::TypedTable;

fn make() -> Box<dyn Component> {
    Box::new(HomoFeatureBinning)
}

fn breast() -> Vec<Frame> {
    vec![
        read_csv("breast_homo_guest.csv", Some("y")),
        read_csv("breast_homo_host.csv", Some("y")),
    ]
}

fn splits(out: &ComponentOutput) -> Vec<(String, Vec<f64>)> {
    let m: BinningModelParam =
        serde_json::from_value(out.model.as_ref().unwrap().param.clone()).unwrap();
    let mut v: Vec<(String, Vec<f64>)> = m
        .binning_result
        .into_iter()
        .map(|(k, r)| (k, r.split_points))
        .collect();
    v.sort_by_key(|(k, _)| k[1..].parse::<usize>().unwrap_or(0));
    v
}

fn rows(out: &ComponentOutput) -> Vec<(String, Vec<f64>)> {
    let t: TypedTable<String, Instance> = TypedTable::from_raw(out.data[0].table.clone());
    let mut r: Vec<(String, Vec<f64>)> = t
        .collect()
        .unwrap()
        .into_iter()
        .map(|(k, i)| (k, i.features))
        .collect();
    r.sort_by(|a, b| a.0.cmp(&b.0));
    r
}

/// Column `j` of every party's rows, pooled.
fn pooled(frames: &[Frame], j: usize) -> Vec<f64> {
    frames
        .iter()
        .flat_map(|f| f.x.iter().map(move |r| r[j]))
        .filter(|x| !x.is_nan())
        .collect()
}

fn rank_of(values: &[f64], q: f64) -> u64 {
    values.iter().filter(|&&x| x <= q).count() as u64
}

fn lin(a: f64, b: f64, n: usize) -> Vec<f64> {
    let step = (b - a) / (n - 1) as f64;
    let mut v: Vec<f64> = (0..n).map(|i| a + step * i as f64).collect();
    v[n - 1] = b;
    v
}

/// FATE's virtual summary on the pooled values of one column.
fn replay_virtual(values: &[f64], sample_bins: usize, bin_num: usize) -> Vec<f64> {
    let lo = values.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = values.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let q = lin(lo, hi, sample_bins);
    let g: Vec<f64> = q.iter().map(|&x| rank_of(values, x) as f64).collect();
    let n = values.len() as f64;
    let mut out = Vec::new();
    for i in 1..=bin_num {
        let rate = if i == bin_num {
            1.0
        } else {
            i as f64 * (1.0 / bin_num as f64)
        };
        let r = (rate * n).trunc();
        // bisect_left
        let mut idx = 0;
        while idx < g.len() && g[idx] < r {
            idx += 1;
        }
        let v = if idx >= g.len() - 1 {
            q[q.len() - 1]
        } else if (q[idx + 1] - q[idx]).abs() < 1e-8 || (g[idx + 1] - g[idx]).abs() < 1e-8 {
            q[idx]
        } else {
            q[idx] + (q[idx + 1] - q[idx]) * ((r - g[idx]) / (g[idx + 1] - g[idx]))
        };
        out.push(v);
    }
    out.sort_by(f64::total_cmp);
    out.dedup();
    out
}

/// FATE's recursive query (bisection towards each aim rank) on the pooled
/// values of one column.
fn replay_recursive(values: &[f64], bin_num: usize, error: f64, max_iter: usize) -> Vec<f64> {
    let lo = values.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = values.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let n = values.len() as f64;
    let allowed = (error * n).ceil();
    let start = lin(lo, hi, bin_num + 1);
    let aims = lin(0.0, 1.0, bin_num + 1);
    // (value, min, max, aim, fixed)
    let mut pts: Vec<(f64, f64, f64, f64, bool)> = (1..=bin_num)
        .map(|i| (start[i], lo, hi, (aims[i] * n).floor(), false))
        .collect();
    let mut ranks: Vec<f64> = pts.iter().map(|p| rank_of(values, p.0) as f64).collect();
    for _ in 0..max_iter {
        for (p, &r) in pts.iter_mut().zip(&ranks) {
            if p.4 {
                continue;
            }
            if r - p.3 > allowed {
                let v = (p.0 + p.1) / 2.0;
                if (v - p.0).abs() <= 0.9e-8 {
                    p.0 += 0.9e-8;
                    p.4 = true;
                } else {
                    *p = (v, p.1, p.0, p.3, false);
                }
            } else if p.3 - r > allowed {
                let v = (p.0 + p.2) / 2.0;
                if (v - p.0).abs() <= 0.9e-8 {
                    p.0 += 0.9e-8;
                    p.4 = true;
                } else {
                    *p = (v, p.0, p.2, p.3, false);
                }
            } else {
                p.4 = true;
            }
        }
        if pts.iter().all(|p| p.4) {
            break;
        }
        ranks = pts.iter().map(|p| rank_of(values, p.0) as f64).collect();
    }
    let mut sp: Vec<f64> = pts.iter().map(|p| p.0).collect();
    sp.sort_by(f64::total_cmp);
    sp.dedup();
    let mut out = vec![if sp[0].abs() > 1e-8 { sp[0] } else { 0.0 }];
    let mut last = sp[0];
    for &v in &sp[1..] {
        let v = if v.abs() < 1e-8 { 0.0 } else { v };
        if (v - last).abs() > 1e-8 {
            out.push(v);
        }
        last = v;
    }
    out
}

#[test]
fn virtual_summary_equals_the_replay_on_the_pooled_rows_for_every_party() {
    let frames = breast();
    let v = serde_json::json!({"sample_bins": 1000});
    let run = harness::run_job(make, v, &frames, true, "train", None);
    let got = splits(&run.guest);
    assert_eq!(got.len(), frames[0].header.len());
    assert_eq!(
        got,
        splits(&run.hosts[0]),
        "every party has the same split points"
    );
    for (j, (name, sp)) in got.iter().enumerate() {
        assert_eq!(name, &frames[0].header[j]);
        let want = replay_virtual(&pooled(&frames, j), 1000, 10);
        assert_eq!(sp, &want, "{name}");
        assert!(sp.len() >= 5, "{name}: {sp:?}");
    }
    // The interpolated quantiles are close to the pooled exact ones.
    let col = pooled(&frames, 0);
    let mut sorted = col.clone();
    sorted.sort_by(f64::total_cmp);
    let spacing = (sorted[sorted.len() - 1] - sorted[0]) / 999.0;
    for (i, s) in got[0].1.iter().enumerate().take(9) {
        let exact = sorted[((i + 1) * sorted.len() / 10).saturating_sub(1)];
        assert!(
            (s - exact).abs() < 20.0 * spacing,
            "bin {i}: {s} vs {exact}"
        );
    }
    let arb = run.arbiter.as_ref().unwrap();
    assert_eq!(arb.summary["query_rounds"], 1);
}

#[test]
fn recursive_query_equals_the_replay_and_three_clients_agree() {
    let mut frames = breast();
    // A second host: the host's rows shifted, so the pooled quantiles move.
    let mut h2 = frames[1].clone();
    for r in h2.x.iter_mut() {
        for x in r.iter_mut() {
            *x += 0.5;
        }
    }
    h2.ids = h2.ids.iter().map(|i| format!("h2_{i}")).collect();
    frames.push(h2);
    let v = serde_json::json!({"method": "Recursive_Query", "bin_num": 8, "error": 0.001});
    let run = harness::run_job(make, v, &frames, true, "train", None);
    let got = splits(&run.guest);
    for h in &run.hosts {
        assert_eq!(splits(h), got);
    }
    for (j, (name, sp)) in got.iter().enumerate() {
        let want = replay_recursive(&pooled(&frames, j), 8, 0.001, 100);
        assert_eq!(sp, &want, "{name}");
        // Every split point's pooled rank is within the allowed error of its aim
        // (or the bisection could not move it further).
        let vals = pooled(&frames, j);
        let allowed = (0.001 * vals.len() as f64).ceil();
        let within = sp
            .iter()
            .enumerate()
            .filter(|(i, &s)| {
                let aim = ((*i + 1) as f64 / 8.0 * vals.len() as f64).floor();
                (rank_of(&vals, s) as f64 - aim).abs() <= allowed
            })
            .count();
        assert!(within + 2 >= sp.len(), "{name}: {within} of {}", sp.len());
    }
    let rounds = run.arbiter.as_ref().unwrap().summary["query_rounds"]
        .as_u64()
        .unwrap();
    assert!(rounds > 1 && rounds <= 101, "{rounds}");
}

#[test]
fn output_is_bin_indexes_and_a_predict_job_needs_no_federation() {
    let frames = breast();
    let v = serde_json::json!({"bin_indexes": [0, 2], "bin_num": 4});
    let run = harness::run_job(make, v.clone(), &frames, true, "train", None);
    let sp = splits(&run.guest);
    assert_eq!(
        sp.iter().map(|s| s.0.as_str()).collect::<Vec<_>>(),
        ["x0", "x2"]
    );
    for (f, out) in frames.iter().zip([&run.guest, &run.hosts[0]]) {
        let mut by_id: Vec<(String, Vec<f64>)> = f.ids.iter().cloned().zip(f.x.clone()).collect();
        by_id.sort_by(|a, b| a.0.cmp(&b.0));
        for ((id, raw), (id2, got)) in by_id.iter().zip(rows(out)) {
            assert_eq!(id, &id2);
            assert_eq!(got[0], bin_of(&sp[0].1, raw[0]).unwrap() as f64);
            assert_eq!(got[1], raw[1], "an unbinned column is kept");
            assert_eq!(got[2], bin_of(&sp[1].1, raw[2]).unwrap() as f64);
        }
    }
    let models = (
        run.guest.model.clone().unwrap(),
        vec![run.hosts[0].model.clone().unwrap()],
    );
    let pred = harness::run_job(make, v, &frames, true, "predict", Some(models));
    assert!(pred.wire.is_empty(), "{} messages", pred.wire.len());
    assert_eq!(rows(&pred.guest), rows(&run.guest));
    assert_eq!(rows(&pred.hosts[0]), rows(&run.hosts[0]));
}

#[test]
fn the_arbiter_sees_only_masked_ranks() {
    let frames = breast();
    let v = serde_json::json!({"method": "recursive_query"});
    let run = harness::run_job(make, v, &frames, true, "train", None);
    // A client's own rank of its first query point on column 0, encoded as
    // the aggregator would send it in clear.
    for (f, role) in frames.iter().zip([Role::Guest, Role::Host]) {
        let rows = f.x.len() as f64;
        let enc = fedflow_crypto::secagg::encode(rows).unwrap().to_le_bytes();
        for s in run.wire.iter().filter(|s| s.src.role == role) {
            assert!(
                s.dst.iter().all(|d| d.role == Role::Arbiter),
                "clients talk to the arbiter only"
            );
            if s.name == "secagg_masked" {
                assert!(
                    !s.bytes.windows(16).any(|w| w == enc),
                    "{role}'s row count went unmasked"
                );
            }
        }
    }
    let masked = run
        .wire
        .iter()
        .filter(|s| s.name == "secagg_masked")
        .count();
    let rounds = run.arbiter.as_ref().unwrap().summary["query_rounds"]
        .as_u64()
        .unwrap() as usize;
    assert_eq!(
        masked,
        2 * (1 + rounds),
        "counts + every query round, per client"
    );
}

#[test]
fn need_run_false_passes_the_data_through() {
    let frames = breast();
    let run = harness::run_job(
        make,
        serde_json::json!({"need_run": false}),
        &frames,
        true,
        "train",
        None,
    );
    assert!(run.guest.model.is_none());
    assert!(run.wire.is_empty());
    assert_eq!(rows(&run.guest).len(), frames[0].x.len());
}

#[test]
fn clients_binning_other_columns_fail_naming_the_client() {
    let clients = [
        fedflow_core::Party::new(Role::Guest, 9999),
        fedflow_core::Party::new(Role::Host, 10000),
    ];
    let e = arbiter::unite(
        &clients,
        vec![
            Ok((vec!["a".into()], vec![Some((0.0, 1.0))])),
            Ok((vec!["b".into()], vec![Some((0.0, 1.0))])),
        ],
    )
    .unwrap_err();
    assert!(e.starts_with("host:10000 bins columns [\"b\"]"), "{e}");
    let e = arbiter::unite(
        &clients,
        vec![
            Ok((vec!["a".into()], vec![Some((0.0, 1.0))])),
            Err("host:10000: model_0.bin_indexes: 7: expected a column index below 3".into()),
        ],
    )
    .unwrap_err();
    assert!(e.starts_with("host:10000: model_0.bin_indexes"), "{e}");
    let (_, r) = arbiter::unite(
        &clients,
        vec![
            Ok((vec!["a".into()], vec![Some((0.0, 1.0))])),
            Ok((vec!["a".into()], vec![Some((-2.0, 0.5))])),
        ],
    )
    .unwrap();
    assert_eq!(r, vec![Some((-2.0, 1.0))]);
}

#[test]
fn options_it_cannot_honour_fail_naming_the_parameter() {
    let check = |v: serde_json::Value| {
        HomoFeatureBinning
            .check_params("homo_binning_0", Role::Guest, &v)
            .unwrap_err()
            .to_string()
    };
    for (v, path) in [
        (
            serde_json::json!({"method": "quantile"}),
            "homo_binning_0.method",
        ),
        (
            serde_json::json!({"max_iter": 101}),
            "homo_binning_0.max_iter",
        ),
        (serde_json::json!({"bin_num": 1}), "homo_binning_0.bin_num"),
        (
            serde_json::json!({"category_indexes": [1]}),
            "homo_binning_0.category_indexes",
        ),
        (
            serde_json::json!({"transform_param": {"transform_type": "woe"}}),
            "homo_binning_0.transform_param.transform_type",
        ),
        (
            serde_json::json!({"local_only": true}),
            "homo_binning_0.local_only",
        ),
        (serde_json::json!({"encrypt_param": {}}), "homo_binning_0"),
    ] {
        let e = check(v.clone());
        assert!(e.contains(path), "{v}: {e}");
    }
    assert!(HomoFeatureBinning
        .check_params(
            "b",
            Role::Host,
            &serde_json::json!({"method": "VIRTUAL_SUMMARY", "sample_bins": 1000,
                "compress_thres": 10000, "head_size": 10000, "skip_static": true})
        )
        .is_ok());
}

#[test]
fn helpers_match_numpy_and_fates_rules() {
    assert_eq!(linspace(0.0, 1.0, 5), vec![0.0, 0.25, 0.5, 0.75, 1.0]);
    assert_eq!(linspace(2.0, 2.0, 3), vec![2.0, 2.0, 2.0]);
    assert_eq!(linspace(3.0, 4.0, 1), vec![3.0]);
    // 0-ish values become 0, near-duplicates are dropped.
    let pts: Vec<QueryPoint> = [3e-9, 1.0, 1.0 + 5e-9, 2.0]
        .iter()
        .map(|&value| QueryPoint {
            value,
            min: 0.0,
            max: 2.0,
            aim: 0.0,
            fixed: true,
        })
        .collect();
    assert_eq!(recursive_splits(&pts), vec![0.0, 1.0, 2.0]);
}
