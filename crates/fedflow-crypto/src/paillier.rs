//! Paillier with FATE's parameters (`g = n + 1`, `max_int = n/3 - 1`, base-16
//! fixed point), CRT decryption, three obfuscation strategies and batched,
//! rayon-parallel APIs.
//!
//! Encryption of mantissa `m` with obfuscator `o` (an `n`-th residue mod n²):
//! `c = (1 + m·n)·o mod n² = o + n·(m·o mod n) mod n²` — one cheap
//! multiplication once `o` is known. The obfuscator comes from
//! [`Obfuscation`]:
//! * [`Obfuscation::Djn`] (default for [`PublicKey::encrypt`]):
//!   Damgård–Jurik–Nielsen fixed base, `o = hs^α` with `hs = h^n mod n²`,
//!   `h = -x² mod n` for a random `x`, `α` a uniform 256-bit exponent, using a
//!   fixed-base windowed table (see README for the security assumption);
//! * [`Obfuscation::Full`]: FATE's `r^n mod n²` for uniform `r`;
//! * [`Obfuscation::Pool`]: `r^n` values precomputed by a background thread
//!   ([`ObfuscatorPool`]);
//! * [`Obfuscation::None`]: no obfuscation (`o = 1`), as FATE's
//!   `obfuscate=False` — only for values that are obfuscated later.
//!
//! The key owner encrypts via [`PrivateKey::encrypt`], which samples the same
//! distribution as `r^n` with CRT: `u^p mod p²` and `v^q mod q²` for uniform
//! `u ∈ Z_p*`, `v ∈ Z_q*` (since `(r^q)^p mod p²` only depends on `r^q mod p`).

use std::fmt;
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::{Arc, Mutex, OnceLock};

use rand::rngs::OsRng;
use rand::{CryptoRng, RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::bigint::BigUint;
use crate::error::{CryptoError, Result};
use crate::fixedpoint::{self, EncodedNumber};
use crate::montgomery::{MontElem, Montgomery};

/// Default key size (FATE ≤ 1.11.3).
pub const DEFAULT_KEY_BITS: u32 = 1024;
/// Bits of the DJN short exponent α (≥ 2 × 128-bit security).
pub const DJN_ALPHA_BITS: u32 = 256;
/// Window width of the DJN fixed-base table (table = α/w · 2^w entries of n² size).
pub const DJN_WINDOW_BITS: u32 = 8;

fn rng() -> ChaCha20Rng {
    // Fresh CSPRNG seeded from the OS for key material.
    ChaCha20Rng::from_rng(OsRng).unwrap_or_else(|_| ChaCha20Rng::from_entropy())
}

/// Fixed-base table for `hs^α`: `table[i][j] = hs^(j · 2^(w·i)) mod n²`, in
/// Montgomery form (an obfuscator is a product of one entry per window).
struct DjnTable {
    window: u32,
    alpha_bits: u32,
    table: Vec<Vec<MontElem>>,
}

impl DjnTable {
    fn build(mont: &Montgomery, n: &BigUint, n2: &BigUint, window: u32, alpha_bits: u32) -> Self {
        let mut r = rng();
        let hs = loop {
            let x = BigUint::random_below(n, &mut r);
            if x.is_zero() || x.gcd(n) != BigUint::one() {
                continue;
            }
            // h = -x^2 mod n, hs = h^n mod n^2.
            let x2 = x.mul_mod(&x, n);
            let h = n.checked_sub(&x2).unwrap_or_default();
            break h.pow_mod(n, n2);
        };
        let windows = alpha_bits.div_ceil(window);
        let size = 1usize << window;
        // Each window's base is hs^(2^(w·i)); its row is built in parallel.
        let mut bases = Vec::with_capacity(windows as usize);
        let mut base = mont.to_mont(&hs);
        for _ in 0..windows {
            bases.push(base.clone());
            for _ in 0..window {
                mont.square_assign(&mut base);
            }
        }
        let table = bases
            .par_iter()
            .map(|b| {
                let mut row = Vec::with_capacity(size);
                row.push(mont.one());
                for j in 1..size {
                    let next = mont.mul(&row[j - 1], b);
                    row.push(next);
                }
                row
            })
            .collect();
        DjnTable {
            window,
            alpha_bits,
            table,
        }
    }

    fn obfuscator<R: RngCore + CryptoRng + ?Sized>(
        &self,
        mont: &Montgomery,
        rng: &mut R,
    ) -> BigUint {
        // α as little-endian 64-bit words, top word masked to alpha_bits.
        let words = self.alpha_bits.div_ceil(64) as usize;
        let mut alpha = vec![0u64; words + 1];
        for w in alpha.iter_mut().take(words) {
            *w = rng.next_u64();
        }
        let extra = words as u32 * 64 - self.alpha_bits;
        if extra > 0 {
            alpha[words - 1] &= u64::MAX >> extra;
        }
        let mask = (1u64 << self.window) - 1;
        let mut acc: Option<MontElem> = None;
        for (i, row) in self.table.iter().enumerate() {
            let bit = i as u32 * self.window;
            let (word, off) = ((bit / 64) as usize, bit % 64);
            let mut d = alpha[word] >> off;
            if off + self.window > 64 {
                d |= alpha[word + 1] << (64 - off);
            }
            let d = (d & mask) as usize;
            if d != 0 {
                match acc.as_mut() {
                    None => acc = Some(row[d].clone()),
                    Some(a) => mont.mul_assign(a, &row[d]),
                }
            }
        }
        acc.map(|a| mont.from_mont(&a)).unwrap_or_else(BigUint::one)
    }
}

struct PkInner {
    n: BigUint,
    n2: BigUint,
    max_int: BigUint,
    djn: OnceLock<DjnTable>,
    mont: OnceLock<Montgomery>,
}

/// Paillier public key (`g = n + 1`). Cheap to clone (shared inner state);
/// serialises as the big-endian bytes of `n`.
#[derive(Clone)]
pub struct PublicKey {
    inner: Arc<PkInner>,
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({} bits)", self.bits())
    }
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.inner.n == other.inner.n
    }
}
impl Eq for PublicKey {}

