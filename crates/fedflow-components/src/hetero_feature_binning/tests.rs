use super::*;
use crate::testutil::*;
use serde_json::json;
use std::collections::HashMap;

/// Plaintext reference: quantile split points and FATE's WOE/IV, written out independently.
fn reference_iv(values: &[f64], labels: &[f64], bin_num: usize) -> f64 {
    let mut s: Vec<f64> = values.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    let mut sp: Vec<f64> = Vec::new();
    for i in 1..=bin_num {
        let r = ((i as f64 / bin_num as f64 * n as f64).ceil() as usize).clamp(1, n);
        if sp.last() != Some(&s[r - 1]) {
            sp.push(s[r - 1]);
        }
    }
    let mut ev = vec![0.0; sp.len()];
    let mut ne = vec![0.0; sp.len()];
    for (&x, &y) in values.iter().zip(labels) {
        let b = sp.iter().position(|&p| x <= p).unwrap_or(sp.len() - 1);
        if y == 1.0 {
            ev[b] += 1.0
        } else {
            ne[b] += 1.0
        }
    }
    let (te, tn): (f64, f64) = (ev.iter().sum(), ne.iter().sum());
    let mut iv = 0.0;
    for b in 0..sp.len() {
        let (a, c) = if ev[b] == 0.0 || ne[b] == 0.0 {
            ((ev[b] + 0.5) / te, (ne[b] + 0.5) / tn)
        } else {
            (ev[b] / te, ne[b] / tn)
        };
        iv += (a - c) * (a / c).ln();
    }
    iv
}

#[test]
fn breast_iv_matches_plaintext_reference() {
    let g = transformed("breast_hetero_guest.csv", true, GUEST);
    let h = transformed("breast_hetero_host.csv", false, HOST);
    let dir = tempfile::tempdir().unwrap();
    let params =
        json!({"method": "quantile", "bin_num": 10, "encrypt_param": {"key_length": 1024}});
    let outs = run_all(
        &HeteroFeatureBinning,
        vec![
            ctx(
                dir.path(),
                "hetero_feature_binning_0",
                GUEST,
                params.clone(),
                inputs("data", g.clone()),
            ),
            ctx(
                dir.path(),
                "hetero_feature_binning_0",
                HOST,
                params,
                inputs("data", h.clone()),
            ),
        ],
    );
    let go = outs[0].as_ref().unwrap();
    let ho = outs[1].as_ref().unwrap();
    let gm: BinningModelParam = serde_json::from_value(go.model.clone().unwrap().param).unwrap();
    let hm: BinningModelParam = serde_json::from_value(ho.model.clone().unwrap().param).unwrap();
    // Plaintext data.
    let grows: HashMap<String, Instance> =
        TypedTable::<String, Instance>::from_raw(g.table.clone())
            .collect()
            .unwrap()
            .into_iter()
            .collect();
    let hrows: Vec<(String, Instance)> = TypedTable::<String, Instance>::from_raw(h.table.clone())
        .collect()
        .unwrap();
    let labels: Vec<f64> = hrows.iter().map(|(k, _)| grows[k].label.unwrap()).collect();
    for (j, name) in g.schema.header.iter().enumerate() {
        let (vals, ys): (Vec<f64>, Vec<f64>) = grows
            .values()
            .map(|i| (i.features[j], i.label.unwrap()))
            .unzip();
        let want = reference_iv(&vals, &ys, 10);
        let got = gm.binning_result[name].iv;
        assert!((got - want).abs() < 1e-6, "guest {name}: {got} vs {want}");
        assert!(go.summary["iv"][name].as_f64().is_some());
    }
    let hres = &gm.host_results["10000"];
    assert_eq!(hres.len(), 20);
    for (j, name) in h.schema.header.iter().enumerate() {
        let vals: Vec<f64> = hrows.iter().map(|(_, i)| i.features[j]).collect();
        let want = reference_iv(&vals, &labels, 10);
        let anon = &hm.anonymous_names[name];
        let got = hres[anon].iv;
        assert!(
            (got - want).abs() < 1e-6,
            "host {name} ({anon}): {got} vs {want}"
        );
        assert_eq!(hres[anon].count_array.iter().sum::<u64>(), 569);
    }
    // The host's model holds split points only: no label-derived value.
    assert!(hm.host_results.is_empty());
    assert!(hm
        .binning_result
        .values()
        .all(|r| r.iv == 0.0 && r.event_count_array.is_empty()));
    // Output data: bin indexes by default.
    let t: TypedTable<String, Instance> = TypedTable::from_raw(go.data[0].table.clone());
    assert!(t.collect().unwrap().iter().all(|(_, i)| i
        .features
        .iter()
        .all(|&b| (0.0..10.0).contains(&b) && b.fract() == 0.0)));
}

