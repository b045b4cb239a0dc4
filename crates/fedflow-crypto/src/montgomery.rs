//! Montgomery multiplication modulo a fixed odd modulus (Paillier's `n²`) and
//! the products built on it: the DJN fixed-base table, ciphertext sums and
//! the bucket multi-exponentiation of encrypted gradients.
//!
//! A GMP `mul_mod` is a multiplication plus a division; here the division is
//! replaced by a Montgomery reduction (`mpn_mul_n` + `mpn_addmul_1` with the
//! `gmp` backend, portable limb loops with `pure-rust`): about 1.3× faster
//! per multiplication at 2048 bits on this machine (README.md).

use std::cell::RefCell;

use crate::bigint::{mul_wide, redc, BigUint};

/// An element in Montgomery form (`x·R mod m`, `R = 2^(64·limbs)`), as
/// little-endian limbs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MontElem(Vec<u64>);

/// Montgomery context for one odd modulus.
#[derive(Clone, Debug)]
pub struct Montgomery {
    m: Vec<u64>,
    minv: u64,
    /// `R² mod m` (normal form), to enter Montgomery form.
    r2: Vec<u64>,
    /// `R mod m`: 1 in Montgomery form.
    one: Vec<u64>,
    modulus: BigUint,
}

thread_local! {
    static SCRATCH: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

impl Montgomery {
    /// Context for an odd modulus `m > 1`; `None` for an even or trivial one.
    pub fn new(m: &BigUint) -> Option<Self> {
        if !m.is_odd() || m.bits() < 2 {
            return None;
        }
        let limbs = m.bits().div_ceil(64) as usize;
        let ml = m.to_limbs(limbs);
        // Newton iteration for m^-1 mod 2^64 (each step doubles the bits).
        let mut inv: u64 = 1;
        for _ in 0..6 {
            inv = inv.wrapping_mul(2u64.wrapping_sub(ml[0].wrapping_mul(inv)));
        }
        let r = BigUint::one().shl(64 * limbs as u32);
        let one = r.rem(m).to_limbs(limbs);
        let r2 = r.mul(&r).rem(m).to_limbs(limbs);
        Some(Montgomery {
            m: ml,
            minv: inv.wrapping_neg(),
            r2,
            one,
            modulus: m.clone(),
        })
    }

    /// The modulus.
    pub fn modulus(&self) -> &BigUint {
        &self.modulus
    }

    fn limbs(&self) -> usize {
        self.m.len()
    }

    /// Runs `f` with this thread's scratch buffer of `2·limbs` limbs.
    fn with_scratch<T>(&self, f: impl FnOnce(&mut [u64]) -> T) -> T {
        SCRATCH.with(|s| {
            let mut t = s.borrow_mut();
            let need = 2 * self.limbs();
            if t.len() < need {
                t.resize(need, 0);
            }
            f(&mut t[..need])
        })
    }

    /// `out = a·b·R^-1 mod m` (inputs reduced, `out` distinct from both).
    fn mul_raw(&self, out: &mut [u64], a: &[u64], b: &[u64]) {
        self.with_scratch(|t| {
            mul_wide(t, a, b);
            redc(out, t, &self.m, self.minv);
        })
    }

    /// `a · b` in Montgomery form.
    pub fn mul(&self, a: &MontElem, b: &MontElem) -> MontElem {
        let mut out = vec![0u64; self.limbs()];
        self.mul_raw(&mut out, &a.0, &b.0);
        MontElem(out)
    }

    /// `a ← a · b`.
    pub fn mul_assign(&self, a: &mut MontElem, b: &MontElem) {
        self.mul_raw_assign(&mut a.0, &b.0);
    }

    /// `a ← a·b·R^-1 mod m` on raw limbs.
    fn mul_raw_assign(&self, a: &mut [u64], b: &[u64]) {
        self.with_scratch(|t| {
            mul_wide(t, a, b);
            redc(a, t, &self.m, self.minv);
        })
    }

    /// `a ← a²`.
    pub fn square_assign(&self, a: &mut MontElem) {
        self.with_scratch(|t| {
            mul_wide(t, &a.0, &a.0);
            redc(&mut a.0, t, &self.m, self.minv);
        })
    }

    /// 1 in Montgomery form.
    pub fn one(&self) -> MontElem {
        MontElem(self.one.clone())
    }

    /// Enters Montgomery form (`x` is reduced mod m first if needed).
    pub fn to_mont(&self, x: &BigUint) -> MontElem {
        let x = if x.bits() > self.modulus.bits() || *x >= self.modulus {
            x.rem(&self.modulus)
        } else {
            x.clone()
        };
        let xl = x.to_limbs(self.limbs());
        let mut out = vec![0u64; self.limbs()];
        self.mul_raw(&mut out, &xl, &self.r2);
        MontElem(out)
    }

    /// Leaves Montgomery form.
    pub fn from_mont(&self, x: &MontElem) -> BigUint {
        let n = self.limbs();
        let mut t = vec![0u64; 2 * n];
        t[..n].copy_from_slice(&x.0);
        let mut out = vec![0u64; n];
        redc(&mut out, &mut t, &self.m, self.minv);
        BigUint::from_limbs(&out)
    }

    /// `R^(k+2) mod m` for k = 0..=max. A chain of `len` raw values
    /// multiplied with [`Self::mul_raw_assign`] holds `Π·R^-(len-1)`;
    /// `mont(chain, entry[len-1]) = Π·R`, the Montgomery form of `Π`.
    fn r_powers(&self, max: usize) -> Vec<Vec<u64>> {
        let mut out = Vec::with_capacity(max + 1);
        let mut cur = self.r2.clone();
        for _ in 0..=max {
            // mont(R^j, R²) = R^(j+1).
            out.push(cur.clone());
            let mut next = vec![0u64; self.limbs()];
            self.mul_raw(&mut next, &cur, &self.r2);
            cur = next;
        }
        out
    }

    /// `Π xs mod m` (1 for none), each `x < m`: a chain of raw Montgomery
    /// multiplications corrected once at the end (no per-value conversion).
    pub fn product<'a, I: IntoIterator<Item = &'a BigUint>>(&self, xs: I) -> BigUint {
        let n = self.limbs();
        let mut acc: Option<Vec<u64>> = None;
        let mut k: u64 = 0;
        let mut xl;
        for x in xs {
            xl = x.to_limbs(n);
            match acc.as_mut() {
                None => acc = Some(xl),
                Some(a) => {
                    self.mul_raw_assign(a, &xl);
                    k += 1;
                }
            }
        }
        let Some(acc) = acc else {
            return BigUint::one();
        };
        // acc = Π·R^-k; Π = acc·R^k = mont(acc, R^(k+1)).
        let fix = BigUint::from_limbs(&self.one)
            .pow_mod(&BigUint::from(k + 1), &self.modulus)
            .to_limbs(n);
        let mut out = vec![0u64; n];
        self.mul_raw(&mut out, &acc, &fix);
        BigUint::from_limbs(&out)
    }

    /// `Π bases[i]^exps[i] mod m` for non-negative exponents, each base `< m`
    /// (bucket method: window chosen to minimise multiplications; bases
    /// enter buckets without conversion, each bucket is corrected once).
    pub fn multi_exp(&self, bases: &[&BigUint], exps: &[u128]) -> BigUint {
        let bits = exps
            .iter()
            .map(|e| 128 - e.leading_zeros())
            .max()
            .unwrap_or(0);
        if bits == 0 {
            return BigUint::one();
        }
        let nl = self.limbs();
        let count = bases.len();
        let w = (1..=16u32)
            .min_by_key(|&w| bits.div_ceil(w) as usize * (count + (2usize << w)))
            .unwrap_or(4);
        let windows = bits.div_ceil(w);
        let mask = (1u128 << w) - 1;
        let limbs: Vec<Vec<u64>> = bases.iter().map(|b| b.to_limbs(nl)).collect();
        let mut acc: Option<MontElem> = None;
        let mut powers: Vec<Vec<u64>> = Vec::new();
        for k in (0..windows).rev() {
            if let Some(a) = acc.as_mut() {
                for _ in 0..w {
                    self.square_assign(a);
                }
            }
            // Raw chains per bucket: value Π·R^-(len-1), with their lengths.
            let mut buckets: Vec<Option<(Vec<u64>, usize)>> = vec![None; 1 << w];
            for (b, e) in limbs.iter().zip(exps) {
                let d = ((e >> (k * w)) & mask) as usize;
                if d == 0 {
                    continue;
                }
                match buckets[d].as_mut() {
                    None => buckets[d] = Some((b.clone(), 1)),
                    Some((v, len)) => {
                        self.mul_raw_assign(v, b);
                        *len += 1;
                    }
                }
            }
            let longest = buckets.iter().flatten().map(|(_, l)| *l).max().unwrap_or(0);
            if powers.len() < longest {
                powers = self.r_powers(longest);
            }
            // Σ d·B_d via running products, in Montgomery form.
            let mut running: Option<MontElem> = None;
            let mut total: Option<MontElem> = None;
            for d in (1..buckets.len()).rev() {
                if let Some((v, len)) = &buckets[d] {
                    // Montgomery form of the true product: mont(v, R^(len+1)).
                    let mut m = vec![0u64; nl];
                    self.mul_raw(&mut m, v, &powers[*len - 1]);
                    let bd = MontElem(m);
                    match running.as_mut() {
                        None => running = Some(bd),
                        Some(r) => self.mul_assign(r, &bd),
                    }
                }
                if let Some(r) = &running {
                    match total.as_mut() {
                        None => total = Some(r.clone()),
                        Some(t) => self.mul_assign(t, r),
                    }
                }
            }
            if let Some(t) = total {
                match acc.as_mut() {
                    None => acc = Some(t),
                    Some(a) => self.mul_assign(a, &t),
                }
            }
        }
        acc.map(|a| self.from_mont(&a)).unwrap_or_else(BigUint::one)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn modulus(bits: u32, seed: u64) -> BigUint {
        let mut r = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
        let m = BigUint::random_bits(bits, &mut r);
        let m = m.add(&BigUint::one().shl(bits - 1));
        if m.is_odd() {
            m
        } else {
            m.add(&BigUint::one())
        }
    }

    #[test]
    fn mul_product_and_multi_exp_match_plain_arithmetic() {
        for (bits, seed) in [(2048u32, 1u64), (1000, 2), (64, 3), (130, 4)] {
            let m = modulus(bits, seed);
            let ctx = Montgomery::new(&m).expect("odd");
            let mut r = rand_chacha::ChaCha20Rng::seed_from_u64(seed + 10);
            let xs: Vec<BigUint> = (0..40).map(|_| BigUint::random_below(&m, &mut r)).collect();
            let (a, b) = (&xs[0], &xs[1]);
            let got = ctx.from_mont(&ctx.mul(&ctx.to_mont(a), &ctx.to_mont(b)));
            assert_eq!(got, a.mul_mod(b, &m), "{bits} bits");
            let mut sq = ctx.to_mont(a);
            ctx.square_assign(&mut sq);
            assert_eq!(ctx.from_mont(&sq), a.mul_mod(a, &m));
            let want = xs.iter().fold(BigUint::one(), |acc, x| acc.mul_mod(x, &m));
            assert_eq!(ctx.product(&xs), want);
            assert_eq!(ctx.product(&xs[..1]), xs[0]);
            assert_eq!(ctx.product(std::iter::empty()), BigUint::one());
            // Exponents with repeats (long bucket chains), zeros and wide values.
            let exps: Vec<u128> = (0..40u128)
                .map(|i| match i % 4 {
                    0 => 0,
                    1 => 7,
                    2 => i * 1_000_003,
                    _ => (1u128 << 70) + i,
                })
                .collect();
            let refs: Vec<&BigUint> = xs.iter().collect();
            let want = xs.iter().zip(&exps).fold(BigUint::one(), |acc, (x, &e)| {
                acc.mul_mod(&x.pow_mod(&BigUint::from(e), &m), &m)
            });
            assert_eq!(ctx.multi_exp(&refs, &exps), want, "{bits} bits");
            assert_eq!(ctx.multi_exp(&refs, &[0; 40]), BigUint::one());
        }
        assert!(Montgomery::new(&BigUint::from(10u64)).is_none());
    }
}

#[cfg(test)]
mod bench {
    use super::*;
    use rand::SeedableRng;
    use std::time::Instant;

    /// GMP `mul_mod` vs Montgomery at 2048 bits, interleaved in one run:
    /// `cargo test --release -p fedflow-crypto bench_montgomery -- --ignored --nocapture`
    #[test]
    #[ignore]
    fn bench_montgomery() {
        let mut r = rand_chacha::ChaCha20Rng::seed_from_u64(9);
        let m = BigUint::random_bits(2048, &mut r).add(&BigUint::one().shl(2047));
        let m = if m.is_odd() {
            m
        } else {
            m.add(&BigUint::one())
        };
        let ctx = Montgomery::new(&m).expect("odd");
        let a = BigUint::random_below(&m, &mut r);
        let b = BigUint::random_below(&m, &mut r);
        let (am, bm) = (ctx.to_mont(&a), ctx.to_mont(&b));
        let iters = 200_000;
        for round in 0..3 {
            let t = Instant::now();
            let mut x = a.clone();
            for _ in 0..iters {
                x = x.mul_mod(&b, &m);
            }
            let plain = t.elapsed().as_nanos() as f64 / iters as f64;
            let t = Instant::now();
            let mut y = am.clone();
            for _ in 0..iters {
                ctx.mul_assign(&mut y, &bm);
            }
            let mont = t.elapsed().as_nanos() as f64 / iters as f64;
            assert_eq!(ctx.from_mont(&y), x);
            eprintln!(
                "round {round}: mul_mod {plain:.0} ns, montgomery {mont:.0} ns, ratio {:.2}",
                plain / mont
            );
        }
    }
}
