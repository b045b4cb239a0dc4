//! Shared vocabulary of fedflow.
//!
//! Everything here is engine-neutral and used by every other crate:
//! * [`party`]: roles and parties of a federated job;
//! * [`rows`]: the byte format of a table partition ([`RowBlock`]), used in
//!   memory, in spill files, in the local storage engine and on the wire;
//! * [`partitioner`]: the stable key-hash partitioner, identical on every engine;
//! * [`lines`]: a partition as one text line (Spark tables, path storage);
//! * [`codec`]: the compact, versioned value encoding used for keys and values;
//! * [`names`]: the character rule for every name that can become a path.

pub mod codec;
pub mod lines;
pub mod names;
pub mod partitioner;
pub mod party;
pub mod rows;

pub use codec::{decode, encode, CodecError, Data};
pub use partitioner::partition_of;
pub use party::{Party, PartyId, Role};
pub use rows::{RowBlock, RowBlockBuilder, RowError, RowIter, SpillingBlockBuilder};
