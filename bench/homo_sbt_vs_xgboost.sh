#!/usr/bin/env bash
# HomoSecureBoost (guest + 2 hosts + arbiter, FATE's multi-host job on
# default_credit_homo with TREES trees) against xgboost hist on the pooled
# rows with the same eta, depth, bins and lambda; both scored on the shipped
# test rows.
#
#   bash bench/homo_sbt_vs_xgboost.sh [TREES]   # default 10
#
# Creates .venv-bench/ at the repository root (idempotent) with xgboost,
# numpy and scikit-learn; builds fedflow in release mode.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
TREES=${1:-10}
VENV="$ROOT/.venv-bench"
PY=${PYTHON:-python3}
DATA="$ROOT/../shared/data"
EX="$ROOT/../shared/examples/fate/homo_secureboost"
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
[ -f "$VENV/.gitignore" ] || echo '*' > "$VENV/.gitignore"
"$VENV/bin/python" -c 'import xgboost, sklearn, numpy' 2>/dev/null ||
  "$VENV/bin/pip" install -q --disable-pip-version-check xgboost scikit-learn numpy
cargo build --release -q -p fedflow
F="$ROOT/target/release/fedflow"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
for t in default_credit_homo_guest:default_credit_guest default_credit_homo_host_1:default_credit_host_1 \
         default_credit_homo_host_2:default_credit_host_2 default_credit_homo_test:default_credit_test; do
  file=${t%%:*}; name=${t##*:}
  echo "{\"file\": \"$DATA/$file.csv\", \"head\": 1, \"partition\": 4, \"table_name\": \"$name\", \"namespace\": \"experiment\"}" > "$WORK/up.json"
  "$F" --data-dir "$WORK" --log warn data upload -c "$WORK/up.json" > /dev/null
done
"$VENV/bin/python" - "$EX/test_secureboost_train_binary_multi_host_conf.json" "$TREES" > "$WORK/conf.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
p = c["component_parameters"]["common"]["homo_secureboost_0"]
p["num_trees"] = int(sys.argv[2])
p.pop("validation_freqs", None)
print(json.dumps(c))
PY
"$F" --data-dir "$WORK" --log warn job run --json -c "$WORK/conf.json" -d "$EX/test_secureboost_train_dsl.json" |
  "$VENV/bin/python" -c '
import json, sys
r = json.load(sys.stdin)
for t in r["tasks"]:
    if t["module"] == "Evaluation" and t["party"]["role"] == "guest":
        s = t["summary"]["homo_secureboost_0_validate"]
        print("fedflow HomoSecureBoost: status %s, test auc %.4f" % (r["status"], s["auc"]))'
"$VENV/bin/python" bench/py/xgboost_homo_credit.py "$DATA" "$TREES"
