//! Named, serialisable operations.
//!
//! A component never hands a table a closure. It hands it a value of a struct
//! that implements one of the typed op traits below ([`MapValuesOp`], [`JoinOp`],
//! …): the struct's fields are the op's arguments (serde), `NAME` its stable
//! name. Adapters turn a typed op into one of two byte-level shapes that engines
//! run:
//!
//! * [`PartitionFn`]: rows of one partition in, rows out (map, map_values,
//!   flat_map, filter, map_partitions, apply_partitions);
//! * [`CombineFn`]: two values in, one out (reduce, join, union's merge,
//!   map_reduce_partitions' reducer).
//!
//! Each op is registered once with [`register_op!`](crate::register_op), which
//! records how to rebuild it from its [`OpSpec`] and an example (op + input)
//! that the round-trip test runs. The Spark engine ships the `OpSpec`; the
//! `fedflow worker` process rebuilds the op with [`registry::build`].

use crate::error::OpError;
use fedflow_core::codec::{decode, encode, encode_into, Data};
use fedflow_core::{RowBlock, RowBlockBuilder};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::marker::PhantomData;
use std::sync::Arc;

/// The shape of an op: which table operation it serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    /// `(k, v) -> (k', v')`.
    Map,
    /// `v -> v'`, keys kept.
    MapValues,
    /// `(k, v) -> [(k', v')]`.
    FlatMap,
    /// `(k, v) -> bool`.
    Filter,
    /// A partition's rows -> rows.
    MapPartitions,
    /// A partition's rows -> one value.
    ApplyPartitions,
    /// `(v, v) -> v`, associative.
    Reduce,
    /// `(left v, right v) -> v`.
    Join,
}

/// The serialised form of an op: what crosses a process boundary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpSpec {
    /// Its shape.
    pub kind: OpKind,
    /// Its registered name.
    pub name: String,
    /// Its arguments (the op struct), bincode-encoded.
    pub args: Vec<u8>,
}

/// Rows of one partition in, rows out. Byte level; engines run these.
pub trait PartitionFn: Send + Sync {
    /// Its serialised form.
    fn spec(&self) -> OpSpec;
    /// True when every output row keeps its input row's key (no reshuffle needed).
    fn preserves_keys(&self) -> bool;
    /// Runs over the rows of partition `index`, appending output rows to `out`.
    fn run(&self, index: usize, input: &RowBlock, out: &mut RowBlockBuilder)
        -> Result<(), OpError>;
}

/// Two values in, one out. Byte level; engines run these.
pub trait CombineFn: Send + Sync {
    /// Its serialised form.
    fn spec(&self) -> OpSpec;
    /// Combines two encoded values.
    fn combine(&self, a: &[u8], b: &[u8]) -> Result<Vec<u8>, OpError>;
}

/// A built op of either shape.
#[derive(Clone)]
pub enum RawOp {
    /// Rows -> rows.
    Partition(Arc<dyn PartitionFn>),
    /// Values -> value.
    Combine(Arc<dyn CombineFn>),
}

impl RawOp {
    /// Its serialised form.
    pub fn spec(&self) -> OpSpec {
        match self {
            RawOp::Partition(f) => f.spec(),
            RawOp::Combine(f) => f.spec(),
        }
    }
}

// ---------------------------------------------------------------- typed traits

/// Rows of a typed table, as a vector.
pub type Rows<K, V> = Vec<(K, V)>;

/// `map`: each row to a new row (keys may change; the table is reshuffled).
pub trait MapOp: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// Stable registered name.
    const NAME: &'static str;
    /// Input key.
    type K: Data;
    /// Input value.
    type V: Data;
    /// Output key.
    type K2: Data;
    /// Output value.
    type V2: Data;
    /// Maps one row.
    fn map(&self, key: Self::K, value: Self::V) -> Result<(Self::K2, Self::V2), OpError>;
}