/// How the encryptor draws the obfuscator (an `n`-th residue mod n²).
#[derive(Clone, Copy, Debug)]
pub enum Obfuscation<'a> {
    /// DJN fixed-base `hs^α` (fast, default).
    Djn,
    /// FATE's `r^n mod n²` with a fresh uniform `r` (one full modexp).
    Full,
    /// Take a precomputed `r^n` from a background pool (falls back to
    /// computing one inline when the pool is empty).
    Pool(&'a ObfuscatorPool),
    /// No obfuscation (deterministic ciphertext); FATE's `obfuscate=False`.
    None,
}

/// A Paillier ciphertext with its fixed-point exponent. Serialises compactly
/// as big-endian bytes plus the exponent.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Ciphertext {
    c: BigUint,
    exponent: i32,
}

impl Ciphertext {
    /// The raw ciphertext integer (mod n²).
    pub fn raw(&self) -> &BigUint {
        &self.c
    }
    /// The fixed-point exponent (value = mantissa · 16^-exponent).
    pub fn exponent(&self) -> i32 {
        self.exponent
    }
    /// Build from parts (e.g. received from a peer).
    pub fn from_parts(c: BigUint, exponent: i32) -> Self {
        Ciphertext { c, exponent }
    }
}

#[derive(Serialize, Deserialize)]
struct CiphertextWire {
    #[serde(with = "serde_bytes")]
    c: Vec<u8>,
    e: i32,
}

