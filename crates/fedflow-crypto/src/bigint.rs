//! The big-integer backend boundary.
//!
//! Every piece of arithmetic the crate does goes through [`BigUint`], a
//! non-negative integer newtype over a backend chosen at compile time:
//! * `gmp` (default): GMP via `rug` (LGPL), the fastest measured here;
//! * `pure-rust`: `num-bigint` (MIT/Apache-2.0), about half the speed.
//!
//! A backend is one file under `bigint/` providing the same free functions;
//! nothing outside this module names a big-integer crate.

use std::cmp::Ordering;
use std::fmt;

use rand::{CryptoRng, RngCore};

#[cfg(not(any(feature = "gmp", feature = "pure-rust")))]
compile_error!("fedflow-crypto needs a big-integer backend: enable feature `gmp` or `pure-rust`");

#[cfg(feature = "gmp")]
#[path = "bigint/gmp.rs"]
mod imp;
#[cfg(all(feature = "pure-rust", not(feature = "gmp")))]
#[path = "bigint/pure.rs"]
mod imp;

use imp::Inner;
pub(crate) use imp::{mul_wide, redc};

/// Name of the compiled-in backend.
pub const BACKEND: &str = imp::NAME;

/// Arbitrary-precision non-negative integer (big-endian byte serialisation).
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct BigUint(Inner);

impl fmt::Debug for BigUint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BigUint(0x")?;
        for b in self.to_bytes_be() {
            write!(f, "{b:02x}")?;
        }
        write!(f, ")")
    }
}

impl fmt::Display for BigUint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl PartialOrd for BigUint {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for BigUint {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.cmp(&other.0)
    }
}

impl From<u64> for BigUint {
    fn from(v: u64) -> Self {
        BigUint(imp::from_u128(u128::from(v)))
    }
}

impl From<u128> for BigUint {
    fn from(v: u128) -> Self {
        BigUint(imp::from_u128(v))
    }
}

impl BigUint {
    /// Zero.
    pub fn zero() -> Self {
        BigUint(Inner::default())
    }

    /// One.
    pub fn one() -> Self {
        BigUint::from(1u64)
    }

    /// From big-endian bytes (leading zeros allowed).
    pub fn from_bytes_be(bytes: &[u8]) -> Self {
        BigUint(imp::from_bytes_be(bytes))
    }

    /// Minimal big-endian bytes (empty for zero).
    pub fn to_bytes_be(&self) -> Vec<u8> {
        if self.is_zero() {
            return Vec::new();
        }
        imp::to_bytes_be(&self.0)
    }

    /// Big-endian bytes left-padded with zeros to `len` (longer if needed).
    pub fn to_bytes_be_padded(&self, len: usize) -> Vec<u8> {
        let b = self.to_bytes_be();
        if b.len() >= len {
            return b;
        }
        let mut out = vec![0u8; len - b.len()];
        out.extend_from_slice(&b);
        out
    }

    /// Parse a decimal string.
    pub fn from_dec_str(s: &str) -> Option<Self> {
        imp::from_dec_str(s).map(BigUint)
    }

    /// Number of significant bits (0 for zero).
    pub fn bits(&self) -> u32 {
        imp::bits(&self.0)
    }

    /// Is this zero?
    pub fn is_zero(&self) -> bool {
        self.0 == Inner::default()
    }

    /// Is this odd?
    pub fn is_odd(&self) -> bool {
        imp::is_odd(&self.0)
    }

    /// Value as `u128` if it fits.
    pub fn to_u128(&self) -> Option<u128> {
        imp::to_u128(&self.0)
    }

    /// `(mantissa, exp)` with `self ≈ mantissa · 2^exp`, mantissa in [0.5, 1]
    /// (rounded to f64), for conversion to `f64` without overflow.
    pub(crate) fn to_f64_exp(&self) -> (f64, i64) {
        let bits = self.bits();
        if bits == 0 {
            return (0.0, 0);
        }
        let shift = bits.saturating_sub(64);
        let top = self.shr(shift).to_u128().unwrap_or(0) as f64;
        let top_bits = (bits - shift) as i32;
        (top * 2f64.powi(-top_bits), i64::from(bits))
    }

    /// `self + o`.
    pub fn add(&self, o: &Self) -> Self {
        BigUint(imp::add(&self.0, &o.0))
    }

    /// `self - o`, or `None` if negative.
    pub fn checked_sub(&self, o: &Self) -> Option<Self> {
        if self.0 < o.0 {
            None
        } else {
            Some(BigUint(imp::sub(&self.0, &o.0)))
        }
    }

    /// `self * o`.
    pub fn mul(&self, o: &Self) -> Self {
        BigUint(imp::mul(&self.0, &o.0))
    }

    /// `self * o` for a machine word.
    pub fn mul_u64(&self, o: u64) -> Self {
        BigUint(imp::mul(&self.0, &imp::from_u128(u128::from(o))))
    }

    /// `self << bits`.
    pub fn shl(&self, bits: u32) -> Self {
        BigUint(imp::shl(&self.0, bits))
    }

    /// `self >> bits` (floor).
    pub fn shr(&self, bits: u32) -> Self {
        BigUint(imp::shr(&self.0, bits))
    }

    /// `self mod 2^bits`.
    pub fn low_bits(&self, bits: u32) -> Self {
        BigUint(imp::low_bits(&self.0, bits))
    }

    /// Floor division and remainder; `None` if `d` is zero.
    pub fn div_rem(&self, d: &Self) -> Option<(Self, Self)> {
        if d.is_zero() {
            return None;
        }
        let (q, r) = imp::div_rem(&self.0, &d.0);
        Some((BigUint(q), BigUint(r)))
    }

