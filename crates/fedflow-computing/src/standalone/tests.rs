use super::*;
use crate::error::OpError;
use crate::op::{registry, run_example, Emitter};
use crate::typed::{parallelize, parallelize_values, TypedTable};
use crate::{
    register_op, FilterOp, FlatMapOp, JoinOp, MapOp, MapPartitionsOp, MapValuesOp, ReduceOp, Sample,
};
use crate::{ApplyPartitionsOp, OpSpec};
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct AddF64(f64);
impl MapValuesOp for AddF64 {
    const NAME: &'static str = "test.add_f64";
    type V = f64;
    type Out = f64;
    fn map_value(&self, v: f64) -> Result<f64, OpError> {
        Ok(v + self.0)
    }
}
register_op!(map_values AddF64, example: AddF64(0.5), input: vec![(1u64, 1.0f64), (2, 2.0)]);

#[derive(Serialize, Deserialize)]
struct ModKey(u64);
impl MapOp for ModKey {
    const NAME: &'static str = "test.mod_key";
    type K = u64;
    type V = f64;
    type K2 = u64;
    type V2 = f64;
    fn map(&self, k: u64, v: f64) -> Result<(u64, f64), OpError> {
        Ok((k % self.0, v))
    }
}
register_op!(map ModKey, example: ModKey(3), input: vec![(1u64, 1.0f64), (5, 2.0)]);

#[derive(Serialize, Deserialize)]
struct Repeat(u64);
impl FlatMapOp for Repeat {
    const NAME: &'static str = "test.repeat";
    type K = u64;
    type V = f64;
    type K2 = u64;
    type V2 = f64;
    fn flat_map(&self, k: u64, v: f64) -> Result<Vec<(u64, f64)>, OpError> {
        Ok((0..self.0).map(|i| (k * 100 + i, v)).collect())
    }
}
register_op!(flat_map Repeat, example: Repeat(2), input: vec![(1u64, 1.0f64)]);

#[derive(Serialize, Deserialize)]
struct EvenKeys;
impl FilterOp for EvenKeys {
    const NAME: &'static str = "test.even_keys";
    type K = u64;
    type V = f64;
    fn keep(&self, k: &u64, _v: &f64) -> Result<bool, OpError> {
        Ok(k.is_multiple_of(2))
    }
}
register_op!(filter EvenKeys, example: EvenKeys, input: vec![(1u64, 1.0f64), (2, 2.0)]);

#[derive(Serialize, Deserialize)]
struct SumF64;
impl ReduceOp for SumF64 {
    const NAME: &'static str = "test.sum_f64";
    type V = f64;
    fn reduce(&self, a: f64, b: f64) -> Result<f64, OpError> {
        Ok(a + b)
    }
}
register_op!(reduce SumF64, example: SumF64, input: vec![(1.0f64, 2.0f64)]);

#[derive(Serialize, Deserialize)]
struct Pair;
impl JoinOp for Pair {
    const NAME: &'static str = "test.pair";
    type L = f64;
    type R = String;
    type Out = (f64, String);
    fn join(&self, l: f64, r: String) -> Result<(f64, String), OpError> {
        Ok((l, r))
    }
}
register_op!(join Pair, example: Pair, input: vec![(1.0f64, "a".to_string())]);

#[derive(Serialize, Deserialize)]
struct BucketCount(u64);
impl MapPartitionsOp for BucketCount {
    const NAME: &'static str = "test.bucket_count";
    const PRESERVES_KEYS: bool = false;
    type K = u64;
    type V = f64;
    type K2 = u64;
    type V2 = f64;
    fn map_partition(
        &self,
        _index: usize,
        rows: &mut dyn Iterator<Item = (u64, f64)>,
        out: &mut Emitter<'_, u64, f64>,
    ) -> Result<(), OpError> {
        for (k, _) in rows {
            out.emit(&(k % self.0), &1.0)?;
        }
        Ok(())
    }
}
register_op!(map_partitions BucketCount, example: BucketCount(2), input: vec![(1u64, 1.0f64), (3, 1.0)]);

#[derive(Serialize, Deserialize)]
struct RowsInPart;
impl ApplyPartitionsOp for RowsInPart {
    const NAME: &'static str = "test.rows_in_part";
    type K = u64;
    type V = f64;
    type Out = u64;
    fn apply(
        &self,
        _index: usize,
        rows: &mut dyn Iterator<Item = (u64, f64)>,
    ) -> Result<u64, OpError> {
        Ok(rows.count() as u64)
    }
}
register_op!(apply_partitions RowsInPart, example: RowsInPart, input: vec![(1u64, 1.0f64), (3, 1.0)]);

