//! FeatureImputation's table operations.

use crate::Instance;
use fedflow_computing::{register_op, ApplyPartitionsOp, MapValuesOp, OpError, ReduceOp};
use serde::{Deserialize, Serialize};

/// Which feature values count as missing: `NaN` (what DataTransform makes of
/// empty, `NA`, `null`… cells) and/or listed numbers.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Missing {
    /// `NaN` is missing.
    pub nan: bool,
    /// These values are missing.
    pub values: Vec<f64>,
}

impl Missing {
    /// Whether `x` is missing.
    pub fn is_missing(&self, x: f64) -> bool {
        if x.is_nan() {
            self.nan
        } else {
            self.values.contains(&x)
        }
    }
}

/// Per column: (min, max, sum, count) over non-missing values, and how many
/// rows had the column missing; plus the row count.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MissingStats {
    /// (min, max, sum, count) of the present values.
    pub present: Vec<(f64, f64, f64, u64)>,
    /// Missing values per column.
    pub missing: Vec<u64>,
    /// Rows.
    pub rows: u64,
}

/// [`MissingStats`] of a partition.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MissingStatsOp {
    /// Number of features.
    pub n: usize,
    /// What is missing.
    pub missing: Missing,
}

impl ApplyPartitionsOp for MissingStatsOp {
    const NAME: &'static str = "feature_imputation.missing_stats";
    type K = String;
    type V = Instance;
    type Out = MissingStats;
    fn apply(
        &self,
        _index: usize,
        rows: &mut dyn Iterator<Item = (String, Instance)>,
    ) -> Result<MissingStats, OpError> {
        let mut s = MissingStats {
            present: vec![(f64::INFINITY, f64::NEG_INFINITY, 0.0, 0); self.n],
            missing: vec![0; self.n],
            rows: 0,
        };
        for (_, inst) in rows {
            s.rows += 1;
            for (j, &x) in inst.features.iter().enumerate().take(self.n) {
                if self.missing.is_missing(x) {
                    s.missing[j] += 1;
                } else if !x.is_nan() {
                    let p = &mut s.present[j];
                    p.0 = p.0.min(x);
                    p.1 = p.1.max(x);
                    p.2 += x;
                    p.3 += 1;
                }
            }
        }
        Ok(s)
    }
}
register_op!(apply_partitions MissingStatsOp, example: MissingStatsOp { n: 2, missing: Missing { nan: true, values: vec![0.0] } }, input: vec![("a".to_string(), Instance { features: vec![0.0, f64::NAN], label: None, weight: 1.0 }), ("b".to_string(), Instance { features: vec![2.0, 3.0], label: None, weight: 1.0 })]);

/// Merges [`MissingStats`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MergeMissingStats;

impl ReduceOp for MergeMissingStats {
    const NAME: &'static str = "feature_imputation.merge_missing_stats";
    type V = MissingStats;
    fn reduce(&self, a: MissingStats, b: MissingStats) -> Result<MissingStats, OpError> {
        Ok(MissingStats {
            present: a
                .present
                .iter()
                .zip(&b.present)
                .map(|(x, y)| (x.0.min(y.0), x.1.max(y.1), x.2 + y.2, x.3 + y.3))
                .collect(),
            missing: a
                .missing
                .iter()
                .zip(&b.missing)
                .map(|(x, y)| x + y)
                .collect(),
            rows: a.rows + b.rows,
        })
    }
}
register_op!(reduce MergeMissingStats, example: MergeMissingStats, input: vec![(MissingStats { present: vec![(0.0, 1.0, 1.0, 2)], missing: vec![1], rows: 3 }, MissingStats { present: vec![(-1.0, 0.5, 2.0, 1)], missing: vec![0], rows: 1 })]);

/// One column's present values, `NaN` for a missing one (for medians).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PresentValue {
    /// The column.
    pub col: usize,
    /// What is missing.
    pub missing: Missing,
}

impl MapValuesOp for PresentValue {
    const NAME: &'static str = "feature_imputation.present_value";
    type V = Instance;
    type Out = f64;
    fn map_value(&self, v: Instance) -> Result<f64, OpError> {
        let x = v.features.get(self.col).copied().unwrap_or(f64::NAN);
        Ok(if self.missing.is_missing(x) {
            f64::NAN
        } else {
            x
        })
    }
}
register_op!(map_values PresentValue, example: PresentValue { col: 0, missing: Missing { nan: true, values: vec![0.0] } }, input: vec![("a".to_string(), Instance { features: vec![0.0], label: None, weight: 1.0 }), ("b".to_string(), Instance { features: vec![2.0], label: None, weight: 1.0 })]);

/// Replaces missing values: column `j`'s by `fill[j]` (`None`: the column
/// is skipped and keeps its values).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Impute {
    /// Per column, its fill value.
    pub fill: Vec<Option<f64>>,
    /// What is missing.
    pub missing: Missing,
}

impl MapValuesOp for Impute {
    const NAME: &'static str = "feature_imputation.impute";
    type V = Instance;
    type Out = Instance;
    fn map_value(&self, mut v: Instance) -> Result<Instance, OpError> {
        for (x, fill) in v.features.iter_mut().zip(&self.fill) {
            if let Some(f) = fill {
                if self.missing.is_missing(*x) {
                    *x = *f;
                }
            }
        }
        Ok(v)
    }
}
register_op!(map_values Impute, example: Impute { fill: vec![Some(42.0), None], missing: Missing { nan: true, values: vec![0.0] } }, input: vec![("a".to_string(), Instance { features: vec![0.0, 0.0], label: None, weight: 1.0 }), ("b".to_string(), Instance { features: vec![f64::NAN, 3.0], label: None, weight: 1.0 })]);
