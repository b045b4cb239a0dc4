//! fedflow-crypto: the cryptography under fedflow's federated algorithms.
//!
//! * [`paillier`]: FATE-compatible Paillier (`g = n+1`, base-16 fixed point,
//!   CRT decryption, DJN fixed-base / CRT / pooled obfuscation, batched and
//!   parallel APIs, compact serde).
//! * [`pack`]: several fixed-point values per plaintext (SecureBoost g/h).
//! * [`psi`]: ECDH (ristretto255) and RSA blind-signature PSI building blocks.
//! * [`bench`]: ops/s per core, as printed by `fedflow bench crypto`.
//!
//! Big integers go through [`bigint::BigUint`] (GMP backend, feature `gmp`).
#![deny(missing_docs)]

pub mod bench;
pub mod bigint;
pub mod error;
pub mod fixedpoint;
pub mod pack;
pub mod paillier;
pub mod psi;

pub use bigint::BigUint;
pub use error::{CryptoError, Result};
pub use fixedpoint::EncodedNumber;
pub use pack::Packer;
pub use paillier::{
    Ciphertext, Obfuscation, ObfuscatorPool, PaillierKeypair, PrivateKey, PublicKey,
};
pub use psi::{intersect_indices, EcdhPsi, RsaPsiClient, RsaPsiServer, RsaPublicKey};

#[cfg(test)]
mod send_sync {
    fn assert_send_sync<T: Send + Sync>() {}
    #[test]
    fn types_are_send_sync() {
        assert_send_sync::<super::PublicKey>();
        assert_send_sync::<super::PrivateKey>();
        assert_send_sync::<super::Ciphertext>();
        assert_send_sync::<super::ObfuscatorPool>();
        assert_send_sync::<super::EcdhPsi>();
        assert_send_sync::<super::RsaPsiServer>();
        assert_send_sync::<super::RsaPsiClient>();
        assert_send_sync::<super::Packer>();
    }
}
