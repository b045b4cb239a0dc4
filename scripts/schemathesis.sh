#!/usr/bin/env bash
# Property-based tests of the REST API: schemathesis (pinned in
# scripts/schemathesis-requirements.txt, installed idempotently into the
# project-local .venv-schemathesis) generates requests from the spec a real
# server serves at GET /openapi.json and sends them to a standalone
# `fedflow server` (release build, no app_key, fresh data dir in a temp dir, a
# free loopback port). Fails on any 5xx, a response that does not conform to
# openapi.json (status code, content type, headers, body schema), one slower
# than 5 s, a run over the time limit, a server that died, or a file the run
# wrote outside its temp dir. About 3 minutes once the venv and the binary exist.
#
# SCHEMATHESIS_SEED and SCHEMATHESIS_MAX_EXAMPLES (per operation) override the
# fixed defaults, e.g. to explore further by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VENV=$ROOT/.venv-schemathesis
REQ=scripts/schemathesis-requirements.txt
SPEC=crates/fedflow-server/src/api/openapi.json
SEED=${SCHEMATHESIS_SEED:-20240611}
MAX_EXAMPLES=${SCHEMATHESIS_MAX_EXAMPLES:-200}
TIME_LIMIT=420 # s for the whole schemathesis run
export PYTHONDONTWRITEBYTECODE=1
t0=$SECONDS

# The venv, (re)made when the pinned requirements change.
if [ ! -x "$VENV/bin/schemathesis" ] || ! cmp -s "$REQ" "$VENV/.requirements"; then
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$REQ"
  cp "$REQ" "$VENV/.requirements"
fi
ST_VERSION=$("$VENV/bin/schemathesis" --version | awk '{print $NF}')
PY=$VENV/bin/python

cargo build --release -p fedflow
F=$ROOT/target/release/fedflow

# Everything the run may write goes under $T: the server's data dir, its cwd
# and HOME (both must stay empty), schemathesis's cwd, HOME and TMPDIR.
T=$(mktemp -d /tmp/fedflow-schemathesis.XXXXXX)
mkdir -p "$T/data" "$T/cwd" "$T/home" "$T/st" "$T/st-home" "$T/st-tmp"

# /tmp's top level but $T: names, and the size and mtime of every entry that
# is not a directory. (Inside pre-existing directories other processes of the
# machine may write at any time, so only new entries there are not seen; the
# server's TMPDIR is left at /tmp so that anything it leaves there shows.)
tmp_listing() {
  find /tmp -mindepth 1 -maxdepth 1 ! -path "$T" \
    \( -type d -printf '%f/\n' -o -printf '%f %y %s %T@\n' \) | LC_ALL=C sort
}
tmp_listing >"$T/tmp-before"
touch "$T/marker"

ok=0
PID=
PGID=
cleanup() {
  if [ -n "$PID" ]; then
    # The server and the task executors it started (its process group).
    if [ -n "$PGID" ]; then kill -TERM -- "-$PGID" 2>/dev/null || true; fi
    kill -TERM "$PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    if [ -n "$PGID" ]; then kill -KILL -- "-$PGID" 2>/dev/null || true; fi
    kill -KILL "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
  fi
  if [ "$ok" = 1 ]; then rm -rf "$T"; else echo "schemathesis.sh: kept $T (server.log, schemathesis.log, cassette.yaml)" >&2; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
# The README's standalone start: no config, no app_key, nothing from this
# environment (env -i), cwd and HOME in $T. setsid: its own process group.
(cd "$T/cwd" && exec env -i PATH="$PATH" HOME="$T/home" LANG=C.UTF-8 RUST_BACKTRACE=1 \
  setsid "$F" --data-dir "$T/data" --log info server --listen "127.0.0.1:$PORT") \
  >"$T/server.log" 2>&1 &
PID=$!
[ "$(ps -o pgid= -p "$PID" | tr -d ' ')" = "$PID" ] && PGID=$PID

version_ok() {
  "$PY" - "$URL" 2>/dev/null <<'PY'
import json, sys, urllib.request
req = urllib.request.Request(sys.argv[1] + "/v1/version/get", data=b"{}",
                             headers={"Content-Type": "application/json"})
with urllib.request.urlopen(req, timeout=5) as r:
    sys.exit(0 if json.load(r).get("retcode") == 0 else 1)
PY
}
for i in $(seq 300); do
  version_ok && break
  if ! kill -0 "$PID" 2>/dev/null || [ "$i" = 300 ]; then
    echo "schemathesis.sh: fedflow server did not start on $URL:" >&2
    cat "$T/server.log" >&2
    exit 1
  fi
  sleep 0.1
done
# The spec tested is the one the server serves; it must be the repo's (a
# stale binary would test an old spec).
"$PY" - "$URL/openapi.json" "$SPEC" <<'PY'
import json, sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=5) as r:
    served = json.load(r)
if served != json.load(open(sys.argv[2])):
    sys.exit(f"schemathesis.sh: {sys.argv[1]} differs from {sys.argv[2]}")
PY