impl Serialize for Ciphertext {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        CiphertextWire {
            c: self.c.to_bytes_be(),
            e: self.exponent,
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Ciphertext {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let w = CiphertextWire::deserialize(d)?;
        Ok(Ciphertext {
            c: BigUint::from_bytes_be(&w.c),
            exponent: w.e,
        })
    }
}

#[derive(Serialize, Deserialize)]
struct PublicKeyWire {
    #[serde(with = "serde_bytes")]
    n: Vec<u8>,
}

impl Serialize for PublicKey {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        PublicKeyWire {
            n: self.inner.n.to_bytes_be(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for PublicKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let w = PublicKeyWire::deserialize(d)?;
        PublicKey::from_n(BigUint::from_bytes_be(&w.n)).map_err(serde::de::Error::custom)
    }
}

impl PublicKey {
    /// Build a public key from its modulus `n` (odd, ≥ 256 bits).
    pub fn from_n(n: BigUint) -> Result<Self> {
        if n.bits() < 256 || !n.is_odd() {
            return Err(CryptoError::KeySize(n.bits()));
        }
        let n2 = n.mul(&n);
        let (third, _) = n
            .div_rem(&BigUint::from(3u64))
            .ok_or(CryptoError::OutOfRange("n"))?;
        let max_int = third.checked_sub(&BigUint::one()).unwrap_or_default();
        Ok(PublicKey {
            inner: Arc::new(PkInner {
                n,
                n2,
                max_int,
                djn: OnceLock::new(),
                mont: OnceLock::new(),
            }),
        })
    }

    /// The modulus `n`.
    pub fn n(&self) -> &BigUint {
        &self.inner.n
    }
    /// `n²`.
    pub fn n_squared(&self) -> &BigUint {
        &self.inner.n2
    }
    /// FATE's `max_int = n/3 - 1`.
    pub fn max_int(&self) -> &BigUint {
        &self.inner.max_int
    }
    /// Key size in bits.
    pub fn bits(&self) -> u32 {
        self.inner.n.bits()
    }

    /// Montgomery arithmetic modulo `n²` (built on first use): products and
    /// multi-exponentiations of ciphertexts.
    pub fn montgomery(&self) -> &Montgomery {
        self.inner.mont.get_or_init(|| {
            // n is odd (a product of odd primes), so n² is too.
            Montgomery::new(&self.inner.n2).unwrap_or_else(|| unreachable!("Paillier n² is odd"))
        })
    }

    /// Build the DJN fixed-base table now (otherwise built on first use;
    /// ~2 MB for 1024-bit keys, ~4 MB for 2048-bit keys).
    pub fn precompute_djn(&self) {
        self.djn();
    }

    /// Build the DJN table with custom parameters (window bits, α bits);
    /// returns `false` if a table already exists. E.g. `α = ⌈bits/2⌉` for
    /// DJN's original parameter choice, whose hiding reduces to factoring
    /// (Håstad–Schrift–Shamir) at twice the cost of the default 256 bits.
    pub fn precompute_djn_with(&self, window_bits: u32, alpha_bits: u32) -> Result<bool> {
        if !(1..=16).contains(&window_bits) || alpha_bits < 128 {
            return Err(CryptoError::Invalid(format!(
                "DJN window must be 1..=16 bits and alpha >= 128 bits (got {window_bits}, {alpha_bits})"
            )));
        }
        let mut built = false;
        self.inner.djn.get_or_init(|| {
            built = true;
            DjnTable::build(
                self.montgomery(),
                &self.inner.n,
                &self.inner.n2,
                window_bits,
                alpha_bits,
            )
        });
        Ok(built)
    }

    fn djn(&self) -> &DjnTable {
        self.inner.djn.get_or_init(|| {
            DjnTable::build(
                self.montgomery(),
                &self.inner.n,
                &self.inner.n2,
                DJN_WINDOW_BITS,
                DJN_ALPHA_BITS,
            )
        })
    }

    /// A fresh obfuscator by the given strategy.
    pub fn obfuscator(&self, how: Obfuscation<'_>) -> BigUint {
        let mut r = rand::thread_rng();
        match how {
            Obfuscation::Djn => self.djn().obfuscator(self.montgomery(), &mut r),
            Obfuscation::Full => self.full_obfuscator(&mut r),
            Obfuscation::Pool(pool) => pool.take().unwrap_or_else(|| self.full_obfuscator(&mut r)),
            Obfuscation::None => BigUint::one(),
        }
    }

    fn full_obfuscator<R: RngCore + CryptoRng + ?Sized>(&self, r: &mut R) -> BigUint {
        let n = &self.inner.n;
        loop {
            let x = BigUint::random_below(n, r);
            if !x.is_zero() {
                return x.pow_mod(n, &self.inner.n2);
            }
        }
    }

