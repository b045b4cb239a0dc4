//! FATE-compatible base-16 fixed-point encoding (`federatedml/secureprotol/fixedpoint.py`).
//!
//! A number is `encoding · 16^(-exponent)` where `encoding` is the mantissa
//! reduced mod `n` (negatives wrap to `n - |m|`) and `|mantissa| ≤ max_int =
//! n/3 - 1`. Mantissas in `(max_int, n - max_int)` are overflow.
//!
//! Exponent choice matches FATE:
//! * `i64` → exponent 0;
//! * `f64` without precision → `floor((53 - frexp_exp(x)) / 4)`, i.e. keep all
//!   53 mantissa bits;
//! * with `precision` → `floor(log16(precision))` (FATE's formula, kept as is);
//! * `max_exponent` (used when adding a plaintext to a ciphertext) raises the
//!   exponent to at least that value.
//!
//! Unlike FATE the mantissa is computed exactly with integers, so tiny or huge
//! exponents never hit Python's float overflow; rounding is half-to-even as
//! Python's `round`.

use crate::bigint::BigUint;
use crate::error::{CryptoError, Result};

/// The fixed-point base (FATE's `FixedPointNumber.BASE`).
pub const BASE: u32 = 16;
/// log2 of [`BASE`].
pub const LOG2_BASE: i32 = 4;
const FLOAT_MANTISSA_BITS: i32 = 53;

/// A plaintext in FATE's fixed-point representation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncodedNumber {
    /// Mantissa mod n.
    pub encoding: BigUint,
    /// Base-16 exponent; value = mantissa · 16^(-exponent).
    pub exponent: i32,
}

/// Split a finite f64 into `(negative, mantissa, e2)` with `|x| = mantissa · 2^e2`.
fn decompose(x: f64) -> (bool, u64, i32) {
    let bits = x.to_bits();
    let neg = bits >> 63 == 1;
    let exp_field = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1u64 << 52) - 1);
    if exp_field == 0 {
        (neg, frac, -1074)
    } else {
        (neg, frac | (1u64 << 52), exp_field - 1075)
    }
}

/// FATE's exponent for an f64 encoded with full precision.
pub fn natural_exponent(x: f64) -> i32 {
    let (_, mant, e2) = decompose(x);
    // Python: math.frexp(0.0)[1] == 0.
    let frexp_exp = if mant == 0 {
        0
    } else {
        (64 - mant.leading_zeros()) as i32 + e2
    };
    (FLOAT_MANTISSA_BITS - frexp_exp).div_euclid(LOG2_BASE)
}

/// FATE's exponent for a requested precision: `floor(log16(precision))`.
pub fn precision_exponent(precision: f64) -> Result<i32> {
    if !(precision.is_finite() && precision > 0.0) {
        return Err(CryptoError::Invalid(format!(
            "precision must be positive and finite, got {precision}"
        )));
    }
    Ok((precision.ln() / f64::from(BASE).ln()).floor() as i32)
}

fn too_big(bits: i64, exponent: i32, max_int: &BigUint) -> CryptoError {
    CryptoError::Overflow(format!(
        "mantissa of {bits} bits exceeds max_int ({} bits) at exponent {exponent}",
        max_int.bits()
    ))
}

/// Signed magnitude of `x · 16^exponent`, rounded half-to-even; errors
/// (before allocating anything) if it cannot fit `max_int`.
fn scaled_mantissa(x: f64, exponent: i32, max_int: &BigUint) -> Result<(bool, BigUint)> {
    let (neg, mant, e2) = decompose(x);
    let shift = i64::from(e2) + i64::from(LOG2_BASE) * i64::from(exponent);
    let mant_bits = i64::from(64 - mant.leading_zeros());
    let mag = if mant == 0 {
        BigUint::zero()
    } else if shift >= 0 {
        if mant_bits + shift > i64::from(max_int.bits()) {
            return Err(too_big(mant_bits + shift, exponent, max_int));
        }
        BigUint::from(mant).shl(shift as u32)
    } else {
        let s = (-shift) as u32;
        if s >= 64 {
            BigUint::zero()
        } else {
            let q = mant >> s;
            let r = mant & ((1u64 << s) - 1);
            let half = 1u64 << (s - 1);
            let up = r > half || (r == half && q & 1 == 1);
            BigUint::from(q + u64::from(up))
        }
    };
    Ok((neg && !mag.is_zero(), mag))
}

