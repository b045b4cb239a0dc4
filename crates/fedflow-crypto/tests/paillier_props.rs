//! Property tests of the Paillier homomorphisms, encoding and packing.
//! A 512-bit test key keeps them fast; none of the properties depend on size.

use std::sync::OnceLock;

use fedflow_crypto::{
    BigUint, Ciphertext, CryptoError, Obfuscation, ObfuscatorPool, Packer, PaillierKeypair,
    PrivateKey, PublicKey,
};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

fn keys() -> &'static (PublicKey, PrivateKey) {
    static K: OnceLock<(PublicKey, PrivateKey)> = OnceLock::new();
    K.get_or_init(|| {
        PaillierKeypair::generate_with_rng(512, &mut ChaCha20Rng::seed_from_u64(7)).expect("keygen")
    })
}

/// Within FATE's encoding precision (>= 50 mantissa bits).
fn rel_close(got: f64, want: f64) -> bool {
    (got - want).abs() <= want.abs() * 2f64.powi(-49)
}

fn close(got: f64, want: f64, scale: f64) -> bool {
    (got - want).abs() <= 1e-12 * scale.max(f64::MIN_POSITIVE) + 1e-300
}

/// Any finite f64: normals of every magnitude, subnormals, zeros.
fn any_finite() -> impl Strategy<Value = f64> {
    prop::num::f64::NORMAL | prop::num::f64::SUBNORMAL | prop::num::f64::ZERO
}

/// Values with a moderate exponent spread (alignment stays below n).
fn moderate() -> impl Strategy<Value = f64> {
    prop_oneof![
        -1e9f64..1e9,
        -1.0f64..1.0,
        Just(0.0),
        Just(-0.0),
        (-1e-6f64..1e-6),
    ]
}

fn cfg() -> ProptestConfig {
    ProptestConfig {
        cases: 48,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(cfg())]

    #[test]
    fn encrypt_decrypt_roundtrip(x in any_finite()) {
        let (pk, sk) = keys();
        let c = pk.encrypt(x).expect("encrypt");
        // FATE's base-16 exponent keeps 50..53 of the 53 mantissa bits.
        prop_assert!(rel_close(sk.decrypt(&c).expect("decrypt"), x), "{}", x);
    }

    #[test]
    fn add_is_homomorphic(a in moderate(), b in moderate()) {
        let (pk, sk) = keys();
        let ca = pk.encrypt(a).expect("enc a");
        let cb = pk.encrypt(b).expect("enc b");
        let sum = sk.decrypt(&pk.add(&ca, &cb).expect("add")).expect("dec");
        prop_assert!(close(sum, a + b, a.abs() + b.abs()), "{} + {} -> {}", a, b, sum);
        let diff = sk.decrypt(&pk.sub(&ca, &cb).expect("sub")).expect("dec");
        prop_assert!(close(diff, a - b, a.abs() + b.abs()), "{} - {} -> {}", a, b, diff);
        let plain = sk.decrypt(&pk.add_plain(&ca, b).expect("add_plain")).expect("dec");
        prop_assert!(close(plain, a + b, a.abs() + b.abs()));
    }

    #[test]
    fn scalar_mul_is_homomorphic(a in moderate(), s in moderate(), k in any::<i32>()) {
        let (pk, sk) = keys();
        let ca = pk.encrypt(a).expect("enc");
        let m = sk.decrypt(&pk.mul_f64(&ca, s).expect("mul")).expect("dec");
        prop_assert!(close(m, a * s, (a * s).abs()), "{} * {} -> {}", a, s, m);
        let k = i64::from(k);
        let mi = sk.decrypt(&pk.mul_i64(&ca, k).expect("mul_i64")).expect("dec");
        prop_assert!(close(mi, a * k as f64, (a * k as f64).abs()));
    }

    #[test]
    fn all_encryption_paths_decrypt(x in moderate()) {
        let (pk, sk) = keys();
        for c in [
            pk.encrypt_with(x, None, Obfuscation::Full).expect("full"),
            pk.encrypt_with(x, None, Obfuscation::None).expect("none"),
            sk.encrypt(x).expect("crt"),
            pk.encrypt(x).expect("djn"),
        ] {
            prop_assert!(rel_close(sk.decrypt(&c).expect("dec"), x));
        }
    }

    #[test]
    fn packed_sums_within_headroom(
        rows in prop::collection::vec(
            prop::collection::vec(-1.0f64..1.0, 1..30), 1..9)
    ) {
        let (pk, sk) = keys();
        // 7 additions = sums of up to 8 packed ciphertexts.
        let packer = Packer::new(pk.bits(), 54, 52, 1.0, 7).expect("packer");
        let width = rows.iter().map(Vec::len).min().unwrap_or(0);
        let mut acc: Option<Vec<Ciphertext>> = None;
        let mut want = vec![0.0f64; width];
        for row in &rows {
            let row = &row[..width];
            for (w, v) in want.iter_mut().zip(row) { *w += v; }
            let cts = packer.encrypt(pk, row).expect("pack-encrypt");
            acc = Some(match acc {
                None => cts,
                Some(a) => pk.add_batch(&a, &cts).expect("add"),
            });
        }
        let acc = acc.expect("rows");
        let got = packer.decrypt(sk, &acc, width, rows.len() as u64).expect("unpack");
        for (g, w) in got.iter().zip(&want) {
            prop_assert!((g - w).abs() < 1e-9, "{} vs {}", g, w);
        }
    }

    #[test]
    fn batch_apis_match_single(xs in prop::collection::vec(moderate(), 0..20)) {
        let (pk, sk) = keys();
        let cts = pk.encrypt_batch(&xs).expect("batch enc");
        let dec = sk.decrypt_batch(&cts).expect("batch dec");
        prop_assert_eq!(dec.len(), xs.len());
        for (d, x) in dec.iter().zip(&xs) {
            prop_assert!(rel_close(*d, *x));
        }
        let twice = pk.add_batch(&cts, &cts).expect("add");
        let dec = sk.decrypt_batch(&twice).expect("dec");
        for (d, x) in dec.iter().zip(&xs) {
            prop_assert!(close(*d, 2.0 * x, 2.0 * x.abs()));
        }
    }
}

