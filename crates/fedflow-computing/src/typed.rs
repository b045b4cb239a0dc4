//! [`TypedTable`]: the typed view of a [`Table`] that components use.

use crate::error::ComputingError;
use crate::op::*;
use crate::table::{Sample, Session, Table};
use fedflow_core::codec::{decode, encode, Data};
use std::marker::PhantomData;
use std::sync::Arc;

/// A table whose keys are `K` and values `V`. Cheap to clone.
pub struct TypedTable<K, V> {
    raw: Arc<dyn Table>,
    _p: PhantomData<fn() -> (K, V)>,
}

impl<K, V> std::fmt::Debug for TypedTable<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "TypedTable({} on {}, {} partitions)",
            std::any::type_name::<(K, V)>(),
            self.raw.engine(),
            self.raw.partitions()
        )
    }
}

impl<K, V> Clone for TypedTable<K, V> {
    fn clone(&self) -> Self {
        TypedTable {
            raw: self.raw.clone(),
            _p: PhantomData,
        }
    }
}

/// A typed table from `(key, value)` rows.
pub fn parallelize<K: Data, V: Data>(
    session: &dyn Session,
    rows: Vec<(K, V)>,
    partitions: usize,
) -> Result<TypedTable<K, V>, ComputingError> {
    let raw = rows
        .iter()
        .map(|(k, v)| Ok((encode(k)?, encode(v)?)))
        .collect::<Result<Vec<_>, ComputingError>>()?;
    Ok(TypedTable::from_raw(session.parallelize(raw, partitions)?))
}

/// A typed table from values, keyed `0..n` (FATE's `include_key=False`).
pub fn parallelize_values<V: Data>(
    session: &dyn Session,
    values: Vec<V>,
    partitions: usize,
) -> Result<TypedTable<u64, V>, ComputingError> {
    parallelize(
        session,
        values
            .into_iter()
            .enumerate()
            .map(|(i, v)| (i as u64, v))
            .collect(),
        partitions,
    )
}

impl<K: Data, V: Data> TypedTable<K, V> {
    /// Views a byte-level table as typed (no check: rows are decoded lazily).
    pub fn from_raw(raw: Arc<dyn Table>) -> Self {
        TypedTable {
            raw,
            _p: PhantomData,
        }
    }

    /// The byte-level table.
    pub fn raw(&self) -> &Arc<dyn Table> {
        &self.raw
    }

    /// Number of partitions.
    pub fn partitions(&self) -> usize {
        self.raw.partitions()
    }

    /// Number of rows.
    pub fn count(&self) -> Result<u64, ComputingError> {
        self.raw.count()
    }

    /// `map`.
    pub fn map<F: MapOp<K = K, V = V>>(
        &self,
        op: F,
    ) -> Result<TypedTable<F::K2, F::V2>, ComputingError> {
        Ok(TypedTable::from_raw(
            self.raw.map_partitions(Arc::new(MapAdapter(op)))?,
        ))
    }

    /// `mapValues`.
    pub fn map_values<F: MapValuesOp<V = V>>(
        &self,
        op: F,
    ) -> Result<TypedTable<K, F::Out>, ComputingError> {
        Ok(TypedTable::from_raw(
            self.raw.map_partitions(Arc::new(MapValuesAdapter(op)))?,
        ))
    }

    /// `flatMap`.
    pub fn flat_map<F: FlatMapOp<K = K, V = V>>(
        &self,
        op: F,
    ) -> Result<TypedTable<F::K2, F::V2>, ComputingError> {
        Ok(TypedTable::from_raw(
            self.raw.map_partitions(Arc::new(FlatMapAdapter(op)))?,
        ))
    }

    /// `filter`.
    pub fn filter<F: FilterOp<K = K, V = V>>(
        &self,
        op: F,
    ) -> Result<TypedTable<K, V>, ComputingError> {
        Ok(TypedTable::from_raw(
            self.raw.map_partitions(Arc::new(FilterAdapter(op)))?,
        ))
    }

