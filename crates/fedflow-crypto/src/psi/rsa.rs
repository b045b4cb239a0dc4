//! FATE's RSA blind-signature PSI (`statistic/intersect/rsa_intersect`).
//!
//! * Server (host) holds an RSA key; publishes `{e, n}` and the tags
//!   `H2(H1(id)^d mod n)` of its own ids.
//! * Client (guest) sends `r^e · H1(id) mod n` for random `r ∈ Z_n*`; the
//!   server returns `(r^e·H1(id))^d = r·H1(id)^d`; the client multiplies by
//!   `r^-1`, applies `H2` and joins with the server's tags.
//!
//! `H1(id) = SHA-256(id)` as an integer (as FATE), `H2(x) = SHA-256(x as
//! big-endian bytes padded to |n|)`.

use rand::rngs::OsRng;
use rand::{CryptoRng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::bigint::BigUint;
use crate::error::{CryptoError, Result};

const E: u64 = 65_537;

fn h1(id: &[u8]) -> BigUint {
    BigUint::from_bytes_be(&Sha256::digest(id))
}

fn h2(x: &BigUint, len: usize) -> [u8; 32] {
    Sha256::digest(x.to_bytes_be_padded(len)).into()
}

/// The server's public key `{e, n}` (serialises as big-endian bytes).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RsaPublicKey {
    #[serde(with = "serde_bytes")]
    n: Vec<u8>,
    #[serde(with = "serde_bytes")]
    e: Vec<u8>,
}

impl RsaPublicKey {
    fn n(&self) -> BigUint {
        BigUint::from_bytes_be(&self.n)
    }
    fn e(&self) -> BigUint {
        BigUint::from_bytes_be(&self.e)
    }
}

/// The RSA-PSI server (FATE's host): signs its own ids and the client's
/// blinded ids with CRT.
pub struct RsaPsiServer {
    n: BigUint,
    p: BigUint,
    q: BigUint,
    dp: BigUint,
    dq: BigUint,
    q_inv_p: BigUint,
    len: usize,
}

impl std::fmt::Debug for RsaPsiServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RsaPsiServer({} bits)", self.n.bits())
    }
}

impl RsaPsiServer {
    /// Generate a fresh `bits`-bit RSA key (1024 in FATE ≤ 1.11.3, 2048 after).
    pub fn new(bits: u32) -> Result<Self> {
        let mut rng =
            ChaCha20Rng::from_rng(OsRng).map_err(|e| CryptoError::Invalid(e.to_string()))?;
        Self::with_rng(bits, &mut rng)
    }

    /// Generate with a caller-supplied CSPRNG.
    pub fn with_rng<R: RngCore + CryptoRng + ?Sized>(bits: u32, rng: &mut R) -> Result<Self> {
        if bits < 512 || bits % 64 != 0 {
            return Err(CryptoError::KeySize(bits));
        }
        let one = BigUint::one();
        let e = BigUint::from(E);
        loop {
            let p = BigUint::random_prime(bits / 2, rng);
            let q = BigUint::random_prime(bits / 2, rng);
            if p == q {
                continue;
            }
            let pm1 = p.checked_sub(&one).unwrap_or_default();
            let qm1 = q.checked_sub(&one).unwrap_or_default();
            let phi = pm1.mul(&qm1);
            let Some(d) = e.invert(&phi) else { continue };
            let Some(q_inv_p) = q.invert(&p) else {
                continue;
            };
            let n = p.mul(&q);
            return Ok(RsaPsiServer {
                len: n.bits().div_ceil(8) as usize,
                dp: d.rem(&pm1),
                dq: d.rem(&qm1),
                n,
                p,
                q,
                q_inv_p,
            });
        }
    }

    /// `{e, n}` to send to the client.
    pub fn public_key(&self) -> RsaPublicKey {
        RsaPublicKey {
            n: self.n.to_bytes_be(),
            e: BigUint::from(E).to_bytes_be(),
        }
    }

    /// `x^d mod n` by CRT (Garner).
    fn sign_raw(&self, x: &BigUint) -> BigUint {
        let sp = x.rem(&self.p).pow_mod(&self.dp, &self.p);
        let sq = x.rem(&self.q).pow_mod(&self.dq, &self.q);
        // s = sq + q·((sp - sq)·q^-1 mod p)
        let diff = sp
            .add(&self.p)
            .checked_sub(&sq.rem(&self.p))
            .unwrap_or_default();
        let h = diff.mul_mod(&self.q_inv_p, &self.p);
        sq.add(&self.q.mul(&h))
    }

    /// Tags `H2(H1(id)^d mod n)` of the server's own ids, in parallel.
    pub fn sign_ids<T: AsRef<[u8]> + Sync>(&self, ids: &[T]) -> Vec<[u8; 32]> {
        ids.par_iter()
            .map(|id| h2(&self.sign_raw(&h1(id.as_ref())), self.len))
            .collect()
    }

    /// Sign the client's blinded values (`x^d mod n`), in parallel.
    pub fn sign_blinded(&self, blinded: &[BigUint]) -> Result<Vec<BigUint>> {
        blinded
            .par_iter()
            .map(|x| {
                if *x >= self.n {
                    Err(CryptoError::OutOfRange("blinded value >= n"))
                } else {
                    Ok(self.sign_raw(x))
                }
            })
            .collect()
    }
}

/// The client's secret unblinding factors (`r^-1 mod n`), one per id.
#[derive(Debug)]
pub struct RsaBlindState {
    r_inv: Vec<BigUint>,
}

/// The RSA-PSI client (FATE's guest).
#[derive(Clone, Debug)]
pub struct RsaPsiClient {
    n: BigUint,
    e: BigUint,
    len: usize,
}

impl RsaPsiClient {
    /// A client for the server's public key.
    pub fn new(pk: &RsaPublicKey) -> Result<Self> {
        let n = pk.n();
        if n.bits() < 512 || !n.is_odd() {
            return Err(CryptoError::KeySize(n.bits()));
        }
        Ok(RsaPsiClient {
            len: n.bits().div_ceil(8) as usize,
            e: pk.e(),
            n,
        })
    }

    /// Blind each id as `r^e · H1(id) mod n` with a fresh uniform `r`; returns
    /// the values to send and the secret state for [`RsaPsiClient::unblind`].
    pub fn blind<T: AsRef<[u8]> + Sync>(&self, ids: &[T]) -> (Vec<BigUint>, RsaBlindState) {
        let (blinded, r_inv): (Vec<BigUint>, Vec<BigUint>) = ids
            .par_iter()
            .map(|id| {
                let mut rng = rand::thread_rng();
                loop {
                    let r = BigUint::random_below(&self.n, &mut rng);
                    let Some(ri) = r.invert(&self.n) else {
                        continue;
                    };
                    let b = r
                        .pow_mod(&self.e, &self.n)
                        .mul_mod(&h1(id.as_ref()), &self.n);
                    return (b, ri);
                }
            })
            .unzip();
        (blinded, RsaBlindState { r_inv })
    }

    /// Unblind the server's signatures and hash: `H2(s · r^-1 mod n)`.
    pub fn unblind(&self, state: &RsaBlindState, signed: &[BigUint]) -> Result<Vec<[u8; 32]>> {
        if signed.len() != state.r_inv.len() {
            return Err(CryptoError::Invalid(format!(
                "{} signatures for {} blinded ids",
                signed.len(),
                state.r_inv.len()
            )));
        }
        Ok(signed
            .par_iter()
            .zip(&state.r_inv)
            .map(|(s, ri)| h2(&s.mul_mod(ri, &self.n), self.len))
            .collect())
    }
}
