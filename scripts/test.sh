#!/usr/bin/env bash
# Every test: install, build with warnings as errors and with AddressSanitizer +
# UndefinedBehaviorSanitizer, start a throwaway PostgreSQL server, run the unit tests (ctest),
# the black-box boto3 / AWS CLI suite, the end-to-end and browser suites against freshly started
# servers, the crash tests, the engine's concurrency tests under ThreadSanitizer and every fuzz
# target for a bounded time. Any sanitizer report anywhere fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --tests --sanitize --build-dir build

# Sanitizer reports go to files, so a report from a server process that a test started (and
# perhaps killed afterwards) is seen as well as one from a test binary.
SAN_DIR=$(mktemp -d /tmp/cruddur-sanitizers.XXXXXX)
export ASAN_OPTIONS="log_path=$SAN_DIR/asan:detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="log_path=$SAN_DIR/ubsan:print_stacktrace=1:halt_on_error=1"
export CRUDDUR_START_TIMEOUT=60  # instrumented binaries start more slowly
check_sanitizers() {
  if compgen -G "$SAN_DIR/*" >/dev/null; then
    echo "== sanitizer reports ($1):" >&2
    cat "$SAN_DIR"/* >&2
    exit 1
  fi
}

# A real PostgreSQL server for the PostgreSQL users-directory tests, in a folder the
# `postgres` OS user can reach, stopped and removed whatever happens.
PG_DIR=$(mktemp -d /tmp/cruddur-pgtest.XXXXXX)
trap 'bash scripts/postgres_test_server.sh stop "$PG_DIR" || true; rm -rf "$PG_DIR"' EXIT
CRUDDUR_TEST_POSTGRES_URL=$(bash scripts/postgres_test_server.sh start "$PG_DIR")
export CRUDDUR_TEST_POSTGRES_URL

CRUDDUR_BIN="$PWD/build/src/cli/cruddur"
export CRUDDUR_BIN

echo "== unit tests (ASan + UBSan)"
ctest --test-dir build --output-on-failure -j2 --timeout 600
check_sanitizers "unit tests"

echo "== black-box suite (boto3 + AWS CLI)"
/usr/bin/python3 -m pytest tests/compat -q -p no:cacheprovider
check_sanitizers "black-box suite"

echo "== end-to-end suite (cruddur serve over HTTP)"
/usr/bin/python3 -m pytest tests/e2e -q -p no:cacheprovider
check_sanitizers "end-to-end suite"

echo "== browser tests (Playwright + Debian's chromium against cruddur serve)"
bash tests/web/run.sh
check_sanitizers "browser tests"

echo "== crash tests (SIGKILL at random points, restart, check every acknowledged write)"
/usr/bin/python3 -m pytest tests/crash -q -p no:cacheprovider
check_sanitizers "crash tests"

echo "== ThreadSanitizer: the engine's concurrency tests"
cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCRUDDUR_BUILD_TESTS=ON \
  -DCRUDDUR_WERROR=ON -DCRUDDUR_TSAN=ON >/dev/null
cmake --build build-tsan -j2 --target storage_test
TSAN_OPTIONS="log_path=$SAN_DIR/tsan:halt_on_error=1:second_deadlock_stack=1" \
  build-tsan/src/dynamo/storage/storage_test --gtest_brief=1
check_sanitizers "ThreadSanitizer"

echo "== fuzz targets (corpus replay, then a bounded run each)"
bash scripts/fuzz.sh "${CRUDDUR_FUZZ_SECONDS:-10}"
