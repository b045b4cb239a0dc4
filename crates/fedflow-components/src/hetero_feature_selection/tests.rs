use super::*;
use crate::data_transform::DataTransform;
use crate::hetero_feature_binning::HeteroFeatureBinning;
use crate::testutil::*;
use serde_json::json;

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
