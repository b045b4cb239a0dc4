//! The standalone table and its operations.

use super::{engine_err, kernels, Inner, Part, ENGINE};
use crate::error::ComputingError;
use crate::op::{CombineFn, PartitionFn};
use crate::table::{RawRows, Sample, Table};
use fedflow_core::{RowBlock, RowBlockBuilder};
use rayon::prelude::*;
use std::any::Any;
use std::borrow::Cow;
use std::sync::Arc;

/// A table of the standalone engine.
pub struct StandaloneTable {
    parts: Vec<Arc<Part>>,
    inner: Arc<Inner>,
}

type Result<T> = std::result::Result<T, ComputingError>;

impl StandaloneTable {
    pub(crate) fn new(inner: &Arc<Inner>, parts: Vec<Arc<Part>>) -> Self {
        StandaloneTable {
            parts,
            inner: inner.clone(),
        }
    }

    /// Builds partitions from pieces (`pieces[dst]` = the rows bound for
    /// partition `dst`, in order), dropping duplicate keys (last wins) or
    /// merging them with `reducer`.
    pub(crate) fn from_pieces(
        inner: &Arc<Inner>,
        pieces: Vec<Vec<RowBlock>>,
        reducer: Option<&dyn CombineFn>,
    ) -> Result<Self> {
        let parts = pieces
            .into_par_iter()
            .map(|blocks| inner.admit(kernels::dedupe(&blocks, reducer)?))
            .collect::<Result<Vec<_>>>()?;
        Ok(StandaloneTable::new(inner, parts))
    }

    fn block(&self, i: usize) -> &RowBlock {
        &self.parts[i].block
    }

    fn same_engine<'a>(&self, other: &'a dyn Table) -> Result<&'a StandaloneTable> {
        other
            .as_any()
            .downcast_ref::<StandaloneTable>()
            .ok_or_else(|| {
                engine_err(format!(
                    "cannot combine with a table of engine '{}'",
                    other.engine()
                ))
            })
    }

    /// `other` with this table's partition count (reshuffled if needed).
    fn aligned<'a>(&self, other: &'a StandaloneTable) -> Result<Cow<'a, StandaloneTable>> {
        if other.parts.len() == self.parts.len() {
            Ok(Cow::Borrowed(other))
        } else {
            Ok(Cow::Owned(other.reshuffle(self.parts.len())?))
        }
    }

    fn reshuffle(&self, n: usize) -> Result<StandaloneTable> {
        let blocks: Vec<RowBlock> = self.parts.iter().map(|p| p.block.clone()).collect();
        shuffle(&self.inner, blocks, n, None)
    }

    fn map_each<F>(&self, f: F) -> Result<Arc<dyn Table>>
    where
        F: Fn(usize, &RowBlock) -> Result<RowBlockBuilder> + Sync,
    {
        let parts = (0..self.parts.len())
            .into_par_iter()
            .map(|i| self.inner.admit_builder(f(i, self.block(i))?))
            .collect::<Result<Vec<_>>>()?;
        Ok(Arc::new(StandaloneTable::new(&self.inner, parts)))
    }
}

impl Clone for StandaloneTable {
    fn clone(&self) -> Self {
        StandaloneTable {
            parts: self.parts.clone(),
            inner: self.inner.clone(),
        }
    }
}

/// Splits each source block's rows by destination partition, then builds the
/// destination partitions.
fn shuffle(
    inner: &Arc<Inner>,
    sources: Vec<RowBlock>,
    n: usize,
    reducer: Option<&dyn CombineFn>,
) -> Result<StandaloneTable> {
    let split: Vec<Vec<RowBlock>> = sources
        .par_iter()
        .map(|block| kernels::split(block, n))
        .collect();
    drop(sources);
    // Transpose [src][dst] into [dst][src].
    let mut pieces: Vec<Vec<RowBlock>> = (0..n).map(|_| Vec::with_capacity(split.len())).collect();
    for src in split {
        for (dst, block) in src.into_iter().enumerate() {
            pieces[dst].push(block);
        }
    }
    StandaloneTable::from_pieces(inner, pieces, reducer)
}

