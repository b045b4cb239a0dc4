//! HomoFeatureBinning's named ops: one pass for the local statistics, one
//! pass per query round for the ranks of the query points.

use crate::Instance;
use fedflow_computing::{register_op, ApplyPartitionsOp, OpError, ReduceOp};
use serde::{Deserialize, Serialize};

/// One column's local statistics: its range (`None` when every value is
/// missing) and its number of missing (NaN) values.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ColStats {
    /// `(min, max)` of the non-missing values.
    pub range: Option<(f64, f64)>,
    /// Missing values.
    pub missing: u64,
}

/// A party's (or a partition's) rows and per-column statistics.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LocalStats {
    /// Rows.
    pub rows: u64,
    /// Per binned column, in the order of `cols`.
    pub cols: Vec<ColStats>,
}

fn example_inst() -> Instance {
    Instance {
        features: vec![0.5, f64::NAN],
        label: Some(1.0),
        weight: 1.0,
    }
}

/// Rows, range and missing values of the binned columns.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ColumnStats {
    /// Binned columns (feature indexes).
    pub cols: Vec<usize>,
}

impl ApplyPartitionsOp for ColumnStats {
    const NAME: &'static str = "homo_feature_binning.column_stats";
    type K = String;
    type V = Instance;
    type Out = LocalStats;
    fn apply(
        &self,
        _index: usize,
        rows: &mut dyn Iterator<Item = (String, Instance)>,
    ) -> Result<LocalStats, OpError> {
        let mut s = LocalStats {
            rows: 0,
            cols: vec![ColStats::default(); self.cols.len()],
        };
        for (_, inst) in rows {
            s.rows += 1;
            for (c, &j) in s.cols.iter_mut().zip(&self.cols) {
                let x = inst.features.get(j).copied().unwrap_or(f64::NAN);
                if x.is_nan() {
                    c.missing += 1;
                } else {
                    c.range = Some(match c.range {
                        None => (x, x),
                        Some((lo, hi)) => (lo.min(x), hi.max(x)),
                    });
                }
            }
        }
        Ok(s)
    }
}
register_op!(apply_partitions ColumnStats, example: ColumnStats { cols: vec![0, 1] }, input: vec![("a".to_string(), example_inst())]);

/// The smallest range holding both (`None`: no values).
pub fn union_range(a: Option<(f64, f64)>, b: Option<(f64, f64)>) -> Option<(f64, f64)> {
    match (a, b) {
        (Some((a0, a1)), Some((b0, b1))) => Some((a0.min(b0), a1.max(b1))),
        (r, None) | (None, r) => r,
    }
}

/// Merges two [`LocalStats`].
pub fn merge_stats(mut a: LocalStats, b: &LocalStats) -> LocalStats {
    a.rows += b.rows;
    for (x, y) in a.cols.iter_mut().zip(&b.cols) {
        x.missing += y.missing;
        x.range = union_range(x.range, y.range);
    }
    a
}

/// Merges partitions' statistics.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MergeStats;

impl ReduceOp for MergeStats {
    const NAME: &'static str = "homo_feature_binning.merge_stats";
    type V = LocalStats;
    fn reduce(&self, a: LocalStats, b: LocalStats) -> Result<LocalStats, OpError> {
        Ok(merge_stats(a, &b))
    }
}
register_op!(reduce MergeStats, example: MergeStats, input: vec![(LocalStats { rows: 1, cols: vec![ColStats { range: Some((0.0, 1.0)), missing: 0 }] }, LocalStats { rows: 2, cols: vec![ColStats { range: None, missing: 2 }] })]);

/// Per binned column, per query point: how many of the column's
/// non-missing values are `<=` the point (FATE's summary rank).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RankQuery {
    /// Binned columns (feature indexes).
    pub cols: Vec<usize>,
    /// Query points per column.
    pub queries: Vec<Vec<f64>>,
}

impl ApplyPartitionsOp for RankQuery {
    const NAME: &'static str = "homo_feature_binning.rank_query";
    type K = String;
    type V = Instance;
    type Out = Vec<Vec<u64>>;
    fn apply(
        &self,
        _index: usize,
        rows: &mut dyn Iterator<Item = (String, Instance)>,
    ) -> Result<Vec<Vec<u64>>, OpError> {
        let mut values: Vec<Vec<f64>> = vec![Vec::new(); self.cols.len()];
        for (_, inst) in rows {
            for (v, &j) in values.iter_mut().zip(&self.cols) {
                let x = inst.features.get(j).copied().unwrap_or(f64::NAN);
                if !x.is_nan() {
                    v.push(x);
                }
            }
        }
        Ok(values
            .iter_mut()
            .zip(&self.queries)
            .map(|(v, q)| {
                v.sort_by(f64::total_cmp);
                q.iter()
                    .map(|&p| v.partition_point(|&x| x <= p) as u64)
                    .collect()
            })
            .collect())
    }
}
register_op!(apply_partitions RankQuery, example: RankQuery { cols: vec![0], queries: vec![vec![0.0, 0.5, 1.0]] }, input: vec![("a".to_string(), example_inst())]);

/// Adds partitions' ranks.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SumRanks;

impl ReduceOp for SumRanks {
    const NAME: &'static str = "homo_feature_binning.sum_ranks";
    type V = Vec<Vec<u64>>;
    fn reduce(&self, mut a: Vec<Vec<u64>>, b: Vec<Vec<u64>>) -> Result<Vec<Vec<u64>>, OpError> {
        for (x, y) in a.iter_mut().zip(&b) {
            for (p, q) in x.iter_mut().zip(y) {
                *p += q;
            }
        }
        Ok(a)
    }
}
register_op!(reduce SumRanks, example: SumRanks, input: vec![(vec![vec![1u64, 2]], vec![vec![0u64, 3]])]);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_count_values_at_or_below_each_point_and_skip_missing() {
        let rows = [1.0, 2.0, 2.0, f64::NAN, 5.0];
        let mut it = rows.iter().enumerate().map(|(i, &x)| {
            (
                i.to_string(),
                Instance {
                    features: vec![x],
                    label: None,
                    weight: 1.0,
                },
            )
        });
        let q = RankQuery {
            cols: vec![0],
            queries: vec![vec![0.0, 2.0, 4.9, 5.0]],
        };
        assert_eq!(q.apply(0, &mut it).unwrap(), vec![vec![0, 3, 3, 4]]);
        let mut it = rows.iter().map(|&x| {
            (
                String::new(),
                Instance {
                    features: vec![x],
                    label: None,
                    weight: 1.0,
                },
            )
        });
        let s = ColumnStats { cols: vec![0] }.apply(0, &mut it).unwrap();
        assert_eq!(s.rows, 5);
        assert_eq!(
            s.cols,
            vec![ColStats {
                range: Some((1.0, 5.0)),
                missing: 1
            }]
        );
    }
}
