#!/usr/bin/env bash
# Builds fedflow (release) and runs FATE's toy job end to end on embedded
# defaults: guest 9999 and host 10000 on this machine, data in ./.fedflow.
# Extra arguments go to `fedflow toy` (e.g. --data-num 1000000, --processes).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/prereqs.sh
cargo build --release -p fedflow
export FEDFLOW_HOME="${FEDFLOW_HOME:-$PWD/.fedflow}"
exec target/release/fedflow toy --guest 9999 --host 10000 "$@"
