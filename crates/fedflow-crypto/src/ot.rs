//! 1-out-of-N oblivious transfer in the style of Hauck & Loss ("Efficient
//! and universally composable protocols for oblivious transfer from the
//! CDH assumption", as FATE's `HauckObliviousTransfer`), over ristretto255,
//! with AES-256-GCM for the transferred messages.
//!
//! 1. The sender draws `y` and sends `S = y·G`.
//! 2. The receiver, choosing `c`, draws `x` and sends `R = c·S + x·G`.
//! 3. The sender derives `k_i = H(i, y·(R − i·S))` for every `i < N` and
//!    encrypts message `i` under `k_i`; the receiver derives
//!    `k_c = H(c, x·S)`, the only key it can compute: `y·(R − c·S) = x·y·G`.
//!
//! `R` is uniform whatever `c` is, so the sender learns nothing of the
//! choice; the other keys would need `y·(c − i)·S`, i.e. CDH.

use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT as G;
use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use rand::rngs::OsRng;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use sha2::{Digest, Sha256};

use crate::error::{CryptoError, Result};

const DOMAIN: &[u8] = b"fedflow-ot-hauck-ristretto255-v1";

fn key_of(i: u64, p: &RistrettoPoint) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(DOMAIN);
    h.update(i.to_be_bytes());
    h.update(p.compress().as_bytes());
    h.finalize().into()
}

fn point(b: &[u8; 32], what: &str) -> Result<RistrettoPoint> {
    CompressedRistretto(*b).decompress().ok_or_else(|| {
        CryptoError::Invalid(format!(
            "oblivious transfer: {what} is not a ristretto255 point"
        ))
    })
}

/// The sender's side.
pub struct OtSender {
    y: Scalar,
    s: RistrettoPoint,
}

impl Default for OtSender {
    fn default() -> Self {
        Self::new()
    }
}

impl OtSender {
    /// A fresh sender.
    pub fn new() -> Self {
        let y = Scalar::random(&mut OsRng);
        OtSender { y, s: G * y }
    }

    /// `S`, for the receiver.
    pub fn public(&self) -> [u8; 32] {
        self.s.compress().to_bytes()
    }

    /// The `n` message keys, given the receiver's `R`.
    pub fn keys(&self, r: &[u8; 32], n: usize) -> Result<Vec<[u8; 32]>> {
        let r = point(r, "the receiver's R")?;
        let ys = self.s * self.y;
        let mut acc = r * self.y; // y·(R − i·S) = y·R − i·y·S
        let mut out = Vec::with_capacity(n);
        for i in 0..n as u64 {
            out.push(key_of(i, &acc));
            acc -= ys;
        }
        Ok(out)
    }
}

/// The receiver's side, for one choice.
pub struct OtReceiver {
    choice: u64,
    key: [u8; 32],
    r: [u8; 32],
}

impl OtReceiver {
    /// Chooses message `choice` given the sender's `S`.
    pub fn new(s: &[u8; 32], choice: u64) -> Result<Self> {
        let s = point(s, "the sender's S")?;
        let x = Scalar::random(&mut OsRng);
        let r = s * Scalar::from(choice) + G * x;
        Ok(OtReceiver {
            choice,
            key: key_of(choice, &(s * x)),
            r: r.compress().to_bytes(),
        })
    }

    /// `R`, for the sender.
    pub fn public(&self) -> [u8; 32] {
        self.r
    }

    /// The chosen message's key.
    pub fn key(&self) -> [u8; 32] {
        self.key
    }

    /// The chosen index.
    pub fn choice(&self) -> u64 {
        self.choice
    }
}

/// AES-256-GCM with a random nonce (prepended).
pub fn seal(key: &[u8; 32], plaintext: &[u8]) -> Result<Vec<u8>> {
    let k = LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, key).map_err(|_| CryptoError::Invalid("AES key".into()))?,
    );
    let mut nonce = [0u8; NONCE_LEN];
    rand::RngCore::fill_bytes(&mut OsRng, &mut nonce);
    let mut buf = plaintext.to_vec();
    k.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut buf)
        .map_err(|_| CryptoError::Invalid("AES-GCM seal".into()))?;
    let mut out = nonce.to_vec();
    out.extend(buf);
    Ok(out)
}

/// Opens what [`seal`] made; fails for another key or altered bytes.
pub fn open(key: &[u8; 32], sealed: &[u8]) -> Result<Vec<u8>> {
    if sealed.len() < NONCE_LEN {
        return Err(CryptoError::Invalid("AES-GCM message too short".into()));
    }
    let k = LessSafeKey::new(
        UnboundKey::new(&AES_256_GCM, key).map_err(|_| CryptoError::Invalid("AES key".into()))?,
    );
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&sealed[..NONCE_LEN]);
    let mut buf = sealed[NONCE_LEN..].to_vec();
    let plain = k
        .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut buf)
        .map_err(|_| CryptoError::Invalid("AES-GCM: wrong key or altered message".into()))?;
    Ok(plain.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_receiver_opens_only_its_choice() {
        let n = 45;
        for choice in [0u64, 7, 44] {
            let s = OtSender::new();
            let r = OtReceiver::new(&s.public(), choice).unwrap();
            let keys = s.keys(&r.public(), n).unwrap();
            let sealed: Vec<Vec<u8>> = (0..n)
                .map(|i| seal(&keys[i], format!("block {i}").as_bytes()).unwrap())
                .collect();
            for (i, m) in sealed.iter().enumerate() {
                let got = open(&r.key(), m);
                if i as u64 == choice {
                    assert_eq!(got.unwrap(), format!("block {i}").into_bytes());
                } else {
                    assert!(got.is_err(), "block {i} opened with choice {choice}");
                }
            }
        }
        assert!(OtReceiver::new(&[0xff; 32], 1).is_err());
    }
}
