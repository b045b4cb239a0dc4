//! Secure aggregation for horizontal FL: the aggregator learns only the sum
//! of what the parties send.
//!
//! The scheme is FATE's (`framework/homo/aggregator/secure_aggregator.py`):
//! every pair of clients agrees on a seed by Diffie–Hellman, each client adds
//! pseudo-random masks derived from its pairwise seeds, with opposite signs
//! for the two members of a pair, so that the masks cancel in the sum. Unlike
//! FATE's float padding, values are encoded in the ring Z/2^128 with
//! [`FRAC_BITS`] fractional bits: the masks cancel exactly and the sum is the
//! plaintext sum up to the encoding's rounding (2^-40 per value and party).
//!
//! Protocol (one [`SecAggClient`] per client, the aggregator holds nothing
//! secret):
//! 1. each client makes a [`SecAggClient`] and sends [`SecAggClient::public_key`]
//!    to the others (through the aggregator, FATE's route);
//! 2. each client calls [`SecAggClient::agree`] with every client's public key
//!    (its own included), indexed by client rank;
//! 3. per round, [`SecAggClient::mask`] turns a vector into masked ring
//!    elements; the aggregator adds what every client sent with
//!    [`sum_masked`] and decodes it with [`decode`].
//!
//! The DH group is ristretto255. As in FATE, the public keys pass through the
//! aggregator unauthenticated: an aggregator that substitutes keys can unmask
//! (see docs/security.md); against an honest-but-curious aggregator, a single
//! client's vector is indistinguishable from uniform.

use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use rand::rngs::OsRng;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use sha2::{Digest, Sha256};

use crate::error::{CryptoError, Result};

/// Fractional bits of the ring encoding.
pub const FRAC_BITS: u32 = 40;
const SCALE: f64 = (1u64 << FRAC_BITS) as f64;
/// Largest magnitude a value (or a sum) may have: 2^(127 - FRAC_BITS - 1).
pub const MAX_ABS: f64 = 7.737125245533627e25; // 2^86
const DOMAIN: &[u8] = b"fedflow-secagg-ristretto255-v1";

/// One client's side of secure aggregation.
pub struct SecAggClient {
    rank: usize,
    secret: Scalar,
    /// Pairwise seeds with every other client (None for itself), by rank.
    seeds: Vec<Option<[u8; 32]>>,
    session: Vec<u8>,
}

impl std::fmt::Debug for SecAggClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecAggClient(rank {}, ..)", self.rank)
    }
}

impl SecAggClient {
    /// A client with rank `rank` among the clients of `session` (a job- and
    /// component-unique string, so seeds never repeat across jobs).
    pub fn new(rank: usize, session: &str) -> Self {
        let mut wide = [0u8; 64];
        OsRng.fill_bytes(&mut wide);
        SecAggClient {
            rank,
            secret: Scalar::from_bytes_mod_order_wide(&wide),
            seeds: Vec::new(),
            session: session.as_bytes().to_vec(),
        }
    }

    /// The 32-byte public key to send to the other clients.
    pub fn public_key(&self) -> [u8; 32] {
        (self.secret * curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT)
            .compress()
            .to_bytes()
    }

    /// Derives the pairwise seeds from every client's public key, by rank.
    pub fn agree(&mut self, public_keys: &[[u8; 32]]) -> Result<()> {
        if self.rank >= public_keys.len() {
            return Err(CryptoError::Invalid(format!(
                "secure aggregation: rank {} but {} public keys",
                self.rank,
                public_keys.len()
            )));
        }
        if public_keys[self.rank] != self.public_key() {
            return Err(CryptoError::Invalid(format!(
                "secure aggregation: the key list's entry {} is not this client's key",
                self.rank
            )));
        }
        let mut seeds = Vec::with_capacity(public_keys.len());
        for (j, pk) in public_keys.iter().enumerate() {
            if j == self.rank {
                seeds.push(None);
                continue;
            }
            let point: RistrettoPoint = CompressedRistretto(*pk).decompress().ok_or_else(|| {
                CryptoError::Invalid(format!(
                    "secure aggregation: client {j}'s public key is not a ristretto255 point"
                ))
            })?;
            let shared = (self.secret * point).compress().to_bytes();
            let (lo, hi) = (self.rank.min(j), self.rank.max(j));
            let mut h = Sha256::new();
            h.update(DOMAIN);
            h.update((self.session.len() as u64).to_le_bytes());
            h.update(&self.session);
            h.update((lo as u64).to_le_bytes());
            h.update((hi as u64).to_le_bytes());
            h.update(shared);
            seeds.push(Some(h.finalize().into()));
        }
        self.seeds = seeds;
        Ok(())
    }