    /// `(1 + m·n)·o mod n²` for `m < n`.
    fn raw_encrypt_with(&self, m: &BigUint, o: &BigUint) -> BigUint {
        let n = &self.inner.n;
        let t = m.mul_mod(&o.rem(n), n);
        let c = o.add(&n.mul(&t));
        if c >= self.inner.n2 {
            // One subtraction suffices for o < n²; `rem` covers foreign input.
            c.rem(&self.inner.n2)
        } else {
            c
        }
    }

    /// Encrypt a raw plaintext integer `m < n` (exponent 0), e.g. a packed value.
    pub fn encrypt_raw(&self, m: &BigUint, how: Obfuscation<'_>) -> Result<Ciphertext> {
        if *m >= self.inner.n {
            return Err(CryptoError::OutOfRange("plaintext >= n"));
        }
        let o = self.obfuscator(how);
        Ok(Ciphertext {
            c: self.raw_encrypt_with(m, &o),
            exponent: 0,
        })
    }

    /// Encrypt an already encoded number.
    pub fn encrypt_encoded(&self, e: &EncodedNumber, how: Obfuscation<'_>) -> Result<Ciphertext> {
        let mut ct = self.encrypt_raw(&e.encoding, how)?;
        ct.exponent = e.exponent;
        Ok(ct)
    }

    /// Encode an f64 for this key (FATE semantics).
    pub fn encode(&self, x: f64, precision: Option<f64>) -> Result<EncodedNumber> {
        fixedpoint::encode_f64(x, &self.inner.n, &self.inner.max_int, precision, None)
    }

    /// Encrypt an f64 with full precision and DJN obfuscation.
    pub fn encrypt(&self, x: f64) -> Result<Ciphertext> {
        self.encrypt_with(x, None, Obfuscation::Djn)
    }

    /// Encrypt an f64 with an explicit precision (FATE's `precision`) and obfuscation.
    pub fn encrypt_with(
        &self,
        x: f64,
        precision: Option<f64>,
        how: Obfuscation<'_>,
    ) -> Result<Ciphertext> {
        let e = self.encode(x, precision)?;
        self.encrypt_encoded(&e, how)
    }

    /// Encrypt an i64 (exponent 0).
    pub fn encrypt_i64(&self, x: i64) -> Result<Ciphertext> {
        let e = fixedpoint::encode_i64(x, &self.inner.n, &self.inner.max_int, None)?;
        self.encrypt_encoded(&e, Obfuscation::Djn)
    }

    /// Encrypt many f64 in parallel (rayon), DJN obfuscation.
    pub fn encrypt_batch(&self, xs: &[f64]) -> Result<Vec<Ciphertext>> {
        self.djn();
        xs.par_iter().map(|&x| self.encrypt(x)).collect()
    }

    /// Encrypt many f64 in parallel with a chosen obfuscation.
    pub fn encrypt_batch_with(&self, xs: &[f64], how: Obfuscation<'_>) -> Result<Vec<Ciphertext>> {
        xs.par_iter()
            .map(|&x| self.encrypt_with(x, None, how))
            .collect()
    }

    /// Encrypt many raw integers (`< n`) in parallel.
    pub fn encrypt_raw_batch(
        &self,
        ms: &[BigUint],
        how: Obfuscation<'_>,
    ) -> Result<Vec<Ciphertext>> {
        ms.par_iter().map(|m| self.encrypt_raw(m, how)).collect()
    }

    /// Multiply the ciphertext by `16^diff` so its exponent grows by `diff`.
    fn increase_exponent(&self, a: &Ciphertext, new_exponent: i32) -> Result<Ciphertext> {
        if new_exponent == a.exponent {
            return Ok(a.clone());
        }
        let diff = new_exponent
            .checked_sub(a.exponent)
            .filter(|d| *d > 0)
            .ok_or(CryptoError::OutOfRange("exponent can only increase"))?;
        let shift = i64::from(diff) * i64::from(fixedpoint::LOG2_BASE);
        if shift >= i64::from(self.bits()) {
            return Err(CryptoError::Overflow(format!(
                "exponent alignment by 16^{diff} exceeds the key"
            )));
        }
        let factor = BigUint::one().shl(shift as u32);
        if factor >= self.inner.n {
            return Err(CryptoError::Overflow(format!(
                "exponent alignment by 16^{diff} exceeds the key"
            )));
        }
        Ok(Ciphertext {
            c: a.c.pow_mod(&factor, &self.inner.n2),
            exponent: new_exponent,
        })
    }

