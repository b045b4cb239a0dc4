//! Batched Paillier arithmetic over fixed-point vectors, shared by the linear
//! models: values are encrypted at one fixed exponent so that sums need no
//! alignment, and `Σ_i x_i·Enc(d_i)` is one multi-exponentiation per feature
//! (bucket method over short quantised `x`, Montgomery multiplication from
//! `fedflow_crypto::Montgomery`), not one full modexp per row.

use fedflow_crypto::{BigUint, Ciphertext, Obfuscation, PublicKey};
use rayon::prelude::*;

/// Base-16 exponent of encrypted values (16^-16 = 2^-64 resolution).
pub const VALUE_EXP: i32 = 16;
/// Base-16 exponent of plaintext multipliers (16^-5 = 2^-20 resolution).
pub const X_EXP: i32 = 5;

fn crypto_err(e: fedflow_crypto::CryptoError) -> crate::ComponentError {
    crate::ComponentError::Failed(format!("paillier: {e}"))
}

/// Builds the DJN fixed-base table. When `n` rows will be encrypted every
/// epoch, wider windows pay for their bigger table: 12-bit windows from 20k
/// rows (21 multiplications per encryption instead of 31, 23 MB at 1024
/// bits), 14-bit from 50k (18 multiplications, 80 MB).
pub fn precompute(pk: &PublicKey, n: usize) {
    let alpha = fedflow_crypto::paillier::DJN_ALPHA_BITS;
    if n >= 50_000 {
        let _ = pk.precompute_djn_with(14, alpha);
    } else if n >= 20_000 {
        let _ = pk.precompute_djn_with(12, alpha);
    }
    pk.precompute_djn();
}

/// `round(v · 16^exp)` as a signed 128-bit integer.
pub fn quantise(v: f64, exp: i32) -> i128 {
    (v * 2f64.powi(4 * exp)).round() as i128
}

/// The plaintext encoding (mod n) of `round(v · 16^exp)`, exact for any
/// exponent (no 128-bit intermediate).
fn encoding_at(v: f64, exp: i32, n: &BigUint) -> BigUint {
    if v == 0.0 {
        return BigUint::zero();
    }
    let bits = v.abs().to_bits();
    let (mant, e2) = {
        let e = ((bits >> 52) & 0x7ff) as i32;
        let f = bits & ((1u64 << 52) - 1);
        if e == 0 {
            (f, -1074)
        } else {
            (f | (1u64 << 52), e - 1075)
        }
    };
    let shift = e2 + 4 * exp;
    let mag = if shift >= 0 {
        BigUint::from(mant).shl(shift as u32)
    } else if shift > -64 {
        let s = (-shift) as u32;
        BigUint::from((mant >> s) + ((mant >> (s - 1)) & 1))
    } else {
        BigUint::zero()
    };
    if v < 0.0 && !mag.is_zero() {
        n.checked_sub(&mag).unwrap_or_default()
    } else {
        mag
    }
}

/// Encrypts `xs` at [`VALUE_EXP`], in parallel.
pub fn encrypt_vec(pk: &PublicKey, xs: &[f64]) -> Result<Vec<Ciphertext>, crate::ComponentError> {
    let n = pk.n();
    xs.par_iter()
        .map(|&x| {
            if !x.is_finite() {
                return Err(crate::ComponentError::Failed(format!(
                    "cannot encrypt non-finite value {x}"
                )));
            }
            let m = encoding_at(x, VALUE_EXP, n);
            let c = pk.encrypt_raw(&m, Obfuscation::Djn).map_err(crypto_err)?;
            Ok(Ciphertext::from_parts(c.raw().clone(), VALUE_EXP))
        })
        .collect()
}

/// Encrypts `xs` at [`VALUE_EXP`] like [`encrypt_vec`], with DJN
/// obfuscation, or none when `obfuscate` is false (deterministic
/// ciphertexts: only for the table ops' registry examples).
pub(crate) fn encrypt_vec_with(
    pk: &PublicKey,
    xs: &[f64],
    obfuscate: bool,
) -> Result<Vec<Ciphertext>, crate::ComponentError> {
    if obfuscate {
        return encrypt_vec(pk, xs);
    }
    let n = pk.n();
    xs.iter()
        .map(|&x| {
            if !x.is_finite() {
                return Err(crate::ComponentError::Failed(format!(
                    "cannot encrypt non-finite value {x}"
                )));
            }
            let m = encoding_at(x, VALUE_EXP, n);
            let c = pk.encrypt_raw(&m, Obfuscation::None).map_err(crypto_err)?;
            Ok(Ciphertext::from_parts(c.raw().clone(), VALUE_EXP))
        })
        .collect()
}