    /// `values` encoded and masked for round `round`; the masks of all
    /// clients cancel in [`sum_masked`]. Errors if [`Self::agree`] has not run
    /// or a value is not finite or too large.
    pub fn mask(&self, round: u64, values: &[f64]) -> Result<Vec<u128>> {
        if self.seeds.is_empty() {
            return Err(CryptoError::Invalid(
                "secure aggregation: mask before the key agreement".into(),
            ));
        }
        let mut out = values
            .iter()
            .map(|&v| encode(v))
            .collect::<Result<Vec<u128>>>()?;
        for (j, seed) in self.seeds.iter().enumerate() {
            let Some(seed) = seed else { continue };
            let mut rng = ChaCha20Rng::from_seed(*seed);
            rng.set_stream(round);
            let add = self.rank < j;
            for o in out.iter_mut() {
                let m = (u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64());
                *o = if add {
                    o.wrapping_add(m)
                } else {
                    o.wrapping_sub(m)
                };
            }
        }
        Ok(out)
    }
}

/// Encodes a value in the ring.
pub fn encode(v: f64) -> Result<u128> {
    if !v.is_finite() {
        return Err(CryptoError::NonFinite(v));
    }
    if v.abs() > MAX_ABS {
        return Err(CryptoError::Overflow(format!(
            "secure aggregation: |{v}| exceeds {MAX_ABS:e}"
        )));
    }
    Ok(((v * SCALE).round() as i128) as u128)
}

/// Decodes a ring element (a sum) to a float.
pub fn decode(x: u128) -> f64 {
    (x as i128) as f64 / SCALE
}

/// The element-wise sum of every client's masked vector: the masks cancel,
/// the result is the encoded sum. Errors on vectors of different lengths.
pub fn sum_masked(vectors: &[Vec<u128>]) -> Result<Vec<u128>> {
    let Some(first) = vectors.first() else {
        return Ok(Vec::new());
    };
    let mut acc = vec![0u128; first.len()];
    for (i, v) in vectors.iter().enumerate() {
        if v.len() != acc.len() {
            return Err(CryptoError::Invalid(format!(
                "secure aggregation: client {i} sent {} values, client 0 sent {}",
                v.len(),
                acc.len()
            )));
        }
        for (a, x) in acc.iter_mut().zip(v) {
            *a = a.wrapping_add(*x);
        }
    }
    Ok(acc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn clients(n: usize) -> Vec<SecAggClient> {
        let mut cs: Vec<SecAggClient> = (0..n).map(|r| SecAggClient::new(r, "job_1.c")).collect();
        let keys: Vec<[u8; 32]> = cs.iter().map(SecAggClient::public_key).collect();
        for c in &mut cs {
            c.agree(&keys).unwrap();
        }
        cs
    }

    #[test]
    fn masks_cancel_and_single_vectors_are_hidden() {
        let cs = clients(3);
        let vals = [
            vec![1.5, -2.0, 0.0],
            vec![0.25, 4.0, -1e6],
            vec![-1.0, 1e-9, 3.0],
        ];
        let masked: Vec<Vec<u128>> = cs
            .iter()
            .zip(&vals)
            .map(|(c, v)| c.mask(7, v).unwrap())
            .collect();
        for (m, v) in masked.iter().zip(&vals) {
            let plain: Vec<u128> = v.iter().map(|&x| encode(x).unwrap()).collect();
            assert!(
                m.iter().zip(&plain).all(|(a, b)| a != b),
                "a value went unmasked"
            );
        }
        let sum: Vec<f64> = sum_masked(&masked)
            .unwrap()
            .into_iter()
            .map(decode)
            .collect();
        let want = [0.75, 2.0 + 1e-9, 3.0 - 1e6];
        for (s, w) in sum.iter().zip(want) {
            assert!((s - w).abs() < 1e-11, "{s} vs {w}");
        }
        // Another round uses other masks; a missing client leaves noise.
        assert_ne!(cs[0].mask(8, &vals[0]).unwrap(), masked[0]);
        let partial = sum_masked(&masked[..2]).unwrap();
        assert!((decode(partial[0]) - 1.75).abs() > 1.0);
    }

    #[test]
    fn bad_input_is_refused() {
        let c = SecAggClient::new(0, "s");
        assert!(c.mask(0, &[1.0]).is_err(), "mask before agree");
        let mut c = SecAggClient::new(1, "s");
        assert!(c.agree(&[[0u8; 32]]).is_err(), "rank out of range");
        let own = c.public_key();
        let e = c.agree(&[[7u8; 32], own]).unwrap_err().to_string();
        assert!(e.contains("client 0"), "{e}");
        assert!(encode(f64::NAN).is_err() && encode(1e30).is_err());
        assert!(sum_masked(&[vec![1], vec![1, 2]]).is_err());
    }

    proptest! {
        #[test]
        fn sum_equals_plaintext_sum(n in 2usize..6, vals in proptest::collection::vec(-1e9f64..1e9, 1..20)) {
            let cs = clients(n);
            let masked: Vec<Vec<u128>> = cs.iter().enumerate()
                .map(|(i, c)| c.mask(3, &vals.iter().map(|v| v * (i as f64 + 1.0)).collect::<Vec<_>>()).unwrap())
                .collect();
            let tri = (n * (n + 1) / 2) as f64;
            for (s, v) in sum_masked(&masked).unwrap().into_iter().map(decode).zip(&vals) {
                prop_assert!((s - v * tri).abs() <= 1e-9 * (1.0 + (v * tri).abs()));
            }
        }
    }
}
