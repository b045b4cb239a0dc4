//! The engine plug-in interface: [`Table`] and [`Session`], over bytes.

use crate::error::ComputingError;
use crate::op::{CombineFn, PartitionFn};
use fedflow_core::RowBlock;
use std::any::Any;
use std::sync::Arc;

/// Rows as owned `(key, value)` byte pairs.
pub type RawRows = Vec<(Vec<u8>, Vec<u8>)>;

/// How to sample a table (FATE's `sample(fraction=|num=, seed)`): without
/// replacement, deterministic for a seed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sample {
    /// Each row kept with this probability.
    Fraction(f64),
    /// Exactly this many rows (or all, if fewer).
    Num(usize),
}

/// A partitioned, unordered key-value table over bytes; keys are unique.
///
/// Rows live in partition `partition_of(key, partitions)`, the same on every
/// engine, so two tables with the same partition count are co-partitioned.
/// Results are new tables; tables are immutable.
pub trait Table: Send + Sync {
    /// The engine's name (`standalone`, `spark`).
    fn engine(&self) -> &'static str;
    /// Number of partitions.
    fn partitions(&self) -> usize;
    /// Number of rows.
    fn count(&self) -> Result<u64, ComputingError>;
    /// Runs a partition op (map, map_values, flat_map, filter, map_partitions,
    /// apply_partitions); reshuffles by key unless the op preserves keys.
    /// Duplicate output keys keep the last row, as FATE's stores do.
    fn map_partitions(&self, op: Arc<dyn PartitionFn>) -> Result<Arc<dyn Table>, ComputingError>;
    /// `mapReducePartitions`: runs `mapper` on every partition, then merges the
    /// values of equal keys with `reducer`.
    fn map_reduce_partitions(
        &self,
        mapper: Arc<dyn PartitionFn>,
        reducer: Arc<dyn CombineFn>,
    ) -> Result<Arc<dyn Table>, ComputingError>;
    /// Folds all values with an associative op; `None` for an empty table.
    fn reduce(&self, op: Arc<dyn CombineFn>) -> Result<Option<Vec<u8>>, ComputingError>;
    /// Inner join on keys; the value is `op(left, right)`.
    fn join(
        &self,
        other: &dyn Table,
        op: Arc<dyn CombineFn>,
    ) -> Result<Arc<dyn Table>, ComputingError>;
    /// All keys of both; keys on both sides get `op(left, right)`, or the left
    /// value when `op` is `None`.
    fn union(
        &self,
        other: &dyn Table,
        op: Option<Arc<dyn CombineFn>>,
    ) -> Result<Arc<dyn Table>, ComputingError>;
    /// Rows whose key is not in `other`.
    fn subtract_by_key(&self, other: &dyn Table) -> Result<Arc<dyn Table>, ComputingError>;
    /// A sample without replacement.
    fn sample(&self, how: Sample, seed: u64) -> Result<Arc<dyn Table>, ComputingError>;
    /// The table with a different partition count.
    fn repartition(&self, partitions: usize) -> Result<Arc<dyn Table>, ComputingError>;
    /// All rows, partition by partition (as blocks, index = partition).
    fn blocks(&self) -> Result<Vec<RowBlock>, ComputingError>;
    /// Hands every partition's block to `f` as `(partition, block)`, in any
    /// partition order, each partition once (an empty one may be skipped).
    /// Engines whose tables live elsewhere (Spark) override it to hold one
    /// partition at a time; the default goes through [`Table::blocks`].
    fn for_each_block(
        &self,
        f: &mut dyn FnMut(usize, RowBlock) -> Result<(), ComputingError>,
    ) -> Result<(), ComputingError> {
        for (p, b) in self.blocks()?.into_iter().enumerate() {
            f(p, b)?;
        }
        Ok(())
    }
    /// Up to `n` rows, from the first partitions.
    fn take(&self, n: usize) -> Result<RawRows, ComputingError>;
    /// Saves the table at `uri` in the path storage layout (one
    /// [`fedflow_core::lines`] line per partition) when the engine writes
    /// such paths itself, from its workers; `Ok(false)` when it does not (the
    /// caller then writes [`Table::blocks`] through storage).
    fn save_path(&self, _uri: &str) -> Result<bool, ComputingError> {
        Ok(false)
    }
    /// The engine-specific object, for binary operations between tables of one engine.
    fn as_any(&self) -> &dyn Any;
}

/// A computing session: creates tables on one engine.
pub trait Session: Send + Sync {
    /// The session id.
    fn session_id(&self) -> &str;
    /// The engine's name.
    fn engine(&self) -> &'static str;
    /// A table from rows, hash-partitioned (duplicate keys keep the last row).
    fn parallelize(
        &self,
        rows: RawRows,
        partitions: usize,
    ) -> Result<Arc<dyn Table>, ComputingError>;
    /// A table from blocks already partitioned by `partition_of` (block i is
    /// partition i): how stored and received tables come in without a reshuffle.
    fn load_blocks(&self, blocks: Vec<RowBlock>) -> Result<Arc<dyn Table>, ComputingError>;
    /// A table stored at `uri` in the path storage layout (one
    /// [`fedflow_core::lines`] line per partition, `partitions` of them), read
    /// by the engine itself on its workers, without the data passing through
    /// this process; `Ok(None)` when the engine does not read paths (the
    /// caller then reads the blocks through storage and calls
    /// [`Session::load_blocks`]).
    fn load_path(
        &self,
        _uri: &str,
        _partitions: usize,
    ) -> Result<Option<Arc<dyn Table>>, ComputingError> {
        Ok(None)
    }
    /// Releases the session's resources (spill files, executors).
    fn stop(&self) -> Result<(), ComputingError>;
}
