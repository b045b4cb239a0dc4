//! GMP backend (`rug`, LGPL-3.0+), linked against the system libgmp.

use rand::{CryptoRng, RngCore};
use rug::integer::{IsPrime, Order};
use rug::Integer;

pub(super) type Inner = Integer;
pub(super) const NAME: &str = "gmp (rug 1.19, system GMP)";

pub(super) fn from_u128(v: u128) -> Inner {
    Integer::from(v)
}
pub(super) fn from_bytes_be(b: &[u8]) -> Inner {
    Integer::from_digits(b, Order::Msf)
}
pub(super) fn to_bytes_be(a: &Inner) -> Vec<u8> {
    a.to_digits::<u8>(Order::Msf)
}
pub(super) fn from_dec_str(s: &str) -> Option<Inner> {
    Integer::from_str_radix(s, 10).ok().filter(|v| *v >= 0)
}
pub(super) fn bits(a: &Inner) -> u32 {
    a.significant_bits()
}
pub(super) fn is_odd(a: &Inner) -> bool {
    a.is_odd()
}
pub(super) fn to_u128(a: &Inner) -> Option<u128> {
    a.to_u128()
}
pub(super) fn add(a: &Inner, b: &Inner) -> Inner {
    Integer::from(a + b)
}
pub(super) fn sub(a: &Inner, b: &Inner) -> Inner {
    Integer::from(a - b)
}
pub(super) fn mul(a: &Inner, b: &Inner) -> Inner {
    Integer::from(a * b)
}
pub(super) fn shl(a: &Inner, bits: u32) -> Inner {
    Integer::from(a << bits)
}
pub(super) fn shr(a: &Inner, bits: u32) -> Inner {
    Integer::from(a >> bits)
}
pub(super) fn low_bits(a: &Inner, bits: u32) -> Inner {
    let mut v = a.clone();
    v.keep_bits_mut(bits);
    v
}
pub(super) fn div_rem(a: &Inner, d: &Inner) -> (Inner, Inner) {
    a.clone().div_rem_floor(d.clone())
}
pub(super) fn div_exact(a: &Inner, d: &Inner) -> Inner {
    Integer::from(a.div_exact_ref(d))
}
pub(super) fn rem(a: &Inner, m: &Inner) -> Inner {
    Integer::from(a % m)
}
pub(super) fn mul_mod(a: &Inner, b: &Inner, m: &Inner) -> Inner {
    let mut p = Integer::from(a * b);
    p %= m;
    p
}
pub(super) fn pow_mod(a: &Inner, e: &Inner, m: &Inner) -> Inner {
    // `None` only for negative exponents without inverse; never the case here.
    a.pow_mod_ref(e, m).map(Integer::from).unwrap_or_default()
}
pub(super) fn invert(a: &Inner, m: &Inner) -> Option<Inner> {
    a.invert_ref(m).map(Integer::from)
}
pub(super) fn gcd(a: &Inner, b: &Inner) -> Inner {
    Integer::from(a.gcd_ref(b))
}
pub(super) fn is_probable_prime<R: RngCore + CryptoRng + ?Sized>(a: &Inner, _rng: &mut R) -> bool {
    // GMP: trial division, Baillie–PSW, then Miller–Rabin rounds.
    a.is_probably_prime(30) != IsPrime::No
}

/// Little-endian 64-bit limbs of `a`, zero-padded to `len`.
pub(crate) fn to_limbs(a: &Inner, len: usize) -> Vec<u64> {
    let mut v = a.to_digits::<u64>(Order::Lsf);
    v.resize(len.max(v.len()), 0);
    v
}
pub(crate) fn from_limbs(l: &[u64]) -> Inner {
    Integer::from_digits(l, Order::Lsf)
}
/// `t = a · b` (2·len limbs; `a`, `b`: len limbs), by GMP's `mpn_mul_n`
/// (`mpn_sqr` when both are the same slice).
pub(crate) fn mul_wide(t: &mut [u64], a: &[u64], b: &[u64]) {
    let n = a.len();
    debug_assert!(b.len() == n && t.len() >= 2 * n && n > 0);
    // SAFETY: `t` holds 2n limbs and does not overlap `a` or `b` (distinct
    // borrows); `a` and `b` hold n limbs each, as GMP's contract asks.
    unsafe {
        if std::ptr::eq(a.as_ptr(), b.as_ptr()) {
            gmp_mpfr_sys::gmp::mpn_sqr(t.as_mut_ptr(), a.as_ptr(), n as _);
        } else {
            gmp_mpfr_sys::gmp::mpn_mul_n(t.as_mut_ptr(), a.as_ptr(), b.as_ptr(), n as _);
        }
    }
}
/// Montgomery reduction: `r = t · 2^(-64·len) mod m` for `t < m·2^(64·len)`
/// (`t` is clobbered), `minv = -m^(-1) mod 2^64`.
pub(crate) fn redc(r: &mut [u64], t: &mut [u64], m: &[u64], minv: u64) {
    let n = m.len();
    debug_assert!(r.len() == n && t.len() >= 2 * n);
    // SAFETY: every pointer range lies inside `t` (2n limbs), `m` or `r`
    // (n limbs each), which are distinct borrows.
    unsafe {
        use gmp_mpfr_sys::gmp;
        let tp = t.as_mut_ptr();
        for i in 0..n {
            let q = (*tp.add(i)).wrapping_mul(minv);
            // t[i..i+n] += q·m makes t[i] zero; keep the carry limb there.
            let c = gmp::mpn_addmul_1(tp.add(i), m.as_ptr(), n as _, q);
            *tp.add(i) = c;
        }
        let cy = gmp::mpn_add_n(r.as_mut_ptr(), tp.add(n), tp, n as _);
        if cy != 0 || gmp::mpn_cmp(r.as_ptr(), m.as_ptr(), n as _) >= 0 {
            gmp::mpn_sub_n(r.as_mut_ptr(), r.as_ptr(), m.as_ptr(), n as _);
        }
    }
}