/// `mapValues`: each value to a new value; keys and partitioning kept.
pub trait MapValuesOp: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// Stable registered name.
    const NAME: &'static str;
    /// Input value.
    type V: Data;
    /// Output value.
    type Out: Data;
    /// Maps one value.
    fn map_value(&self, value: Self::V) -> Result<Self::Out, OpError>;
}

/// `flatMap`: each row to zero or more rows (reshuffled).
pub trait FlatMapOp: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// Stable registered name.
    const NAME: &'static str;
    /// Input key.
    type K: Data;
    /// Input value.
    type V: Data;
    /// Output key.
    type K2: Data;
    /// Output value.
    type V2: Data;
    /// Maps one row to rows.
    fn flat_map(&self, key: Self::K, value: Self::V) -> Result<Rows<Self::K2, Self::V2>, OpError>;
}

/// `filter`: keeps the rows for which it returns true.
pub trait FilterOp: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// Stable registered name.
    const NAME: &'static str;
    /// Key.
    type K: Data;
    /// Value.
    type V: Data;
    /// Whether to keep the row.
    fn keep(&self, key: &Self::K, value: &Self::V) -> Result<bool, OpError>;
}

/// Collects the output rows of a [`MapPartitionsOp`].
pub struct Emitter<'a, K, V> {
    out: &'a mut RowBlockBuilder,
    kbuf: Vec<u8>,
    vbuf: Vec<u8>,
    _p: PhantomData<fn(K, V)>,
}

impl<K: Data, V: Data> Emitter<'_, K, V> {
    /// Emits one output row.
    pub fn emit(&mut self, key: &K, value: &V) -> Result<(), OpError> {
        self.kbuf.clear();
        self.vbuf.clear();
        encode_into(key, &mut self.kbuf)?;
        encode_into(value, &mut self.vbuf)?;
        self.out.push(&self.kbuf, &self.vbuf);
        Ok(())
    }
}

/// `mapPartitions`: all rows of a partition to rows.
pub trait MapPartitionsOp: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// Stable registered name.
    const NAME: &'static str;
    /// True when every output key is the key of an input row of the same
    /// partition (FATE's `preserves_partitioning`): no reshuffle.
    const PRESERVES_KEYS: bool;
    /// Input key.
    type K: Data;
    /// Input value.
    type V: Data;
    /// Output key.
    type K2: Data;
    /// Output value.
    type V2: Data;
    /// Maps partition `index`'s rows, emitting output rows.
    fn map_partition(
        &self,
        index: usize,
        rows: &mut dyn Iterator<Item = (Self::K, Self::V)>,
        out: &mut Emitter<'_, Self::K2, Self::V2>,
    ) -> Result<(), OpError>;
}

/// `applyPartitions`: all rows of a partition to one value, keyed (as FATE's
/// standalone engine does) by the partition's last key. Empty partitions give
/// no row.
pub trait ApplyPartitionsOp: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// Stable registered name.
    const NAME: &'static str;
    /// Key.
    type K: Data;
    /// Value.
    type V: Data;
    /// The per-partition result.
    type Out: Data;
    /// Summarises partition `index`'s rows.
    fn apply(
        &self,
        index: usize,
        rows: &mut dyn Iterator<Item = (Self::K, Self::V)>,
    ) -> Result<Self::Out, OpError>;
}

/// `reduce` (and union's merge, map_reduce's reducer): associative `(v, v) -> v`.
pub trait ReduceOp: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// Stable registered name.
    const NAME: &'static str;
    /// Value.
    type V: Data;
    /// Combines two values.
    fn reduce(&self, a: Self::V, b: Self::V) -> Result<Self::V, OpError>;
}

/// `join`: the values of a key present on both sides to one value.
pub trait JoinOp: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// Stable registered name.
    const NAME: &'static str;
    /// Left value.
    type L: Data;
    /// Right value.
    type R: Data;
    /// Output value.
    type Out: Data;
    /// Joins two values.
    fn join(&self, left: Self::L, right: Self::R) -> Result<Self::Out, OpError>;
}

