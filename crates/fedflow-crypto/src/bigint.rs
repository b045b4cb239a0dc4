//! The big-integer backend boundary.
//!
//! Every piece of arithmetic the crate does goes through [`BigUint`], a
//! non-negative integer newtype. The default (and today only) backend is GMP
//! via `rug` (cargo feature `gmp`, LGPL); a permissively licensed pure-Rust
//! backend (e.g. `num-bigint` or `malachite`, measured in README.md) can be
//! dropped in by implementing the same inherent methods behind another
//! feature — nothing outside this file names `rug`.

use std::cmp::Ordering;
use std::fmt;

use rand::{CryptoRng, RngCore};

#[cfg(not(feature = "gmp"))]
compile_error!("fedflow-crypto needs a big-integer backend: enable feature `gmp`");

use rug::integer::{IsPrime, Order};
use rug::Integer;

/// Arbitrary-precision non-negative integer (big-endian byte serialisation).
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct BigUint(Integer);

impl fmt::Debug for BigUint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BigUint(0x{})", self.0.to_string_radix(16))
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
        BigUint(Integer::from(v))
    }
}

impl From<u128> for BigUint {
    fn from(v: u128) -> Self {
        BigUint(Integer::from(v))
    }
}

impl BigUint {
    /// Zero.
    pub fn zero() -> Self {
        BigUint(Integer::new())
    }

    /// One.
    pub fn one() -> Self {
        BigUint(Integer::from(1u32))
    }

    /// From big-endian bytes (leading zeros allowed).
    pub fn from_bytes_be(bytes: &[u8]) -> Self {
        BigUint(Integer::from_digits(bytes, Order::Msf))
    }

    /// Minimal big-endian bytes (empty for zero).
    pub fn to_bytes_be(&self) -> Vec<u8> {
        self.0.to_digits::<u8>(Order::Msf)
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
        let v = Integer::from_str_radix(s, 10).ok()?;
        (v >= 0).then_some(BigUint(v))
    }

    /// Number of significant bits (0 for zero).
    pub fn bits(&self) -> u32 {
        self.0.significant_bits()
    }

    /// Is this zero?
    pub fn is_zero(&self) -> bool {
        self.0 == 0
    }

    /// Is this odd?
    pub fn is_odd(&self) -> bool {
        self.0.is_odd()
    }

    /// Value as `u128` if it fits.
    pub fn to_u128(&self) -> Option<u128> {
        self.0.to_u128()
    }

    /// `(mantissa, exp)` with `self ≈ mantissa · 2^exp`, mantissa in [0.5, 1)
    /// (truncated), for conversion to `f64` without overflow.
    pub(crate) fn to_f64_exp(&self) -> (f64, i64) {
        let (m, e) = self.0.to_f64_exp();
        (m, i64::from(e))
    }

    /// `self + o`.
    pub fn add(&self, o: &Self) -> Self {
        BigUint(Integer::from(&self.0 + &o.0))
    }

    /// `self - o`, or `None` if negative.
    pub fn checked_sub(&self, o: &Self) -> Option<Self> {
        if self.0 < o.0 {
            None
        } else {
            Some(BigUint(Integer::from(&self.0 - &o.0)))
        }
    }

    /// `self * o`.
    pub fn mul(&self, o: &Self) -> Self {
        BigUint(Integer::from(&self.0 * &o.0))
    }

    /// `self * o` for a machine word.
    pub fn mul_u64(&self, o: u64) -> Self {
        BigUint(Integer::from(&self.0 * o))
    }

    /// `self << bits`.
    pub fn shl(&self, bits: u32) -> Self {
        BigUint(Integer::from(&self.0 << bits))
    }

    /// `self >> bits` (floor).
    pub fn shr(&self, bits: u32) -> Self {
        BigUint(Integer::from(&self.0 >> bits))
    }

    /// `self mod 2^bits`.
    pub fn low_bits(&self, bits: u32) -> Self {
        let mut v = self.0.clone();
        v.keep_bits_mut(bits);
        BigUint(v)
    }

    /// Floor division and remainder; `None` if `d` is zero.
    pub fn div_rem(&self, d: &Self) -> Option<(Self, Self)> {
        if d.is_zero() {
            return None;
        }
        let (q, r) = self.0.clone().div_rem_floor(d.0.clone());
        Some((BigUint(q), BigUint(r)))
    }

    /// `self mod m` (m > 0).
    pub fn rem(&self, m: &Self) -> Self {
        BigUint(Integer::from(&self.0 % &m.0))
    }

    /// `self * o mod m`.
    pub fn mul_mod(&self, o: &Self, m: &Self) -> Self {
        let mut p = Integer::from(&self.0 * &o.0);
        p %= &m.0;
        BigUint(p)
    }

    /// `self^e mod m` (m > 1).
    pub fn pow_mod(&self, e: &Self, m: &Self) -> Self {
        match self.0.pow_mod_ref(&e.0, &m.0) {
            Some(v) => BigUint(Integer::from(v)),
            // Unreachable for non-negative exponents; keep the API total.
            None => BigUint::zero(),
        }
    }

    /// `self^-1 mod m`, if it exists.
    pub fn invert(&self, m: &Self) -> Option<Self> {
        self.0.invert_ref(&m.0).map(|v| BigUint(Integer::from(v)))
    }

    /// Greatest common divisor.
    pub fn gcd(&self, o: &Self) -> Self {
        BigUint(Integer::from(self.0.gcd_ref(&o.0)))
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

    /// Random probable prime of exactly `bits` bits with the top two bits set
    /// (so that a product of two such primes has exactly `2·bits` bits).
    pub fn random_prime<R: RngCore + CryptoRng + ?Sized>(bits: u32, rng: &mut R) -> Self {
        loop {
            let mut v = Self::random_bits(bits, rng).0;
            v.set_bit(bits - 1, true);
            v.set_bit(bits - 2, true);
            v.set_bit(0, true);
            let p = v.next_prime();
            if p.significant_bits() == bits && p.is_probably_prime(40) != IsPrime::No {
                return BigUint(p);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    }
}