#[test]
fn split_points_quantile_and_bucket() {
    let mut v: Vec<f64> = (1..=10).map(f64::from).collect();
    assert_eq!(
        split_points(&mut v.clone(), "quantile", 5),
        vec![2.0, 4.0, 6.0, 8.0, 10.0]
    );
    assert_eq!(split_points(&mut v, "bucket", 3), vec![4.0, 7.0, 10.0]);
    let mut c = vec![1.0, 1.0, 1.0, 2.0];
    assert_eq!(split_points(&mut c, "quantile", 4), vec![1.0, 2.0]);
    assert_eq!(bin_of(&[1.0, 2.0], 1.0), Some(0));
    assert_eq!(bin_of(&[1.0, 2.0], 1.5), Some(1));
    assert_eq!(bin_of(&[1.0, 2.0], 9.0), Some(1));
}

#[test]
fn multi_class_one_vs_rest_matches_reference() {
    let g = transformed("vehicle_scale_hetero_guest.csv", true, GUEST);
    let h = transformed("vehicle_scale_hetero_host.csv", false, HOST);
    let dir = tempfile::tempdir().unwrap();
    let p = json!({"bin_num": 5});
    let outs = run_all(
        &HeteroFeatureBinning,
        vec![
            ctx(dir.path(), "b", GUEST, p.clone(), inputs("data", g.clone())),
            ctx(dir.path(), "b", HOST, p, inputs("data", h.clone())),
        ],
    );
    let gm: BinningModelParam =
        serde_json::from_value(outs[0].as_ref().unwrap().model.clone().unwrap().param).unwrap();
    let hm: BinningModelParam =
        serde_json::from_value(outs[1].as_ref().unwrap().model.clone().unwrap().param).unwrap();
    let grows: HashMap<String, Instance> =
        TypedTable::<String, Instance>::from_raw(g.table.clone())
            .collect()
            .unwrap()
            .into_iter()
            .collect();
    let hrows: Vec<(String, Instance)> = TypedTable::<String, Instance>::from_raw(h.table.clone())
        .collect()
        .unwrap();
    assert_eq!(gm.multi_class_result.len(), 4);
    let host = &gm.host_multi_class_result["10000"];
    let mut mean = 0.0;
    for c in 0..4 {
        let ys: Vec<f64> = hrows
            .iter()
            .map(|(k, _)| f64::from(grows[k].label == Some(c as f64)))
            .collect();
        let vals: Vec<f64> = hrows.iter().map(|(_, i)| i.features[2]).collect();
        let want = reference_iv(&vals, &ys, 5);
        let anon = &hm.anonymous_names[&h.schema.header[2]];
        let got = host[&c.to_string()][anon].iv;
        assert!((got - want).abs() < 1e-6, "class {c}: {got} vs {want}");
        mean += want / 4.0;
    }
    let anon = &hm.anonymous_names[&h.schema.header[2]];
    assert!((gm.host_results["10000"][anon].iv - mean).abs() < 1e-6);
}