// ------------------------------------------------------------------- adapters

fn spec_of<T: Serialize>(kind: OpKind, name: &str, op: &T) -> OpSpec {
    // Encoding a plain struct into a Vec cannot fail for serde-derived types;
    // an op whose Serialize impl fails gets empty args and fails on rebuild.
    OpSpec {
        kind,
        name: name.to_string(),
        args: encode(op).unwrap_or_default(),
    }
}

/// Decodes rows of a partition, stopping at the first malformed row and
/// remembering the error so the adapter can report it.
struct Decoded<'a, K, V> {
    rows: fedflow_core::RowIter<'a>,
    error: &'a mut Option<OpError>,
    _p: PhantomData<fn() -> (K, V)>,
}

impl<K: Data, V: Data> Iterator for Decoded<'_, K, V> {
    type Item = (K, V);
    fn next(&mut self) -> Option<(K, V)> {
        if self.error.is_some() {
            return None;
        }
        let (k, v) = self.rows.next()?;
        match (decode::<K>(k), decode::<V>(v)) {
            (Ok(k), Ok(v)) => Some((k, v)),
            (Err(e), _) | (_, Err(e)) => {
                *self.error = Some(e.into());
                None
            }
        }
    }
}

macro_rules! adapter {
    ($name:ident, $trait:ident) => {
        #[doc = concat!("Byte-level adapter of a [`", stringify!($trait), "`].")]
        pub struct $name<F>(pub F);
    };
}
adapter!(MapAdapter, MapOp);
adapter!(MapValuesAdapter, MapValuesOp);
adapter!(FlatMapAdapter, FlatMapOp);
adapter!(FilterAdapter, FilterOp);
adapter!(MapPartitionsAdapter, MapPartitionsOp);
adapter!(ApplyPartitionsAdapter, ApplyPartitionsOp);
adapter!(ReduceAdapter, ReduceOp);
adapter!(JoinAdapter, JoinOp);

impl<F: MapOp> PartitionFn for MapAdapter<F> {
    fn spec(&self) -> OpSpec {
        spec_of(OpKind::Map, F::NAME, &self.0)
    }
    fn preserves_keys(&self) -> bool {
        false
    }
    fn run(
        &self,
        _index: usize,
        input: &RowBlock,
        out: &mut RowBlockBuilder,
    ) -> Result<(), OpError> {
        let (mut kb, mut vb) = (Vec::new(), Vec::new());
        for (k, v) in input.iter() {
            let (k2, v2) = self
                .0
                .map(decode(k)?, decode(v)?)
                .map_err(|e| e.named(F::NAME))?;
            kb.clear();
            vb.clear();
            encode_into(&k2, &mut kb)?;
            encode_into(&v2, &mut vb)?;
            out.push(&kb, &vb);
        }
        Ok(())
    }
}

impl<F: MapValuesOp> PartitionFn for MapValuesAdapter<F> {
    fn spec(&self) -> OpSpec {
        spec_of(OpKind::MapValues, F::NAME, &self.0)
    }
    fn preserves_keys(&self) -> bool {
        true
    }
    fn run(
        &self,
        _index: usize,
        input: &RowBlock,
        out: &mut RowBlockBuilder,
    ) -> Result<(), OpError> {
        let mut vb = Vec::new();
        for (k, v) in input.iter() {
            let v2 = self.0.map_value(decode(v)?).map_err(|e| e.named(F::NAME))?;
            vb.clear();
            encode_into(&v2, &mut vb)?;
            out.push(k, &vb);
        }
        Ok(())
    }
}

