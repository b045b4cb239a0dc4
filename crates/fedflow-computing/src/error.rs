//! Errors of the computing layer.

use fedflow_core::{CodecError, RowError};

/// An op failed on a row or could not be (de)serialised.
#[derive(Debug, thiserror::Error)]
#[error("op '{op}': {message}")]
pub struct OpError {
    /// The op's registered name (empty until the engine fills it in).
    pub op: String,
    /// What went wrong.
    pub message: String,
}

impl OpError {
    /// An error raised inside an op; the engine adds the op's name.
    pub fn msg(message: impl Into<String>) -> Self {
        OpError {
            op: String::new(),
            message: message.into(),
        }
    }

    pub(crate) fn named(mut self, op: &str) -> Self {
        if self.op.is_empty() {
            self.op = op.to_string();
        }
        self
    }
}

impl From<CodecError> for OpError {
    fn from(e: CodecError) -> Self {
        OpError::msg(e.to_string())
    }
}

/// Any failure of a computing operation.
#[derive(Debug, thiserror::Error)]
pub enum ComputingError {
    /// A user op failed.
    #[error(transparent)]
    Op(#[from] OpError),
    /// Keys or values could not be encoded or decoded.
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// A partition's bytes are malformed, or a spill file failed.
    #[error(transparent)]
    Rows(#[from] RowError),
    /// The engine cannot do what was asked.
    #[error("computing engine {engine}: {message}")]
    Engine {
        /// The engine's name.
        engine: &'static str,
        /// What went wrong.
        message: String,
    },
    /// An op name that no linked crate registered.
    #[error("unknown op '{0}': not registered in this binary")]
    UnknownOp(String),
    /// Local I/O (spill directory) failed.
    #[error("computing I/O: {0}")]
    Io(#[from] std::io::Error),
}