    /// `mapPartitions`.
    pub fn map_partitions<F: MapPartitionsOp<K = K, V = V>>(
        &self,
        op: F,
    ) -> Result<TypedTable<F::K2, F::V2>, ComputingError> {
        Ok(TypedTable::from_raw(
            self.raw
                .map_partitions(Arc::new(MapPartitionsAdapter(op)))?,
        ))
    }

    /// `applyPartitions`: one value per non-empty partition, keyed by its last key.
    pub fn apply_partitions<F: ApplyPartitionsOp<K = K, V = V>>(
        &self,
        op: F,
    ) -> Result<TypedTable<K, F::Out>, ComputingError> {
        Ok(TypedTable::from_raw(
            self.raw
                .map_partitions(Arc::new(ApplyPartitionsAdapter(op)))?,
        ))
    }

    /// `mapReducePartitions`.
    pub fn map_reduce_partitions<M, R>(
        &self,
        mapper: M,
        reducer: R,
    ) -> Result<TypedTable<M::K2, M::V2>, ComputingError>
    where
        M: MapPartitionsOp<K = K, V = V>,
        R: ReduceOp<V = M::V2>,
    {
        Ok(TypedTable::from_raw(self.raw.map_reduce_partitions(
            Arc::new(MapPartitionsAdapter(mapper)),
            Arc::new(ReduceAdapter(reducer)),
        )?))
    }

    /// `reduce`: `None` for an empty table.
    pub fn reduce<F: ReduceOp<V = V>>(&self, op: F) -> Result<Option<V>, ComputingError> {
        match self.raw.reduce(Arc::new(ReduceAdapter(op)))? {
            Some(bytes) => Ok(Some(decode(&bytes)?)),
            None => Ok(None),
        }
    }

    /// Inner `join`.
    pub fn join<R: Data, F: JoinOp<L = V, R = R>>(
        &self,
        other: &TypedTable<K, R>,
        op: F,
    ) -> Result<TypedTable<K, F::Out>, ComputingError> {
        Ok(TypedTable::from_raw(
            self.raw
                .join(other.raw.as_ref(), Arc::new(JoinAdapter(op)))?,
        ))
    }

    /// `union`; keys on both sides keep the left value.
    pub fn union(&self, other: &TypedTable<K, V>) -> Result<TypedTable<K, V>, ComputingError> {
        Ok(TypedTable::from_raw(
            self.raw.union(other.raw.as_ref(), None)?,
        ))
    }

    /// `union`; keys on both sides are merged by `op(left, right)`.
    pub fn union_with<F: ReduceOp<V = V>>(
        &self,
        other: &TypedTable<K, V>,
        op: F,
    ) -> Result<TypedTable<K, V>, ComputingError> {
        Ok(TypedTable::from_raw(self.raw.union(
            other.raw.as_ref(),
            Some(Arc::new(ReduceAdapter(op))),
        )?))
    }

    /// `subtractByKey`.
    pub fn subtract_by_key<W: Data>(
        &self,
        other: &TypedTable<K, W>,
    ) -> Result<TypedTable<K, V>, ComputingError> {
        Ok(TypedTable::from_raw(
            self.raw.subtract_by_key(other.raw.as_ref())?,
        ))
    }

    /// `sample`.
    pub fn sample(&self, how: Sample, seed: u64) -> Result<TypedTable<K, V>, ComputingError> {
        Ok(TypedTable::from_raw(self.raw.sample(how, seed)?))
    }

    /// All rows (partition order, unordered within).
    pub fn collect(&self) -> Result<Vec<(K, V)>, ComputingError> {
        let mut out = Vec::new();
        for block in self.raw.blocks()? {
            for (k, v) in block.iter() {
                out.push((decode(k)?, decode(v)?));
            }
        }
        Ok(out)
    }

    /// Up to `n` rows.
    pub fn take(&self, n: usize) -> Result<Vec<(K, V)>, ComputingError> {
        self.raw
            .take(n)?
            .into_iter()
            .map(|(k, v)| Ok((decode(&k)?, decode(&v)?)))
            .collect()
    }

    /// One row, if any.
    pub fn first(&self) -> Result<Option<(K, V)>, ComputingError> {
        Ok(self.take(1)?.into_iter().next())
    }
}
