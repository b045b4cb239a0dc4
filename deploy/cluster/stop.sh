#!/usr/bin/env bash
# Stops the sample cluster started by deploy/cluster/start.sh (by the pids it recorded).
set -uo pipefail
cd "$(dirname "$0")"
for cfg in guest-9999 host-10000 arbiter-10001; do
  f="run/$cfg.pid"
  [ -f "$f" ] || continue
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" && echo "$cfg: stopped (pid $pid)"
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  fi
  rm -f "$f"
done
