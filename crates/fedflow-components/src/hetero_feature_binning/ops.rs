//! HeteroFeatureBinning's named ops.

use crate::Instance;
use fedflow_computing::{register_op, ApplyPartitionsOp, JoinOp, MapValuesOp, OpError, ReduceOp};
use fedflow_crypto::{Ciphertext, PaillierKeypair, PublicKey};
use serde::{Deserialize, Serialize};

/// FATE's bin of `x`: the first split point `>= x` (bins are `(s[i-1], s[i]]`),
/// values above the last split point in the last bin. `None` for NaN.
pub fn bin_of(splits: &[f64], x: f64) -> Option<usize> {
    if x.is_nan() || splits.is_empty() {
        return None;
    }
    Some(splits.partition_point(|&s| s < x).min(splits.len() - 1))
}

fn example_inst() -> Instance {
    Instance {
        features: vec![0.5, 2.0],
        label: Some(1.0),
        weight: 1.0,
    }
}

fn example_key() -> PublicKey {
    PaillierKeypair::generate(1024).expect("keygen").0
}

/// Per column, per bin: (events, rows).
pub type Counts = Vec<Vec<(u64, u64)>>;

/// Guest: event / row counts per bin of the binned columns.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CountBins {
    /// Binned columns (feature indexes).
    pub cols: Vec<usize>,
    /// Their split points.
    pub splits: Vec<Vec<f64>>,
    /// The event (positive) label.
    pub event: f64,
}

impl ApplyPartitionsOp for CountBins {
    const NAME: &'static str = "hetero_feature_binning.count_bins";
    type K = String;
    type V = Instance;
    type Out = Counts;
    fn apply(
        &self,
        _index: usize,
        rows: &mut dyn Iterator<Item = (String, Instance)>,
    ) -> Result<Counts, OpError> {
        let mut c: Counts = self.splits.iter().map(|s| vec![(0, 0); s.len()]).collect();
        for (_, inst) in rows {
            let ev = u64::from(inst.label == Some(self.event));
            for (k, &j) in self.cols.iter().enumerate() {
                if let Some(b) = bin_of(&self.splits[k], inst.features[j]) {
                    c[k][b].0 += ev;
                    c[k][b].1 += 1;
                }
            }
        }
        Ok(c)
    }
}
register_op!(apply_partitions CountBins, example: CountBins { cols: vec![0], splits: vec![vec![0.0, 1.0]], event: 1.0 }, input: vec![("a".to_string(), example_inst())]);

/// Sums counts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MergeCounts;

impl ReduceOp for MergeCounts {
    const NAME: &'static str = "hetero_feature_binning.merge_counts";
    type V = Counts;
    fn reduce(&self, mut a: Counts, b: Counts) -> Result<Counts, OpError> {
        for (x, y) in a.iter_mut().zip(&b) {
            for (p, q) in x.iter_mut().zip(y) {
                p.0 += q.0;
                p.1 += q.1;
            }
        }
        Ok(a)
    }
}
register_op!(reduce MergeCounts, example: MergeCounts, input: vec![(vec![vec![(1u64, 2u64)]], vec![vec![(0u64, 3u64)]])]);

/// Per column, per bin: (encrypted event sum per class, rows).
pub type EncSums = Vec<Vec<(Vec<Option<Ciphertext>>, u64)>>;

/// An instance with its encrypted label.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WithEncLabel;

impl JoinOp for WithEncLabel {
    const NAME: &'static str = "hetero_feature_binning.with_enc_label";
    type L = Instance;
    type R = Vec<Ciphertext>;
    type Out = (Instance, Vec<Ciphertext>);
    fn join(
        &self,
        l: Instance,
        r: Vec<Ciphertext>,
    ) -> Result<(Instance, Vec<Ciphertext>), OpError> {
        Ok((l, r))
    }
}
register_op!(join WithEncLabel, example: WithEncLabel, input: vec![(example_inst(), vec![example_key().encrypt_i64(1).unwrap()])]);

/// Host: sums of the encrypted labels per bin (`encrypted_bin_sum`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EncBinSums {
    /// The guest's Paillier key.
    pub pk: PublicKey,
    /// Binned columns.
    pub cols: Vec<usize>,
    /// Their split points.
    pub splits: Vec<Vec<f64>>,
}