#[derive(Serialize, Deserialize)]
struct Fails;
impl MapValuesOp for Fails {
    const NAME: &'static str = "test.fails";
    type V = f64;
    type Out = f64;
    fn map_value(&self, v: f64) -> Result<f64, OpError> {
        if v > 5.0 {
            Err(OpError::msg(format!("value {v} too large")))
        } else {
            Ok(v)
        }
    }
}

fn session() -> StandaloneSession {
    StandaloneSession::new("test", StandaloneOptions::default()).unwrap()
}

fn numbers(s: &StandaloneSession, n: u64, parts: usize) -> TypedTable<u64, f64> {
    parallelize(s, (0..n).map(|i| (i, i as f64)).collect(), parts).unwrap()
}

fn assert_partitioned<K: fedflow_core::Data, V: fedflow_core::Data>(t: &TypedTable<K, V>) {
    let n = t.partitions();
    for (i, block) in t.raw().blocks().unwrap().iter().enumerate() {
        for (k, _) in block.iter() {
            assert_eq!(partition_of(k, n), i);
        }
    }
}

#[test]
fn parallelize_keeps_last_duplicate() {
    let s = session();
    let t = parallelize(&s, vec![(1u64, 1.0f64), (2, 2.0), (1, 3.0)], 4).unwrap();
    assert_eq!(t.count().unwrap(), 2);
    let mut rows = t.collect().unwrap();
    rows.sort_by_key(|r| r.0);
    assert_eq!(rows, vec![(1, 3.0), (2, 2.0)]);
    let v = parallelize_values(&s, vec!["a".to_string(), "b".to_string()], 2).unwrap();
    let mut rows = v.collect().unwrap();
    rows.sort();
    assert_eq!(rows, vec![(0, "a".to_string()), (1, "b".to_string())]);
}

#[test]
fn row_ops() {
    let s = session();
    let t = numbers(&s, 10_000, 7);
    assert_partitioned(&t);
    let plus = t.map_values(AddF64(1.0)).unwrap();
    assert_eq!(
        plus.reduce(SumF64).unwrap(),
        Some((1..=10_000).map(|i| i as f64).sum())
    );
    let modded = t.map(ModKey(10)).unwrap();
    assert_eq!(modded.count().unwrap(), 10);
    assert_partitioned(&modded);
    let rep = t.flat_map(Repeat(3)).unwrap();
    assert_eq!(rep.count().unwrap(), 30_000);
    assert_partitioned(&rep);
    let even = t.filter(EvenKeys).unwrap();
    assert_eq!(even.count().unwrap(), 5_000);
    let counts = t.map_reduce_partitions(BucketCount(4), SumF64).unwrap();
    let mut c = counts.collect().unwrap();
    c.sort_by_key(|r| r.0);
    assert_eq!(c, vec![(0, 2500.0), (1, 2500.0), (2, 2500.0), (3, 2500.0)]);
    let per_part = t.apply_partitions(RowsInPart).unwrap();
    assert_eq!(
        per_part.collect().unwrap().iter().map(|r| r.1).sum::<u64>(),
        10_000
    );
    let err = t.map_values(Fails).unwrap_err().to_string();
    assert!(
        err.starts_with("op 'test.fails': value ") && err.ends_with("too large"),
        "{err}"
    );
    let empty = numbers(&s, 0, 3);
    assert_eq!(empty.reduce(SumF64).unwrap(), None);
    assert_eq!(t.take(5).unwrap().len(), 5);
    assert!(t.first().unwrap().is_some());
}