    /// `self / d` when `d` is known to divide `self` (faster than division;
    /// the result is unspecified otherwise). `None` if `d` is zero.
    pub fn div_exact(&self, d: &Self) -> Option<Self> {
        if d.is_zero() {
            return None;
        }
        Some(BigUint(imp::div_exact(&self.0, &d.0)))
    }

    /// `self mod m` (m > 0).
    pub fn rem(&self, m: &Self) -> Self {
        BigUint(imp::rem(&self.0, &m.0))
    }

    /// `self * o mod m`.
    pub fn mul_mod(&self, o: &Self, m: &Self) -> Self {
        BigUint(imp::mul_mod(&self.0, &o.0, &m.0))
    }

    /// `self^e mod m` (m > 1).
    pub fn pow_mod(&self, e: &Self, m: &Self) -> Self {
        BigUint(imp::pow_mod(&self.0, &e.0, &m.0))
    }

    /// `self^-1 mod m`, if it exists.
    pub fn invert(&self, m: &Self) -> Option<Self> {
        imp::invert(&self.0, &m.0).map(BigUint)
    }

    /// Greatest common divisor.
    pub fn gcd(&self, o: &Self) -> Self {
        BigUint(imp::gcd(&self.0, &o.0))
    }

    /// Uniform random integer with exactly `bits` random bits (may be smaller).
    pub fn random_bits<R: RngCore + CryptoRng + ?Sized>(bits: u32, rng: &mut R) -> Self {
        let nbytes = bits.div_ceil(8) as usize;
        let mut buf = vec![0u8; nbytes];
        rng.fill_bytes(&mut buf);
        BigUint::from_bytes_be(&buf).low_bits(bits)
    }

    /// Uniform random integer in `[0, m)` (rejection sampling; m > 0).
    pub fn random_below<R: RngCore + CryptoRng + ?Sized>(m: &Self, rng: &mut R) -> Self {
        let bits = m.bits();
        loop {
            let v = Self::random_bits(bits, rng);
            if v < *m {
                return v;
            }
        }
    }

    /// Little-endian 64-bit limbs, zero-padded to `len` (longer if needed).
    pub(crate) fn to_limbs(&self, len: usize) -> Vec<u64> {
        imp::to_limbs(&self.0, len)
    }

    /// From little-endian 64-bit limbs.
    pub(crate) fn from_limbs(l: &[u64]) -> Self {
        BigUint(imp::from_limbs(l))
    }

    /// Probable-prime test (trial division + Miller–Rabin / BPSW).
    pub fn is_probable_prime<R: RngCore + CryptoRng + ?Sized>(&self, rng: &mut R) -> bool {
        imp::is_probable_prime(&self.0, rng)
    }

    /// Uniform random probable prime of exactly `bits` bits with the top two
    /// bits set (so that a product of two has exactly `2·bits` bits).
    pub fn random_prime<R: RngCore + CryptoRng + ?Sized>(bits: u32, rng: &mut R) -> Self {
        let top = BigUint::from(3u64).shl(bits - 2);
        loop {
            let mut v = Self::random_bits(bits, rng);
            if !v.is_odd() {
                v = v.add(&BigUint::one());
            }
            let v = if v.shr(bits - 2) == BigUint::from(3u64) {
                v
            } else {
                v.low_bits(bits - 2).add(&top)
            };
            if v.bits() == bits && v.is_probable_prime(rng) {
                return v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn bytes_roundtrip_and_ops() {
        let a = BigUint::from_bytes_be(&[1, 2, 3, 4, 5]);
        assert_eq!(a.to_bytes_be(), vec![1, 2, 3, 4, 5]);
        assert_eq!(a.to_bytes_be_padded(8), vec![0, 0, 0, 1, 2, 3, 4, 5]);
        let m = BigUint::from(1_000_000_007u64);
        let inv = a.invert(&m).expect("invertible");
        assert_eq!(a.mul_mod(&inv, &m), BigUint::one());
        assert_eq!(
            BigUint::from(3u64).pow_mod(&BigUint::from(4u64), &m),
            BigUint::from(81u64)
        );
        assert!(BigUint::zero().to_bytes_be().is_empty());
        assert_eq!(BigUint::from(0x1234u64).low_bits(8), BigUint::from(0x34u64));
        assert_eq!(BigUint::from_dec_str("1000000007"), Some(m.clone()));
        let (q, r) = BigUint::from(100u64)
            .div_rem(&BigUint::from(7u64))
            .expect("div");
        assert_eq!((q, r), (BigUint::from(14u64), BigUint::from(2u64)));
        assert_eq!(
            BigUint::from(12u64).gcd(&BigUint::from(18u64)),
            BigUint::from(6u64)
        );
        let (m2, e) = BigUint::from(3u64).shl(100).to_f64_exp();
        assert_eq!(m2 * 2f64.powi(e as i32), 3.0 * 2f64.powi(100));
    }

    #[test]
    fn primes() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(5);
        assert!(BigUint::from(1_000_000_007u64).is_probable_prime(&mut rng));
        assert!(!BigUint::from(1_000_000_007u64 * 3).is_probable_prime(&mut rng));
        // Carmichael number 561.
        assert!(!BigUint::from(561u64).is_probable_prime(&mut rng));
        let p = BigUint::random_prime(256, &mut rng);
        assert_eq!(p.bits(), 256);
        assert_eq!(p.shr(254), BigUint::from(3u64));
    }
}
