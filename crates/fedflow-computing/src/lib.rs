//! The Computing interface of fedflow.
//!
//! * [`Table`] and [`Session`] are the engine plug-in points: a partitioned,
//!   unordered key-value table over bytes, with FATE's operations
//!   (fate-reference.md §1). Engines: [`standalone`] here; Spark elsewhere.
//! * Every function a table runs is a **named, serialisable op** ([`op`]): a
//!   struct with serde and a stable name, registered once with
//!   [`register_op!`]. An engine runs it directly or ships its [`OpSpec`]
//!   (name + encoded arguments) to another process, which rebuilds it from the
//!   [`op::registry`].
//! * [`TypedTable`] is the typed view components use; it never names an engine.

pub mod error;
pub mod op;
pub mod standalone;
mod table;
mod typed;

pub use error::{ComputingError, OpError};
pub use op::{
    ApplyPartitionsOp, CombineFn, Emitter, FilterOp, FlatMapOp, JoinOp, MapOp, MapPartitionsOp,
    MapValuesOp, OpKind, OpSpec, PartitionFn, RawOp, ReduceOp,
};
pub use table::{RawRows, Sample, Session, Table};
pub use typed::{parallelize, parallelize_values, TypedTable};

/// Re-exported for [`register_op!`].
#[doc(hidden)]
pub use inventory;
