#!/usr/bin/env bash
# Browser tests of the messaging page (web/): headless Debian chromium driven by playwright-core
# against a real `cruddur serve --demo --in-memory` per test.
#
#   bash tests/web/run.sh                 run the tests
#   bash tests/web/run.sh --screenshots   also write docs/screenshots/*.png
#
# CRUDDUR_BIN picks the binary (default: build/src/cli/cruddur); CHROMIUM_BIN the browser
# (default: /usr/bin/chromium, installed with apt-get when missing and running as root).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

if [[ "${1:-}" == "--screenshots" ]]; then
  export CRUDDUR_SCREENSHOTS=1
  shift
fi

export CRUDDUR_BIN="${CRUDDUR_BIN:-$repo/build/src/cli/cruddur}"
if [[ ! -x "$CRUDDUR_BIN" ]]; then
  echo "tests/web: no cruddur binary at $CRUDDUR_BIN (build it, or set CRUDDUR_BIN)" >&2
  exit 1
fi

export CHROMIUM_BIN="${CHROMIUM_BIN:-/usr/bin/chromium}"
if [[ ! -x "$CHROMIUM_BIN" ]]; then
  if [[ "$(id -u)" != 0 ]]; then
    echo "tests/web: $CHROMIUM_BIN is missing; install it: sudo apt-get install -y chromium" >&2
    exit 1
  fi
  echo "tests/web: installing chromium"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

cd "$here"
npm ci --no-audit --no-fund --loglevel=error
node --test --test-concurrency=1 "$@" ./*.test.mjs
