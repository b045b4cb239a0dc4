//! Engine conformance: every Table operation run on one session, with results
//! an engine must reproduce exactly (rows, and their order within each
//! partition). The end-to-end test runs it on the standalone engine and on
//! Spark and compares; the ops are registered in every fedflow binary so that
//! `fedflow worker` can run them.

use fedflow_computing::{
    parallelize, register_op, ApplyPartitionsOp, ComputingError, Emitter, FilterOp, FlatMapOp,
    JoinOp, MapOp, MapPartitionsOp, MapValuesOp, OpError, ReduceOp, Sample, Session, TypedTable,
};
use serde::{Deserialize, Serialize};

/// `v -> v * a + b`.
#[derive(Serialize, Deserialize)]
pub struct Affine(pub f64, pub f64);
impl MapValuesOp for Affine {
    const NAME: &'static str = "conformance_affine";
    type V = f64;
    type Out = f64;
    fn map_value(&self, v: f64) -> Result<f64, OpError> {
        Ok(v * self.0 + self.1)
    }
}
register_op!(map_values Affine, example: Affine(2.0, 1.0), input: vec![(1u64, 1.0f64)]);

/// `(k, v) -> (k % m, v)`: keys collide, so the reshuffle must dedupe.
#[derive(Serialize, Deserialize)]
pub struct KeyMod(pub u64);
impl MapOp for KeyMod {
    const NAME: &'static str = "conformance_key_mod";
    type K = u64;
    type V = f64;
    type K2 = u64;
    type V2 = f64;
    fn map(&self, k: u64, v: f64) -> Result<(u64, f64), OpError> {
        Ok((k % self.0, v))
    }
}
register_op!(map KeyMod, example: KeyMod(3), input: vec![(4u64, 1.0f64)]);

/// `(k, v) -> [(k * 1000 + i, v + i) for i < n]`.
#[derive(Serialize, Deserialize)]
pub struct Fan(pub u64);
impl FlatMapOp for Fan {
    const NAME: &'static str = "conformance_fan";
    type K = u64;
    type V = f64;
    type K2 = u64;
    type V2 = f64;
    fn flat_map(&self, k: u64, v: f64) -> Result<Vec<(u64, f64)>, OpError> {
        Ok((0..self.0).map(|i| (k * 1000 + i, v + i as f64)).collect())
    }
}
register_op!(flat_map Fan, example: Fan(2), input: vec![(1u64, 1.0f64)]);

/// Grows a seed table into a big one on the engine (benchmarks): seed key
/// `k` becomes keys `k·n … k·n + n − 1` below `rows`, each valued as its key.
#[derive(Serialize, Deserialize)]
pub struct Spread {
    /// Keys per seed key.
    pub n: u64,
    /// Keys wanted in all.
    pub rows: u64,
}
impl FlatMapOp for Spread {
    const NAME: &'static str = "conformance_spread";
    type K = u64;
    type V = f64;
    type K2 = u64;
    type V2 = f64;
    fn flat_map(&self, k: u64, _v: f64) -> Result<Vec<(u64, f64)>, OpError> {
        let first = k.saturating_mul(self.n);
        let end = first.saturating_add(self.n).min(self.rows);
        Ok((first..end).map(|key| (key, key as f64)).collect())
    }
}
register_op!(flat_map Spread, example: Spread { n: 3, rows: 5 }, input: vec![(1u64, 0.0f64)]);

/// Keeps keys divisible by `m`.
#[derive(Serialize, Deserialize)]
pub struct KeyDivisible(pub u64);
impl FilterOp for KeyDivisible {
    const NAME: &'static str = "conformance_key_divisible";
    type K = u64;
    type V = f64;
    fn keep(&self, k: &u64, _v: &f64) -> Result<bool, OpError> {
        Ok(k.is_multiple_of(self.0))
    }
}
register_op!(filter KeyDivisible, example: KeyDivisible(2), input: vec![(2u64, 1.0f64)]);