fn wrap(
    neg: bool,
    mag: BigUint,
    exponent: i32,
    n: &BigUint,
    max_int: &BigUint,
) -> Result<EncodedNumber> {
    if mag > *max_int {
        return Err(too_big(i64::from(mag.bits()), exponent, max_int));
    }
    let encoding = if neg {
        n.checked_sub(&mag).unwrap_or_default()
    } else {
        mag
    };
    Ok(EncodedNumber { encoding, exponent })
}

/// Encode an `f64` as FATE does (`FixedPointNumber.encode`).
pub fn encode_f64(
    x: f64,
    n: &BigUint,
    max_int: &BigUint,
    precision: Option<f64>,
    max_exponent: Option<i32>,
) -> Result<EncodedNumber> {
    if !x.is_finite() {
        return Err(CryptoError::NonFinite(x));
    }
    let mut exponent = match precision {
        None => natural_exponent(x),
        Some(p) => precision_exponent(p)?,
    };
    if let Some(m) = max_exponent {
        exponent = exponent.max(m);
    }
    let (neg, mag) = scaled_mantissa(x, exponent, max_int)?;
    wrap(neg, mag, exponent, n, max_int)
}

/// Encode an `i64` (exponent 0, raised to `max_exponent` if given).
pub fn encode_i64(
    x: i64,
    n: &BigUint,
    max_int: &BigUint,
    max_exponent: Option<i32>,
) -> Result<EncodedNumber> {
    let exponent = max_exponent.unwrap_or(0).max(0);
    let shift = i64::from(LOG2_BASE) * i64::from(exponent);
    let x_bits = i64::from(64 - x.unsigned_abs().leading_zeros());
    if x != 0 && x_bits + shift > i64::from(max_int.bits()) {
        return Err(too_big(x_bits + shift, exponent, max_int));
    }
    let mag = BigUint::from(x.unsigned_abs()).shl(shift as u32);
    wrap(x < 0, mag, exponent, n, max_int)
}

/// Signed mantissa of an encoding: `(negative, |mantissa|)`; errors on overflow.
pub fn signed_mantissa(
    encoding: &BigUint,
    n: &BigUint,
    max_int: &BigUint,
) -> Result<(bool, BigUint)> {
    if encoding >= n {
        return Err(CryptoError::OutOfRange("encoding >= n (corrupted number)"));
    }
    if encoding <= max_int {
        return Ok((false, encoding.clone()));
    }
    let neg_mag = n.checked_sub(encoding).unwrap_or_default();
    if neg_mag <= *max_int {
        Ok((true, neg_mag))
    } else {
        Err(CryptoError::Overflow(
            "overflow detected in decode: mantissa outside [-max_int, max_int]".into(),
        ))
    }
}

/// `x · 2^e` without intermediate overflow/underflow.
pub(crate) fn ldexp(mut x: f64, mut e: i64) -> f64 {
    while e > 1000 {
        x *= 2f64.powi(1000);
        e -= 1000;
        if x.is_infinite() {
            return x;
        }
    }
    while e < -1000 {
        x *= 2f64.powi(-1000);
        e += 1000;
        if x == 0.0 {
            return x;
        }
    }
    x * 2f64.powi(e as i32)
}

