//! Feldman verifiable secret sharing, as FATE's `FeldmanVerifiableSum` uses
//! it: Shamir shares over the prime-order subgroup of RFC 5114's 1024-bit
//! MODP group (160-bit order `q`), with commitments `g^a_k mod p` to the
//! polynomial's coefficients so that a receiver can check its share.
//!
//! A secret `s` (a fixed-point number: `trunc(x · 10^q_n)`, negatives as
//! `q − |v|`) is the constant term of a random polynomial `f` of degree
//! `n − 1` over Z_q; party `i` (1-based) receives `f(i)`; all `n` shares
//! reconstruct `s` by Lagrange interpolation at 0. Shares are additive:
//! the sums of several parties' shares at the same `i` are shares of the sum
//! of their secrets, verified against the product of their commitments.

use rand::{CryptoRng, RngCore};

use crate::bigint::BigUint;
use crate::error::{CryptoError, Result};

/// The group: `p`, a generator `g` of the order-`q` subgroup, and `q`.
#[derive(Debug, Clone)]
pub struct Group {
    /// The modulus.
    pub p: BigUint,
    /// A generator of the order-`q` subgroup.
    pub g: BigUint,
    /// The subgroup's prime order (the shares' field).
    pub q: BigUint,
}

fn hex(s: &str) -> BigUint {
    let digits: String = s.split_whitespace().collect();
    let bytes: Vec<u8> = (0..digits.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&digits[i..i + 2], 16).unwrap_or(0))
        .collect();
    BigUint::from_bytes_be(&bytes)
}

