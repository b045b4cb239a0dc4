//! SampleWeight's table operations.

use crate::Instance;
use fedflow_computing::{register_op, ApplyPartitionsOp, MapValuesOp, OpError, ReduceOp};
use serde::{Deserialize, Serialize};

fn inst(label: f64, features: Vec<f64>) -> Instance {
    Instance {
        features,
        label: Some(label),
        weight: 1.0,
    }
}

/// Rows per label in a partition, ascending by label (rows without a label
/// are counted under NaN, first).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClassCounts;

fn add_count(v: &mut Vec<(f64, u64)>, label: f64, n: u64) {
    match v.binary_search_by(|(l, _)| l.total_cmp(&label)) {
        Ok(at) => v[at].1 += n,
        Err(at) => v.insert(at, (label, n)),
    }
}

impl ApplyPartitionsOp for ClassCounts {
    const NAME: &'static str = "sample_weight.class_counts";
    type K = String;
    type V = Instance;
    type Out = Vec<(f64, u64)>;
    fn apply(
        &self,
        _index: usize,
        rows: &mut dyn Iterator<Item = (String, Instance)>,
    ) -> Result<Vec<(f64, u64)>, OpError> {
        let mut v = Vec::new();
        for (_, i) in rows {
            add_count(&mut v, i.label.unwrap_or(f64::NAN), 1);
        }
        Ok(v)
    }
}
register_op!(apply_partitions ClassCounts, example: ClassCounts, input: vec![("a".to_string(), inst(1.0, vec![])), ("b".to_string(), inst(0.0, vec![])), ("c".to_string(), inst(1.0, vec![]))]);

/// Adds per-label counts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MergeCounts;

impl ReduceOp for MergeCounts {
    const NAME: &'static str = "sample_weight.merge_counts";
    type V = Vec<(f64, u64)>;
    fn reduce(
        &self,
        mut a: Vec<(f64, u64)>,
        b: Vec<(f64, u64)>,
    ) -> Result<Vec<(f64, u64)>, OpError> {
        for (l, n) in b {
            add_count(&mut a, l, n);
        }
        Ok(a)
    }
}
register_op!(reduce MergeCounts, example: MergeCounts, input: vec![(vec![(0.0f64, 2u64), (1.0, 1)], vec![(1.0f64, 4u64)])]);

/// Sum of one feature column in a partition.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ColumnSum(pub usize);

impl ApplyPartitionsOp for ColumnSum {
    const NAME: &'static str = "sample_weight.column_sum";
    type K = String;
    type V = Instance;
    type Out = f64;
    fn apply(
        &self,
        _index: usize,
        rows: &mut dyn Iterator<Item = (String, Instance)>,
    ) -> Result<f64, OpError> {
        let mut s = 0.0;
        for (_, i) in rows {
            s += i.features.get(self.0).copied().ok_or_else(|| {
                OpError::msg(format!(
                    "a row has {} features, the weight column is #{}",
                    i.features.len(),
                    self.0
                ))
            })?;
        }
        Ok(s)
    }
}
register_op!(apply_partitions ColumnSum, example: ColumnSum(1), input: vec![("a".to_string(), inst(1.0, vec![0.0, 2.0])), ("b".to_string(), inst(0.0, vec![1.0, 3.0]))]);

/// Sets each row's weight: the weight column's value divided by `base`
/// (the column is removed from the features), else its label's class
/// weight (1 for a label the class weights do not name).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssignWeight {
    /// `(label, weight)` pairs.
    pub class_weight: Vec<(f64, f64)>,
    /// The weight column, if weights come from one.
    pub column: Option<usize>,
    /// Divisor of column weights (their mean with `normalize`, else 1).
    pub base: f64,
}

impl MapValuesOp for AssignWeight {
    const NAME: &'static str = "sample_weight.assign";
    type V = Instance;
    type Out = Instance;
    fn map_value(&self, mut v: Instance) -> Result<Instance, OpError> {
        v.weight = match self.column {
            Some(c) => {
                if c >= v.features.len() {
                    return Err(OpError::msg(format!(
                        "a row has {} features, the weight column is #{c}",
                        v.features.len()
                    )));
                }
                let w = v.features.remove(c);
                if !w.is_finite() || w < 0.0 {
                    return Err(OpError::msg(format!(
                        "sample weight {w}: expected a finite non-negative number"
                    )));
                }
                w / self.base
            }
            None => v
                .label
                .and_then(|l| self.class_weight.iter().find(|(k, _)| *k == l))
                .map(|(_, w)| *w)
                .unwrap_or(1.0),
        };
        Ok(v)
    }
}
register_op!(map_values AssignWeight, example: AssignWeight { class_weight: vec![(0.0, 1.0), (1.0, 2.0)], column: None, base: 1.0 }, input: vec![("a".to_string(), inst(1.0, vec![0.5])), ("b".to_string(), inst(0.0, vec![2.0]))]);