#[test]
fn extremes_roundtrip() {
    let (pk, sk) = keys();
    // (f64::MAX itself rounds up to 2^1024 in FATE's base-16 encoding.)
    for x in [
        1e308,
        -1.7e308,
        f64::MIN_POSITIVE,
        -f64::MIN_POSITIVE,
        5e-324,
        -5e-324,
        0.0,
        1.0,
        -1.0,
    ] {
        let c = pk.encrypt(x).expect("enc");
        assert!(rel_close(sk.decrypt(&c).expect("dec"), x), "{x}");
    }
    assert!(matches!(
        pk.encrypt(f64::NAN),
        Err(CryptoError::NonFinite(_))
    ));
    assert!(matches!(
        pk.encrypt(f64::INFINITY),
        Err(CryptoError::NonFinite(_))
    ));
}

#[test]
fn overflow_is_detected() {
    let (pk, sk) = keys();
    // Decrypting a mantissa just above max_int is an overflow, not garbage.
    let top = pk.encrypt_raw(pk.max_int(), Obfuscation::Djn).expect("raw");
    assert!(sk.decrypt(&top).is_ok());
    let one = pk
        .encrypt_raw(&BigUint::one(), Obfuscation::Djn)
        .expect("raw");
    let over = pk.add(&top, &one).expect("add");
    assert!(matches!(sk.decrypt(&over), Err(CryptoError::Overflow(_))));
    // Symmetric on the negative side.
    let neg = pk.mul_i64(&top, -1).expect("neg");
    assert!(sk.decrypt(&neg).expect("dec") < 0.0);
    let neg_over = pk.sub(&neg, &one).expect("sub");
    assert!(matches!(
        sk.decrypt(&neg_over),
        Err(CryptoError::Overflow(_))
    ));
    // Encoding a plaintext that does not fit at the ciphertext's exponent.
    let c = pk.encrypt(0.5).expect("enc");
    assert!(matches!(
        pk.add_plain(&c, 1e200),
        Err(CryptoError::Overflow(_))
    ));
    // Exponent alignment beyond the key size.
    let tiny = pk.encrypt(1e-300).expect("enc");
    let huge = pk.encrypt(1e300).expect("enc");
    assert!(matches!(
        pk.add(&tiny, &huge),
        Err(CryptoError::Overflow(_))
    ));
    // Raw plaintexts must be < n.
    assert!(pk.encrypt_raw(pk.n(), Obfuscation::Djn).is_err());
}

#[test]
fn packing_headroom_is_enforced() {
    let (pk, sk) = keys();
    let packer = Packer::new(pk.bits(), 54, 52, 1.0, 3).expect("packer");
    assert!(packer.slots() >= 2);
    // Largest packable values, summed exactly up to the headroom.
    let v = vec![1.0 - 2f64.powi(-50); packer.slots() + 1];
    let cts = packer.encrypt(pk, &v).expect("enc");
    let mut acc = cts.clone();
    for _ in 0..3 {
        acc = pk.add_batch(&acc, &cts).expect("add");
    }
    let got = packer.decrypt(sk, &acc, v.len(), 4).expect("dec");
    for g in got {
        assert!((g - 4.0 * v[0]).abs() < 1e-9);
    }
    // One more addition than the headroom allows is refused.
    assert!(matches!(
        packer.decrypt(sk, &acc, v.len(), 5),
        Err(CryptoError::Packing(_))
    ));
    // Values outside the layout are refused.
    // Layout holds v + 1 in [0, 4): v in [-1, 3).
    assert!(packer.pack(&[2.9]).is_ok());
    assert!(packer.pack(&[3.5]).is_err());
    assert!(packer.pack(&[-1.5]).is_err());
    assert!(Packer::new(pk.bits(), 600, 52, 1.0, 3).is_err());
}

