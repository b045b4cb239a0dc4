use super::*;
use crate::data_statistics::StatisticsModelParam;
use crate::data_transform::DataTransform;
use crate::hetero_feature_binning::HeteroFeatureBinning;
use crate::testutil::*;
use serde_json::json;

fn binning_models() -> (Dataset, Dataset, ModelData, ModelData) {
    let g = transformed("breast_hetero_guest.csv", true, GUEST);
    let h = transformed("breast_hetero_host.csv", false, HOST);
    let dir = tempfile::tempdir().unwrap();
    let p = json!({});
    let mut outs = run_all(
        &HeteroFeatureBinning,
        vec![
            ctx(dir.path(), "b", GUEST, p.clone(), inputs("data", g.clone())),
            ctx(dir.path(), "b", HOST, p, inputs("data", h.clone())),
        ],
    );
    let ho = outs.pop().unwrap().unwrap();
    let go = outs.pop().unwrap().unwrap();
    (g, h, go.model.unwrap(), ho.model.unwrap())
}

fn select(
    params: serde_json::Value,
    host_params: serde_json::Value,
) -> (ComponentOutput, ComponentOutput, ModelData) {
    let (g, h, gm, hm) = binning_models();
    let dir = tempfile::tempdir().unwrap();
    let mut gi = inputs("data", g);
    gi.models.push(gm.clone());
    let mut hi = inputs("data", h);
    hi.models.push(hm);
    let mut outs = run_all(
        &HeteroFeatureSelection,
        vec![
            ctx(dir.path(), "s", GUEST, params, gi),
            ctx(dir.path(), "s", HOST, host_params, hi),
        ],
    );
    let ho = outs.pop().unwrap().unwrap();
    let go = outs.pop().unwrap().unwrap();
    (go, ho, gm)
}

fn left(o: &ComponentOutput) -> Vec<String> {
    o.data[0].schema.header.clone()
}

#[test]
fn iv_threshold_and_top_k_across_parties() {
    let p = json!({"filter_methods": ["iv_filter"], "iv_param": {"metrics": "iv", "filter_type": "threshold", "threshold": 0.1}});
    let (go, ho, gm) = select(p.clone(), p);
    let b: BinningModelParam = serde_json::from_value(gm.param).unwrap();
    let want_g: Vec<String> = (0..10)
        .map(|i| format!("x{i}"))
        .filter(|n| b.binning_result[n].iv >= 0.1)
        .collect();
    assert_eq!(left(&go), want_g);
    let want_h: Vec<String> = (0..20)
        .map(|i| format!("x{i}"))
        .filter(|n| b.host_results["10000"][&format!("host_10000_{n}")].iv >= 0.1)
        .collect();
    assert_eq!(left(&ho), want_h);
    // Every instance keeps only those features.
    let t: TypedTable<String, Instance> = TypedTable::from_raw(ho.data[0].table.clone());
    assert!(t
        .collect()
        .unwrap()
        .iter()
        .all(|(_, i)| i.features.len() == want_h.len()));

    let p = json!({"filter_methods": ["iv_filter"], "iv_param": {"filter_type": "top_k", "threshold": 7}});
    let (go, ho, _) = select(p.clone(), p);
    assert_eq!(left(&go).len() + left(&ho).len(), 7);
}

#[test]
fn manual_and_anonymous_manual() {
    let p = json!({"filter_methods": ["manually"], "manually_param": {"filter_out_indexes": [0, 1, 2], "filter_out_names": ["x3"]}});
    let hp = json!({"filter_methods": ["manually"], "use_anonymous": true, "manually_param": {"left_col_names": ["host_10000_x3"]}});
    let (go, ho, _) = select(p, hp);
    assert_eq!(
        left(&go),
        (4..10).map(|i| format!("x{i}")).collect::<Vec<_>>()
    );
    assert_eq!(left(&ho), vec!["x3".to_string()]);
    // Predict: the model alone selects the same columns.
    let dir = tempfile::tempdir().unwrap();
    let mut i = inputs("data", transformed("breast_hetero_guest.csv", true, GUEST));
    i.models.push(go.model.clone().unwrap());
    let c = ctx(dir.path(), "s", GUEST, json!({}), i);
    assert_eq!(left(&HeteroFeatureSelection.run(&c).unwrap()), left(&go));
}

