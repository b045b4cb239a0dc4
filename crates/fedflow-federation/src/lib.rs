//! The Federation interface of fedflow: `remote` / `get` between parties.
//!
//! * [`Federation`] is the engine plug-in point. A message is addressed by
//!   (federation session, name, tag, source party, destination party); a
//!   party is a (role, party id) pair. Values are bytes; tables travel
//!   partition by partition in bounded chunks.
//! * [`TransferVariable`] is what components use: a declared variable with its
//!   allowed source and destination roles, typed values and tables.
//! * [`standalone`]: parties on one machine, in one process or several.
//! * [`rabbitmq`]: through a RabbitMQ broker, with FATE's queue naming.
//! * [`grpc`]: each party's federation endpoint is a gRPC server (TLS/mTLS),
//!   a route table maps party ids to addresses.
//! * [`open`] chooses the engine of a job (`federation_engine`).

pub mod certs;
pub mod grpc;
pub mod rabbitmq;
mod roster;
mod runtime;
mod settings;
pub mod standalone;
#[cfg(test)]
mod testutil;
mod variable;
mod wire;

pub use roster::Roster;

/// Bytes of a received table's partition kept in memory; beyond it the
/// partition goes to a memory-mapped file, so receiving a table larger than
/// memory keeps the receiver's memory bounded.
pub const RECV_MEMORY_PER_PARTITION: usize = 4 << 20;

/// Where received tables spill: `$FEDFLOW_SPILL_DIR`, else
/// `$FEDFLOW_HOME/spill`, else the system's temporary directory. Files are
/// unlinked as soon as they are mapped.
pub fn recv_spill_dir() -> std::path::PathBuf {
    if let Some(d) = std::env::var_os("FEDFLOW_SPILL_DIR") {
        return d.into();
    }
    if let Some(h) = std::env::var_os("FEDFLOW_HOME") {
        return std::path::PathBuf::from(h).join("spill");
    }
    std::env::temp_dir().join("fedflow-spill")
}
pub use settings::{open, parse_routes, FederationSettings, ENGINES, SETTINGS_ENV};
pub use variable::TransferVariable;

use fedflow_computing::{ComputingError, Session, Table};
use fedflow_core::{CodecError, Party, RowError};
use std::sync::Arc;
use std::time::Duration;

/// A federation failure.
#[derive(Debug, thiserror::Error)]
pub enum FederationError {
    /// A `get` waited past its timeout.
    #[error(
        "federation: timed out after {waited:?} waiting for '{name}' (tag '{tag}') from {peer}"
    )]
    Timeout {
        /// The party that did not send.
        peer: Party,
        /// The variable.
        name: String,
        /// Its tag.
        tag: String,
        /// How long it waited.
        waited: Duration,
    },
    /// The peer reported that its task failed, or its process is gone.
    #[error("federation: peer {peer} is gone while waiting for '{name}' (tag '{tag}'): {reason}")]
    PeerGone {
        /// The party.
        peer: Party,
        /// The variable being waited for.
        name: String,
        /// Its tag.
        tag: String,
        /// Why.
        reason: String,
    },
    /// A variable used by a role it is not declared for, or an unknown party.
    #[error("federation: {0}")]
    Usage(String),
    /// A message arrived malformed.
    #[error("federation: malformed message '{name}' (tag '{tag}') from {peer}: {reason}")]
    Malformed {
        /// The sender.
        peer: Party,
        /// The variable.
        name: String,
        /// Its tag.
        tag: String,
        /// What is wrong.
        reason: String,
    },
    /// Transport I/O failed.
    #[error("federation I/O at {path}: {source}")]
    Io {
        /// Where.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// A value could not be encoded or decoded.
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// Building or reading a table failed.
    #[error(transparent)]
    Computing(#[from] ComputingError),
    /// A received table's bytes are malformed.
    #[error(transparent)]
    Rows(#[from] RowError),
}

/// Result of federation calls.
pub type Result<T> = std::result::Result<T, FederationError>;

/// Moves values and tables between the parties of one federation session.
///
/// `get` returns one item per source party, in the order given, and fails
/// with [`FederationError::Timeout`] naming the peer and the variable when
/// nothing arrives in time.
pub trait Federation: Send + Sync {
    /// The engine's name.
    fn engine(&self) -> &'static str;
    /// The federation session id (shared by all parties of one task).
    fn session_id(&self) -> &str;
    /// This party.
    fn local(&self) -> Party;
    /// Sends bytes to each destination party.
    fn remote_bytes(&self, name: &str, tag: &str, value: &[u8], dst: &[Party]) -> Result<()>;
    /// Receives bytes from each source party.
    fn get_bytes(&self, name: &str, tag: &str, src: &[Party]) -> Result<Vec<Vec<u8>>>;
    /// Sends a table to each destination party.
    fn remote_table(&self, name: &str, tag: &str, table: &dyn Table, dst: &[Party]) -> Result<()>;
    /// Receives a table from each source party, built in `session`.
    fn get_tables(
        &self,
        name: &str,
        tag: &str,
        src: &[Party],
        session: &dyn Session,
    ) -> Result<Vec<Arc<dyn Table>>>;
    /// Tells the peers that this party's task failed, so that they stop waiting.
    fn abort(&self, reason: &str);
    /// Releases the session's resources (queues, mailboxes).
    fn cleanup(&self) -> Result<()>;
}