fn settings(metric: Metric, max_bin: usize, mixture: bool) -> OptimalSettings {
    OptimalSettings {
        metric,
        max_bin,
        min_items: 0,
        max_items: u64::MAX,
        mixture,
        adjustment: 0.5,
        event_total: 20,
        non_event_total: 20,
    }
}

#[test]
fn optimal_merge_order_by_hand() {
    // (events, rows): gini 0.5, 0.5, 0, 0.
    let c = [(5, 10), (5, 10), (0, 10), (10, 10)];
    // Scores (gini(merged) − gini(l) − gini(r)): b0+b1 = 0.5 − 1 = −0.5,
    // b1+b2 = 0.375 − 0.5 = −0.125, b2+b3 = 0.5. b0+b1 goes first; then
    // (b01)+b2 = 4/9 − 0.5 = −0.056 beats b2+b3 = 0.5.
    assert_eq!(
        optimal_bins(&c, &settings(Metric::Gini, 3, false)),
        vec![1, 2, 3]
    );
    assert_eq!(
        optimal_bins(&c, &settings(Metric::Gini, 2, false)),
        vec![2, 3]
    );
    // mixture: b2 and b3 (pure) merge first into a mixed (10, 20); then
    // b0+b1 and b1+(b23) both score −0.5: the leftmost pair wins.
    assert_eq!(
        optimal_bins(&c, &settings(Metric::Gini, 2, true)),
        vec![1, 3]
    );
    // Chi-square: merging b2 with b3 has χ² = 20 (the largest), b0+b1 has 0.
    assert_eq!(
        optimal_bins(&c, &settings(Metric::ChiSquare, 3, false)),
        vec![1, 2, 3]
    );
    // KS: cumulative event rates 0.25, 0.5, 0.5 and non-event rates 0.25,
    // 0.5, 1.0 over the cut positions: KS peaks (0.5) after b2.
    assert_eq!(
        optimal_bins(&c, &settings(Metric::Ks, 2, false)),
        vec![2, 3]
    );
    // max_bin_pct: no bin above 20 rows, so b0+b1 (20) but never 30.
    let mut s = settings(Metric::Gini, 1, false);
    s.max_items = 20;
    assert_eq!(optimal_bins(&c, &s), vec![1, 3]);
    assert_eq!(merge_counts(&c, &[1, 3]), vec![(10, 20), (10, 20)]);
}

#[test]
fn optimal_min_bin_pct_is_respected() {
    // 60 initial buckets of 1 to 5 rows, labels alternating in runs.
    let c: Vec<(u64, u64)> = (0..60u64)
        .map(|i| {
            let rows = 1 + i % 5;
            let ev = if (i / 7) % 2 == 1 {
                rows - i % 2
            } else {
                i % 4 / 3
            };
            (ev, rows)
        })
        .collect();
    let n: u64 = c.iter().map(|x| x.1).sum();
    let ev: u64 = c.iter().map(|x| x.0).sum();
    for m in [Metric::Iv, Metric::Gini, Metric::ChiSquare, Metric::Ks] {
        let s = OptimalSettings::new(m, 10, 0.1, 1.0, false, 0.5, n, ev);
        assert_eq!(s.min_items, (0.1 * n as f64).ceil() as u64);
        let ends = optimal_bins(&c, &s);
        let bins = merge_counts(&c, &ends);
        assert!(bins.len() <= 10 && bins.len() >= 2, "{m:?}: {bins:?}");
        assert_eq!(bins.iter().map(|b| b.1).sum::<u64>(), n);
        assert!(
            bins.iter().all(|b| b.1 >= s.min_items),
            "{m:?}: a bin below {} rows: {bins:?}",
            s.min_items
        );
    }
}

#[test]
fn optimal_bad_metric_names_the_field() {
    let g = transformed("breast_hetero_guest.csv", true, GUEST);
    let dir = tempfile::tempdir().unwrap();
    let p = json!({"method": "optimal", "optimal_binning_param": {"metric_method": "entropy"}});
    let Err(e) = HeteroFeatureBinning.run(&ctx(dir.path(), "b", GUEST, p, inputs("data", g)))
    else {
        panic!("a bad metric_method must fail");
    };
    let e = e.to_string();
    assert!(
        e.contains("b.optimal_binning_param.metric_method")
            && e.contains("'entropy'")
            && e.contains("iv, gini, chi_square (or chi-square), ks"),
        "{e}"
    );
}

