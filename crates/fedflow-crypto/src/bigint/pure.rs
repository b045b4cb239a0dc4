//! Pure-Rust backend (`num-bigint`, MIT/Apache-2.0). About half of GMP's
//! modexp speed (README.md); no system library needed.

use num_bigint::BigUint as N;
use num_integer::Integer as _;
use num_traits::{One, ToPrimitive, Zero};
use rand::{CryptoRng, RngCore};

pub(super) type Inner = N;
pub(super) const NAME: &str = "pure-rust (num-bigint 0.4)";

pub(super) fn from_u128(v: u128) -> Inner {
    N::from(v)
}
pub(super) fn from_bytes_be(b: &[u8]) -> Inner {
    N::from_bytes_be(b)
}
pub(super) fn to_bytes_be(a: &Inner) -> Vec<u8> {
    a.to_bytes_be()
}
pub(super) fn from_dec_str(s: &str) -> Option<Inner> {
    N::parse_bytes(s.as_bytes(), 10)
}
pub(super) fn bits(a: &Inner) -> u32 {
    a.bits() as u32
}
pub(super) fn is_odd(a: &Inner) -> bool {
    a.bit(0)
}
pub(super) fn to_u128(a: &Inner) -> Option<u128> {
    a.to_u128()
}
pub(super) fn add(a: &Inner, b: &Inner) -> Inner {
    a + b
}
pub(super) fn sub(a: &Inner, b: &Inner) -> Inner {
    a - b
}
pub(super) fn mul(a: &Inner, b: &Inner) -> Inner {
    a * b
}
pub(super) fn shl(a: &Inner, bits: u32) -> Inner {
    a << bits as usize
}
pub(super) fn shr(a: &Inner, bits: u32) -> Inner {
    a >> bits as usize
}
pub(super) fn low_bits(a: &Inner, bits: u32) -> Inner {
    if a.bits() <= u64::from(bits) {
        return a.clone();
    }
    let mask = (N::one() << bits as usize) - N::one();
    a & mask
}
pub(super) fn div_rem(a: &Inner, d: &Inner) -> (Inner, Inner) {
    a.div_rem(d)
}
pub(super) fn div_exact(a: &Inner, d: &Inner) -> Inner {
    a / d
}
pub(super) fn rem(a: &Inner, m: &Inner) -> Inner {
    a % m
}
pub(super) fn mul_mod(a: &Inner, b: &Inner, m: &Inner) -> Inner {
    (a * b) % m
}
pub(super) fn pow_mod(a: &Inner, e: &Inner, m: &Inner) -> Inner {
    a.modpow(e, m)
}
pub(super) fn invert(a: &Inner, m: &Inner) -> Option<Inner> {
    if m.is_zero() {
        return None;
    }
    a.modinv(m)
}
pub(super) fn gcd(a: &Inner, b: &Inner) -> Inner {
    a.gcd(b)
}

const SMALL_PRIMES: [u32; 24] = [
    3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89, 97,
];

/// Trial division, then 40 Miller–Rabin rounds with random bases.
pub(super) fn is_probable_prime<R: RngCore + CryptoRng + ?Sized>(n: &Inner, rng: &mut R) -> bool {
    let two = N::from(2u32);
    if *n < two {
        return false;
    }
    if *n == two {
        return true;
    }
    if !n.bit(0) {
        return false;
    }
    for &p in &SMALL_PRIMES {
        let p = N::from(p);
        if *n == p {
            return true;
        }
        if (n % &p).is_zero() {
            return false;
        }
    }
    let n1 = n - N::one();
    let s = n1.trailing_zeros().unwrap_or(0);
    let d = &n1 >> s as usize;
    let nbytes = n.bits().div_ceil(8) as usize;
    'witness: for _ in 0..40 {
        let a = loop {
            let mut buf = vec![0u8; nbytes];
            rng.fill_bytes(&mut buf);
            let a = N::from_bytes_be(&buf) % n;
            if a >= two && a < n1 {
                break a;
            }
        };
        let mut x = a.modpow(&d, n);
        if x.is_one() || x == n1 {
            continue;
        }
        for _ in 1..s {
            x = (&x * &x) % n;
            if x == n1 {
                continue 'witness;
            }
        }
        return false;
    }
    true
}

/// Little-endian 64-bit limbs of `a`, zero-padded to `len`.
pub(crate) fn to_limbs(a: &Inner, len: usize) -> Vec<u64> {
    let mut v = a.to_u64_digits();
    v.resize(len.max(v.len()), 0);
    v
}
pub(crate) fn from_limbs(l: &[u64]) -> Inner {
    let words: Vec<u32> = l
        .iter()
        .flat_map(|&x| [x as u32, (x >> 32) as u32])
        .collect();
    N::from_slice(&words)
}
/// `t = a · b` (schoolbook on 64-bit limbs).
pub(crate) fn mul_wide(t: &mut [u64], a: &[u64], b: &[u64]) {
    let n = a.len();
    t[..2 * n].iter_mut().for_each(|x| *x = 0);
    for (i, &ai) in a.iter().enumerate() {
        let mut carry = 0u128;
        for (j, &bj) in b.iter().enumerate() {
            let v = u128::from(ai) * u128::from(bj) + u128::from(t[i + j]) + carry;
            t[i + j] = v as u64;
            carry = v >> 64;
        }
        t[i + n] = carry as u64;
    }
}
/// Montgomery reduction: `r = t · 2^(-64·len) mod m` (`t` is clobbered).
pub(crate) fn redc(r: &mut [u64], t: &mut [u64], m: &[u64], minv: u64) {
    let n = m.len();
    let mut top = 0u64; // carry out of t[2n-1]
    for i in 0..n {
        let q = t[i].wrapping_mul(minv);
        let mut carry = 0u128;
        for j in 0..n {
            let v = u128::from(q) * u128::from(m[j]) + u128::from(t[i + j]) + carry;
            t[i + j] = v as u64;
            carry = v >> 64;
        }
        let mut k = i + n;
        while carry != 0 && k < 2 * n {
            let v = u128::from(t[k]) + carry;
            t[k] = v as u64;
            carry = v >> 64;
            k += 1;
        }
        top += carry as u64;
    }
    r.copy_from_slice(&t[n..2 * n]);
    let ge = top != 0 || {
        let mut ord = std::cmp::Ordering::Equal;
        for j in (0..n).rev() {
            if r[j] != m[j] {
                ord = r[j].cmp(&m[j]);
                break;
            }
        }
        ord != std::cmp::Ordering::Less
    };
    if ge {
        let mut borrow = false;
        for j in 0..n {
            let (v, b1) = r[j].overflowing_sub(m[j]);
            let (v, b2) = v.overflowing_sub(u64::from(borrow));
            r[j] = v;
            borrow = b1 || b2;
        }
    }
}