impl<F: FlatMapOp> PartitionFn for FlatMapAdapter<F> {
    fn spec(&self) -> OpSpec {
        spec_of(OpKind::FlatMap, F::NAME, &self.0)
    }
    fn preserves_keys(&self) -> bool {
        false
    }
    fn run(
        &self,
        _index: usize,
        input: &RowBlock,
        out: &mut RowBlockBuilder,
    ) -> Result<(), OpError> {
        let (mut kb, mut vb) = (Vec::new(), Vec::new());
        for (k, v) in input.iter() {
            for (k2, v2) in self
                .0
                .flat_map(decode(k)?, decode(v)?)
                .map_err(|e| e.named(F::NAME))?
            {
                kb.clear();
                vb.clear();
                encode_into(&k2, &mut kb)?;
                encode_into(&v2, &mut vb)?;
                out.push(&kb, &vb);
            }
        }
        Ok(())
    }
}

impl<F: FilterOp> PartitionFn for FilterAdapter<F> {
    fn spec(&self) -> OpSpec {
        spec_of(OpKind::Filter, F::NAME, &self.0)
    }
    fn preserves_keys(&self) -> bool {
        true
    }
    fn run(
        &self,
        _index: usize,
        input: &RowBlock,
        out: &mut RowBlockBuilder,
    ) -> Result<(), OpError> {
        for (k, v) in input.iter() {
            if self
                .0
                .keep(&decode(k)?, &decode(v)?)
                .map_err(|e| e.named(F::NAME))?
            {
                out.push(k, v);
            }
        }
        Ok(())
    }
}

impl<F: MapPartitionsOp> PartitionFn for MapPartitionsAdapter<F> {
    fn spec(&self) -> OpSpec {
        spec_of(OpKind::MapPartitions, F::NAME, &self.0)
    }
    fn preserves_keys(&self) -> bool {
        F::PRESERVES_KEYS
    }
    fn run(
        &self,
        index: usize,
        input: &RowBlock,
        out: &mut RowBlockBuilder,
    ) -> Result<(), OpError> {
        let mut error = None;
        let mut rows = Decoded::<F::K, F::V> {
            rows: input.iter(),
            error: &mut error,
            _p: PhantomData,
        };
        let mut emitter = Emitter {
            out,
            kbuf: Vec::new(),
            vbuf: Vec::new(),
            _p: PhantomData,
        };
        let result = self.0.map_partition(index, &mut rows, &mut emitter);
        if let Some(e) = error {
            return Err(e.named(F::NAME));
        }
        result.map_err(|e| e.named(F::NAME))
    }
}

impl<F: ApplyPartitionsOp> PartitionFn for ApplyPartitionsAdapter<F> {
    fn spec(&self) -> OpSpec {
        spec_of(OpKind::ApplyPartitions, F::NAME, &self.0)
    }
    fn preserves_keys(&self) -> bool {
        true
    }
    fn run(
        &self,
        index: usize,
        input: &RowBlock,
        out: &mut RowBlockBuilder,
    ) -> Result<(), OpError> {
        let Some((last_key, _)) = input.iter().last() else {
            return Ok(());
        };
        let mut error = None;
        let mut rows = Decoded::<F::K, F::V> {
            rows: input.iter(),
            error: &mut error,
            _p: PhantomData,
        };
        let result = self.0.apply(index, &mut rows);
        if let Some(e) = error {
            return Err(e.named(F::NAME));
        }
        let value = result.map_err(|e| e.named(F::NAME))?;
        out.push(last_key, &encode(&value)?);
        Ok(())
    }
}

impl<F: ReduceOp> CombineFn for ReduceAdapter<F> {
    fn spec(&self) -> OpSpec {
        spec_of(OpKind::Reduce, F::NAME, &self.0)
    }
    fn combine(&self, a: &[u8], b: &[u8]) -> Result<Vec<u8>, OpError> {
        let r = self
            .0
            .reduce(decode(a)?, decode(b)?)
            .map_err(|e| e.named(F::NAME))?;
        Ok(encode(&r)?)
    }
}