/// `Enc(a) + x` with `x` encoded at `a`'s exponent (no obfuscation needed).
pub fn add_plain(
    pk: &PublicKey,
    a: &Ciphertext,
    x: f64,
) -> Result<Ciphertext, crate::ComponentError> {
    if !x.is_finite() {
        return Err(crate::ComponentError::Failed(format!(
            "cannot add non-finite value {x}"
        )));
    }
    let m = encoding_at(x, a.exponent(), pk.n());
    let p = pk.encrypt_raw(&m, Obfuscation::None).map_err(crypto_err)?;
    Ok(Ciphertext::from_parts(
        a.raw().mul_mod(p.raw(), pk.n_squared()),
        a.exponent(),
    ))
}

/// `a + b` (exponents aligned by the key).
pub fn add(
    pk: &PublicKey,
    a: &Ciphertext,
    b: &Ciphertext,
) -> Result<Ciphertext, crate::ComponentError> {
    pk.add(a, b).map_err(crypto_err)
}

/// `a · s` for a float scalar.
pub fn mul_scalar(
    pk: &PublicKey,
    a: &Ciphertext,
    s: f64,
) -> Result<Ciphertext, crate::ComponentError> {
    pk.mul_f64(a, s).map_err(crypto_err)
}

/// Base-16 exponent of sample weights (16^-5 = 2^-20 resolution).
pub const WEIGHT_EXP: i32 = 5;

/// `Enc(a) · w` for a non-negative sample weight quantised at
/// [`WEIGHT_EXP`]: the result's exponent is `a`'s + `WEIGHT_EXP` whatever
/// `w`, so weighted residuals keep one shared exponent.
pub fn mul_weight(
    pk: &PublicKey,
    a: &Ciphertext,
    w: f64,
) -> Result<Ciphertext, crate::ComponentError> {
    if !w.is_finite() || !(0.0..=1e12).contains(&w) {
        return Err(crate::ComponentError::Input(format!(
            "sample weight {w}: expected a finite number in [0, 1e12]"
        )));
    }
    let k = BigUint::from(quantise(w, WEIGHT_EXP) as u64);
    let c = pk.mul_raw(a, &k);
    Ok(Ciphertext::from_parts(
        c.raw().clone(),
        a.exponent() + WEIGHT_EXP,
    ))
}

/// `Π cts[i]^q[i] mod n²` for signed integer multipliers: one bucket
/// multi-exponentiation for the positive and one for the negative ones
/// (each base is in one of them), then one inversion.
pub(crate) fn signed_multi_exp(
    pk: &PublicKey,
    cts: &[Ciphertext],
    q: &[i128],
) -> Result<BigUint, crate::ComponentError> {
    let n2 = pk.n_squared();
    let mut pos_b = Vec::new();
    let mut pos_e = Vec::new();
    let mut neg_b = Vec::new();
    let mut neg_e = Vec::new();
    for (c, &q) in cts.iter().zip(q) {
        if q > 0 {
            pos_b.push(c.raw());
            pos_e.push(q as u128);
        } else if q < 0 {
            neg_b.push(c.raw());
            neg_e.push(q.unsigned_abs());
        }
    }
    let mont = pk.montgomery();
    let p = mont.multi_exp(&pos_b, &pos_e);
    if neg_b.is_empty() {
        return Ok(p);
    }
    let q = mont.multi_exp(&neg_b, &neg_e);
    let inv = q.invert(n2).ok_or_else(|| {
        crate::ComponentError::Failed("weighted_sum: ciphertext not invertible".into())
    })?;
    Ok(p.mul_mod(&inv, n2))
}

fn check_shape(cts: &[Ciphertext], len: usize) -> Result<i32, crate::ComponentError> {
    let exp = cts.first().map(|c| c.exponent()).unwrap_or(VALUE_EXP);
    if cts.iter().any(|c| c.exponent() != exp) || cts.len() != len {
        return Err(crate::ComponentError::Failed(
            "weighted_sum: ciphertexts with mixed exponents or length mismatch".into(),
        ));
    }
    Ok(exp)
}

/// `Σ_i w_i · cts[i]` for signed float weights quantised at [`X_EXP`]
/// (absolute resolution 2^-20); all `cts` must share one exponent. The
/// result's exponent is theirs + X_EXP.
pub fn weighted_sum(
    pk: &PublicKey,
    cts: &[Ciphertext],
    weights: &[f64],
) -> Result<Ciphertext, crate::ComponentError> {
    let exp = check_shape(cts, weights.len())?;
    let q: Vec<i128> = weights.iter().map(|&w| quantise(w, X_EXP)).collect();
    Ok(Ciphertext::from_parts(
        signed_multi_exp(pk, cts, &q)?,
        exp + X_EXP,
    ))
}

/// Magnitude bits of the multipliers of [`weighted_sum_scaled`].
pub const COLUMN_BITS: u32 = 12;