fn add(pk: &PublicKey, a: &mut Option<Ciphertext>, b: &Ciphertext) -> Result<(), OpError> {
    *a = Some(match a.take() {
        None => b.clone(),
        Some(x) => pk.add(&x, b).map_err(|e| OpError::msg(e.to_string()))?,
    });
    Ok(())
}

impl ApplyPartitionsOp for EncBinSums {
    const NAME: &'static str = "hetero_feature_binning.enc_bin_sums";
    type K = String;
    type V = (Instance, Vec<Ciphertext>);
    type Out = EncSums;
    fn apply(
        &self,
        _index: usize,
        rows: &mut dyn Iterator<Item = (String, (Instance, Vec<Ciphertext>))>,
    ) -> Result<EncSums, OpError> {
        let mut s: EncSums = self
            .splits
            .iter()
            .map(|sp| vec![(Vec::new(), 0); sp.len()])
            .collect();
        for (_, (inst, cts)) in rows {
            for (k, &j) in self.cols.iter().enumerate() {
                if let Some(b) = bin_of(&self.splits[k], inst.features[j]) {
                    let cell = &mut s[k][b];
                    if cell.0.len() < cts.len() {
                        cell.0.resize(cts.len(), None);
                    }
                    for (acc, ct) in cell.0.iter_mut().zip(&cts) {
                        add(&self.pk, acc, ct)?;
                    }
                    cell.1 += 1;
                }
            }
        }
        Ok(s)
    }
}
register_op!(apply_partitions EncBinSums, example: { let pk = example_key(); EncBinSums { pk, cols: vec![1], splits: vec![vec![1.0, 3.0]] } }, input: vec![("a".to_string(), (example_inst(), vec![example_key().encrypt_i64(1).unwrap()]))]);

/// Adds encrypted bin sums.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MergeEncSums {
    /// The guest's Paillier key.
    pub pk: PublicKey,
}

impl ReduceOp for MergeEncSums {
    const NAME: &'static str = "hetero_feature_binning.merge_enc_sums";
    type V = EncSums;
    fn reduce(&self, mut a: EncSums, b: EncSums) -> Result<EncSums, OpError> {
        for (x, y) in a.iter_mut().zip(b) {
            for (p, q) in x.iter_mut().zip(y) {
                if p.0.len() < q.0.len() {
                    p.0.resize(q.0.len(), None);
                }
                for (acc, c) in p.0.iter_mut().zip(&q.0) {
                    if let Some(c) = c {
                        add(&self.pk, acc, c)?;
                    }
                }
                p.1 += q.1;
            }
        }
        Ok(a)
    }
}
register_op!(reduce MergeEncSums, example: MergeEncSums { pk: example_key() }, input: { let pk = example_key(); let c = pk.encrypt_i64(1).unwrap(); vec![(vec![vec![(vec![Some(c.clone())], 1u64)]], vec![vec![(vec![None::<Ciphertext>], 2u64)]])] });

/// Replaces binned features by their bin index (`bin_num`) or WOE (`woe`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TransformBins {
    /// Columns to transform.
    pub cols: Vec<usize>,
    /// Their split points.
    pub splits: Vec<Vec<f64>>,
    /// Their WOE per bin (for `woe`).
    pub woe: Option<Vec<Vec<f64>>>,
}

impl MapValuesOp for TransformBins {
    const NAME: &'static str = "hetero_feature_binning.transform";
    type V = Instance;
    type Out = Instance;
    fn map_value(&self, mut v: Instance) -> Result<Instance, OpError> {
        for (k, &j) in self.cols.iter().enumerate() {
            if let Some(b) = bin_of(&self.splits[k], v.features[j]) {
                v.features[j] = match &self.woe {
                    Some(w) => w[k][b],
                    None => b as f64,
                };
            }
        }
        Ok(v)
    }
}
register_op!(map_values TransformBins, example: TransformBins { cols: vec![0], splits: vec![vec![0.0, 1.0]], woe: None }, input: vec![("a".to_string(), example_inst())]);
