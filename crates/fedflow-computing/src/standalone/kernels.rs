//! Per-partition kernels of the table operations: the standalone engine runs
//! them over its partitions, and the Spark engine's `fedflow worker` runs the
//! very same code on executors, so both engines give identical partitions
//! (rows and their order).

use crate::error::OpError;
use crate::op::CombineFn;
use fedflow_core::{partition_of, RowBlock, RowBlockBuilder};
use hashbrown::{HashMap, HashSet};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::borrow::Cow;

/// Splits a block by destination partition (`partition_of(key, n)`), keeping row order.
pub fn split(block: &RowBlock, n: usize) -> Vec<RowBlock> {
    let mut out: Vec<RowBlockBuilder> = (0..n).map(|_| RowBlockBuilder::new()).collect();
    for (k, v) in block.iter() {
        out[partition_of(k, n)].push(k, v);
    }
    out.into_iter().map(RowBlockBuilder::finish).collect()
}

/// One block from pieces, keys unique: a later row replaces an earlier one
/// (at the earlier one's position), or is merged into it with `reducer`.
pub fn dedupe(pieces: &[RowBlock], reducer: Option<&dyn CombineFn>) -> Result<RowBlock, OpError> {
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

/// Folds a partition's values; `None` when it is empty.
pub fn fold(block: &RowBlock, op: &dyn CombineFn) -> Result<Option<Vec<u8>>, OpError> {
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

/// Inner join of two co-partitioned partitions.
pub fn join(
    left: &RowBlock,
    right: &RowBlock,
    op: &dyn CombineFn,
) -> Result<RowBlockBuilder, OpError> {
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
}

/// Union of two co-partitioned partitions: left rows first (merged with `op`
/// when the key is on both sides, else the left value), then right-only rows.
pub fn union(
    left: &RowBlock,
    right: &RowBlock,
    op: Option<&dyn CombineFn>,
) -> Result<RowBlockBuilder, OpError> {
    let rmap: HashMap<&[u8], &[u8]> = right.iter().collect();
    let mut out = RowBlockBuilder::with_capacity(left.byte_len() + right.byte_len());
    let mut seen: HashSet<&[u8]> = HashSet::with_capacity(left.len());
    for (k, lv) in left.iter() {
        seen.insert(k);
        match (rmap.get(k), op) {
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
}

/// Rows of `left` whose key is not in `right`.
pub fn subtract(left: &RowBlock, right: &RowBlock) -> RowBlockBuilder {
    let rset: HashSet<&[u8]> = right.iter().map(|(k, _)| k).collect();
    let mut out = RowBlockBuilder::new();
    for (k, v) in left.iter().filter(|(k, _)| !rset.contains(k)) {
        out.push(k, v);
    }
    out
}

/// The per-partition RNG of `sample`.
pub fn part_rng(seed: u64, index: usize) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// `sample(fraction)` of partition `index`.
pub fn sample_fraction(
    block: &RowBlock,
    fraction: f64,
    seed: u64,
    index: usize,
) -> RowBlockBuilder {
    let mut rng = part_rng(seed, index);
    let mut out = RowBlockBuilder::new();
    for (k, v) in block.iter() {
        if rng.gen::<f64>() < fraction {
            out.push(k, v);
        }
    }
    out
}

/// `sample(num)`: the positions to keep in each partition (sorted), for
/// partitions of the given sizes, drawn from one seeded RNG.
pub fn sample_positions(sizes: &[usize], num: usize, seed: u64) -> Vec<Vec<u64>> {
    let total: usize = sizes.iter().sum();
    let mut rng = part_rng(seed, usize::MAX);
    let mut chosen = rand::seq::index::sample(&mut rng, total, num.min(total)).into_vec();
    chosen.sort_unstable();
    let mut out = Vec::with_capacity(sizes.len());
    let mut it = chosen.into_iter().peekable();
    let mut start = 0usize;
    for &s in sizes {
        let mut mine = Vec::new();
        while let Some(&x) = it.peek() {
            if x >= start + s {
                break;
            }
            mine.push((x - start) as u64);
            it.next();
        }
        out.push(mine);
        start += s;
    }
    out
}

/// Keeps the rows at `positions` (sorted) of a partition.
pub fn select(block: &RowBlock, positions: &[u64]) -> RowBlockBuilder {
    let mut want = positions.iter().peekable();
    let mut out = RowBlockBuilder::new();
    for (j, (k, v)) in block.iter().enumerate() {
        if want.peek() == Some(&&(j as u64)) {
            want.next();
            out.push(k, v);
        }
    }
    out
}
