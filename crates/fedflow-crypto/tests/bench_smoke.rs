//! The benchmark entry point produces every row (tiny keys, tiny budgets).

use fedflow_crypto::bench::{self, BenchOptions, BenchTable};

#[test]
fn bench_run_produces_all_rows() {
    let rows = bench::run(&BenchOptions {
        paillier_bits: vec![512],
        rsa_bits: vec![512],
        // Curve arithmetic is ~30x slower unoptimised; skip it in debug runs.
        ecdh: !cfg!(debug_assertions),
        seconds_per_row: 0.001,
    });
    // 10 Paillier + 3 packed + 3 ECDH + 6 RSA + 2 VSS rows.
    let ecdh_rows = if cfg!(debug_assertions) { 0 } else { 3 };
    assert_eq!(rows.len(), 21 + ecdh_rows, "{rows:?}");
    assert!(rows
        .iter()
        .all(|r| r.per_sec.is_finite() && r.per_sec > 0.0));
    let table = BenchTable(&rows).to_string();
    assert!(table.contains("psi-rsa") && table.contains("decrypt (CRT)") && table.contains("vss"));
}