/// Decode to `f64` (`FixedPointNumber.decode`); overflow is an error.
pub fn decode_f64(
    encoding: &BigUint,
    exponent: i32,
    n: &BigUint,
    max_int: &BigUint,
) -> Result<f64> {
    let (neg, mag) = signed_mantissa(encoding, n, max_int)?;
    if mag.is_zero() {
        return Ok(0.0);
    }
    let (m, e) = mag.to_f64_exp();
    let v = ldexp(m, e - i64::from(LOG2_BASE) * i64::from(exponent));
    Ok(if neg { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> (BigUint, BigUint) {
        // A 128-bit odd modulus is enough for encoding tests.
        let n = BigUint::from(0xffff_ffff_ffff_ffc5_ffff_ffff_ffff_ffc5u128);
        let max_int = n
            .div_rem(&BigUint::from(3u64))
            .map(|(q, _)| q)
            .unwrap_or_default();
        let max_int = max_int.checked_sub(&BigUint::one()).unwrap_or_default();
        (n, max_int)
    }

    #[test]
    fn fate_exponents() {
        assert_eq!(natural_exponent(0.0), 13);
        assert_eq!(natural_exponent(1.0), 13); // frexp(1) = (0.5, 1) → floor(52/4)
        assert_eq!(natural_exponent(0.5), 13);
        assert_eq!(natural_exponent(1e10), 4); // frexp exp 34 → floor(19/4)
        assert_eq!(natural_exponent(-3.0), 12); // frexp exp 2 → floor(51/4)
        assert_eq!(precision_exponent(1e-8).ok(), Some(-7));
    }

    #[test]
    fn roundtrip_values() {
        let (n, max_int) = key();
        for &x in &[
            0.0,
            0.1 + 0.2,
            1.0 / 3.0,
            1.0,
            -1.0,
            0.1,
            -123.456,
            1e-300,
            5e-324,
            1e15,
            -2.5e-7,
        ] {
            let e = encode_f64(x, &n, &max_int, None, None).expect("encode");
            let y = decode_f64(&e.encoding, e.exponent, &n, &max_int).expect("decode");
            // FATE's base-16 exponent keeps 50..53 of the 53 mantissa bits.
            assert!(
                (x - y).abs() <= x.abs() * 2f64.powi(-49),
                "roundtrip {x} -> {y}"
            );
        }
    }

    /// Vectors computed with FATE's formula in Python
    /// (`int(round(x * pow(16, e)))`, `e = floor((53 - frexp(x)[1]) / 4)`).
    #[test]
    fn matches_fate_vectors() {
        let (n, max_int) = key();
        let cases: [(f64, i32, i128); 5] = [
            (-123.456, 11, -2_171_860_920_299_422),
            (0.1, 14, 7_205_759_403_792_794),
            (1e-5, 17, 2_951_479_051_793_528),
            (3.0e7, 7, 8_053_063_680_000_000),
            (7.0, 12, 1_970_324_836_974_592),
        ];
        for (x, e, m) in cases {
            let enc = encode_f64(x, &n, &max_int, None, None).expect("encode");
            assert_eq!(enc.exponent, e, "{x}");
            let want = if m < 0 {
                n.checked_sub(&BigUint::from(m.unsigned_abs()))
                    .expect("n > |m|")
            } else {
                BigUint::from(m as u128)
            };
            assert_eq!(enc.encoding, want, "{x}");
        }
        // max_exponent raises the exponent (FATE's add-plaintext path).
        let enc = encode_f64(0.5, &n, &max_int, None, Some(20)).expect("encode");
        assert_eq!(
            (enc.exponent, enc.encoding),
            (20, BigUint::from(604_462_909_807_314_587_353_088u128))
        );
        let enc = encode_i64(-3, &n, &max_int, Some(5)).expect("encode");
        assert_eq!(enc.exponent, 5);
        assert_eq!(
            enc.encoding,
            n.checked_sub(&BigUint::from(3_145_728u64)).expect("n > m")
        );
    }

    #[test]
    fn overflow_is_detected() {
        let (n, max_int) = key();
        // 2^200 needs a mantissa beyond a 128-bit modulus at exponent 0.
        assert!(matches!(
            encode_f64(2f64.powi(200), &n, &max_int, None, Some(0)),
            Err(CryptoError::Overflow(_))
        ));
        let mid = n
            .div_rem(&BigUint::from(2u64))
            .map(|(q, _)| q)
            .unwrap_or_default();
        assert!(matches!(
            decode_f64(&mid, 0, &n, &max_int),
            Err(CryptoError::Overflow(_))
        ));
    }
}