#[test]
fn serde_is_compact_and_roundtrips() {
    let (pk, sk) = keys();
    let c = pk.encrypt(-3.25).expect("enc");
    let bytes = bincode::serialize(&c).expect("ser");
    // 2·512-bit ciphertext = 128 bytes + length prefix + exponent.
    assert!(bytes.len() <= 128 + 8 + 4, "{} bytes", bytes.len());
    let back: Ciphertext = bincode::deserialize(&bytes).expect("de");
    assert_eq!(back, c);
    assert_eq!(sk.decrypt(&back).expect("dec"), -3.25);

    let pkb = bincode::serialize(pk).expect("ser pk");
    assert!(pkb.len() <= 64 + 8);
    let pk2: PublicKey = bincode::deserialize(&pkb).expect("de pk");
    assert_eq!(&pk2, pk);
    let c2 = pk2.encrypt(7.5).expect("enc with deserialised key");
    assert_eq!(sk.decrypt(&c2).expect("dec"), 7.5);

    let json = serde_json::to_string(&c).expect("json");
    let back: Ciphertext = serde_json::from_str(&json).expect("json de");
    assert_eq!(back, c);

    let skb = bincode::serialize(sk).expect("ser sk");
    let sk2: PrivateKey = bincode::deserialize(&skb).expect("de sk");
    assert_eq!(sk2.decrypt(&c).expect("dec"), -3.25);
}

#[test]
fn obfuscator_pool_feeds_encryption() {
    let (pk, sk) = keys();
    let pool = ObfuscatorPool::for_owner(sk, 8);
    let public_pool = ObfuscatorPool::new(pk, 4);
    for i in 0..20 {
        let x = i as f64 * 0.5 - 3.0;
        let c = pk
            .encrypt_with(x, None, Obfuscation::Pool(&pool))
            .expect("enc");
        assert!(rel_close(sk.decrypt(&c).expect("dec"), x));
        let c = pk
            .encrypt_with(x, None, Obfuscation::Pool(&public_pool))
            .expect("enc");
        assert!(rel_close(sk.decrypt(&c).expect("dec"), x));
    }
    // Two encryptions of the same value differ (obfuscated).
    let a = pk.encrypt(1.0).expect("enc");
    let b = pk.encrypt(1.0).expect("enc");
    assert_ne!(a.raw(), b.raw());
}

#[test]
fn key_sizes() {
    assert!(PaillierKeypair::generate(100).is_err());
    let (pk, sk) = PaillierKeypair::generate(1024).expect("1024");
    assert_eq!(pk.bits(), 1024);
    let c = pk.encrypt(0.1).expect("enc");
    assert!(rel_close(sk.decrypt(&c).expect("dec"), 0.1));
}

#[test]
fn djn_custom_parameters() {
    let (pk, sk) = PaillierKeypair::generate_with_rng(512, &mut ChaCha20Rng::seed_from_u64(3))
        .expect("keygen");
    assert!(pk.precompute_djn_with(0, 256).is_err());
    assert!(pk.precompute_djn_with(6, 256).expect("build"));
    assert!(!pk.precompute_djn_with(8, 256).expect("already built"));
    for x in [0.0, -1.5, 2.25e10] {
        let c = pk.encrypt(x).expect("enc");
        assert!(rel_close(sk.decrypt(&c).expect("dec"), x));
    }
}

#[test]
fn obfuscator_pool_refills_in_background() {
    let (_, sk) = keys();
    let pool = ObfuscatorPool::for_owner(sk, 4);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    // Drain it twice: the background thread must have refilled it in between.
    for _ in 0..2 {
        let mut got = 0;
        while got < 4 && std::time::Instant::now() < deadline {
            match pool.take() {
                Some(_) => got += 1,
                None => std::thread::sleep(std::time::Duration::from_millis(1)),
            }
        }
        assert_eq!(got, 4, "pool did not refill");
    }
}

#[test]
fn hostile_exponents_error_instead_of_panicking() {
    let (pk, sk) = keys();
    let c = pk.encrypt(1.0).expect("enc");
    for e in [i32::MAX, i32::MIN, 1 << 30, -(1 << 30)] {
        let odd = Ciphertext::from_parts(c.raw().clone(), e);
        // Alignment, plaintext encoding at a huge exponent, decoding: all errors or values, never panics.
        let _ = pk.add(&odd, &c);
        let _ = pk.add_plain(&odd, 3.0);
        let _ = pk.add_plain_i64(&odd, 3);
        let _ = pk.mul_f64(&odd, 2.0);
        let _ = sk.decrypt(&odd);
    }
    assert!(matches!(
        pk.add_plain(&Ciphertext::from_parts(c.raw().clone(), 1 << 30), 3.0),
        Err(CryptoError::Overflow(_))
    ));
    // A ciphertext >= n^2 from the wire is rejected by decrypt.
    let big = Ciphertext::from_parts(pk.n_squared().add(&BigUint::one()), 0);
    assert!(sk.decrypt(&big).is_err());
}
