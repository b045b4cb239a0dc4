#!/usr/bin/env bash
# The whole test suite: formatting, lints, unit tests next to the code and the
# end-to-end tests under crates/*/tests, in release mode (the crypto tests are
# too slow unoptimised). Installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/prereqs.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --release -- -D warnings
cargo test --workspace --release