# Checks: all but negative_data_rejection. FATE Flow's API answers bad
# arguments with HTTP 200 and retcode 101/102 in its envelope (fate-client
# reads the retcode, not the status), so negative data is "accepted" at the
# HTTP level by design; the negative cases still go through every other check
# (no 5xx, documented status codes, content types and schemas).
# One worker: schemathesis's workers are threads sharing the GIL with data
# generation, so with two the measured response times grow by seconds (the
# 5 s limit would flake) and the run is no faster.
echo "schemathesis $ST_VERSION against $URL/openapi.json (seed $SEED, $MAX_EXAMPLES examples per operation)"
st0=$SECONDS
set +e
(cd "$T/st" && env -i PATH="$PATH" HOME="$T/st-home" TMPDIR="$T/st-tmp" LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1 \
  timeout --kill-after=10 "$TIME_LIMIT" "$VENV/bin/schemathesis" run "$URL/openapi.json" \
  --checks all --exclude-checks negative_data_rejection \
  --data-generation-method all \
  --hypothesis-max-examples "$MAX_EXAMPLES" --hypothesis-seed "$SEED" --hypothesis-database none \
  --workers 1 --max-response-time 5000 --request-timeout 15000 \
  --cassette-path "$T/cassette.yaml" --junit-xml "$T/junit.xml" --no-color) 2>&1 | tee "$T/schemathesis.log"
rc=${PIPESTATUS[0]}
set -e
st_secs=$((SECONDS - st0))

problems=()
[ "$rc" = 0 ] || problems+=("schemathesis exited $rc$([ "$rc" = 124 ] && echo " (over the ${TIME_LIMIT} s limit)")")

# Figures from the cassette (every request and its checks) and the JUnit file.
# "requests" counts what schemathesis recorded; the 5xx are counted from the
# statuses themselves, independently of its checks.
if stats=$("$PY" - "$T/cassette.yaml" "$T/junit.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
import yaml
d = yaml.load(open(sys.argv[1]), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
ints = d.get("http_interactions") or []
n5xx = noresp = failed = 0
slowest = 0.0
for i in ints:
    r = i.get("response")
    if not r:
        noresp += 1
    elif int(r["status"]["code"]) >= 500:
        n5xx += 1
    failed += sum(1 for c in i.get("checks") or [] if c.get("status") != "SUCCESS")
    slowest = max(slowest, float(i.get("elapsed") or 0))
try:
    s = ET.parse(sys.argv[2]).getroot()
    s = s if s.tag == "testsuite" else s.find("testsuite")
    ops, fails, errs = (int(s.get(k, 0)) for k in ("tests", "failures", "errors"))
except (ET.ParseError, OSError):  # killed before it wrote the report
    ops = fails = errs = 0
print(len(ints), n5xx, noresp, failed, ops, fails, errs, f"{slowest:.2f}")
PY
); then
  read -r requests n5xx noresp failed_checks ops op_fail op_err slowest <<<"$stats"
else
  problems+=("no cassette / JUnit report to count from")
  requests=0 n5xx=0 noresp=0 failed_checks=0 ops=0 op_fail=0 op_err=0 slowest=0
fi
[ "$requests" -gt 0 ] || problems+=("schemathesis sent no request")
[ "$n5xx" = 0 ] || problems+=("$n5xx responses with a 5xx status")
[ "$noresp" = 0 ] || problems+=("$noresp requests got no response")
[ "$failed_checks" = 0 ] || problems+=("$failed_checks failed checks")
[ "$op_fail" = 0 ] && [ "$op_err" = 0 ] || problems+=("$op_fail operations failed, $op_err errored")

# The server is still up and answers.
if ! kill -0 "$PID" 2>/dev/null || ! version_ok; then
  problems+=("the server is no longer answering /v1/version/get")
  tail -50 "$T/server.log" >&2
fi

# Nothing written outside $T: the server's cwd and HOME are still empty, the
# repo (but .git, target/ and the venv) has nothing newer than the marker,
# and /tmp's top level is as it was.
for d in cwd home; do
  left=$(find "$T/$d" -mindepth 1 | head -20)
  [ -z "$left" ] || problems+=("the server wrote into its $d: $(echo "$left" | tr '\n' ' ')")
done
changed=$(find "$ROOT" \( -path "$ROOT/.git" -o -path "$ROOT/target" -o -path "$VENV" \) -prune \
  -o -newer "$T/marker" -print | head -20)
[ -z "$changed" ] || problems+=("written in the repository during the run: $(echo "$changed" | tr '\n' ' ')")
tmp_listing >"$T/tmp-after"
if ! diff "$T/tmp-before" "$T/tmp-after" >"$T/tmp-diff"; then
  problems+=("/tmp's top level changed (< before, > after): $(grep '^[<>]' "$T/tmp-diff" | head -20 | tr '\n' ' ')")
fi

echo
echo "schemathesis $ST_VERSION: $ops operations, $requests requests (test cases), $((op_fail + op_err)) failures" \
  "($op_fail failed, $op_err errored operations; $failed_checks failed checks), $n5xx 5xx," \
  "slowest response ${slowest} s, ${st_secs} s (script $((SECONDS - t0)) s)"
if [ ${#problems[@]} -gt 0 ]; then
  for p in "${problems[@]}"; do echo "schemathesis.sh: FAILED: $p" >&2; done
  echo "schemathesis: $((ops - op_fail - op_err)) passed, $((op_fail + op_err)) failed"
  exit 1
fi
ok=1
echo "schemathesis: $ops passed, 0 failed"
