//! fedflow-crypto: the cryptography under fedflow's federated algorithms.
//!
//! * [`paillier`]: FATE-compatible Paillier (`g = n+1`, base-16 fixed point,
//!   CRT decryption, DJN fixed-base / CRT / pooled obfuscation, batched and
//!   parallel APIs, compact serde).
//! * [`pack`]: several fixed-point values per plaintext (SecureBoost g/h).
//! * [`psi`]: ECDH (ristretto255) and RSA blind-signature PSI building blocks.
//! * [`secagg`]: secure aggregation (pairwise DH seeds, ring masks that cancel in the sum).
//! * [`mod@bench`]: ops/s per core, as printed by `fedflow bench crypto`.
//!
//! Big integers go through [`bigint::BigUint`] (GMP backend by default,
//! feature `gmp`; `pure-rust` for num-bigint).
//!
//! ```
//! use fedflow_crypto::{EcdhPsi, PaillierKeypair, intersect_indices};
//!
//! let (pk, sk) = PaillierKeypair::generate(512)?; // 1024 or more in practice
//! let a = pk.encrypt(1.5)?;
//! let b = pk.mul_i64(&pk.encrypt(-0.25)?, 4)?;
//! assert_eq!(sk.decrypt(&pk.add(&a, &b)?)?, 0.5);
//!
//! let (g, h) = (EcdhPsi::random(), EcdhPsi::random());
//! let g2 = h.reblind(&g.blind(&["a", "b", "c"]))?;
//! let h2 = g.reblind(&h.blind(&["c", "a", "x"]))?;
//! assert_eq!(intersect_indices(&g2, &h2), vec![0, 2]);
//! # Ok::<(), fedflow_crypto::CryptoError>(())
//! ```
#![deny(missing_docs)]

pub mod bench;
pub mod bigint;
pub mod error;
pub mod fixedpoint;
pub mod montgomery;
pub mod ot;
pub mod pack;
pub mod paillier;
pub mod psi;
pub mod secagg;
pub mod vss;

pub use bigint::BigUint;
pub use error::{CryptoError, Result};
pub use fixedpoint::EncodedNumber;
pub use montgomery::{MontElem, Montgomery};
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
