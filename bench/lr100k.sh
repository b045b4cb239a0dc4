#!/usr/bin/env bash
# 100k x (10 guest + 20 host features) hetero LR, 3 full-batch epochs, as a whole
# `fedflow job run` (reader, data transform, ECDH intersection, LR, evaluation),
# FATE's hetero_lr_normal files with the tables and max_iter/batch_size changed.
# Usage: bench/lr100k.sh [ROWS]   (needs ../shared beside the repo)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
rows=${1:-100000}
F=$here/target/release/fedflow
[ -x "$F" ] || cargo build --release --bin fedflow --manifest-path "$here/Cargo.toml"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export FEDFLOW_HOME=$work/home
cd "$work"
$F data gen --rows "$rows" --guest-features 10 --host-features 20 --seed 7 --out gen
for r in guest host; do
  echo "{\"file\": \"gen/$r.csv\", \"head\": 1, \"partition\": 8, \"table_name\": \"gen_$r\", \"namespace\": \"bench\"}" > up_$r.json
  $F data upload -c up_$r.json --drop
done
python3 - "$here/../shared/examples/fate/hetero_lr_normal_conf.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
r = c["component_parameters"]["role"]
r["guest"]["0"]["reader_0"]["table"] = {"name": "gen_guest", "namespace": "bench"}
r["host"]["0"]["reader_0"]["table"] = {"name": "gen_host", "namespace": "bench"}
common = c["component_parameters"]["common"]
common["hetero_lr_0"].update({"max_iter": 3, "batch_size": -1})
common["intersection_0"] = {"intersect_method": "ecdh"}
json.dump(c, open("job.json", "w"), indent=1)
PY
/usr/bin/time -f "whole process: %e s wall, %M KiB peak RSS" \
  $F --log warn job run -c job.json -d "$here/../shared/examples/fate/hetero_lr_normal_dsl.json"