/// `Σ_i x_i · cts[i]` with `x` quantised relative to its own range:
/// `x_i ≈ q_i·s`, `s = max|x| / (2^COLUMN_BITS − 1)`, integer `|q_i| <
/// 2^COLUMN_BITS`; the sum `Σ q_i·cts[i]` is then a single-window bucket
/// multi-exponentiation (about one multiplication per row instead of two
/// at 2^-20 absolute resolution), scaled by `s` with one scalar product.
/// Rounding errors are at most `s/2` per row and average out in the sum.
pub fn weighted_sum_scaled(
    pk: &PublicKey,
    cts: &[Ciphertext],
    x: &[f64],
) -> Result<Ciphertext, crate::ComponentError> {
    let exp = check_shape(cts, x.len())?;
    let max = x.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    if !max.is_finite() {
        return Err(crate::ComponentError::Failed(
            "weighted_sum: non-finite feature value".into(),
        ));
    }
    if max == 0.0 {
        return Ok(Ciphertext::from_parts(BigUint::one(), exp));
    }
    let s = max / ((1u64 << COLUMN_BITS) - 1) as f64;
    let q: Vec<i128> = x.iter().map(|&v| (v / s).round() as i128).collect();
    let r = Ciphertext::from_parts(signed_multi_exp(pk, cts, &q)?, exp);
    mul_scalar(pk, &r, s)
}

/// [`weighted_sum_scaled`] from [`SCALED_MIN_ROWS`] rows on, else
/// [`weighted_sum`].
pub fn weighted_sum_auto(
    pk: &PublicKey,
    cts: &[Ciphertext],
    x: &[f64],
) -> Result<Ciphertext, crate::ComponentError> {
    if cts.len() >= SCALED_MIN_ROWS {
        weighted_sum_scaled(pk, cts, x)
    } else {
        weighted_sum(pk, cts, x)
    }
}

/// Batches from this size on use [`weighted_sum_scaled`]; smaller ones keep
/// the 2^-20 absolute resolution of [`weighted_sum`] (cheap there: the
/// bucket method then has several small windows either way).
pub const SCALED_MIN_ROWS: usize = 20_000;

/// `[Σ_i cols[j][i] · cts[i]]_j`, one multi-exponentiation per column, in
/// parallel ([`weighted_sum_scaled`] from [`SCALED_MIN_ROWS`] rows on, else
/// [`weighted_sum`]).
pub fn weighted_sums(
    pk: &PublicKey,
    cts: &[Ciphertext],
    cols: &[Vec<f64>],
) -> Result<Vec<Ciphertext>, crate::ComponentError> {
    cols.par_iter()
        .map(|c| weighted_sum_auto(pk, cts, c))
        .collect()
}

