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