/// Central optimal binning of one column on joined data: split points and IV.
fn central_optimal(values: &[f64], labels: &[f64], p: &serde_json::Value) -> (Vec<f64>, f64) {
    let param: FeatureBinningParam = serde_json::from_value(p.clone()).unwrap();
    let o = &param.optimal_binning_param;
    let init = split_points(&mut values.to_vec(), &o.init_bucket_method, o.init_bin_nums);
    let mut counts = vec![(0u64, 0u64); init.len()];
    for (&x, &y) in values.iter().zip(labels) {
        let b = bin_of(&init, x).unwrap();
        counts[b].0 += u64::from(y == 1.0);
        counts[b].1 += 1;
    }
    let ev = labels.iter().filter(|&&y| y == 1.0).count() as u64;
    let s = OptimalSettings::new(
        Metric::parse(&o.metric_method).unwrap(),
        param.bin_num,
        o.min_bin_pct,
        o.max_bin_pct,
        o.mixture,
        param.adjustment_factor,
        labels.len() as u64,
        ev,
    );
    let ends = optimal_bins(&counts, &s);
    let sp: Vec<f64> = ends.iter().map(|&e| init[e]).collect();
    let r = woe_iv(sp.clone(), &merge_counts(&counts, &ends), 0.5);
    (sp, r.iv)
}

#[test]
fn optimal_federated_equals_central_for_every_metric() {
    let g = transformed("breast_hetero_guest.csv", true, GUEST);
    let h = transformed("breast_hetero_host.csv", false, HOST);
    let grows: HashMap<String, Instance> =
        TypedTable::<String, Instance>::from_raw(g.table.clone())
            .collect()
            .unwrap()
            .into_iter()
            .collect();
    let hrows: Vec<(String, Instance)> = TypedTable::<String, Instance>::from_raw(h.table.clone())
        .collect()
        .unwrap();
    let labels: Vec<f64> = hrows.iter().map(|(k, _)| grows[k].label.unwrap()).collect();
    let cases = [
        ("iv", "quantile", true, 0.05),
        ("gini", "bucket", true, 0.05),
        ("chi-square", "bucket", false, 0.1),
        ("ks", "quantile", true, 0.05),
    ];
    for (metric, init, mixture, min_pct) in cases {
        let p = json!({
            "method": "optimal", "bin_num": 6, "encrypt_param": {"key_length": 1024},
            "optimal_binning_param": {"metric_method": metric, "init_bucket_method": init,
                "init_bin_nums": 50, "mixture": mixture, "min_bin_pct": min_pct, "max_bin_pct": 0.8}
        });
        let dir = tempfile::tempdir().unwrap();
        let cpn = format!("b_{}", metric.replace('-', "_"));
        let outs = run_all(
            &HeteroFeatureBinning,
            vec![
                ctx(
                    dir.path(),
                    &cpn,
                    GUEST,
                    p.clone(),
                    inputs("data", g.clone()),
                ),
                ctx(dir.path(), &cpn, HOST, p.clone(), inputs("data", h.clone())),
            ],
        );
        let model = |i: usize| -> BinningModelParam {
            let o = outs[i].as_ref().unwrap();
            serde_json::from_value(o.model.clone().unwrap().param).unwrap()
        };
        let (gm, hm) = (model(0), model(1));
        let hres = &gm.host_results["10000"];
        let min_items = (min_pct * 569.0_f64).ceil() as u64;
        let mut multi_bin = 0;
        for (j, name) in h.schema.header.iter().enumerate() {
            let vals: Vec<f64> = hrows.iter().map(|(_, i)| i.features[j]).collect();
            let (want_sp, want_iv) = central_optimal(&vals, &labels, &p);
            let anon = &hm.anonymous_names[name];
            assert_eq!(
                hm.binning_result[name].split_points, want_sp,
                "{metric} {name}: host split points"
            );
            let got = &hres[anon];
            assert!(
                (got.iv - want_iv).abs() < 1e-9,
                "{metric} {name}: {} vs {want_iv}",
                got.iv
            );
            // The guest has counts for exactly the host's bins, not its thresholds.
            assert!(got.split_points.is_empty());
            assert_eq!(got.count_array.len(), want_sp.len());
            assert!(want_sp.len() <= 6);
            if metric != "ks" {
                assert!(
                    got.count_array.iter().all(|&c| c >= min_items),
                    "{metric} {name}: {:?} has a bin below {min_items}",
                    got.count_array
                );
            }
            multi_bin += usize::from(want_sp.len() > 1);
        }
        assert!(
            multi_bin >= 15,
            "{metric}: only {multi_bin} host columns got more than 1 bin"
        );
        // The guest's own columns: same algorithm on its own data.
        for (j, name) in g.schema.header.iter().enumerate() {
            let (vals, ys): (Vec<f64>, Vec<f64>) = grows
                .values()
                .map(|i| (i.features[j], i.label.unwrap()))
                .unzip();
            let (want_sp, want_iv) = central_optimal(&vals, &ys, &p);
            assert_eq!(
                gm.binning_result[name].split_points, want_sp,
                "{metric} guest {name}"
            );
            assert!((gm.binning_result[name].iv - want_iv).abs() < 1e-9);
        }
    }
}