/// Emits `(bucket = k % m, (partition index, 1.0))` per row: new keys, reshuffled.
#[derive(Serialize, Deserialize)]
pub struct Buckets(pub u64);
impl MapPartitionsOp for Buckets {
    const NAME: &'static str = "conformance_buckets";
    const PRESERVES_KEYS: bool = false;
    type K = u64;
    type V = f64;
    type K2 = u64;
    type V2 = (u64, f64);
    fn map_partition(
        &self,
        index: usize,
        rows: &mut dyn Iterator<Item = (u64, f64)>,
        out: &mut Emitter<'_, u64, (u64, f64)>,
    ) -> Result<(), OpError> {
        for (k, v) in rows {
            out.emit(&(k % self.0), &(index as u64, v))?;
        }
        Ok(())
    }
}
register_op!(map_partitions Buckets, example: Buckets(3), input: vec![(1u64, 1.0f64)]);

/// `(rows in the partition, sum of values, partition index)`.
#[derive(Serialize, Deserialize)]
pub struct PartSummary;
impl ApplyPartitionsOp for PartSummary {
    const NAME: &'static str = "conformance_part_summary";
    type K = u64;
    type V = f64;
    type Out = (u64, f64, u64);
    fn apply(
        &self,
        index: usize,
        rows: &mut dyn Iterator<Item = (u64, f64)>,
    ) -> Result<(u64, f64, u64), OpError> {
        let (mut n, mut s) = (0u64, 0.0);
        for (_, v) in rows {
            n += 1;
            s += v;
        }
        Ok((n, s, index as u64))
    }
}
register_op!(apply_partitions PartSummary, example: PartSummary, input: vec![(1u64, 1.0f64)]);

/// Sum of two f64 (order-sensitive in floating point, so partition order shows).
#[derive(Serialize, Deserialize)]
pub struct AddF64;
impl ReduceOp for AddF64 {
    const NAME: &'static str = "conformance_add_f64";
    type V = f64;
    fn reduce(&self, a: f64, b: f64) -> Result<f64, OpError> {
        Ok(a + b)
    }
}
register_op!(reduce AddF64, example: AddF64, input: vec![(1.0f64, 2.0f64)]);

/// Merges `(index, v)` pairs of equal buckets: sums both.
#[derive(Serialize, Deserialize)]
pub struct AddPairs;
impl ReduceOp for AddPairs {
    const NAME: &'static str = "conformance_add_pairs";
    type V = (u64, f64);
    fn reduce(&self, a: (u64, f64), b: (u64, f64)) -> Result<(u64, f64), OpError> {
        Ok((a.0 + b.0, a.1 + b.1))
    }
}
register_op!(reduce AddPairs, example: AddPairs, input: vec![((1u64, 1.0f64), (2u64, 2.0f64))]);

/// `(l, r) -> l - 2r`.
#[derive(Serialize, Deserialize)]
pub struct Diff;
impl JoinOp for Diff {
    const NAME: &'static str = "conformance_diff";
    type L = f64;
    type R = f64;
    type Out = f64;
    fn join(&self, l: f64, r: f64) -> Result<f64, OpError> {
        Ok(l - 2.0 * r)
    }
}
register_op!(join Diff, example: Diff, input: vec![(1.0f64, 2.0f64)]);

/// Fails on a value: makes an op error on executors observable.
#[derive(Serialize, Deserialize)]
pub struct FailOn(pub f64);
impl MapValuesOp for FailOn {
    const NAME: &'static str = "conformance_fail_on";
    type V = f64;
    type Out = f64;
    fn map_value(&self, v: f64) -> Result<f64, OpError> {
        if v == self.0 {
            return Err(OpError::msg(format!("value {v} is not allowed")));
        }
        Ok(v)
    }
}
register_op!(map_values FailOn, example: FailOn(-1.0), input: vec![(1u64, 1.0f64)]);