impl<F: JoinOp> CombineFn for JoinAdapter<F> {
    fn spec(&self) -> OpSpec {
        spec_of(OpKind::Join, F::NAME, &self.0)
    }
    fn combine(&self, a: &[u8], b: &[u8]) -> Result<Vec<u8>, OpError> {
        let r = self
            .0
            .join(decode(a)?, decode(b)?)
            .map_err(|e| e.named(F::NAME))?;
        Ok(encode(&r)?)
    }
}

// ------------------------------------------------------------------- registry

/// An op's example for the round-trip test: the op built directly, and input.
pub struct OpExample {
    /// The op, built from its struct (not from a spec).
    pub op: RawOp,
    /// Input rows for a partition op; pairs of values for a combine op.
    pub input: Vec<(Vec<u8>, Vec<u8>)>,
}

/// One registered op. Created by [`register_op!`](crate::register_op).
pub struct OpRegistration {
    /// Its shape.
    pub kind: OpKind,
    /// Its stable name.
    pub name: &'static str,
    /// Rebuilds the op from its encoded arguments.
    pub build: fn(&[u8]) -> Result<RawOp, OpError>,
    /// An example op and input.
    pub example: fn() -> OpExample,
}

inventory::collect!(OpRegistration);

/// Looking up registered ops.
pub mod registry {
    use super::*;

    /// Every op registered by the crates linked into this binary.
    pub fn all() -> Vec<&'static OpRegistration> {
        let mut v: Vec<_> = inventory::iter::<OpRegistration>.into_iter().collect();
        v.sort_by_key(|r| r.name);
        v
    }

    /// Rebuilds an op from its serialised form.
    pub fn build(spec: &OpSpec) -> Result<RawOp, crate::ComputingError> {
        let reg = inventory::iter::<OpRegistration>
            .into_iter()
            .find(|r| r.name == spec.name)
            .ok_or_else(|| crate::ComputingError::UnknownOp(spec.name.clone()))?;
        if reg.kind != spec.kind {
            return Err(crate::ComputingError::UnknownOp(format!(
                "{} (registered as {:?}, asked for as {:?})",
                spec.name, reg.kind, spec.kind
            )));
        }
        (reg.build)(&spec.args).map_err(|e| e.named(reg.name).into())
    }
}

/// Helpers used by [`register_op!`]; not part of the API.
#[doc(hidden)]
pub mod __private {
    use super::*;

    pub fn decode_args<T: DeserializeOwned>(args: &[u8]) -> Result<T, OpError> {
        Ok(decode(args)?)
    }

    pub fn encode_rows<A: Serialize, B: Serialize>(rows: Vec<(A, B)>) -> Vec<(Vec<u8>, Vec<u8>)> {
        rows.into_iter()
            .map(|(a, b)| {
                (
                    encode(&a).unwrap_or_default(),
                    encode(&b).unwrap_or_default(),
                )
            })
            .collect()
    }
}

