//! The one error type of the storage crate.

use std::path::PathBuf;

/// Everything that can go wrong in storage, meta, upload and download.
///
/// Each message is one line that names what failed (field, file, line, table)
/// and what was expected.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// An upload conf field is missing or has the wrong type or value.
    #[error("upload conf: field '{field}': {reason}")]
    Conf {
        /// The conf field (FATE's name).
        field: String,
        /// What was expected and what was found.
        reason: String,
    },
    /// The input file of an upload is malformed.
    #[error("upload {}: {}{reason}", file.display(), line.map(|l| format!("line {l}: ")).unwrap_or_default())]
    Input {
        /// The input file.
        file: PathBuf,
        /// The 1-based line number, when the problem is on one line.
        line: Option<u64>,
        /// What is wrong.
        reason: String,
    },
    /// A table already exists (and the caller did not ask to replace it).
    #[error("table {namespace}.{name} already exists (use drop to replace it)")]
    TableExists {
        /// The namespace.
        namespace: String,
        /// The table name.
        name: String,
    },
    /// A table is unknown to the meta store or missing from storage.
    #[error("table {namespace}.{name} not found{}", detail.as_ref().map(|d| format!(": {d}")).unwrap_or_default())]
    TableNotFound {
        /// The namespace.
        namespace: String,
        /// The table name.
        name: String,
        /// Extra detail (for example the missing path).
        detail: Option<String>,
    },
    /// A namespace or table name that cannot be used.
    #[error("invalid {what} '{value}': {reason}")]
    InvalidName {
        /// "namespace" or "table name".
        what: &'static str,
        /// The rejected value.
        value: String,
        /// Why.
        reason: &'static str,
    },
    /// A stored address belongs to another engine than the one asked to read it.
    #[error("address {address} is not handled by the {engine} engine")]
    WrongEngine {
        /// The engine asked.
        engine: &'static str,
        /// The address (JSON).
        address: String,
    },
    /// A client-given path or address outside the roots the server allows
    /// (see [`crate::confine`]).
    #[error("field '{field}': '{path}' is outside the allowed directories ({allowed})")]
    Confined {
        /// The request field (FATE's name).
        field: String,
        /// The path as given.
        path: String,
        /// The allowed roots.
        allowed: String,
    },
    /// A path-engine address fedflow cannot read or write itself.
    #[error("table address {address}: fedflow reads and writes only file:// paths itself; this address needs the Spark engine (computing_engine: SPARK)")]
    NeedsSpark {
        /// The URI.
        address: String,
    },
    /// A file system operation failed.
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// What was being done ("create dir", "rename", "read", ...).
        op: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A partition file is unreadable or corrupt.
    #[error(transparent)]
    Rows(#[from] fedflow_core::RowError),
    /// A key or value could not be encoded or decoded.
    #[error("{context}: {source}")]
    Codec {
        /// Where.
        context: String,
        /// The codec error.
        source: fedflow_core::CodecError,
    },
    /// The meta store database failed.
    #[error("meta store: {0}")]
    Meta(String),
    /// A row with the same unique key exists.
    #[error("meta store: duplicate key: {0}")]
    DuplicateKey(String),
    /// Stored data is inconsistent (for example a meta row with bad JSON).
    #[error("corrupt {what}: {reason}")]
    Corrupt {
        /// What is corrupt.
        what: String,
        /// Why.
        reason: String,
    },
}

impl StorageError {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StorageError::Io {
            op,
            path: path.into(),
            source,
        }
    }

    pub(crate) fn conf(field: &str, reason: impl Into<String>) -> Self {
        StorageError::Conf {
            field: field.to_string(),
            reason: reason.into(),
        }
    }
}

impl StorageError {
    /// True for a unique-key violation.
    pub fn is_duplicate(&self) -> bool {
        matches!(self, StorageError::DuplicateKey(_))
    }
}

impl From<rusqlite::Error> for StorageError {
    fn from(e: rusqlite::Error) -> Self {
        StorageError::Meta(e.to_string())
    }
}

/// Result with [`StorageError`].
pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// Checks a namespace or table name: it becomes a directory name, so it
/// must follow [`fedflow_core::names`]' rule (`[A-Za-z0-9_.-]`, not starting
/// with `.` or `-`, no `..`, at most 255 bytes).
pub fn validate_name(what: &'static str, value: &str) -> Result<()> {
    fedflow_core::names::check_table(what, value).map_err(|e| StorageError::InvalidName {
        what,
        value: e.shown,
        reason: e.rule,
    })
}