/// `v -> n bytes`: makes a partition as large as wanted on the executors
/// (the test of an executor running out of memory).
#[derive(Serialize, Deserialize)]
pub struct Inflate(pub u64);
impl MapValuesOp for Inflate {
    const NAME: &'static str = "conformance_inflate";
    type V = f64;
    type Out = Vec<u8>;
    fn map_value(&self, v: f64) -> Result<Vec<u8>, OpError> {
        let n = usize::try_from(self.0).map_err(|_| OpError::msg("size out of range"))?;
        let mut b = vec![0u8; n];
        // Incompressible-looking bytes, so nothing on the way shrinks them.
        let mut x = v.to_bits() | 1;
        for byte in b.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *byte = x as u8;
        }
        Ok(b)
    }
}
register_op!(map_values Inflate, example: Inflate(4), input: vec![(1u64, 1.0f64)]);

/// Rows of each partition, in order.
pub type PartRows = Vec<Vec<(Vec<u8>, Vec<u8>)>>;
/// One operation's result.
pub type Outcome = (String, PartRows);

fn rows_of<K: fedflow_core::Data, V: fedflow_core::Data>(
    t: &TypedTable<K, V>,
) -> Result<PartRows, ComputingError> {
    Ok(t.raw()
        .blocks()?
        .iter()
        .map(|b| b.iter().map(|(k, v)| (k.to_vec(), v.to_vec())).collect())
        .collect())
}

fn value<T: Serialize>(v: &T) -> PartRows {
    vec![vec![(
        Vec::new(),
        fedflow_core::encode(v).unwrap_or_default(),
    )]]
}

/// Runs every Table operation on `rows` rows (keys 0..rows, `partitions`
/// partitions) and returns each result.
pub fn run_all(
    session: &dyn Session,
    rows: u64,
    partitions: usize,
) -> Result<Vec<Outcome>, ComputingError> {
    let data: Vec<(u64, f64)> = (0..rows).map(|k| (k, (k % 97) as f64 * 0.25)).collect();
    let a = parallelize(session, data.clone(), partitions)?;
    let b = parallelize(
        session,
        data.iter()
            .filter(|(k, _)| k % 3 == 0)
            .map(|(k, v)| (*k, v + 1.0))
            .collect::<Vec<_>>(),
        partitions + 1,
    )?;
    let mut out: Vec<Outcome> = vec![
        ("parallelize".into(), rows_of(&a)?),
        ("count".into(), value(&a.count()?)),
        (
            "map_values".into(),
            rows_of(&a.map_values(Affine(2.0, 1.0))?)?,
        ),
        ("map".into(), rows_of(&a.map(KeyMod(7))?)?),
        ("flat_map".into(), rows_of(&a.flat_map(Fan(3))?)?),
        ("filter".into(), rows_of(&a.filter(KeyDivisible(4))?)?),
        (
            "map_partitions".into(),
            rows_of(&a.map_partitions(Buckets(5))?)?,
        ),
        (
            "apply_partitions".into(),
            rows_of(&a.apply_partitions(PartSummary)?)?,
        ),
        (
            "map_reduce_partitions".into(),
            rows_of(&a.map_reduce_partitions(Buckets(5), AddPairs)?)?,
        ),
        ("reduce".into(), value(&a.reduce(AddF64)?)),
        ("join".into(), rows_of(&a.join(&b, Diff)?)?),
        ("union".into(), rows_of(&a.union(&b)?)?),
        ("union_with".into(), rows_of(&a.union_with(&b, AddF64)?)?),
        ("subtract_by_key".into(), rows_of(&a.subtract_by_key(&b)?)?),
        (
            "sample_fraction".into(),
            rows_of(&a.sample(Sample::Fraction(0.3), 7)?)?,
        ),
        (
            "sample_num".into(),
            rows_of(&a.sample(Sample::Num(25), 11)?)?,
        ),
        (
            "repartition".into(),
            rows_of(&TypedTable::<u64, f64>::from_raw(
                a.raw().repartition(partitions + 2)?,
            ))?,
        ),
        ("take".into(), value(&a.take(10)?)),
    ];
    let empty = parallelize::<u64, f64>(session, Vec::new(), partitions)?;
    out.push(("reduce_empty".into(), value(&empty.reduce(AddF64)?)));
    Ok(out)
}