/// Registers an op so that it can be rebuilt from its [`OpSpec`] in another
/// process, with an example the round-trip test runs.
///
/// ```ignore
/// register_op!(map_values ShareValue, example: ShareValue { seed: 1 }, input: vec![(1u64, 1.0f64)]);
/// register_op!(reduce SumF64, example: SumF64, input: vec![(1.0f64, 2.0f64)]);
/// ```
/// Kinds: `map`, `map_values`, `flat_map`, `filter`, `map_partitions`,
/// `apply_partitions` (input: rows `(key, value)`), `reduce`, `join` (input:
/// pairs of values to combine).
#[macro_export]
macro_rules! register_op {
    (@reg $kind:ident, $adapter:ident, $variant:ident, $trait:ident, $ty:ty, $example:expr, $input:expr) => {
        $crate::inventory::submit! {
            $crate::op::OpRegistration {
                kind: $crate::op::OpKind::$kind,
                name: <$ty as $crate::op::$trait>::NAME,
                build: |args| {
                    let op: $ty = $crate::op::__private::decode_args(args)?;
                    Ok($crate::op::RawOp::$variant(::std::sync::Arc::new($crate::op::$adapter(op))))
                },
                example: || $crate::op::OpExample {
                    op: $crate::op::RawOp::$variant(::std::sync::Arc::new($crate::op::$adapter($example))),
                    input: $crate::op::__private::encode_rows($input),
                },
            }
        }
    };
    (map $ty:ty, example: $e:expr, input: $i:expr) => { $crate::register_op!(@reg Map, MapAdapter, Partition, MapOp, $ty, $e, $i); };
    (map_values $ty:ty, example: $e:expr, input: $i:expr) => { $crate::register_op!(@reg MapValues, MapValuesAdapter, Partition, MapValuesOp, $ty, $e, $i); };
    (flat_map $ty:ty, example: $e:expr, input: $i:expr) => { $crate::register_op!(@reg FlatMap, FlatMapAdapter, Partition, FlatMapOp, $ty, $e, $i); };
    (filter $ty:ty, example: $e:expr, input: $i:expr) => { $crate::register_op!(@reg Filter, FilterAdapter, Partition, FilterOp, $ty, $e, $i); };
    (map_partitions $ty:ty, example: $e:expr, input: $i:expr) => { $crate::register_op!(@reg MapPartitions, MapPartitionsAdapter, Partition, MapPartitionsOp, $ty, $e, $i); };
    (apply_partitions $ty:ty, example: $e:expr, input: $i:expr) => { $crate::register_op!(@reg ApplyPartitions, ApplyPartitionsAdapter, Partition, ApplyPartitionsOp, $ty, $e, $i); };
    (reduce $ty:ty, example: $e:expr, input: $i:expr) => { $crate::register_op!(@reg Reduce, ReduceAdapter, Combine, ReduceOp, $ty, $e, $i); };
    (join $ty:ty, example: $e:expr, input: $i:expr) => { $crate::register_op!(@reg Join, JoinAdapter, Combine, JoinOp, $ty, $e, $i); };
}

/// Checks that a registered op survives its serialised spec (JSON, as shipped
/// to Spark executors): rebuilt from the spec, it gives its example input the
/// same non-empty output as the original. `Err` names the op and what differed.
pub fn check_round_trip(reg: &OpRegistration) -> Result<(), String> {
    let example = (reg.example)();
    let fail = |what: String| format!("{}: {what}", reg.name);
    let wire = serde_json::to_vec(&example.op.spec()).map_err(|e| fail(e.to_string()))?;
    let spec: OpSpec = serde_json::from_slice(&wire).map_err(|e| fail(e.to_string()))?;
    let rebuilt = registry::build(&spec).map_err(|e| fail(e.to_string()))?;
    let direct = run_example(&example.op, &example.input).map_err(|e| fail(e.to_string()))?;
    if direct.is_empty() {
        return Err(fail("the example produces no output".into()));
    }
    let again = run_example(&rebuilt, &example.input).map_err(|e| fail(e.to_string()))?;
    if direct != again {
        return Err(fail("the rebuilt op's output differs".into()));
    }
    Ok(())
}

/// Runs an op over an example input and returns its output, for round-trip tests.
pub fn run_example(op: &RawOp, input: &[(Vec<u8>, Vec<u8>)]) -> Result<crate::RawRows, OpError> {
    match op {
        RawOp::Partition(f) => {
            let mut b = RowBlockBuilder::new();
            for (k, v) in input {
                b.push(k, v);
            }
            let block = b.finish();
            let mut out = RowBlockBuilder::new();
            f.run(0, &block, &mut out)?;
            Ok(out
                .finish()
                .iter()
                .map(|(k, v)| (k.to_vec(), v.to_vec()))
                .collect())
        }
        RawOp::Combine(f) => input
            .iter()
            .map(|(a, b)| Ok((Vec::new(), f.combine(a, b)?)))
            .collect(),
    }
}
