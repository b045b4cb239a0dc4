#!/usr/bin/env bash
# Bounded fuzzing of the parsers that read hostile input (issue 22): every
# target of fuzz/ (lines, upload_csv, upload_conf, job_conf, wire) for
# SECONDS each (default 60), seeded from ../shared (FATE's example confs and
# data). Prints per target: executions, execs/s, crashes (and where their
# inputs are).
#
#   bench/fuzz.sh [seconds-per-target]        # FUZZ_TARGETS="wire lines" to pick
#
# With cargo-fuzz (installed from crates.io when missing) the targets run
# under libFuzzer with AddressSanitizer; a stable toolchain gets the nightly
# flags through RUSTC_BOOTSTRAP=1. Where that cannot build or run
# (FUZZ_MODE=drive forces it), the same targets run under fuzz/'s plain
# random/mutation driver instead. Exit code 1 when anything crashed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
SECS=${1:-60}
TARGETS=${FUZZ_TARGETS:-lines upload_csv upload_conf job_conf wire}
SHARED=${FEDFLOW_SHARED:-$ROOT/../shared}
MODE=${FUZZ_MODE:-libfuzzer}
[ -d "$SHARED/examples/fate" ] || { echo "fuzz.sh: no $SHARED/examples/fate (set FEDFLOW_SHARED)" >&2; exit 2; }

WORK=$(mktemp -d -t fedflow-fuzz-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
# Targets write their scratch files under TMPDIR: keep them in WORK.
export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"
python3 fuzz/make_seeds.py "$SHARED" "$WORK/seeds"

export RUSTC_BOOTSTRAP=1
FUZZ_BIN=fuzz/target/x86_64-unknown-linux-gnu/release
if [ "$MODE" = libfuzzer ]; then
    if ! cargo fuzz --version >/dev/null 2>&1; then
        cargo install cargo-fuzz --locked >&2 || MODE=drive
    fi
fi
if [ "$MODE" = libfuzzer ]; then
    (cd fuzz && cargo fuzz build -O >&2) || { echo "fuzz.sh: cargo fuzz build failed; using the plain driver" >&2; MODE=drive; }
fi
if [ "$MODE" = drive ]; then
    (cd fuzz && cargo build --release --bin drive >&2)
fi

total_crashes=0
results=()
for t in $TARGETS; do
    mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
    before=$(ls "fuzz/artifacts/$t" | wc -l)
    execs=0 crashes=0 runs=0
    start=$(date +%s.%N)
    if [ "$MODE" = libfuzzer ]; then
        # libFuzzer stops at a crash: restart (keeping the corpus) until the
        # time is used, at most 5 times.
        deadline=$(( $(date +%s) + SECS ))
        left=$SECS
        while [ "$left" -gt 0 ] && [ "$runs" -lt 6 ]; do
            runs=$((runs + 1))
            log=$WORK/$t.$runs.log
            set +e
            "$FUZZ_BIN/$t" "fuzz/corpus/$t" "$WORK/seeds/$t" -max_total_time="$left" \
                -print_final_stats=1 -max_len=65536 -timeout=30 -rss_limit_mb=2048 \
                -artifact_prefix="fuzz/artifacts/$t/" >"$log" 2>&1
            rc=$?
            set -e
            n=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || true)
            [ -z "$n" ] && n=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#' || true)
            execs=$((execs + ${n:-0}))
            if [ "$rc" -ne 0 ]; then
                crashes=$((crashes + 1))
                echo "--- $t: libFuzzer exited $rc; the report:" >&2
                grep -E 'ERROR|panicked|SUMMARY|Test unit written|^    #[0-9]+ ' "$log" | head -40 >&2 || true
            fi
            left=$((deadline - $(date +%s)))
            [ "$rc" -eq 0 ] && break
        done
    else
        log=$WORK/$t.drive.log
        set +e
        (cd fuzz && target/release/drive "$t" "$SECS" "$WORK/seeds/$t" "corpus/$t") >"$log" 2>&1
        rc=$?
        set -e
        execs=$(grep -o 'executions=[0-9]*' "$log" | grep -o '[0-9]*' || echo 0)
        crashes=$(grep -o ' crashes=[0-9]*' "$log" | grep -o '[0-9]*' || true)
        if [ "$rc" -ne 0 ]; then
            grep -E 'crash|panicked|fatal' "$log" | head -20 >&2 || true
            [ -z "$crashes" ] || [ "$crashes" = 0 ] && crashes=1
        fi
        crashes=${crashes:-0}
    fi
    rate=$(awk -v n="$execs" -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%d", n / (b - a) }')
    corpus=$(ls "fuzz/corpus/$t" | wc -l)
    new=$(( $(ls "fuzz/artifacts/$t" | wc -l) - before ))
    total_crashes=$((total_crashes + crashes))
    results+=("$(printf '%-12s %12s %10s %8s %8s  %s' "$t" "$execs" "$rate" "$crashes" "$corpus" \
        "$([ "$new" -gt 0 ] && echo "fuzz/artifacts/$t/ (+$new)")")")
done

echo "fuzz ($MODE, ${SECS}s per target):"
printf '%-12s %12s %10s %8s %8s\n' target executions execs/s crashes corpus
for r in "${results[@]}"; do echo "$r"; done
[ "$total_crashes" -eq 0 ]
