use super::*;
use crate::data_transform::DataTransform;
use crate::testutil::*;
use serde_json::json;

#[test]
fn psi_of_a_hand_checked_case() {
    // Train 1,2,3,4 with 2 bins: splits [2, 4], 2 + 2 rows; validate 1,1,1,4: 3 + 1.
    // PSI = (0.75-0.5)ln(1.5) + (0.25-0.5)ln(0.5) = 0.25 ln 3; the empty missing bin adds 0.
    let (total, d) = feature_psi(&[1.0, 2.0, 3.0, 4.0], &[1.0, 1.0, 1.0, 4.0], 2);
    assert_eq!(d.split_points, vec![2.0, 4.0]);
    assert_eq!(d.expected_count, vec![2, 2, 0]);
    assert_eq!(d.actual_count, vec![3, 1, 0]);
    assert!((total - 0.25 * 3f64.ln()).abs() < 1e-12, "{total}");
    // Same distribution: 0. A missing value only in validate: its share 1/4
    // against 1e-5 in train.
    assert_eq!(feature_psi(&[1.0, 2.0], &[2.0, 1.0], 20).0, 0.0);
    let (t, d) = feature_psi(&[1.0, 2.0, 3.0, 4.0], &[1.0, 2.0, 3.0, f64::NAN], 4);
    assert_eq!(d.actual_count, vec![1, 1, 1, 0, 1]);
    // Bin 4 (x ≤ 4): 1/4 vs 0 (→1e-5); the missing bin: 0 (→1e-5) vs 1/4.
    let want = 2.0 * (0.25 - PSI_EPS) * (0.25 / PSI_EPS).ln();
    assert!((t - want).abs() < 1e-12, "{t} {want}");
}

#[test]
fn psi_component_per_feature() {
    let dir = tempfile::tempdir().unwrap();
    let raw = raw_dataset("id,a,b\n1,1,5\n2,2,6\n3,3,7\n4,4,8\n", 2);
    let c = ctx(dir.path(), "dt", HOST, json!({}), inputs("data", raw));
    let train = DataTransform.run(&c).unwrap().data.remove(0);
    let raw = raw_dataset("id,a,b\n1,1,5\n2,1,6\n3,1,7\n4,4,8\n", 2);
    let c = ctx(dir.path(), "dt2", HOST, json!({}), inputs("data", raw));
    let validate = DataTransform.run(&c).unwrap().data.remove(0);
    let mut i = inputs("train_data", train);
    i.data.insert("validate_data".into(), vec![validate]);
    let c = ctx(dir.path(), "psi", HOST, json!({"max_bin_num": 2}), i);
    let out = Psi.run(&c).unwrap();
    let m: PsiModelParam = serde_json::from_value(out.model.unwrap().param).unwrap();
    assert!((m.total_psi["a"] - 0.25 * 3f64.ln()).abs() < 1e-12);
    assert_eq!(m.total_psi["b"], 0.0);
}