#[test]
fn percentage_value_drops_dominated_columns() {
    let dir = tempfile::tempdir().unwrap();
    let d = raw_dataset("id,x0,x1\na,1,5\nb,1,6\nc,1,7\nd,2,8\n", 2);
    let c = ctx(dir.path(), "dt", HOST, json!({}), inputs("data", d));
    let d = DataTransform.run(&c).unwrap().data.remove(0);
    let p = json!({"filter_methods": ["percentage_value"], "percentage_value_param": {"upper_pct": 0.75}});
    let c = ctx(dir.path(), "s", GUEST, p, inputs("data", d));
    assert_eq!(
        left(&HeteroFeatureSelection.run(&c).unwrap()),
        vec!["x1".to_string()]
    );
}

fn statistics_model(d: &Dataset, party: fedflow_core::Party) -> ModelData {
    let dir = tempfile::tempdir().unwrap();
    let c = ctx(
        dir.path(),
        "st",
        party,
        json!({"statistics": ["summary", "95%"]}),
        inputs("data", d.clone()),
    );
    crate::data_statistics::DataStatistics
        .run(&c)
        .unwrap()
        .model
        .unwrap()
}

fn stat(m: &ModelData, metric: &str, col: &str) -> f64 {
    let p: StatisticsModelParam = serde_json::from_value(m.param.clone()).unwrap();
    p.value(metric, col).unwrap()
}

#[test]
fn statistic_filters_keep_the_columns_their_rules_pass() {
    let g = transformed("breast_hetero_guest.csv", true, GUEST);
    let sm = statistics_model(&g, GUEST);
    let run = |p: serde_json::Value| {
        let dir = tempfile::tempdir().unwrap();
        let mut i = inputs("data", g.clone());
        i.models.push(sm.clone());
        left(
            &HeteroFeatureSelection
                .run(&ctx(dir.path(), "s", GUEST, p, i))
                .unwrap(),
        )
    };
    let cols: Vec<String> = (0..10).map(|i| format!("x{i}")).collect();
    // Two rules in sequence: skewness >= 0.5, then kurtosis <= 3.
    let got = run(
        json!({"filter_methods": ["statistic_filter"], "statistic_param": {
        "metrics": ["skewness", "kurtosis"], "filter_type": "threshold",
        "take_high": [true, false], "threshold": [0.5, 3]}}),
    );
    let want: Vec<String> = cols
        .iter()
        .filter(|c| stat(&sm, "skewness", c) >= 0.5 && stat(&sm, "kurtosis", c) <= 3.0)
        .cloned()
        .collect();
    assert!(!want.is_empty() && want.len() < 10, "{want:?}");
    assert_eq!(got, want);
    // Spelled out on the breast data (skewness / kurtosis of x0..x9).
    assert_eq!(got, ["x0", "x2", "x6"].map(String::from).to_vec());
    // top_k on stddev, take_high false: the 3 lowest.
    let got = run(
        json!({"filter_methods": ["statistic_filter"], "statistic_param": {
        "metrics": "stddev", "filter_type": "top_k", "take_high": false, "threshold": 3}}),
    );
    let mut by_std = cols.clone();
    by_std.sort_by(|a, b| stat(&sm, "stddev", a).total_cmp(&stat(&sm, "stddev", b)));
    let mut want = by_std[..3].to_vec();
    want.sort();
    assert_eq!(got, want);
    // outlier_cols: the 95% point must be <= upper_threshold (here the 6th
    // smallest 95% point, so 6 columns stay).
    let mut q: Vec<f64> = cols.iter().map(|c| stat(&sm, "95%", c)).collect();
    q.sort_by(f64::total_cmp);
    let got = run(json!({"filter_methods": ["outlier_cols"],
        "outlier_param": {"percentile": 0.95, "upper_threshold": q[5]}}));
    let want: Vec<String> = cols
        .iter()
        .filter(|c| stat(&sm, "95%", c) <= q[5])
        .cloned()
        .collect();
    assert!(want.len() >= 6 && want.len() < 10);
    assert_eq!(got, want);
    // Nothing passes: FATE keeps the single best column.
    let got = run(
        json!({"filter_methods": ["statistic_filter"], "statistic_param": {
        "metrics": ["median"], "take_high": true, "threshold": 100}}),
    );
    let best = cols
        .iter()
        .max_by(|a, b| stat(&sm, "median", a).total_cmp(&stat(&sm, "median", b)))
        .unwrap();
    assert_eq!(got, vec![best.clone()]);
    // Without the model: a clear error.
    let dir = tempfile::tempdir().unwrap();
    let c = ctx(
        dir.path(),
        "s",
        GUEST,
        json!({"filter_methods": ["psi_filter"]}),
        inputs("data", g.clone()),
    );
    let e = HeteroFeatureSelection.run(&c).err().unwrap().to_string();
    assert!(e.contains("PSI model"), "{e}");
}

