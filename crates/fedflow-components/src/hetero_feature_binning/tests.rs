use super::*;
use crate::data_transform::DataTransform;
use crate::testutil::*;
use serde_json::json;
use std::collections::HashMap;

fn transformed(file: &str, with_label: bool, party: fedflow_core::Party) -> Dataset {
    let dir = tempfile::tempdir().unwrap();
    let c = ctx(
        dir.path(),
        "dt",
        party,
        json!({ "with_label": with_label }),
        inputs("data", raw_file(file)),
    );
    DataTransform.run(&c).unwrap().data.remove(0)
}

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
