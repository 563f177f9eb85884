#!/usr/bin/env bash
# Every test: install, build with warnings as errors, start a throwaway PostgreSQL server, run
# the unit tests (ctest) and the black-box boto3 / AWS CLI suite against a freshly started
# `cruddur dynamodb`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --tests --build-dir build

# A real PostgreSQL server for the PostgreSQL users-directory tests, in a folder the
# `postgres` OS user can reach, stopped and removed whatever happens.
PG_DIR=$(mktemp -d /tmp/cruddur-pgtest.XXXXXX)
trap 'bash scripts/postgres_test_server.sh stop "$PG_DIR" || true; rm -rf "$PG_DIR"' EXIT
CRUDDUR_TEST_POSTGRES_URL=$(bash scripts/postgres_test_server.sh start "$PG_DIR")
export CRUDDUR_TEST_POSTGRES_URL

echo "== unit tests"
ctest --test-dir build --output-on-failure -j2 --timeout 300

echo "== black-box suite (boto3 + AWS CLI)"
CRUDDUR_BIN="$PWD/build/src/cli/cruddur" /usr/bin/python3 -m pytest tests/compat -q -p no:cacheprovider

echo "== end-to-end suite (cruddur serve over HTTP)"
CRUDDUR_BIN="$PWD/build/src/cli/cruddur" /usr/bin/python3 -m pytest tests/e2e -q -p no:cacheprovider

echo "== browser tests (Playwright + Debian's chromium against cruddur serve)"
CRUDDUR_BIN="$PWD/build/src/cli/cruddur" bash tests/web/run.sh
