//! Error type of the crate.

/// Errors returned by fedflow-crypto.
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum CryptoError {
    /// Key size not supported (must be ≥ 256 and a multiple of 64).
    #[error("unsupported key size {0} bits (need >= 256, multiple of 64)")]
    KeySize(u32),
    /// A value does not fit the fixed-point range `[-max_int, max_int]`.
    #[error("fixed-point overflow: {0}")]
    Overflow(String),
    /// A non-finite float (NaN or ±inf) cannot be encoded.
    #[error("cannot encode non-finite value {0}")]
    NonFinite(f64),
    /// A ciphertext or plaintext is out of range for this key.
    #[error("value out of range for this key: {0}")]
    OutOfRange(&'static str),
    /// A packing parameter or value violates the packer's layout.
    #[error("packing error: {0}")]
    Packing(String),
    /// Malformed input (e.g. a point that is not a valid ristretto encoding).
    #[error("invalid input: {0}")]
    Invalid(String),
}

/// Result alias.
pub type Result<T, E = CryptoError> = std::result::Result<T, E>;