/// Sum of ciphertexts sharing one exponent.
pub fn sum(pk: &PublicKey, cts: &[Ciphertext]) -> Ciphertext {
    let exp = cts.first().map(|c| c.exponent()).unwrap_or(VALUE_EXP);
    let n2 = pk.n_squared();
    let mont = pk.montgomery();
    let r = cts
        .par_chunks(4096)
        .map(|ch| mont.product(ch.iter().map(Ciphertext::raw)))
        .reduce(BigUint::one, |a, b| a.mul_mod(&b, n2));
    Ciphertext::from_parts(r, exp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use fedflow_crypto::PaillierKeypair;

    #[test]
    fn weighted_sum_matches_plaintext() {
        let (pk, sk) = PaillierKeypair::generate(512).unwrap();
        let d: Vec<f64> = (0..50).map(|i| (i as f64 - 20.0) * 0.0137).collect();
        let x: Vec<f64> = (0..50).map(|i| ((i * 7) % 11) as f64 - 5.3).collect();
        let cts = encrypt_vec(&pk, &d).unwrap();
        let s = weighted_sum(&pk, &cts, &x).unwrap();
        let want: f64 = d.iter().zip(&x).map(|(a, b)| a * b).sum();
        let got = sk.decrypt(&s).unwrap();
        assert!((got - want).abs() < 1e-5, "{got} vs {want}");
        // Large exponents (after scalar products) keep full precision.
        let big = mul_scalar(&pk, &s, 1.0 / 3000.0).unwrap();
        let big = add_plain(&pk, &big, -42.125).unwrap();
        assert!((sk.decrypt(&big).unwrap() - (want / 3000.0 - 42.125)).abs() < 1e-6);
        // Column-scaled multipliers: error at most max|x|/2^13 per row.
        let s = weighted_sum_scaled(&pk, &cts, &x).unwrap();
        let got = sk.decrypt(&s).unwrap();
        let bound: f64 = d.iter().map(|v| v.abs()).sum::<f64>() * 5.3 / 8190.0;
        assert!((got - want).abs() <= bound, "{got} vs {want}");
        let zero = weighted_sum_scaled(&pk, &cts, &[0.0; 50]).unwrap();
        assert_eq!(sk.decrypt(&zero).unwrap(), 0.0);
        let t = add_plain(&pk, &sum(&pk, &cts), 1.5).unwrap();
        let want: f64 = d.iter().sum::<f64>() + 1.5;
        assert!((sk.decrypt(&t).unwrap() - want).abs() < 1e-9);
    }
}

#[cfg(test)]
mod bench {
    use super::*;
    use fedflow_crypto::PaillierKeypair;
    use std::time::Instant;

    /// Where the time of one 100k-row full-batch epoch goes (1024-bit key):
    /// `cargo test --release -p fedflow-components bench_cipher_100k -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn bench_cipher_100k() {
        let n = 100_000;
        let (pk, sk) = PaillierKeypair::generate(1024).unwrap();
        let t = Instant::now();
        precompute(&pk, n);
        eprintln!("djn table (12-bit windows): {:?}", t.elapsed());
        let d: Vec<f64> = (0..n)
            .map(|i| ((i * 37) % 1000) as f64 * 0.001 - 0.5)
            .collect();
        let t = Instant::now();
        let cts = encrypt_vec(&pk, &d).unwrap();
        eprintln!("encrypt {n}: {:?}", t.elapsed());
        let col: Vec<f64> = (0..n)
            .map(|i| ((i * 13) % 401) as f64 * 0.01 - 2.0)
            .collect();
        let t = Instant::now();
        let a = weighted_sum(&pk, &cts, &col).unwrap();
        eprintln!("one column, 2^-20 absolute (2 windows): {:?}", t.elapsed());
        let t = Instant::now();
        let b = weighted_sum_scaled(&pk, &cts, &col).unwrap();
        eprintln!(
            "one column, {COLUMN_BITS}-bit column-scaled (1 window): {:?}",
            t.elapsed()
        );
        let want: f64 = d.iter().zip(&col).map(|(x, y)| x * y).sum();
        eprintln!(
            "sum {want:.6}: absolute {:.6}, column-scaled {:.6}",
            sk.decrypt(&a).unwrap(),
            sk.decrypt(&b).unwrap()
        );
        let t = Instant::now();
        let s = sum(&pk, &cts);
        eprintln!("sum {n}: {:?}", t.elapsed());
        let t = Instant::now();
        let _ = add_plain(&pk, &s, 0.5).unwrap();
        let _: Vec<Ciphertext> = cts[..10_000]
            .par_iter()
            .map(|c| add(&pk, c, &cts[0]).unwrap())
            .collect();
        eprintln!("add 10000: {:?}", t.elapsed());
    }

    #[test]
    #[ignore]
    fn bench_cipher_ops() {
        let t = Instant::now();
        let (pk, sk) = PaillierKeypair::generate(1024).unwrap();
        eprintln!("keygen 1024: {:?}", t.elapsed());
        let t = Instant::now();
        pk.precompute_djn();
        eprintln!("djn table: {:?}", t.elapsed());
        let d: Vec<f64> = (0..320).map(|i| i as f64 * 0.001 - 0.1).collect();
        let t = Instant::now();
        let cts = encrypt_vec(&pk, &d).unwrap();
        eprintln!("encrypt 320: {:?}", t.elapsed());
        let cols: Vec<Vec<f64>> = (0..20)
            .map(|j| {
                (0..320)
                    .map(|i| ((i * j) % 17) as f64 * 0.37 - 3.0)
                    .collect()
            })
            .collect();
        let t = Instant::now();
        let s = weighted_sums(&pk, &cts, &cols).unwrap();
        eprintln!("weighted sums 320 x 20: {:?}", t.elapsed());
        let t = Instant::now();
        let _ = sk.decrypt_batch(&s).unwrap();
        eprintln!("decrypt 20: {:?}", t.elapsed());
        let t = Instant::now();
        let _: Vec<Ciphertext> = cts
            .iter()
            .map(|c| add_plain(&pk, c, 0.5).unwrap())
            .collect();
        eprintln!("add_plain 320: {:?}", t.elapsed());
        let big: Vec<Ciphertext> = (0..2000).map(|i| cts[i % 320].clone()).collect();
        let t = Instant::now();
        let _ = sk.decrypt_raw_batch(&big).unwrap();
        eprintln!("decrypt_raw 2000: {:?}", t.elapsed());
        let sh = BigUint::one().shl(125);
        let t = Instant::now();
        let _: Vec<BigUint> = big
            .iter()
            .map(|c| c.raw().pow_mod(&sh, pk.n_squared()))
            .collect();
        eprintln!("2000 x 125 squarings: {:?}", t.elapsed());
    }
}