impl Table for StandaloneTable {
    fn engine(&self) -> &'static str {
        ENGINE
    }

    fn partitions(&self) -> usize {
        self.parts.len()
    }

    fn count(&self) -> Result<u64> {
        Ok(self.parts.iter().map(|p| p.block.len() as u64).sum())
    }

    fn map_partitions(&self, op: Arc<dyn PartitionFn>) -> Result<Arc<dyn Table>> {
        let outputs = (0..self.parts.len())
            .into_par_iter()
            .map(|i| {
                let mut out = RowBlockBuilder::with_capacity(self.block(i).byte_len());
                op.run(i, self.block(i), &mut out)?;
                Ok(out.finish())
            })
            .collect::<Result<Vec<RowBlock>>>()?;
        if op.preserves_keys() {
            let parts = outputs
                .into_iter()
                .map(|b| self.inner.admit(b))
                .collect::<Result<Vec<_>>>()?;
            Ok(Arc::new(StandaloneTable::new(&self.inner, parts)))
        } else {
            Ok(Arc::new(shuffle(
                &self.inner,
                outputs,
                self.parts.len(),
                None,
            )?))
        }
    }

    fn map_reduce_partitions(
        &self,
        mapper: Arc<dyn PartitionFn>,
        reducer: Arc<dyn CombineFn>,
    ) -> Result<Arc<dyn Table>> {
        let outputs = (0..self.parts.len())
            .into_par_iter()
            .map(|i| {
                let mut out = RowBlockBuilder::new();
                mapper.run(i, self.block(i), &mut out)?;
                Ok(out.finish())
            })
            .collect::<Result<Vec<RowBlock>>>()?;
        Ok(Arc::new(shuffle(
            &self.inner,
            outputs,
            self.parts.len(),
            Some(reducer.as_ref()),
        )?))
    }

    fn reduce(&self, op: Arc<dyn CombineFn>) -> Result<Option<Vec<u8>>> {
        let partials = self
            .parts
            .par_iter()
            .map(|p| Ok(kernels::fold(&p.block, op.as_ref())?))
            .collect::<Result<Vec<_>>>()?;
        let mut acc: Option<Vec<u8>> = None;
        for v in partials.into_iter().flatten() {
            acc = Some(match acc {
                None => v,
                Some(a) => op.combine(&a, &v)?,
            });
        }
        Ok(acc)
    }

    fn join(&self, other: &dyn Table, op: Arc<dyn CombineFn>) -> Result<Arc<dyn Table>> {
        let other = self.same_engine(other)?;
        let other = self.aligned(other)?;
        self.map_each(|i, left| Ok(kernels::join(left, other.block(i), op.as_ref())?))
    }

    fn union(&self, other: &dyn Table, op: Option<Arc<dyn CombineFn>>) -> Result<Arc<dyn Table>> {
        let other = self.same_engine(other)?;
        let other = self.aligned(other)?;
        self.map_each(|i, left| Ok(kernels::union(left, other.block(i), op.as_deref())?))
    }

    fn subtract_by_key(&self, other: &dyn Table) -> Result<Arc<dyn Table>> {
        let other = self.same_engine(other)?;
        let other = self.aligned(other)?;
        self.map_each(|i, left| Ok(kernels::subtract(left, other.block(i))))
    }

    fn sample(&self, how: Sample, seed: u64) -> Result<Arc<dyn Table>> {
        match how {
            Sample::Fraction(f) => {
                if !(0.0..=1.0).contains(&f) {
                    return Err(engine_err(format!(
                        "sample: fraction must be in [0, 1], got {f}"
                    )));
                }
                self.map_each(|i, block| Ok(kernels::sample_fraction(block, f, seed, i)))
            }
            Sample::Num(num) => {
                let sizes: Vec<usize> = self.parts.iter().map(|p| p.block.len()).collect();
                let picks = kernels::sample_positions(&sizes, num, seed);
                self.map_each(|i, block| Ok(kernels::select(block, &picks[i])))
            }
        }
    }

    fn repartition(&self, partitions: usize) -> Result<Arc<dyn Table>> {
        if partitions == 0 {
            return Err(engine_err("repartition: partitions must be at least 1"));
        }
        if partitions == self.parts.len() {
            return Ok(Arc::new(self.clone()));
        }
        Ok(Arc::new(self.reshuffle(partitions)?))
    }

    fn blocks(&self) -> Result<Vec<RowBlock>> {
        Ok(self.parts.iter().map(|p| p.block.clone()).collect())
    }

    fn take(&self, n: usize) -> Result<RawRows> {
        Ok(self
            .parts
            .iter()
            .flat_map(|p| p.block.iter())
            .take(n)
            .map(|(k, v)| (k.to_vec(), v.to_vec()))
            .collect())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
