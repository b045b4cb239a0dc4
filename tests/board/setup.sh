#!/usr/bin/env bash
# Installs what the board's browser tests need, idempotently: Debian's
# chromium (/usr/bin/chromium) and playwright-core into tests/board/node_modules.
# Exits non-zero (loudly) when either cannot be installed.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "board tests: installing chromium (apt)" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "board tests: please install chromium (sudo apt-get install chromium)" >&2
    exit 1
  fi
fi
[ -x /usr/bin/chromium ] || { echo "board tests: /usr/bin/chromium is still missing" >&2; exit 1; }
command -v node >/dev/null 2>&1 || { echo "board tests: node (and npm) are needed: apt-get install nodejs npm" >&2; exit 1; }
if [ ! -f node_modules/playwright-core/package.json ]; then
  echo "board tests: npm install (playwright-core)" >&2
  npm install --no-audit --no-fund --silent >/dev/null
fi
[ -f node_modules/playwright-core/package.json ] || { echo "board tests: playwright-core is missing after npm install" >&2; exit 1; }