#[test]
fn binary_ops() {
    let s = session();
    let a = numbers(&s, 1000, 8);
    let b: TypedTable<u64, String> = parallelize(
        &s,
        (500..1500u64).map(|i| (i, format!("s{i}"))).collect(),
        8,
    )
    .unwrap();
    let j = a.join(&b, Pair).unwrap();
    assert_eq!(j.count().unwrap(), 500);
    let row = j
        .collect()
        .unwrap()
        .into_iter()
        .find(|r| r.0 == 700)
        .unwrap();
    assert_eq!(row.1, (700.0, "s700".to_string()));
    // Different partition counts are reshuffled first.
    let b3: TypedTable<u64, String> = parallelize(
        &s,
        (500..1500u64).map(|i| (i, format!("s{i}"))).collect(),
        3,
    )
    .unwrap();
    assert_eq!(a.join(&b3, Pair).unwrap().count().unwrap(), 500);
    let c = numbers(&s, 1500, 8).map_values(AddF64(0.5)).unwrap();
    let u = a.union(&c).unwrap();
    assert_eq!(u.count().unwrap(), 1500);
    let u_rows = u.collect().unwrap();
    assert!(u_rows.iter().any(|r| r.0 == 10 && r.1 == 10.0));
    assert!(u_rows.iter().any(|r| r.0 == 1200 && r.1 == 1200.5));
    let merged = a.union_with(&c, SumF64).unwrap().collect().unwrap();
    assert!(merged.iter().any(|r| r.0 == 10 && r.1 == 20.5));
    assert_eq!(c.subtract_by_key(&a).unwrap().count().unwrap(), 500);
    assert_eq!(c.subtract_by_key(&b3).unwrap().count().unwrap(), 500);
}

#[test]
fn sampling_is_exact_and_deterministic() {
    let s = session();
    let t = numbers(&s, 10_000, 6);
    let a = t.sample(Sample::Num(123), 7).unwrap();
    assert_eq!(a.count().unwrap(), 123);
    let mut ra = a.collect().unwrap();
    let mut rb = t.sample(Sample::Num(123), 7).unwrap().collect().unwrap();
    ra.sort_by_key(|r| r.0);
    rb.sort_by_key(|r| r.0);
    assert_eq!(ra, rb);
    let f = t.sample(Sample::Fraction(0.1), 1).unwrap().count().unwrap();
    assert!((800..1200).contains(&f), "{f}");
    assert!(t.sample(Sample::Fraction(1.5), 1).is_err());
}

#[test]
fn spills_beyond_budget_and_stays_correct() {
    let s = StandaloneSession::new(
        "spill",
        StandaloneOptions {
            memory_budget: Some(1 << 20),
            spill_dir: None,
        },
    )
    .unwrap();
    let n = 400_000u64;
    let t = numbers(&s, n, 8);
    assert!(s.spilled_bytes() > 4 << 20, "spilled {}", s.spilled_bytes());
    assert!(s.resident_bytes() <= 1 << 20);
    assert!(t.raw().blocks().unwrap().iter().any(|b| b.is_mapped()));
    let sum = t
        .map_values(AddF64(1.0))
        .unwrap()
        .reduce(SumF64)
        .unwrap()
        .unwrap();
    assert_eq!(sum, (1..=n).map(|i| i as f64).sum::<f64>());
    let j = t
        .join(
            &t.map_values(AddF64(0.0)).unwrap().map(ModKey(n)).unwrap(),
            SumF64Join,
        )
        .unwrap();
    assert_eq!(j.count().unwrap(), n);
    let dir = s.spill_dir().to_path_buf();
    assert!(std::fs::read_dir(&dir).unwrap().count() > 0);
    drop((t, j));
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        0,
        "spill files are removed with their tables"
    );
    assert_eq!(s.resident_bytes(), 0);
}

#[derive(Serialize, Deserialize)]
struct SumF64Join;
impl JoinOp for SumF64Join {
    const NAME: &'static str = "test.sum_join";
    type L = f64;
    type R = f64;
    type Out = f64;
    fn join(&self, l: f64, r: f64) -> Result<f64, OpError> {
        Ok(l + r)
    }
}

#[test]
fn every_registered_op_round_trips() {
    let all = registry::all();
    assert!(all.len() >= 8);
    let mut names: Vec<_> = all.iter().map(|r| r.name).collect();
    names.dedup();
    assert_eq!(names.len(), all.len(), "op names are unique");
    for reg in all {
        let example = (reg.example)();
        let spec = example.op.spec();
        assert_eq!(spec.name, reg.name);
        assert_eq!(spec.kind, reg.kind);
        let wire = serde_json::to_string(&spec).unwrap();
        let back: OpSpec = serde_json::from_str(&wire).unwrap();
        let rebuilt = registry::build(&back).unwrap();
        let direct = run_example(&example.op, &example.input).unwrap();
        let shipped = run_example(&rebuilt, &example.input).unwrap();
        assert!(!direct.is_empty(), "{} example produced nothing", reg.name);
        assert_eq!(direct, shipped, "{}", reg.name);
    }
    assert!(registry::build(&OpSpec {
        kind: crate::OpKind::Map,
        name: "nope".into(),
        args: vec![]
    })
    .is_err());
}
