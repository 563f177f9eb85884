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
# Runs one suite: its sanitizer reports (if any) are printed, whether or not it passed, and then
# its own failure fails the run.
suite() {
  local name=$1 rc=0
  shift
  echo "== $name"
  "$@" || rc=$?
  check_sanitizers "$name"
  if [ "$rc" -ne 0 ]; then
    echo "== $name failed (exit $rc)" >&2
    exit "$rc"
  fi
}

# A real PostgreSQL server for the PostgreSQL users-directory tests, in a folder the
# `postgres` OS user can reach, stopped and removed whatever happens.
PG_DIR=$(mktemp -d /tmp/cruddur-pgtest.XXXXXX)
trap 'bash scripts/postgres_test_server.sh stop "$PG_DIR" || true; rm -rf "$PG_DIR" "$SAN_DIR"' EXIT
CRUDDUR_TEST_POSTGRES_URL=$(bash scripts/postgres_test_server.sh start "$PG_DIR")
export CRUDDUR_TEST_POSTGRES_URL

CRUDDUR_BIN="$PWD/build/src/cli/cruddur"
export CRUDDUR_BIN

suite "unit tests (ASan + UBSan)" ctest --test-dir build --output-on-failure -j2 --timeout 600
suite "black-box suite (boto3 + AWS CLI)" /usr/bin/python3 -m pytest tests/compat -q -p no:cacheprovider
suite "end-to-end suite (cruddur serve over HTTP)" \
  /usr/bin/python3 -m pytest tests/e2e -q -p no:cacheprovider
suite "browser tests (Playwright + Debian's chromium against cruddur serve)" bash tests/web/run.sh
suite "crash tests (SIGKILL at random points, restart, check every acknowledged write)" \
  /usr/bin/python3 -m pytest tests/crash -q -p no:cacheprovider

echo "== ThreadSanitizer build: the engine's concurrency tests"
cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCRUDDUR_BUILD_TESTS=ON \
  -DCRUDDUR_WERROR=ON -DCRUDDUR_TSAN=ON >/dev/null
cmake --build build-tsan -j2 --target storage_test
# scripts/tsan.supp says why RocksDB's own frames are suppressed.
TSAN_OPTIONS="log_path=$SAN_DIR/tsan:suppressions=$PWD/scripts/tsan.supp:second_deadlock_stack=1" \
  suite "ThreadSanitizer: storage_test" build-tsan/src/dynamo/storage/storage_test --gtest_brief=1

echo "== fuzz targets (corpus replay, then a bounded run each)"
bash scripts/fuzz.sh "${CRUDDUR_FUZZ_SECONDS:-10}"