impl Group {
    /// RFC 5114 §2.1: the 1024-bit MODP group with a 160-bit prime-order
    /// subgroup (FATE's parameters).
    pub fn rfc5114_1024_160() -> Self {
        Group {
            p: hex("B10B8F96 A080E01D DE92DE5E AE5D54EC 52C99FBC FB06A3C6
                    9A6A9DCA 52D23B61 6073E286 75A23D18 9838EF1E 2EE652C0
                    13ECB4AE A9061123 24975C3C D49B83BF ACCBDD7D 90C4BD70
                    98488E9C 219A7372 4EFFD6FA E5644738 FAA31A4F F55BCCC0
                    A151AF5F 0DC8B4BD 45BF37DF 365C1A65 E68CFDA7 6D4DA708
                    DF1FB2BC 2E4A4371"),
            g: hex("A4D1CBD5 C3FD3412 6765A442 EFB99905 F8104DD2 58AC507F
                    D6406CFF 14266D31 266FEA1E 5C41564B 777E690F 5504F213
                    160217B4 B01B886A 5E91547F 9E2749F4 D7FBD7D3 B9A92EE1
                    909D0D22 63F80A76 A6A24C08 7A091F53 1DBF0A01 69B6A28A
                    D662A4D1 8E73AFA3 2D779D59 18D08BC8 858F4DCE F97C2A24
                    855E6EEB 22B3B2E5"),
            q: hex("F518AA87 81A8DF27 8ABA4E7D 64B7CB9D 49462353"),
        }
    }

    /// `x` as a fixed-point element of Z_q with `q_n` decimal digits
    /// (truncated, as FATE's `int(x · 10^q_n)`); fails when the value or the
    /// sum of `parties` such values cannot be represented.
    pub fn encode(&self, x: f64, q_n: u32, parties: usize) -> Result<BigUint> {
        let v = (x * 10f64.powi(q_n as i32)).trunc();
        // Room for the sum of `parties` values: |v| · parties < 2^100 « q / 2.
        let limit = 2f64.powi(100) / parties.max(1) as f64;
        if !v.is_finite() || v.abs() >= limit {
            return Err(CryptoError::Invalid(format!(
                "{x} with {q_n} decimal digits does not fit the secret-sharing field (|x|·10^q_n must be < {limit:.3e})"
            )));
        }
        let m = BigUint::from(v.abs() as u128);
        Ok(if v < 0.0 && !m.is_zero() {
            self.q.checked_sub(&m).unwrap_or_default()
        } else {
            m
        })
    }

    /// The number an element of Z_q encodes with `q_n` decimal digits.
    pub fn decode(&self, s: &BigUint, q_n: u32) -> f64 {
        let half = self.q.shr(1);
        let scale = 10f64.powi(q_n as i32);
        if *s > half {
            let m = self.q.checked_sub(s).unwrap_or_default();
            -(m.to_u128().unwrap_or(u128::MAX) as f64) / scale
        } else {
            s.to_u128().unwrap_or(u128::MAX) as f64 / scale
        }
    }

    /// Splits `secret` into `n` shares `f(1)…f(n)` and the commitments
    /// `g^a_0 … g^a_{n−1}` to the polynomial's coefficients.
    pub fn share<R: RngCore + CryptoRng + ?Sized>(
        &self,
        secret: &BigUint,
        n: usize,
        rng: &mut R,
    ) -> (Vec<BigUint>, Vec<BigUint>) {
        let mut coef = Vec::with_capacity(n);
        coef.push(secret.rem(&self.q));
        for _ in 1..n {
            coef.push(BigUint::random_below(&self.q, rng));
        }
        let shares = (1..=n as u64)
            .map(|x| {
                let x = BigUint::from(x);
                coef.iter().rev().fold(BigUint::zero(), |acc, c| {
                    acc.mul_mod(&x, &self.q).add(c).rem(&self.q)
                })
            })
            .collect();
        let commitments = coef.iter().map(|c| self.g.pow_mod(c, &self.p)).collect();
        (shares, commitments)
    }

    /// Whether `y` is the share at `x` of the polynomial `commitments` commit
    /// to: `g^y = Π_k C_k^(x^k) mod p`.
    pub fn verify(&self, x: u64, y: &BigUint, commitments: &[BigUint]) -> bool {
        let lhs = self.g.pow_mod(y, &self.p);
        let xb = BigUint::from(x);
        let mut xk = BigUint::one();
        let mut rhs = BigUint::one();
        for c in commitments {
            rhs = rhs.mul_mod(&c.pow_mod(&xk, &self.p), &self.p);
            xk = xk.mul(&xb);
        }
        lhs == rhs
    }

    /// The commitments to the sum of two shared secrets.
    pub fn combine(&self, a: &[BigUint], b: &[BigUint]) -> Vec<BigUint> {
        a.iter()
            .zip(b)
            .map(|(x, y)| x.mul_mod(y, &self.p))
            .collect()
    }

    /// `a + b mod q` (adding shares).
    pub fn add(&self, a: &BigUint, b: &BigUint) -> BigUint {
        a.add(b).rem(&self.q)
    }

    /// The secret from shares `(x, f(x))` at distinct points (all `n`).
    pub fn reconstruct(&self, points: &[(u64, BigUint)]) -> Result<BigUint> {
        let q = &self.q;
        let mut secret = BigUint::zero();
        for (i, (xi, yi)) in points.iter().enumerate() {
            // λ_i = Π_{j≠i} x_j / (x_j − x_i)  (mod q)
            let mut num = BigUint::one();
            let mut den = BigUint::one();
            for (j, (xj, _)) in points.iter().enumerate() {
                if i == j {
                    continue;
                }
                if xi == xj {
                    return Err(CryptoError::Invalid(format!(
                        "share points must be distinct ({xi} twice)"
                    )));
                }
                num = num.mul_mod(&BigUint::from(*xj), q);
                let d = if xj > xi {
                    BigUint::from(xj - xi)
                } else {
                    q.checked_sub(&BigUint::from(xi - xj)).unwrap_or_default()
                };
                den = den.mul_mod(&d, q);
            }
            let inv = den
                .invert(q)
                .ok_or_else(|| CryptoError::Invalid("share points not invertible".into()))?;
            secret = secret.add(&yi.mul_mod(&num.mul_mod(&inv, q), q)).rem(q);
        }
        Ok(secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::OsRng;

    #[test]
    fn shares_verify_add_and_reconstruct_the_sum() {
        let g = Group::rfc5114_1024_160();
        let n = 3;
        let xs = [1.5, -2.25, 1e-6 * 7.0];
        let mut all = Vec::new();
        for &x in &xs {
            let s = g.encode(x, 6, n).unwrap();
            all.push(g.share(&s, n, &mut OsRng));
        }
        for (sh, cm) in &all {
            for (i, y) in sh.iter().enumerate() {
                assert!(g.verify(i as u64 + 1, y, cm));
            }
            // A changed share fails.
            assert!(!g.verify(1, &g.add(&sh[0], &BigUint::one()), cm));
        }
        // Party i sums the shares at i; the sums verify against the product
        // of the commitments and reconstruct the sum of the secrets.
        let mut cm = all[0].1.clone();
        for (_, c) in &all[1..] {
            cm = g.combine(&cm, c);
        }
        let points: Vec<(u64, BigUint)> = (0..n)
            .map(|i| {
                let y = all
                    .iter()
                    .fold(BigUint::zero(), |a, (sh, _)| g.add(&a, &sh[i]));
                assert!(g.verify(i as u64 + 1, &y, &cm));
                (i as u64 + 1, y)
            })
            .collect();
        let sum = g.decode(&g.reconstruct(&points).unwrap(), 6);
        assert!((sum - (1.5 - 2.25 + 7e-6)).abs() < 1e-12, "{sum}");
        // Fewer than n shares say nothing about the secret (degree n − 1):
        // two of three reconstruct something else.
        let two = g.decode(&g.reconstruct(&points[..2]).unwrap(), 6);
        assert!((two - sum).abs() > 1.0);
    }

    #[test]
    fn encoding_truncates_like_fate_and_refuses_what_does_not_fit() {
        let g = Group::rfc5114_1024_160();
        for (x, want) in [
            (0.1234567, 0.123456),
            (-0.1234567, -0.123456),
            (0.0, 0.0),
            (-3.0, -3.0),
        ] {
            let e = g.encode(x, 6, 3).unwrap();
            assert_eq!(g.decode(&e, 6), want);
        }
        assert!(g.encode(1e30, 6, 3).is_err());
        assert!(g.encode(f64::NAN, 6, 3).is_err());
    }
}