#[test]
fn host_statistic_filter_then_federated_iv_percentile_ranks_only_host_candidates() {
    let (g, h, gm, hm) = binning_models();
    let hs = statistics_model(&h, HOST);
    let dir = tempfile::tempdir().unwrap();
    let mut gi = inputs("data", g);
    gi.models.push(gm.clone());
    let mut hi = inputs("data", h);
    hi.models.push(hm);
    hi.models.push(hs.clone());
    // The host first keeps its columns with kurtosis <= 2 (local), then the
    // guest ranks its columns and only those host candidates by IV.
    let hp = json!({"filter_methods": ["statistic_filter", "iv_filter"],
        "statistic_param": {"metrics": "kurtosis", "take_high": false, "threshold": 2},
        "iv_param": {"filter_type": "top_percentile", "threshold": 0.5}});
    let gp = json!({"filter_methods": ["iv_filter"],
        "iv_param": {"filter_type": "top_percentile", "threshold": 0.5}});
    let mut outs = run_all(
        &HeteroFeatureSelection,
        vec![
            ctx(dir.path(), "s", GUEST, gp, gi),
            ctx(dir.path(), "s", HOST, hp, hi),
        ],
    );
    let ho = outs.pop().unwrap().unwrap();
    let go = outs.pop().unwrap().unwrap();
    let b: BinningModelParam = serde_json::from_value(gm.param).unwrap();
    let host_cands: Vec<String> = (0..20)
        .map(|i| format!("x{i}"))
        .filter(|c| stat(&hs, "kurtosis", c) <= 2.0)
        .collect();
    assert!(host_cands.len() < 20);
    let mut all: Vec<(String, f64)> = (0..10)
        .map(|i| format!("x{i}"))
        .map(|c| (c.clone(), b.binning_result[&c].iv))
        .chain(host_cands.iter().map(|c| {
            (
                format!("h{c}"),
                b.host_results["10000"][&format!("host_10000_{c}")].iv,
            )
        }))
        .collect();
    all.sort_by(|a, b| b.1.total_cmp(&a.1));
    let k = (0.5 * all.len() as f64).ceil() as usize;
    let top: BTreeSet<String> = all[..k].iter().map(|x| x.0.clone()).collect();
    let want_g: Vec<String> = (0..10)
        .map(|i| format!("x{i}"))
        .filter(|c| top.contains(c))
        .collect();
    let want_h: Vec<String> = host_cands
        .iter()
        .filter(|c| top.contains(&format!("h{c}")))
        .cloned()
        .collect();
    assert_eq!(left(&go), want_g);
    assert_eq!(left(&ho), want_h);
}