    /// Homomorphic addition with FATE's exponent alignment (the operand with
    /// the smaller exponent is scaled up).
    pub fn add(&self, a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext> {
        if a.exponent == b.exponent {
            return Ok(Ciphertext {
                c: a.c.mul_mod(&b.c, &self.inner.n2),
                exponent: a.exponent,
            });
        }
        let e = a.exponent.max(b.exponent);
        let a2 = self.increase_exponent(a, e)?;
        let b2 = self.increase_exponent(b, e)?;
        Ok(Ciphertext {
            c: a2.c.mul_mod(&b2.c, &self.inner.n2),
            exponent: e,
        })
    }

    /// `a - b`.
    pub fn sub(&self, a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext> {
        let nb = self.mul_i64(b, -1)?;
        self.add(a, &nb)
    }

    /// Sum of many ciphertexts (`Enc(0)` without obfuscation for an empty slice).
    pub fn sum(&self, xs: &[Ciphertext]) -> Result<Ciphertext> {
        let mut acc = Ciphertext {
            c: BigUint::one(),
            exponent: xs.iter().map(|x| x.exponent).min().unwrap_or(0),
        };
        for x in xs {
            acc = self.add(&acc, x)?;
        }
        Ok(acc)
    }

    fn add_encoded(&self, a: &Ciphertext, e: &EncodedNumber) -> Result<Ciphertext> {
        let a2 = self.increase_exponent(a, e.exponent.max(a.exponent))?;
        // (1 + m n)·c mod n² = c + n·(m·c mod n)
        Ok(Ciphertext {
            c: self.raw_encrypt_with(&e.encoding, &a2.c),
            exponent: a2.exponent,
        })
    }

    /// Add a plaintext f64 (encoded at least at the ciphertext's exponent).
    pub fn add_plain(&self, a: &Ciphertext, x: f64) -> Result<Ciphertext> {
        let e = fixedpoint::encode_f64(
            x,
            &self.inner.n,
            &self.inner.max_int,
            None,
            Some(a.exponent),
        )?;
        self.add_encoded(a, &e)
    }

    /// Add a plaintext i64.
    pub fn add_plain_i64(&self, a: &Ciphertext, x: i64) -> Result<Ciphertext> {
        let e = fixedpoint::encode_i64(x, &self.inner.n, &self.inner.max_int, Some(a.exponent))?;
        self.add_encoded(a, &e)
    }

    fn mul_encoded(&self, a: &Ciphertext, e: &EncodedNumber) -> Result<Ciphertext> {
        let n = &self.inner.n;
        let threshold = n.checked_sub(&self.inner.max_int).unwrap_or_default();
        let c = if e.encoding >= threshold {
            let neg = n.checked_sub(&e.encoding).unwrap_or_default();
            let inv =
                a.c.invert(&self.inner.n2)
                    .ok_or(CryptoError::OutOfRange("ciphertext not invertible mod n^2"))?;
            inv.pow_mod(&neg, &self.inner.n2)
        } else {
            a.c.pow_mod(&e.encoding, &self.inner.n2)
        };
        let exponent = a
            .exponent
            .checked_add(e.exponent)
            .ok_or_else(|| CryptoError::Overflow("exponent overflow in multiplication".into()))?;
        Ok(Ciphertext { c, exponent })
    }

    /// Multiply by a plaintext f64 (encoded with full precision, as FATE).
    pub fn mul_f64(&self, a: &Ciphertext, s: f64) -> Result<Ciphertext> {
        let e = fixedpoint::encode_f64(s, &self.inner.n, &self.inner.max_int, None, None)?;
        self.mul_encoded(a, &e)
    }

    /// Multiply by a plaintext i64 (negative scalars allowed).
    pub fn mul_i64(&self, a: &Ciphertext, s: i64) -> Result<Ciphertext> {
        let e = fixedpoint::encode_i64(s, &self.inner.n, &self.inner.max_int, None)?;
        self.mul_encoded(a, &e)
    }

    /// Multiply a raw (exponent-0) ciphertext by a non-negative big integer.
    pub fn mul_raw(&self, a: &Ciphertext, k: &BigUint) -> Ciphertext {
        Ciphertext {
            c: a.c.pow_mod(k, &self.inner.n2),
            exponent: a.exponent,
        }
    }

    /// Element-wise `a[i] + b[i]` in parallel.
    pub fn add_batch(&self, a: &[Ciphertext], b: &[Ciphertext]) -> Result<Vec<Ciphertext>> {
        if a.len() != b.len() {
            return Err(CryptoError::Invalid("add_batch: length mismatch".into()));
        }
        a.par_iter().zip(b).map(|(x, y)| self.add(x, y)).collect()
    }

    /// Element-wise `a[i] + x[i]` (plaintext) in parallel.
    pub fn add_plain_batch(&self, a: &[Ciphertext], x: &[f64]) -> Result<Vec<Ciphertext>> {
        if a.len() != x.len() {
            return Err(CryptoError::Invalid(
                "add_plain_batch: length mismatch".into(),
            ));
        }
        a.par_iter()
            .zip(x)
            .map(|(c, &v)| self.add_plain(c, v))
            .collect()
    }

    /// Element-wise `a[i] · s[i]` in parallel.
    pub fn mul_f64_batch(&self, a: &[Ciphertext], s: &[f64]) -> Result<Vec<Ciphertext>> {
        if a.len() != s.len() {
            return Err(CryptoError::Invalid(
                "mul_f64_batch: length mismatch".into(),
            ));
        }
        a.par_iter()
            .zip(s)
            .map(|(c, &v)| self.mul_f64(c, v))
            .collect()
    }
}

/// Key generation entry point.
pub struct PaillierKeypair;

impl PaillierKeypair {
    /// Generate a key pair of `bits` (1024 default in FATE ≤ 1.11.3, 2048, 3072, …).
    pub fn generate(bits: u32) -> Result<(PublicKey, PrivateKey)> {
        Self::generate_with_rng(bits, &mut rng())
    }

    /// Generate with a caller-supplied CSPRNG (e.g. seeded, for tests).
    pub fn generate_with_rng<R: RngCore + CryptoRng + ?Sized>(
        bits: u32,
        rng: &mut R,
    ) -> Result<(PublicKey, PrivateKey)> {
        if bits < 256 || bits % 64 != 0 {
            return Err(CryptoError::KeySize(bits));
        }
        loop {
            let p = BigUint::random_prime(bits / 2, rng);
            let q = BigUint::random_prime(bits / 2, rng);
            if p == q {
                continue;
            }
            let n = p.mul(&q);
            if n.bits() != bits {
                continue;
            }
            let pm1 = p.checked_sub(&BigUint::one()).unwrap_or_default();
            let qm1 = q.checked_sub(&BigUint::one()).unwrap_or_default();
            if n.gcd(&pm1.mul(&qm1)) != BigUint::one() {
                continue;
            }
            let pk = PublicKey::from_n(n)?;
            let sk = PrivateKey::from_primes(pk.clone(), p, q)?;
            return Ok((pk, sk));
        }
    }
}

/// Paillier private key with CRT precomputation.
#[derive(Clone)]
pub struct PrivateKey {
    pk: PublicKey,
    p: BigUint,
    q: BigUint,
    p2: BigUint,
    q2: BigUint,
    pm1: BigUint,
    qm1: BigUint,
    hp: BigUint,
    hq: BigUint,
    p_inv_q: BigUint,
    p2_inv_q2: BigUint,
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PrivateKey({} bits)", self.pk.bits())
    }
}

#[derive(Serialize, Deserialize)]
struct PrivateKeyWire {
    #[serde(with = "serde_bytes")]
    p: Vec<u8>,
    #[serde(with = "serde_bytes")]
    q: Vec<u8>,
}

impl Serialize for PrivateKey {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        PrivateKeyWire {
            p: self.p.to_bytes_be(),
            q: self.q.to_bytes_be(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for PrivateKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let w = PrivateKeyWire::deserialize(d)?;
        let p = BigUint::from_bytes_be(&w.p);
        let q = BigUint::from_bytes_be(&w.q);
        let pk = PublicKey::from_n(p.mul(&q)).map_err(serde::de::Error::custom)?;
        PrivateKey::from_primes(pk, p, q).map_err(serde::de::Error::custom)
    }
}

impl PrivateKey {
    /// Build from the public key and the two primes.
    pub fn from_primes(pk: PublicKey, p: BigUint, q: BigUint) -> Result<Self> {
        if p.mul(&q) != *pk.n() || p == q {
            return Err(CryptoError::Invalid("p·q != n".into()));
        }
        let one = BigUint::one();
        let p2 = p.mul(&p);
        let q2 = q.mul(&q);
        let pm1 = p.checked_sub(&one).unwrap_or_default();
        let qm1 = q.checked_sub(&one).unwrap_or_default();
        let g = pk.n().add(&one);
        let h = |prime: &BigUint, prime2: &BigUint, pm1: &BigUint| -> Result<BigUint> {
            let x = g.rem(prime2).pow_mod(pm1, prime2);
            let l = x
                .checked_sub(&one)
                .and_then(|v| v.div_rem(prime))
                .map(|(l, _)| l)
                .unwrap_or_default();
            l.invert(prime)
                .ok_or_else(|| CryptoError::Invalid("L_p(g^(p-1)) not invertible".into()))
        };
        let hp = h(&p, &p2, &pm1)?;
        let hq = h(&q, &q2, &qm1)?;
        let p_inv_q = p
            .invert(&q)
            .ok_or_else(|| CryptoError::Invalid("p not invertible mod q".into()))?;
        let p2_inv_q2 = p2
            .invert(&q2)
            .ok_or_else(|| CryptoError::Invalid("p² not invertible mod q²".into()))?;
        Ok(PrivateKey {
            pk,
            p,
            q,
            p2,
            q2,
            pm1,
            qm1,
            hp,
            hq,
            p_inv_q,
            p2_inv_q2,
        })
    }

