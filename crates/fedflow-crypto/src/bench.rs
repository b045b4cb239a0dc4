//! Single-core throughput benchmarks (`fedflow bench crypto`).
//!
//! Everything runs inside a one-thread rayon pool, so batched APIs are
//! measured per core. Each row reports operations (or elements, or packed
//! values) per second.

use std::fmt;
use std::time::{Duration, Instant};

use crate::bigint::BigUint;
use crate::error::{CryptoError, Result};
use crate::pack::Packer;
use crate::paillier::{Obfuscation, PaillierKeypair};
use crate::psi::{EcdhPsi, RsaPsiClient, RsaPsiServer};

/// What to measure.
#[derive(Clone, Debug)]
pub struct BenchOptions {
    /// Paillier key sizes.
    pub paillier_bits: Vec<u32>,
    /// RSA key sizes for RSA PSI (empty to skip).
    pub rsa_bits: Vec<u32>,
    /// Measure ECDH PSI.
    pub ecdh: bool,
    /// Minimum wall time per row, seconds.
    pub seconds_per_row: f64,
}

impl Default for BenchOptions {
    fn default() -> Self {
        BenchOptions {
            paillier_bits: vec![1024, 2048],
            rsa_bits: vec![1024, 2048],
            ecdh: true,
            seconds_per_row: 1.0,
        }
    }
}

impl BenchOptions {
    /// Only the 1024-bit Paillier operations (what `bench/crypto_compare.sh` compares).
    pub fn paillier_1024_only(seconds_per_row: f64) -> Self {
        BenchOptions {
            paillier_bits: vec![1024],
            rsa_bits: vec![],
            ecdh: false,
            seconds_per_row,
        }
    }
}

/// One measured row.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchRow {
    /// `paillier`, `paillier-packed`, `psi-ecdh`, `psi-rsa`.
    pub group: &'static str,
    /// Operation name, e.g. `encrypt (DJN fixed-base)`.
    pub op: String,
    /// Key size in bits (255 for ristretto255).
    pub bits: u32,
    /// Throughput per core.
    pub per_sec: f64,
    /// Unit of `per_sec` (`ops`, `values`, `elements`).
    pub unit: &'static str,
}