#[test]
fn optimal_wire_audit_no_plain_label_leaves_the_guest() {
    use crate::hetero_lr::harness::{assert_no_plain, run_job, synthetic};
    let frames = synthetic(300, 2, 3, 7);
    let p = json!({
        "method": "optimal", "bin_num": 5, "encrypt_param": {"key_length": 1024},
        "optimal_binning_param": {"metric_method": "iv", "init_bin_nums": 40}
    });
    let run = run_job(
        || Box::new(HeteroFeatureBinning),
        p,
        &frames,
        false,
        "train",
        None,
    );
    let guest_sent: Vec<&str> = run
        .wire
        .iter()
        .filter(|s| s.src.role == fedflow_core::Role::Guest)
        .map(|s| s.name.as_str())
        .collect();
    assert_eq!(
        guest_sent,
        ["paillier_pubkey", "encrypted_label", "bucket_idx"],
        "guest messages"
    );
    for s in &run.wire {
        if s.src.role == fedflow_core::Role::Guest {
            // A plaintext label (1.0 as f64) appears in no guest message.
            assert!(
                !s.bytes.windows(8).any(|w| w == 1.0f64.to_le_bytes()),
                "plain label in '{}'",
                s.name
            );
        }
        if s.name == "encrypted_label" {
            // 300 rows of one 2048-bit ciphertext each, at least.
            assert!(s.bytes.len() >= 300 * 256, "{} bytes", s.bytes.len());
        }
        if s.name == "bucket_idx" {
            // Bucket indexes only: at most bin_num per host column.
            let m: BucketIdxMessage = fedflow_core::codec::decode(&s.bytes).unwrap();
            assert_eq!(m.len(), 3);
            assert!(m
                .iter()
                .all(|(_, e)| !e.is_empty() && e.len() <= 5 && e[e.len() - 1] < 40));
        }
    }
    // Nor does a host threshold (a host feature value) leave the host.
    let hx: Vec<f64> = frames[1].x.concat();
    assert_no_plain(
        &run.wire,
        fedflow_core::Role::Host,
        &hx,
        "host feature/threshold",
    );
    let hm: BinningModelParam =
        serde_json::from_value(run.hosts[0].model.clone().unwrap().param).unwrap();
    assert!(hm
        .binning_result
        .values()
        .all(|r| (2..=5).contains(&r.split_points.len())));
}
