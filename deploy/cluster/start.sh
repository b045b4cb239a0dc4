#!/usr/bin/env bash
# Starts the three-party sample cluster on 127.0.0.1: guest 9999, host 10000,
# arbiter 10001, each its own `fedflow server` with its own ports and data dir
# (deploy/cluster/run/<party>), the guest's meta store in MariaDB/MySQL
# (database fedflow_9999, created if missing), certificates from `fedflow cert`
# (one CA for the control plane's HTTPS and the gRPC federation's mTLS).
#
#   deploy/cluster/start.sh          # start (idempotent: running servers are kept)
#   deploy/cluster/stop.sh           # stop them
#
# FEDFLOW=path/to/fedflow overrides the binary (default: target/release/fedflow, built if missing).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
F="${FEDFLOW:-$ROOT/target/release/fedflow}"
if [ ! -x "$F" ]; then
  (cd "$ROOT" && cargo build --release -p fedflow)
fi
cd "$HERE"
mkdir -p run/certs

# MariaDB for the guest's meta store (RabbitMQ only matters for RABBITMQ jobs).
up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
if ! up 3306; then
  echo "MariaDB is not running on 127.0.0.1:3306: starting it"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
  for _ in $(seq 1 60); do up 3306 && break; sleep 0.5; done
  up 3306 || { echo "error: MariaDB did not come up on 127.0.0.1:3306 (the guest's meta store)" >&2; exit 1; }
fi
if ! up 5672; then
  echo "warning: RabbitMQ is not listening on 127.0.0.1:5672: jobs with federation_engine RABBITMQ will fail" \
       "(start it with: rabbitmq-server -detached)" >&2
fi

if [ ! -f run/certs/ca.crt ]; then
  "$F" cert ca --out run/ca >/dev/null
  for p in 9999 10000 10001; do "$F" cert party --ca run/ca --party-id "$p" --out run/certs >/dev/null; done
  echo "certificates in $HERE/run/certs"
fi

for cfg in guest-9999 host-10000 arbiter-10001; do
  pid_file="run/$cfg.pid"
  if [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
    echo "$cfg: already running (pid $(cat "$pid_file"))"
    continue
  fi
  nohup "$F" --log info server -c "$cfg.toml" >"run/$cfg.log" 2>&1 &
  echo $! >"$pid_file"
done

for cfg in guest-9999 host-10000 arbiter-10001; do
  port=$(sed -n 's/^listen = "127.0.0.1:\([0-9]*\)".*/\1/p' "$cfg.toml" | head -1)
  ok=
  for _ in $(seq 1 120); do
    if curl -fsS -X POST "http://127.0.0.1:$port/v1/version/get" -d '{}' >/dev/null 2>&1; then ok=1; break; fi
    kill -0 "$(cat "run/$cfg.pid")" 2>/dev/null || break
    sleep 0.25
  done
  if [ -z "$ok" ]; then
    echo "error: $cfg did not start; its log (deploy/cluster/run/$cfg.log):" >&2
    tail -20 "run/$cfg.log" >&2
    exit 1
  fi
  echo "$cfg: http://127.0.0.1:$port (pid $(cat "run/$cfg.pid"), log deploy/cluster/run/$cfg.log)"
done