    /// The matching public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.pk
    }

    /// CRT recombination of residues mod p and mod q into `[0, n)`.
    fn crt(&self, mp: &BigUint, mq: &BigUint) -> BigUint {
        // m = mp + p·((mq - mp)·p^-1 mod q)
        let diff = mq
            .add(&self.q)
            .checked_sub(&mp.rem(&self.q))
            .unwrap_or_default();
        let u = diff.mul_mod(&self.p_inv_q, &self.q);
        mp.add(&self.p.mul(&u))
    }

    /// Raw CRT decryption to the plaintext integer in `[0, n)`.
    pub fn decrypt_raw(&self, ct: &Ciphertext) -> Result<BigUint> {
        if ct.c >= *self.pk.n_squared() || ct.c.is_zero() {
            return Err(CryptoError::OutOfRange("ciphertext not in (0, n^2)"));
        }
        let one = BigUint::one();
        let part = |prime: &BigUint, prime2: &BigUint, pm1: &BigUint, h: &BigUint| {
            let x = ct.c.rem(prime2).pow_mod(pm1, prime2);
            // x ≡ 1 (mod p), so L_p(x) = (x - 1)/p is an exact division.
            let l = x
                .checked_sub(&one)
                .and_then(|v| v.div_exact(prime))
                .unwrap_or_default();
            l.mul_mod(h, prime)
        };
        let mp = part(&self.p, &self.p2, &self.pm1, &self.hp);
        let mq = part(&self.q, &self.q2, &self.qm1, &self.hq);
        Ok(self.crt(&mp, &mq))
    }

