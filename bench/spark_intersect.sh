#!/usr/bin/env bash
# ECDH intersection of ROWS x ROWS ids on a local Spark cluster (fedflow spark up), with the
# peak RSS of every process sampled every 2 s. Usage: bench/spark_intersect.sh [ROWS] [PARTITIONS]
# Needs scripts/spark.sh (pyspark in .venv-spark) and ../shared beside the repo.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
rows=${1:-10000000}
parts=${2:-64}
F=$here/target/release/fedflow
[ -x "$F" ] || cargo build --release --bin fedflow --manifest-path "$here/Cargo.toml"
work=$(mktemp -d)
export FEDFLOW_HOME=$work/home FEDFLOW_SPARK_START_TIMEOUT=300
cleanup() { kill "${sampler:-}" 2>/dev/null || true; $F spark down >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
cd "$work"
master=$($F spark up --memory 14g --cores 4 | awk '/^master/ {print $2}')
$F data gen --rows "$rows" --guest-features 1 --host-features 1 --seed 7 --out gen
for r in guest host; do
  echo "{\"file\": \"gen/$r.csv\", \"head\": 1, \"partition\": $parts, \"table_name\": \"gen_$r\", \"namespace\": \"bench\"}" > up_$r.json
  $F --log warn data upload -c up_$r.json --drop
done
python3 - "$here/../shared/examples/fate/intersect/test_intersect_job_ecdh_conf.json" "$master" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
r = c["component_parameters"]["role"]
r["guest"]["0"]["reader_0"]["table"] = {"name": "gen_guest", "namespace": "bench"}
r["host"]["0"]["reader_0"]["table"] = {"name": "gen_host", "namespace": "bench"}
c["job_parameters"] = {"common": {"computing_engine": "SPARK", "spark_run": {"master": sys.argv[2],
    "executor-memory": "6g", "driver-memory": "1g", "total-executor-cores": 2}}}
json.dump(c, open("job.json", "w"), indent=1)
PY
( while true; do ps -eo rss,args --no-headers | grep -E "java|fedflow|python" | grep -v grep >> rss.log; sleep 2; done ) &
sampler=$!
/usr/bin/time -f "whole process: %e s wall" $F --log warn job run -c job.json \
  -d "$here/../shared/examples/fate/intersect/test_intersect_job_dsl.json"
echo "peak RSS (MiB) by process kind:"
python3 - rss.log <<'PY'
import re, sys
peak = {}
for line in open(sys.argv[1]):
    rss, args = line.split(None, 1)
    if "job run" in args: k = "fedflow job run"
    elif "fedflow worker" in args or "./fedflow worker" in args: k = "fedflow worker (each)"
    elif "deploy.master.Master" in args: k = "spark master"
    elif "deploy.worker.Worker" in args: k = "spark worker"
    elif "CoarseGrainedExecutorBackend" in args: k = "executor JVM (each)"
    elif "SparkSubmit" in args: k = "driver JVM (each)"
    elif args.split()[0].rsplit("/", 1)[-1].startswith("python"): k = "driver python (each)"
    else: continue
    peak[k] = max(peak.get(k, 0), int(rss) // 1024)
for k, v in sorted(peak.items()): print(f"  {k}: {v}")
PY
