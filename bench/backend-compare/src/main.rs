//! Measures modexp mod n^2 (exponent n, the Paillier obfuscator r^n mod n^2)
//! for several big-integer crates, single thread. Usage:
//!   cargo run --release --manifest-path bench/backend-compare/Cargo.toml [secs]
use std::time::{Duration, Instant};

fn rand_bytes(state: &mut u64, len: usize) -> Vec<u8> {
    (0..len)
        .map(|_| {
            *state ^= *state << 13;
            *state ^= *state >> 7;
            *state ^= *state << 17;
            (*state >> 24) as u8
        })
        .collect()
}

fn time<F: FnMut()>(secs: f64, mut f: F) -> f64 {
    f();
    let start = Instant::now();
    let budget = Duration::from_secs_f64(secs);
    let mut n = 0u64;
    while start.elapsed() < budget {
        f();
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let secs: f64 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(2.0);
    let mut st = 0x9E37_79B9_7F4A_7C15u64;
    println!("| backend | 1024-bit key ops/s | 2048-bit key ops/s |");
    println!("|---|---|---|");
    let mut rows: Vec<(&str, Vec<f64>)> = vec![
        ("rug 1.19 (system GMP 6.2.1)", vec![]),
        ("num-bigint 0.4", vec![]),
        ("malachite-nz 0.4", vec![]),
        ("crypto-bigint 0.5 (U4096, pow_bounded_exp)", vec![]),
        ("dashu-int 0.4", vec![]),
        ("ibig 0.3", vec![]),
    ];
    for bits in [1024usize, 2048] {
        let mut nb = rand_bytes(&mut st, bits / 8);
        nb[0] |= 0xC0;
        let last = nb.len() - 1;
        nb[last] |= 1;
        let mut rb = rand_bytes(&mut st, bits / 8);
        rb[0] &= 0x7f;
        // rug
        {
            use rug::integer::Order;
            let n = rug::Integer::from_digits(&nb, Order::Msf);
            let n2 = rug::Integer::from(&n * &n);
            let r = rug::Integer::from_digits(&rb, Order::Msf);
            rows[0].1.push(time(secs, || {
                let x = r.clone().pow_mod(&n, &n2).unwrap();
                std::hint::black_box(x);
            }));
        }
        {
            let n = num_bigint::BigUint::from_bytes_be(&nb);
            let n2 = &n * &n;
            let r = num_bigint::BigUint::from_bytes_be(&rb);
            rows[1].1.push(time(secs, || {
                std::hint::black_box(r.modpow(&n, &n2));
            }));
        }
        {
            use malachite_base::num::arithmetic::traits::ModPow;
            use malachite_base::num::conversion::traits::FromStringBase;
            let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
            let n = malachite_nz::natural::Natural::from_string_base(16, &hex(&nb)).unwrap();
            let n2 = &n * &n;
            let r = malachite_nz::natural::Natural::from_string_base(16, &hex(&rb)).unwrap();
            rows[2].1.push(time(secs, || {
                std::hint::black_box((&r).mod_pow(&n, &n2));
            }));
        }
        {
            use crypto_bigint::modular::runtime_mod::{DynResidue, DynResidueParams};
            use crypto_bigint::U4096;
            let pad = |b: &[u8]| {
                let mut v = vec![0u8; 512 - b.len()];
                v.extend_from_slice(b);
                U4096::from_be_slice(&v)
            };
            let n = pad(&nb);
            let n2 = n.wrapping_mul(&n);
            let r = pad(&rb);
            let params = DynResidueParams::new(&n2);
            rows[3].1.push(time(secs, || {
                let x = DynResidue::new(&r, params).pow_bounded_exp(&n, bits);
                std::hint::black_box(x.retrieve());
            }));
        }
        {
            let n = dashu_int::UBig::from_be_bytes(&nb);
            let n2 = &n * &n;
            let r = dashu_int::UBig::from_be_bytes(&rb);
            let ring = dashu_int::fast_div::ConstDivisor::new(n2.clone());
            rows[4].1.push(time(secs, || {
                std::hint::black_box(ring.reduce(r.clone()).pow(&n).residue());
            }));
        }
        {
            let n = ibig::UBig::from_be_bytes(&nb);
            let n2 = &n * &n;
            let r = ibig::UBig::from_be_bytes(&rb);
            let ring = ibig::modular::ModuloRing::new(&n2);
            rows[5].1.push(time(secs, || {
                std::hint::black_box(ring.from(&r).pow(&n).residue());
            }));
        }
    }
    for (name, v) in rows {
        println!("| {name} | {:.1} | {:.1} |", v[0], v[1]);
    }
}