    /// Decrypt and decode to f64 (overflow is an error).
    pub fn decrypt(&self, ct: &Ciphertext) -> Result<f64> {
        let m = self.decrypt_raw(ct)?;
        fixedpoint::decode_f64(&m, ct.exponent, self.pk.n(), self.pk.max_int())
    }

    /// Decrypt many in parallel.
    pub fn decrypt_batch(&self, cts: &[Ciphertext]) -> Result<Vec<f64>> {
        cts.par_iter().map(|c| self.decrypt(c)).collect()
    }

    /// Raw-decrypt many in parallel.
    pub fn decrypt_raw_batch(&self, cts: &[Ciphertext]) -> Result<Vec<BigUint>> {
        cts.par_iter().map(|c| self.decrypt_raw(c)).collect()
    }

    /// An `r^n mod n²`-distributed obfuscator computed with CRT (key owner only).
    pub fn crt_obfuscator(&self) -> BigUint {
        let mut r = rand::thread_rng();
        self.crt_obfuscator_with(&mut r)
    }

    fn crt_obfuscator_with<R: RngCore + CryptoRng + ?Sized>(&self, r: &mut R) -> BigUint {
        let draw = |prime: &BigUint, r: &mut R| loop {
            let u = BigUint::random_below(prime, r);
            if !u.is_zero() {
                return u;
            }
        };
        let u = draw(&self.p, r);
        let v = draw(&self.q, r);
        let xp = u.pow_mod(&self.p, &self.p2);
        let xq = v.pow_mod(&self.q, &self.q2);
        // x = xp + p²·((xq - xp)·(p²)^-1 mod q²)
        let diff = xq
            .add(&self.q2)
            .checked_sub(&xp.rem(&self.q2))
            .unwrap_or_default();
        let t = diff.mul_mod(&self.p2_inv_q2, &self.q2);
        xp.add(&self.p2.mul(&t))
    }

