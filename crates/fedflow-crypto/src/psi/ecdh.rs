//! ECDH PSI over ristretto255 (curve25519-dalek).

use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use rand::rngs::OsRng;
use rand::{CryptoRng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;
use sha2::{Digest, Sha512};

use crate::error::{CryptoError, Result};

const DOMAIN: &[u8] = b"fedflow-psi-ecdh-ristretto255-v1";

/// One party's secret exponent for ECDH PSI. `blind` maps ids to
/// `k·H(id)`; `reblind` maps a peer's `k'·H(id)` to `k·k'·H(id)`. Because
/// scalar multiplication commutes, both parties obtain identical 32-byte tags
/// for common ids.
#[derive(Clone)]
pub struct EcdhPsi {
    key: Scalar,
}

impl std::fmt::Debug for EcdhPsi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EcdhPsi(..)")
    }
}

/// Hash an id to a ristretto255 point (SHA-512 + two Elligator maps).
pub fn hash_to_group(id: &[u8]) -> RistrettoPoint {
    let mut h = Sha512::new();
    h.update(DOMAIN);
    h.update((id.len() as u64).to_le_bytes());
    h.update(id);
    RistrettoPoint::from_hash(h)
}

/// The key serialises as its 32 canonical little-endian bytes, so a party
/// can ship its blinding op (key included) to its own executors. It must
/// never be sent to a peer.
impl serde::Serialize for EcdhPsi {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.key.to_bytes().serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for EcdhPsi {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let bytes = <[u8; 32]>::deserialize(d)?;
        Option::<Scalar>::from(Scalar::from_canonical_bytes(bytes))
            .filter(|k| *k != Scalar::ZERO)
            .map(|key| EcdhPsi { key })
            .ok_or_else(|| {
                serde::de::Error::custom("ECDH key: not a canonical non-zero scalar (32 bytes)")
            })
    }
}

impl EcdhPsi {
    /// A fresh random key from the OS RNG.
    pub fn random() -> Self {
        Self::new(&mut OsRng)
    }

    /// A key drawn from a caller-supplied CSPRNG.
    pub fn new<R: RngCore + CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut wide = [0u8; 64];
        rng.fill_bytes(&mut wide);
        let mut key = Scalar::from_bytes_mod_order_wide(&wide);
        if key == Scalar::ZERO {
            key = Scalar::ONE;
        }
        EcdhPsi { key }
    }

    /// A deterministic key from a 32-byte seed (tests, reproducible runs).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        Self::new(&mut ChaCha20Rng::from_seed(seed))
    }

    /// Tag of one id (see [`EcdhPsi::blind`]).
    pub fn blind_one(&self, id: &[u8]) -> [u8; 32] {
        let p = hash_to_group(id) * self.key;
        (p + p).compress().to_bytes()
    }

    /// Blind each id, in parallel: the tag is `2·k·H(id)` (the doubling lets
    /// ristretto255 compress a whole batch with one field inversion; it is a
    /// bijection of the prime-order group, so nothing else changes).
    pub fn blind<T: AsRef<[u8]> + Sync>(&self, ids: &[T]) -> Vec<[u8; 32]> {
        ids.par_chunks(BATCH)
            .flat_map_iter(|chunk| {
                let pts: Vec<RistrettoPoint> = chunk
                    .iter()
                    .map(|id| hash_to_group(id.as_ref()) * self.key)
                    .collect();
                double_and_compress(&pts)
            })
            .collect()
    }

    /// Re-blind one peer tag (see [`EcdhPsi::reblind`]).
    pub fn reblind_one(&self, p: &[u8; 32]) -> Result<[u8; 32]> {
        let q = decompress(p)? * self.key;
        Ok((q + q).compress().to_bytes())
    }

    /// Re-blind each peer tag `P` as `2·k·P`, in parallel. Both parties end
    /// with `4·k_a·k_b·H(id)` for common ids.
    pub fn reblind(&self, points: &[[u8; 32]]) -> Result<Vec<[u8; 32]>> {
        let chunks: Vec<Vec<[u8; 32]>> = points
            .par_chunks(BATCH)
            .map(|chunk| {
                let pts = chunk
                    .iter()
                    .map(|p| decompress(p).map(|q| q * self.key))
                    .collect::<Result<Vec<_>>>()?;
                Ok(double_and_compress(&pts))
            })
            .collect::<Result<_>>()?;
        Ok(chunks.into_iter().flatten().collect())
    }
}

const BATCH: usize = 256;

fn decompress(p: &[u8; 32]) -> Result<RistrettoPoint> {
    CompressedRistretto(*p)
        .decompress()
        .ok_or_else(|| CryptoError::Invalid("not a ristretto255 point".into()))
}

fn double_and_compress(pts: &[RistrettoPoint]) -> Vec<[u8; 32]> {
    RistrettoPoint::double_and_compress_batch(pts)
        .into_iter()
        .map(|c| c.to_bytes())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_serde_round_trip_keeps_the_tags_and_rejects_bad_bytes() {
        let k = EcdhPsi::from_seed([3; 32]);
        let bytes = bincode::serialize(&k).expect("serialize");
        assert_eq!(bytes.len(), 32);
        let back: EcdhPsi = bincode::deserialize(&bytes).expect("deserialize");
        assert_eq!(back.blind_one(b"id-1"), k.blind_one(b"id-1"));
        assert!(bincode::deserialize::<EcdhPsi>(&[0u8; 32]).is_err());
        assert!(bincode::deserialize::<EcdhPsi>(&[0xffu8; 32]).is_err());
        assert!(bincode::deserialize::<EcdhPsi>(&[1u8; 5]).is_err());
    }
}
