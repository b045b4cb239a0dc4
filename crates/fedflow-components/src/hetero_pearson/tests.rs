use super::*;
use crate::hetero_feature_binning::HeteroFeatureBinning;
use crate::hetero_feature_selection::HeteroFeatureSelection;
use crate::hetero_lr::harness::{align, read_csv, run_job, Frame, Run};
use crate::testutil::{ctx, inputs, raw_file, run_all, transformed, GUEST, HOST};
use crate::{Component, Dataset};
use serde_json::json;

fn frames() -> Vec<Frame> {
    let mut f = vec![
        read_csv("breast_hetero_guest.csv", Some("y")),
        read_csv("breast_hetero_host.csv", None),
    ];
    align(&mut f);
    f
}

fn pearson(params: serde_json::Value) -> (Vec<Frame>, Run) {
    let f = frames();
    let run = run_job(|| Box::new(HeteroPearson), params, &f, false, "train", None);
    (f, run)
}

fn model(o: &crate::ComponentOutput) -> PearsonModelParam {
    serde_json::from_value(o.model.as_ref().unwrap().param.clone()).unwrap()
}

fn col(x: &[Vec<f64>], j: usize) -> Vec<f64> {
    x.iter().map(|r| r[j]).collect()
}

/// numpy.corrcoef of two columns, written out.
fn np_pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}

/// VIF of column j by ordinary least squares of x_j on the other columns:
/// 1 / (1 − R²), normal equations solved by Gaussian elimination.
fn ols_vif(x: &[Vec<f64>], j: usize) -> f64 {
    let m = x[0].len();
    let others: Vec<usize> = (0..m).filter(|&k| k != j).collect();
    let d = others.len() + 1; // + intercept
    let row = |r: &Vec<f64>| -> Vec<f64> {
        let mut v = vec![1.0];
        v.extend(others.iter().map(|&k| r[k]));
        v
    };
    let mut a = vec![vec![0.0; d + 1]; d];
    for r in x {
        let v = row(r);
        for (p, vp) in v.iter().enumerate() {
            for (q, vq) in v.iter().enumerate() {
                a[p][q] += vp * vq;
            }
            a[p][d] += vp * r[j];
        }
    }
    for c in 0..d {
        let piv = (c..d)
            .max_by(|&p, &q| a[p][c].abs().total_cmp(&a[q][c].abs()))
            .unwrap();
        a.swap(c, piv);
        for r2 in 0..d {
            if r2 != c {
                let f = a[r2][c] / a[c][c];
                let pivot = a[c].clone();
                for (x, p) in a[r2].iter_mut().zip(&pivot).skip(c) {
                    *x -= f * p;
                }
            }
        }
    }
    let beta: Vec<f64> = (0..d).map(|p| a[p][d] / a[p][p]).collect();
    let y = col(x, j);
    let n = y.len() as f64;
    let my = y.iter().sum::<f64>() / n;
    let (mut ss_res, mut ss_tot) = (0.0, 0.0);
    for (r, yv) in x.iter().zip(&y) {
        let pred: f64 = row(r).iter().zip(&beta).map(|(a, b)| a * b).sum();
        ss_res += (yv - pred).powi(2);
        ss_tot += (yv - my).powi(2);
    }
    1.0 / (ss_res / ss_tot)
}

#[test]
fn federated_corr_equals_numpy_pearson_on_joined_data() {
    let (f, run) = pearson(json!({ "column_indexes": -1 }));
    let (g, h) = (model(&run.guest), model(&run.hosts[0]));
    assert_eq!(g.shapes, vec![10, 20]);
    assert_eq!(h.shapes, vec![10, 20]);
    assert_eq!(g.corr.len(), 200);
    assert_eq!(g.host_names()[3], "host_10000_x3");
    assert_eq!(h.guest_names()[2], "guest_9999_x2");
    assert_eq!(g.host_party_id(), Some(10000));
    let mut worst: f64 = 0.0;
    for i in 0..10 {
        for j in 0..20 {
            let want = np_pearson(&col(&f[0].x, i), &col(&f[1].x, j));
            worst = worst.max((g.cross(i, j) - want).abs());
            // Both parties hold the same matrix.
            assert_eq!(g.cross(i, j), h.cross(i, j));
        }
    }
    assert!(worst < 1e-6, "max |fed - numpy| = {worst}");
    // Local correlations, both parties.
    for (m, fr) in [(&g, &f[0]), (&h, &f[1])] {
        for a in 0..fr.header.len() {
            for b in 0..fr.header.len() {
                let want = np_pearson(&col(&fr.x, a), &col(&fr.x, b));
                assert!((m.local(a, b) - want).abs() < 1e-9);
            }
        }
    }
}

