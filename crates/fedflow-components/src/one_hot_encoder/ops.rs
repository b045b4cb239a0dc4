//! OneHotEncoder's named ops.

use crate::Instance;
use fedflow_computing::{register_op, ApplyPartitionsOp, MapValuesOp, OpError, ReduceOp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// FATE's `consts.ONE_HOT_LIMIT`: most distinct values a column may have.
pub const ONE_HOT_LIMIT: usize = 1024;

fn inst() -> Instance {
    Instance {
        features: vec![1.0, 2.0],
        label: None,
        weight: 1.0,
    }
}

/// A value as a set member: `-0.0` is `0.0`, compared by bits.
pub(crate) fn key(x: f64) -> u64 {
    (x + 0.0).to_bits()
}

/// Distinct values of the chosen columns in a partition (sorted per
/// column); a value that is not an integer fails, naming the column and row
/// (FATE: "Onehot input data support integer or string only").
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DistinctValues {
    /// Feature indexes.
    pub cols: Vec<usize>,
    /// Their names (for errors).
    pub names: Vec<String>,
}

impl ApplyPartitionsOp for DistinctValues {
    const NAME: &'static str = "one_hot_encoder.distinct_values";
    type K = String;
    type V = Instance;
    type Out = Vec<Vec<f64>>;
    fn apply(
        &self,
        _index: usize,
        rows: &mut dyn Iterator<Item = (String, Instance)>,
    ) -> Result<Vec<Vec<f64>>, OpError> {
        let mut sets: Vec<BTreeSet<u64>> = vec![BTreeSet::new(); self.cols.len()];
        for (id, inst) in rows {
            for ((set, &j), name) in sets.iter_mut().zip(&self.cols).zip(&self.names) {
                let x = inst.features.get(j).copied().unwrap_or(f64::NAN);
                if !x.is_finite() || x.ceil() != x {
                    return Err(OpError::msg(format!(
                        "OneHotEncoder: column '{name}', row '{id}': value {x}: one-hot input must be integers"
                    )));
                }
                set.insert(key(x));
            }
        }
        Ok(sets
            .into_iter()
            .map(|s| {
                let mut v: Vec<f64> = s.into_iter().map(f64::from_bits).collect();
                v.sort_by(f64::total_cmp);
                v
            })
            .collect())
    }
}
register_op!(apply_partitions DistinctValues, example: DistinctValues { cols: vec![1], names: vec!["x1".into()] }, input: vec![("a".to_string(), inst())]);

/// Union of per-column value lists; more than [`ONE_HOT_LIMIT`] values in a
/// column fails.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MergeValues {
    /// Column names (for errors).
    pub names: Vec<String>,
}

impl ReduceOp for MergeValues {
    const NAME: &'static str = "one_hot_encoder.merge_values";
    type V = Vec<Vec<f64>>;
    fn reduce(&self, a: Vec<Vec<f64>>, b: Vec<Vec<f64>>) -> Result<Vec<Vec<f64>>, OpError> {
        a.into_iter()
            .zip(b)
            .zip(&self.names)
            .map(|((x, y), name)| {
                let s: BTreeSet<u64> = x.into_iter().chain(y).map(key).collect();
                if s.len() > ONE_HOT_LIMIT {
                    return Err(OpError::msg(format!(
                        "OneHotEncoder: column '{name}' has more than {ONE_HOT_LIMIT} distinct values"
                    )));
                }
                let mut v: Vec<f64> = s.into_iter().map(f64::from_bits).collect();
                v.sort_by(f64::total_cmp);
                Ok(v)
            })
            .collect()
    }
}
register_op!(reduce MergeValues, example: MergeValues { names: vec!["x0".into()] }, input: vec![(vec![vec![1.0, 2.0]], vec![vec![0.0, 2.0]])]);

/// Where an input column goes in the output row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Slot {
    /// Copied to this position.
    Keep(usize),
    /// One-hot: position `at + pos[k]` is 1 when the value is `values[k]`
    /// (sorted); an unseen value gives all zeros.
    OneHot {
        /// First output position.
        at: usize,
        /// The known values, sorted.
        values: Vec<f64>,
        /// The output offset of each value (empty: `k`).
        #[serde(default)]
        pos: Vec<usize>,
    },
}

/// Rewrites a row's features: kept columns copied, one-hot columns expanded.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Encode {
    /// Output width.
    pub width: usize,
    /// One slot per input column.
    pub slots: Vec<Slot>,
}

impl MapValuesOp for Encode {
    const NAME: &'static str = "one_hot_encoder.encode";
    type V = Instance;
    type Out = Instance;
    fn map_value(&self, mut v: Instance) -> Result<Instance, OpError> {
        let mut out = vec![0.0; self.width];
        for (j, slot) in self.slots.iter().enumerate() {
            let x = v.features.get(j).copied().unwrap_or(f64::NAN);
            match slot {
                Slot::Keep(at) => out[*at] = x,
                Slot::OneHot { at, values, pos } => {
                    if let Ok(k) = values.binary_search_by(|y| y.total_cmp(&(x + 0.0))) {
                        out[at + pos.get(k).copied().unwrap_or(k)] = 1.0;
                    }
                }
            }
        }
        v.features = out;
        Ok(v)
    }
}
register_op!(map_values Encode, example: Encode { width: 3, slots: vec![Slot::Keep(0), Slot::OneHot { at: 1, values: vec![1.0, 2.0], pos: vec![0, 1] }] }, input: vec![("a".to_string(), inst())]);
