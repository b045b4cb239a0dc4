#!/usr/bin/env bash
# ECDH intersection of ROWS x ROWS ids on a local Spark cluster (fedflow spark up), with the
# peak RSS of every process sampled every 2 s. Usage: bench/spark_intersect.sh [ROWS] [PARTITIONS]
# With JOB=lr: Reader, DataTransform, ECDH intersection and one full-batch HeteroLR epoch
# (FATE's hetero_lr_normal job, batch_size -1, max_iter 1, no Evaluation).
# Needs scripts/spark.sh (pyspark in .venv-spark) and ../shared beside the repo.
# Env: EXECUTOR_MEMORY (6g), SPARK_CONF (extra "k=v;k=v" spark confs), KEEP=1 keeps the work dir,
# STORAGE (LOCALFS: uploads as path tables; LOCAL: fedflow's own table store).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
rows=${1:-10000000}
parts=${2:-64}
F=$here/target/release/fedflow
[ -x "$F" ] || cargo build --release --bin fedflow --manifest-path "$here/Cargo.toml"
work=$(mktemp -d)
export FEDFLOW_HOME=$work/home FEDFLOW_SPARK_START_TIMEOUT=300
cleanup() {
  kill "${sampler:-}" 2>/dev/null || true
  $F spark down >/dev/null 2>&1 || true
  if [ "${KEEP:-0}" = 1 ]; then echo "work dir kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
cd "$work"
master=$($F spark up --memory 14g --cores 4 | awk '/^master/ {print $2}')
$F data gen --rows "$rows" --guest-features 1 --host-features 1 --seed 7 --out gen
for r in guest host; do
  # LOCALFS (FATE's path engine; HDFS in production): Spark's executors read the files, the
  # table does not pass through the fedflow process. STORAGE=LOCAL keeps fedflow's own store.
  echo "{\"file\": \"gen/$r.csv\", \"head\": 1, \"partition\": $parts, \"table_name\": \"gen_$r\", \"namespace\": \"bench\", \"storage_engine\": \"${STORAGE:-LOCALFS}\"}" > up_$r.json
  $F --log warn data upload -c up_$r.json --drop
done
ex=$here/../shared/examples/fate
if [ "${JOB:-intersect}" = lr ]; then
  conf=$ex/hetero_logistic_regression/hetero_lr_normal_conf.json
  dsl=$ex/hetero_logistic_regression/hetero_lr_normal_dsl.json
else
  conf=$ex/intersect/test_intersect_job_ecdh_conf.json
  dsl=$ex/intersect/test_intersect_job_dsl.json
fi
python3 - "$conf" "$master" "${EXECUTOR_MEMORY:-6g}" "${SPARK_CONF:-}" "$dsl" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
common = c["component_parameters"].get("common", {})
if "hetero_lr_0" in common:
    common["hetero_lr_0"].update({"batch_size": -1, "max_iter": 1})
    common["intersection_0"] = {"intersect_method": "ecdh"}
    common.pop("evaluation_0", None)
    d = json.load(open(sys.argv[5]))
    d["components"].pop("evaluation_0", None)
    json.dump(d, open("dsl.json", "w"), indent=1)
else:
    json.dump(json.load(open(sys.argv[5])), open("dsl.json", "w"), indent=1)
r = c["component_parameters"]["role"]
r["guest"]["0"]["reader_0"]["table"] = {"name": "gen_guest", "namespace": "bench"}
r["host"]["0"]["reader_0"]["table"] = {"name": "gen_host", "namespace": "bench"}
c["job_parameters"] = {"common": {"computing_engine": "SPARK", "spark_run": {"master": sys.argv[2],
    "executor-memory": sys.argv[3], "driver-memory": "1g", "total-executor-cores": 2}}}
extra = dict(kv.split("=", 1) for kv in sys.argv[4].split(";") if kv)
if extra:
    c["job_parameters"]["common"]["spark_run"]["conf"] = extra
json.dump(c, open("job.json", "w"), indent=1)
PY
( while true; do ps -eo rss,args --no-headers | grep -E "java|fedflow|python" | grep -v grep \
    | sed "s/^/$(date +%s) /" >> rss.log
    echo "$(date +%s) $(df -k --output=used "$work" | tail -1)" >> disk.log; sleep 2; done ) &
sampler=$!
t0=$(date +%s)
/usr/bin/time -f "whole process: %e s wall" $F --log warn job run -c job.json -d dsl.json
echo "peak RSS (MiB) by process kind:"
python3 - rss.log "$t0" <<'PY'
import re, sys
peak, when = {}, {}
for line in open(sys.argv[1]):
    t, rss, args = line.split(None, 2)
    # Only this run's processes: other jobs on the machine would count otherwise.
    if "job run -c job.json" in args: k = "fedflow job run"
    elif "job run" in args: continue
    elif "fedflow worker" in args or "./fedflow worker" in args: k = "fedflow worker (each)"
    elif "deploy.master.Master" in args: k = "spark master"
    elif "deploy.worker.Worker" in args: k = "spark worker"
    elif "CoarseGrainedExecutorBackend" in args: k = "executor JVM (each)"
    elif "SparkSubmit" in args: k = "driver JVM (each)"
    elif args.split()[0].rsplit("/", 1)[-1].startswith("python"): k = "driver python (each)"
    else: continue
    if int(rss) // 1024 > peak.get(k, -1):
        peak[k], when[k] = int(rss) // 1024, int(t) - int(sys.argv[2])
for k, v in sorted(peak.items()): print(f"  {k}: {v}   (at {when[k]} s into the job)")
PY
awk 'NR == 1 {base = $2} $2 - base > peak {peak = $2 - base} END {printf "peak extra disk used: %.1f GiB\n", peak / 1048576}' disk.log