#[test]
fn local_vif_equals_ols_vif() {
    let (f, run) = pearson(json!({ "cross_parties": false }));
    for (m, fr) in [(model(&run.guest), &f[0]), (model(&run.hosts[0]), &f[1])] {
        assert!(m.corr.is_empty());
        assert_eq!(m.parties.len(), 1);
        assert_eq!(m.local_vif.len(), fr.header.len());
        for (j, (got, name)) in m.local_vif.iter().zip(&fr.header).enumerate() {
            let want = ols_vif(&fr.x, j);
            assert!(
                ((got - want) / want).abs() < 1e-6,
                "{name}: vif {got} vs ols {want}"
            );
        }
        // breast is strongly collinear: some VIFs are large.
        assert!(m.local_vif.iter().any(|v| *v > 10.0));
    }
    // No cross traffic without cross_parties.
    assert!(run.wire.is_empty());
}

#[test]
fn no_raw_or_standardized_value_crosses_in_plaintext() {
    let (f, run) = pearson(json!({}));
    assert!(!run.wire.is_empty());
    let scale = f64::from(1u32 << FIXPOINT_BITS);
    // f64 values have high-entropy bytes: none may appear. Fixed-point
    // integers (< 2^32) end in zero bytes, which a ciphertext's length prefix
    // or exponent supplies, so a few chance matches are expected: a plaintext
    // transfer would show every one of the ~11k values.
    let mut floats: std::collections::HashSet<[u8; 8]> = Default::default();
    let mut fixed: std::collections::HashSet<[u8; 8]> = Default::default();
    for fr in &f {
        let (z, _) = standardize(&fr.x, fr.header.len());
        for (xr, zr) in fr.x.iter().zip(&z) {
            for v in xr.iter().chain(zr) {
                if v.fract() != 0.0 {
                    floats.insert(v.to_le_bytes());
                    let q = (v * scale).round() as i64;
                    // Tiny integers could be a length prefix; they are not informative.
                    if q.unsigned_abs() > 1 << 20 {
                        fixed.insert(q.to_le_bytes());
                    }
                }
            }
        }
    }
    assert!(floats.len() > 569 * 30);
    assert!(fixed.len() > 569 * 10);
    let mut checked = 0;
    let mut fixed_hits = 0;
    for s in &run.wire {
        for w in s.bytes.windows(8) {
            let mut k = [0u8; 8];
            k.copy_from_slice(w);
            assert!(
                !floats.contains(&k),
                "{} from {:?} carries a plaintext value",
                s.name,
                s.src
            );
            if fixed.contains(&k) {
                fixed_hits += 1;
            }
        }
        checked += s.bytes.len();
    }
    assert!(
        fixed_hits < 100,
        "{fixed_hits} fixed-point values found on the wire"
    );
    assert!(checked > 569 * 20 * 100, "the encrypted rows were sent");
    let names: Vec<&str> = run.wire.iter().map(|s| s.name.as_str()).collect();
    assert!(names.contains(&"pearson_host_enc_rows"));
    assert!(names.contains(&"pearson_guest_enc_corr"));
}

#[test]
fn bad_params_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let c = ctx(
        dir.path(),
        "p",
        GUEST,
        json!({ "column_indexes": -1, "column_names": ["x0"] }),
        inputs("data", raw_file("breast_hetero_guest.csv")),
    );
    let e = HeteroPearson.run(&c).unwrap_err().to_string();
    assert!(e.contains("p.column_names"), "{e}");
}

fn both<C: Component + Sync>(
    c: &C,
    name: &str,
    params: serde_json::Value,
    data: (&Dataset, &Dataset),
    models: (Vec<ModelData>, Vec<ModelData>),
) -> (crate::ComponentOutput, crate::ComponentOutput) {
    let dir = tempfile::tempdir().unwrap();
    let mut gi = inputs("data", data.0.clone());
    gi.models = models.0;
    let mut hi = inputs("data", data.1.clone());
    hi.models = models.1;
    let mut outs = run_all(
        c,
        vec![
            ctx(dir.path(), name, GUEST, params.clone(), gi),
            ctx(dir.path(), name, HOST, params, hi),
        ],
    );
    let h = outs.pop().unwrap().unwrap();
    let g = outs.pop().unwrap().unwrap();
    (g, h)
}

