#!/usr/bin/env bash
# The whole test suite: formatting, lints, unit tests next to the code and the
# end-to-end tests under crates/*/tests, in release mode (the crypto tests are
# too slow unoptimised). Installs what it needs first.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/prereqs.sh
# Chromium (apt) and playwright-core (npm, tests/board/node_modules) for the
# board's browser tests (crates/fedflow/tests/board.rs); fails loudly if it cannot.
tests/board/setup.sh
# FATE's Python client for the acceptance test (crates/fedflow/tests/fate_client.rs).
[ -x .venv/bin/flow ] || { python3 -m venv .venv && .venv/bin/pip install -q fate-client==1.11.3 "urllib3<2"; }
# Apache Spark (pyspark==4.3.0 in .venv-spark, Java 17) for the Spark engine's tests.
scripts/spark.sh
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --release -- -D warnings
cargo test --workspace --release
# Property-based tests of the REST API against a real server (schemathesis,
# pinned, in .venv-schemathesis): no 5xx, responses as openapi.json says,
# nothing written outside a temp dir. About 3 minutes.
scripts/schemathesis.sh