    /// Key-owner encryption of an f64 with a CRT-computed `r^n` obfuscator.
    pub fn encrypt(&self, x: f64) -> Result<Ciphertext> {
        let e = self.pk.encode(x, None)?;
        let o = self.crt_obfuscator();
        Ok(Ciphertext {
            c: self.pk.raw_encrypt_with(&e.encoding, &o),
            exponent: e.exponent,
        })
    }

    /// Key-owner encryption of many f64 in parallel.
    pub fn encrypt_batch(&self, xs: &[f64]) -> Result<Vec<Ciphertext>> {
        xs.par_iter().map(|&x| self.encrypt(x)).collect()
    }
}

/// A pool of precomputed `r^n mod n²` obfuscators refilled by a background
/// thread (CRT-accelerated when built from a private key). Dropping the pool
/// stops the thread.
pub struct ObfuscatorPool {
    rx: Mutex<Receiver<BigUint>>,
}

impl fmt::Debug for ObfuscatorPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ObfuscatorPool")
    }
}

impl ObfuscatorPool {
    /// Start a pool of `capacity` obfuscators for `pk` (public-key path).
    pub fn new(pk: &PublicKey, capacity: usize) -> Self {
        let pk = pk.clone();
        Self::spawn(capacity, move |r| pk.full_obfuscator(r))
    }

    /// Start a pool filled with the key owner's CRT path.
    pub fn for_owner(sk: &PrivateKey, capacity: usize) -> Self {
        let sk = sk.clone();
        Self::spawn(capacity, move |r| sk.crt_obfuscator_with(r))
    }

    fn spawn<F>(capacity: usize, make: F) -> Self
    where
        F: Fn(&mut ChaCha20Rng) -> BigUint + Send + 'static,
    {
        let (tx, rx) = sync_channel(capacity.max(1));
        std::thread::Builder::new()
            .name("paillier-obfuscator-pool".into())
            .spawn(move || {
                let mut r = rng();
                loop {
                    let o = make(&mut r);
                    // Blocks while the pool is full; ends when the pool is dropped.
                    if tx.send(o).is_err() {
                        break;
                    }
                }
            })
            .map(|_| ())
            .unwrap_or(());
        ObfuscatorPool { rx: Mutex::new(rx) }
    }

    /// Take one precomputed obfuscator if available.
    pub fn take(&self) -> Option<BigUint> {
        self.rx.lock().ok()?.try_recv().ok()
    }
}
