//! Value encoding: keys and values cross engine and process boundaries as bytes.
//!
//! The encoding is bincode 1 (little-endian, fixed-width integers), which is
//! deterministic: equal keys always encode to equal bytes, so the partitioner
//! sends them to the same partition on every engine.

use serde::{de::DeserializeOwned, Serialize};

/// Something that can be a key or value of a table.
pub trait Data: Serialize + DeserializeOwned + Send + Sync + 'static {}
impl<T: Serialize + DeserializeOwned + Send + Sync + 'static> Data for T {}

/// A value could not be encoded or decoded.
#[derive(Debug, thiserror::Error)]
#[error("codec: {0}")]
pub struct CodecError(String);

/// Encodes a value to bytes.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, CodecError> {
    bincode::serialize(value).map_err(|e| CodecError(e.to_string()))
}

/// Appends the encoding of a value to `out`.
pub fn encode_into<T: Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) -> Result<(), CodecError> {
    bincode::serialize_into(out, value).map_err(|e| CodecError(e.to_string()))
}

/// Decodes a value from bytes.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, CodecError> {
    bincode::deserialize(bytes).map_err(|e| {
        CodecError(format!(
            "cannot decode {} from {} bytes: {e}",
            std::any::type_name::<T>(),
            bytes.len()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_determinism() {
        let v = (42u64, "abc".to_string(), vec![1.5f64, -2.0]);
        let a = encode(&v).unwrap();
        assert_eq!(a, encode(&v).unwrap());
        let back: (u64, String, Vec<f64>) = decode(&a).unwrap();
        assert_eq!(back, v);
        assert!(decode::<(u64, String)>(&a[..3]).is_err());
    }
}