/// Run `f` repeatedly for at least `secs` (and at least 3 times); ops/s.
fn measure<F: FnMut()>(secs: f64, mut f: F) -> f64 {
    f();
    let budget = Duration::from_secs_f64(secs.max(0.01));
    let start = Instant::now();
    let mut n = 0u64;
    while n < 3 || start.elapsed() < budget {
        f();
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// Combined rate of doing both steps once per element.
fn combined(a: f64, b: f64) -> f64 {
    1.0 / (1.0 / a + 1.0 / b)
}

/// Run the benchmarks (single thread) and return the rows. Should an
/// operation fail (it does not with valid options), the rows measured so far
/// are returned.
pub fn run(opts: &BenchOptions) -> Vec<BenchRow> {
    let mut rows = Vec::new();
    let _ = match rayon::ThreadPoolBuilder::new().num_threads(1).build() {
        Ok(pool) => pool.install(|| run_inner(opts, &mut rows)),
        Err(_) => run_inner(opts, &mut rows),
    };
    rows
}

fn run_inner(opts: &BenchOptions, rows: &mut Vec<BenchRow>) -> Result<()> {
    let s = opts.seconds_per_row;
    let mut push = |group, op: &str, bits, per_sec, unit| {
        rows.push(BenchRow {
            group,
            op: op.to_string(),
            bits,
            per_sec,
            unit,
        })
    };
    for &bits in &opts.paillier_bits {
        let (pk, sk) = PaillierKeypair::generate(bits)?;
        let r = measure(s, || {
            if let Ok(fresh) = crate::PublicKey::from_n(pk.n().clone()) {
                fresh.precompute_djn();
            }
        });
        push(
            "paillier",
            "DJN table build (one-off per key)",
            bits,
            r,
            "tables",
        );
        pk.precompute_djn();
        let x = 0.123_456_789_f64;
        let mut err: Option<CryptoError> = None;
        let mut keep = |r: Result<crate::Ciphertext>| match r {
            Ok(c) => Some(c),
            Err(e) => {
                err = Some(e);
                None
            }
        };
        let r = measure(s, || {
            keep(pk.encrypt(x));
        });
        push(
            "paillier",
            "encrypt (public key, DJN fixed-base)",
            bits,
            r,
            "ops",
        );
        let r = measure(s, || {
            keep(pk.encrypt_with(x, None, Obfuscation::Full));
        });
        push(
            "paillier",
            "encrypt (public key, full r^n as FATE)",
            bits,
            r,
            "ops",
        );
        let r = measure(s, || {
            keep(sk.encrypt(x));
        });
        push("paillier", "encrypt (key owner, CRT r^n)", bits, r, "ops");
        let a = pk.encrypt(x)?;
        // Same exponent as `a` (what FATE/phe benchmarks add).
        let b = pk.encrypt(x * 0.75)?;
        let c = pk.encrypt(-2.5e-3)?;
        let mut sink = 0.0;
        let r = measure(s, || {
            sink += sk.decrypt(&a).unwrap_or(0.0);
        });
        push("paillier", "decrypt (CRT)", bits, r, "ops");
        let r = measure(s, || {
            keep(pk.add(&a, &b));
        });
        push("paillier", "add (ciphertext + ciphertext)", bits, r, "ops");
        let r = measure(s, || {
            keep(pk.add(&a, &c));
        });
        push("paillier", "add with exponent alignment", bits, r, "ops");
        let r = measure(s, || {
            keep(pk.add_plain(&a, 1.75));
        });
        push("paillier", "add plaintext f64", bits, r, "ops");
        let r = measure(s, || {
            keep(pk.mul_f64(&a, 0.987_654_321));
        });
        push(
            "paillier",
            "scalar-mul f64 (53-bit mantissa)",
            bits,
            r,
            "ops",
        );
        let r = measure(s, || {
            keep(pk.mul_i64(&a, -12_345));
        });
        push("paillier", "scalar-mul i64 (negative)", bits, r, "ops");
        if let Some(e) = err {
            return Err(e);
        }

        // Packed (SecureBoost g/h layout, headroom for 1M additions).
        let packer = Packer::for_gradients(bits, 1 << 20)?;
        let k = packer.slots();
        let vals: Vec<f64> = (0..k).map(|i| (i as f64 / k as f64) - 0.5).collect();
        let plains = packer.pack(&vals)?;
        let plain = plains.first().cloned().unwrap_or_else(BigUint::zero);
        let r = measure(s, || {
            let _ = pk.encrypt_raw(&plain, Obfuscation::Djn);
        });
        push(
            "paillier-packed",
            &format!("packed encrypt ({k} values/ct)"),
            bits,
            r * k as f64,
            "values",
        );
        let cts = packer.encrypt(&pk, &vals)?;
        let r = measure(s, || {
            let _ = packer.decrypt(&sk, &cts, k, 1);
        });
        push(
            "paillier-packed",
            &format!("packed decrypt+unpack ({k} values/ct)"),
            bits,
            r * k as f64,
            "values",
        );
        let c0 = cts
            .first()
            .cloned()
            .ok_or(CryptoError::Invalid("no ciphertext".into()))?;
        let r = measure(s, || {
            let _ = pk.add(&c0, &c0);
        });
        push(
            "paillier-packed",
            &format!("packed add ({k} values/ct)"),
            bits,
            r * k as f64,
            "values",
        );
        std::hint::black_box(sink);
    }

    if opts.ecdh {
        let a = EcdhPsi::random();
        let ids: Vec<Vec<u8>> = (0..256u32)
            .map(|i| format!("id-{i}").into_bytes())
            .collect();
        let blinded = a.blind(&ids);
        let n = ids.len() as f64;
        // Batched APIs (one field inversion per 256 compressions).
        let rb = n * measure(s, || {
            std::hint::black_box(a.blind(&ids));
        });
        push(
            "psi-ecdh",
            "blind own ids (hash-to-group + mult)",
            255,
            rb,
            "elements",
        );
        let rr = n * measure(s, || {
            let _ = std::hint::black_box(a.reblind(&blinded));
        });
        push("psi-ecdh", "reblind peer ids", 255, rr, "elements");
        push(
            "psi-ecdh",
            "per side (blind + reblind)",
            255,
            combined(rb, rr),
            "elements",
        );
    }

    for &bits in &opts.rsa_bits {
        let server = RsaPsiServer::new(bits)?;
        let client = RsaPsiClient::new(&server.public_key())?;
        let ids: Vec<Vec<u8>> = (0..64u32).map(|i| format!("id-{i}").into_bytes()).collect();
        let batch = 16usize;
        let per = |r: f64| r * batch as f64;
        let sub = &ids[..batch];
        let r_sign_own = per(measure(s, || {
            std::hint::black_box(server.sign_ids(sub));
        }));
        let (blinded, state) = client.blind(sub);
        let r_sign_bl = per(measure(s, || {
            let _ = std::hint::black_box(server.sign_blinded(&blinded));
        }));
        let r_blind = per(measure(s, || {
            std::hint::black_box(client.blind(sub));
        }));
        let signed = server.sign_blinded(&blinded)?;
        let r_unblind = per(measure(s, || {
            let _ = std::hint::black_box(client.unblind(&state, &signed));
        }));
        push(
            "psi-rsa",
            "server: sign own ids",
            bits,
            r_sign_own,
            "elements",
        );
        push(
            "psi-rsa",
            "server: sign blinded ids",
            bits,
            r_sign_bl,
            "elements",
        );
        push(
            "psi-rsa",
            "server per side",
            bits,
            combined(r_sign_own, r_sign_bl),
            "elements",
        );
        push("psi-rsa", "client: blind", bits, r_blind, "elements");
        push(
            "psi-rsa",
            "client: unblind + hash",
            bits,
            r_unblind,
            "elements",
        );
        push(
            "psi-rsa",
            "client per side",
            bits,
            combined(r_blind, r_unblind),
            "elements",
        );
    }
    // Feldman VSS (FeldmanVerifiableSum): one value shared among 3 parties
    // (3 shares + 3 commitments), and one share's verification.
    let g = crate::vss::Group::rfc5114_1024_160();
    let secret = g.encode(0.123_456, 6, 3)?;
    let mut rng = rand::rngs::OsRng;
    let r_share = measure(s, || {
        std::hint::black_box(g.share(&secret, 3, &mut rng));
    });
    let (shares, commitments) = g.share(&secret, 3, &mut rng);
    let r_verify = measure(s, || {
        std::hint::black_box(g.verify(2, &shares[1], &commitments));
    });
    push("vss", "share among 3 + commit", 1024, r_share, "values");
    push("vss", "verify one share", 1024, r_verify, "shares");
    Ok(())
}

/// Markdown table of rows.
pub struct BenchTable<'a>(pub &'a [BenchRow]);

impl fmt::Display for BenchTable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "| group | operation | bits | per second (1 core) | unit |"
        )?;
        writeln!(f, "|---|---|---:|---:|---|")?;
        for r in self.0 {
            writeln!(
                f,
                "| {} | {} | {} | {:.1} | {} |",
                r.group, r.op, r.bits, r.per_sec, r.unit
            )?;
        }
        Ok(())
    }
}

/// Print rows as a markdown table to stdout.
pub fn print(rows: &[BenchRow]) {
    print!("{}", BenchTable(rows));
}
