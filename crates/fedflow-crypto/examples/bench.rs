//! Prints the crypto benchmark table (the same as `fedflow bench crypto`).
//!
//! `cargo run --release -p fedflow-crypto --example bench [-- --quick|--paillier-1024 SECS]`
use fedflow_crypto::bench::{self, BenchOptions};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let secs = |i: usize| args.get(i).and_then(|s| s.parse().ok());
    let opts = match args.first().map(String::as_str) {
        Some("--quick") => BenchOptions {
            seconds_per_row: secs(1).unwrap_or(0.3),
            ..BenchOptions::default()
        },
        Some("--paillier-1024") => BenchOptions::paillier_1024_only(secs(1).unwrap_or(1.0)),
        _ => BenchOptions::default(),
    };
    let rows = bench::run(&opts);
    bench::print(&rows);
}
