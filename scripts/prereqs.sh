#!/usr/bin/env bash
# Installs what building and testing fedflow needs beyond the Rust toolchain,
# idempotently: it does nothing when everything is already there.
set -euo pipefail

need_apt=()
command -v cc >/dev/null 2>&1 || need_apt+=(gcc)
# GMP for fedflow-crypto's big-integer backend (rug with Debian's system GMP).
[ -e /usr/include/gmp.h ] || [ -e "/usr/include/$(uname -m)-linux-gnu/gmp.h" ] || need_apt+=(libgmp-dev)
# RabbitMQ for the rabbitmq federation engine's tests (they start it with
# `rabbitmq-server -detached` and enable the management plugin when needed).
command -v rabbitmq-server >/dev/null 2>&1 || [ -x /usr/sbin/rabbitmq-server ] || need_apt+=(rabbitmq-server)
# MariaDB for the meta store tests (server and cluster tests start /usr/sbin/mariadbd if it is down).
[ -x /usr/sbin/mariadbd ] || need_apt+=(mariadb-server)
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "prereqs: installing ${need_apt[*]}" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "prereqs: please install: ${need_apt[*]} (e.g. sudo apt-get install ${need_apt[*]})" >&2
    exit 1
  fi
fi
command -v cargo >/dev/null 2>&1 || { echo "prereqs: cargo not found; install Rust from https://rustup.rs" >&2; exit 1; }