#[test]
fn selection_vif_and_correlation_filters_keep_the_expected_columns() {
    let g = transformed("breast_hetero_guest.csv", true, GUEST);
    let h = transformed("breast_hetero_host.csv", false, HOST);
    let (pg, ph) = both(&HeteroPearson, "p", json!({}), (&g, &h), (vec![], vec![]));
    let (bg, bh) = both(
        &HeteroFeatureBinning,
        "b",
        json!({}),
        (&g, &h),
        (vec![], vec![]),
    );
    let (pm, bm) = (pg.model.unwrap(), bg.model.unwrap());
    let (phm, bhm) = (ph.model.unwrap(), bh.model.unwrap());
    let f = frames();

    // vif_filter alone: each party keeps exactly the columns with OLS VIF < 5.
    let (sg, sh) = both(
        &HeteroFeatureSelection,
        "s1",
        json!({ "filter_methods": ["vif_filter"], "vif_param": { "threshold": 5 } }),
        (&g, &h),
        (vec![pm.clone()], vec![phm.clone()]),
    );
    for (out, fr) in [(&sg, &f[0]), (&sh, &f[1])] {
        let want: Vec<String> = (0..fr.header.len())
            .filter(|&j| ols_vif(&fr.x, j) < 5.0)
            .map(|j| fr.header[j].clone())
            .collect();
        assert!(!want.is_empty() && want.len() < fr.header.len());
        assert_eq!(out.data[0].schema.header, want);
    }

    // correlation_filter, local (select_federated false), threshold 0.5.
    let (sg, sh) = both(
        &HeteroFeatureSelection,
        "s2",
        json!({ "filter_methods": ["correlation_filter"],
                "correlation_param": { "sort_metric": "iv", "threshold": 0.5, "select_federated": false } }),
        (&g, &h),
        (vec![pm.clone(), bm.clone()], vec![phm.clone(), bhm.clone()]),
    );
    assert_eq!(sh.data[0].schema.header.len(), 20, "host keeps all");
    let kept = sg.data[0].schema.header.clone();
    let b: crate::hetero_feature_binning::BinningModelParam =
        serde_json::from_value(bm.param.clone()).unwrap();
    let idx = |n: &str| f[0].header.iter().position(|x| x == n).unwrap();
    let r = |a: &str, c: &str| np_pearson(&col(&f[0].x, idx(a)), &col(&f[0].x, idx(c)));
    assert!(kept.len() >= 2 && kept.len() < 10, "{kept:?}");
    // The highest-IV column always stays.
    let best = f[0]
        .header
        .iter()
        .max_by(|a, c| b.binning_result[*a].iv.total_cmp(&b.binning_result[*c].iv))
        .unwrap();
    assert!(kept.contains(best));
    for a in &kept {
        for c in &kept {
            if a != c {
                assert!(r(a, c).abs() <= 0.5, "{a} and {c} both kept");
            }
        }
    }
    for d in f[0].header.iter().filter(|x| !kept.contains(x)) {
        assert!(
            kept.iter()
                .any(|k| r(k, d).abs() > 0.5 && b.binning_result[k].iv >= b.binning_result[d].iv),
            "{d} dropped without a kept, higher-IV column correlated > 0.5"
        );
    }

    // Federated: the host's columns correlated > 0.5 with a kept guest column go.
    let (sg, sh) = both(
        &HeteroFeatureSelection,
        "s3",
        json!({ "filter_methods": ["correlation_filter"],
                "correlation_param": { "threshold": 0.5, "select_federated": true } }),
        (&g, &h),
        (vec![pm, bm], vec![phm, bhm]),
    );
    let host_kept = &sh.data[0].schema.header;
    let guest_kept = &sg.data[0].schema.header;
    assert!(host_kept.len() < 20, "{host_kept:?}");
    assert!(!host_kept.is_empty() && !guest_kept.is_empty());
    for hk in host_kept {
        let j = f[1].header.iter().position(|x| x == hk).unwrap();
        for gk in guest_kept {
            let c = np_pearson(&col(&f[0].x, idx(gk)), &col(&f[1].x, j));
            assert!(c.abs() <= 0.5, "guest {gk} and host {hk} both kept: {c}");
        }
    }
}
