//! The standalone table and its operations.

use super::{engine_err, Inner, Part, ENGINE};
use crate::error::ComputingError;
use crate::op::{CombineFn, PartitionFn};
use crate::table::{RawRows, Sample, Table};
use fedflow_core::{partition_of, RowBlock, RowBlockBuilder};
use hashbrown::HashMap;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
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
            .map(|blocks| inner.admit(dedupe(&blocks, reducer)?))
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
        .map(|block| {
            let mut out: Vec<RowBlockBuilder> = (0..n).map(|_| RowBlockBuilder::new()).collect();
            for (k, v) in block.iter() {
                out[partition_of(k, n)].push(k, v);
            }
            out.into_iter().map(RowBlockBuilder::finish).collect()
        })
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

/// One block from pieces, keys unique: later rows replace earlier ones, or are
/// merged with `reducer`.
fn dedupe(pieces: &[RowBlock], reducer: Option<&dyn CombineFn>) -> Result<RowBlock> {
    let total: usize = pieces.iter().map(RowBlock::len).sum();
    let mut index: HashMap<&[u8], usize> = HashMap::with_capacity(total);
    let mut rows: Vec<(&[u8], Cow<[u8]>)> = Vec::with_capacity(total);
    for piece in pieces {
        for (k, v) in piece.iter() {
            match index.get(k) {
                Some(&i) => {
                    rows[i].1 = match reducer {
                        Some(r) => Cow::Owned(r.combine(&rows[i].1, v)?),
                        None => Cow::Borrowed(v),
                    }
                }
                None => {
                    index.insert(k, rows.len());
                    rows.push((k, Cow::Borrowed(v)));
                }
            }
        }
    }
    if rows.len() == total && pieces.len() == 1 {
        return Ok(pieces[0].clone());
    }
    let bytes: usize = pieces.iter().map(RowBlock::byte_len).sum();
    let mut b = RowBlockBuilder::with_capacity(bytes);
    for (k, v) in &rows {
        b.push(k, v);
    }
    Ok(b.finish())
}

fn fold(block: &RowBlock, op: &dyn CombineFn) -> Result<Option<Vec<u8>>> {
    let mut it = block.iter();
    let Some((_, first)) = it.next() else {
        return Ok(None);
    };
    let mut acc = first.to_vec();
    for (_, v) in it {
        acc = op.combine(&acc, v)?;
    }
    Ok(Some(acc))
}

fn part_rng(seed: u64, index: usize) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
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
            .map(|p| fold(&p.block, op.as_ref()))
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
        self.map_each(|i, left| {
            let right = other.block(i);
            let mut out = RowBlockBuilder::with_capacity(left.byte_len().min(right.byte_len()));
            if right.len() <= left.len() {
                let map: HashMap<&[u8], &[u8]> = right.iter().collect();
                for (k, lv) in left.iter() {
                    if let Some(rv) = map.get(k) {
                        out.push(k, &op.combine(lv, rv)?);
                    }
                }
            } else {
                let map: HashMap<&[u8], &[u8]> = left.iter().collect();
                for (k, rv) in right.iter() {
                    if let Some(lv) = map.get(k) {
                        out.push(k, &op.combine(lv, rv)?);
                    }
                }
            }
            Ok(out)
        })
    }

    fn union(&self, other: &dyn Table, op: Option<Arc<dyn CombineFn>>) -> Result<Arc<dyn Table>> {
        let other = self.same_engine(other)?;
        let other = self.aligned(other)?;
        self.map_each(|i, left| {
            let right = other.block(i);
            let rmap: HashMap<&[u8], &[u8]> = right.iter().collect();
            let mut out = RowBlockBuilder::with_capacity(left.byte_len() + right.byte_len());
            let mut seen: hashbrown::HashSet<&[u8]> = hashbrown::HashSet::with_capacity(left.len());
            for (k, lv) in left.iter() {
                seen.insert(k);
                match (rmap.get(k), &op) {
                    (Some(rv), Some(op)) => out.push(k, &op.combine(lv, rv)?),
                    _ => out.push(k, lv),
                }
            }
            for (k, rv) in right.iter() {
                if !seen.contains(k) {
                    out.push(k, rv);
                }
            }
            Ok(out)
        })
    }

    fn subtract_by_key(&self, other: &dyn Table) -> Result<Arc<dyn Table>> {
        let other = self.same_engine(other)?;
        let other = self.aligned(other)?;
        self.map_each(|i, left| {
            let rset: hashbrown::HashSet<&[u8]> = other.block(i).iter().map(|(k, _)| k).collect();
            let mut out = RowBlockBuilder::new();
            for (k, v) in left.iter().filter(|(k, _)| !rset.contains(k)) {
                out.push(k, v);
            }
            Ok(out)
        })
    }

    fn sample(&self, how: Sample, seed: u64) -> Result<Arc<dyn Table>> {
        match how {
            Sample::Fraction(f) => {
                if !(0.0..=1.0).contains(&f) {
                    return Err(engine_err(format!(
                        "sample: fraction must be in [0, 1], got {f}"
                    )));
                }
                self.map_each(|i, block| {
                    let mut rng = part_rng(seed, i);
                    let mut out = RowBlockBuilder::new();
                    for (k, v) in block.iter() {
                        if rng.gen::<f64>() < f {
                            out.push(k, v);
                        }
                    }
                    Ok(out)
                })
            }
            Sample::Num(num) => {
                let sizes: Vec<usize> = self.parts.iter().map(|p| p.block.len()).collect();
                let total: usize = sizes.iter().sum();
                let mut rng = part_rng(seed, usize::MAX);
                let mut chosen =
                    rand::seq::index::sample(&mut rng, total, num.min(total)).into_vec();
                chosen.sort_unstable();
                let mut starts = Vec::with_capacity(sizes.len());
                let mut acc = 0;
                for s in &sizes {
                    starts.push(acc);
                    acc += s;
                }
                self.map_each(|i, block| {
                    let (lo, hi) = (starts[i], starts[i] + sizes[i]);
                    let from = chosen.partition_point(|&x| x < lo);
                    let to = chosen.partition_point(|&x| x < hi);
                    let mut want = chosen[from..to].iter().map(|x| x - lo).peekable();
                    let mut out = RowBlockBuilder::new();
                    for (j, (k, v)) in block.iter().enumerate() {
                        if want.peek() == Some(&j) {
                            want.next();
                            out.push(k, v);
                        }
                    }
                    Ok(out)
                })
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
