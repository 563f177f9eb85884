#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/) with clang in build-fuzz, replays every committed corpus
# input (the regressions), then fuzzes each target for a bounded time starting from its corpus.
# New inputs go to a folder under /tmp, never into fuzz/corpus. Exits non-zero on the first
# crash, leak, timeout or sanitizer report, printing how to reproduce it.
#
# Usage: scripts/fuzz.sh [seconds-per-target]   (default 20; 0 only builds and replays)
#   CRUDDUR_FUZZ_TARGETS="json decimal"  fuzz only these targets
#   CRUDDUR_FUZZ_BUILD_DIR=dir           build somewhere other than build-fuzz
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-20}
build_dir=${CRUDDUR_FUZZ_BUILD_DIR:-build-fuzz}
read -r -a targets <<<"${CRUDDUR_FUZZ_TARGETS:-http_parser json expression decimal key_codec item_codec sigv4 jwt}"

# Longest input per target: room for a few requests or records, bounded so runs stay fast.
# expression goes past the parser's 4096-character limit so the limit itself is fuzzed.
max_len() {
  case "$1" in
    decimal) echo 128 ;;
    key_codec) echo 512 ;;
    expression) echo 4200 ;;
    http_parser | json) echo 8192 ;;
    *) echo 4096 ;;
  esac
}

launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi

echo "== fuzz: build ($build_dir)"
CC=clang CXX=clang++ cmake -S . -B "$build_dir" -DCRUDDUR_FUZZ=ON -DCRUDDUR_BUILD_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" >/dev/null
cmake --build "$build_dir" -j2 --target cruddur_fuzzers

work=$(mktemp -d /tmp/cruddur-fuzz.XXXXXX)
export UBSAN_OPTIONS=print_stacktrace=1
fail() {
  echo "FAIL: $1_fuzz: $2"
  echo "  log:        $work/$1.log"
  local artifact
  for artifact in "$work/$1"/crash-* "$work/$1"/leak-* "$work/$1"/timeout-* "$work/$1"/oom-*; do
    [[ -e "$artifact" ]] || continue
    echo "  reproducer: $artifact"
    echo "  reproduce:  $build_dir/fuzz/$1_fuzz $artifact"
    echo "  then add it to fuzz/corpus/$1/ as a regression once fixed"
  done
  tail -n 40 "$work/$1.log"
  exit 1
}

for target in "${targets[@]}"; do
  bin="$build_dir/fuzz/${target}_fuzz"
  corpus="fuzz/corpus/$target"
  mkdir -p "$work/$target/new"
  flags=(-rss_limit_mb=2048 -timeout=10 -artifact_prefix="$work/$target/")

  echo "== fuzz: $target: replay $(find "$corpus" -type f | wc -l) corpus inputs"
  # Every committed input, once each: a crash here is a regression.
  find "$corpus" -type f -print0 | xargs -0 "$bin" "${flags[@]}" >"$work/$target.log" 2>&1 ||
    fail "$target" "a committed corpus input fails (see the last 'Running:' line)"

  if ((seconds > 0)); then
    dict=()
    [[ -f "fuzz/$target.dict" ]] && dict=(-dict="fuzz/$target.dict")
    "$bin" "${flags[@]}" "${dict[@]}" -max_len="$(max_len "$target")" \
      -max_total_time="$seconds" -print_final_stats=1 "$work/$target/new" "$corpus" \
      >"$work/$target.log" 2>&1 || fail "$target" "fuzzing found a failing input"
    echo "   $(grep -E '^stat::(number_of_executed_units|new_units_added)' "$work/$target.log" |
      tr '\n' ' ')"
  fi
done

rm -rf "$work"
echo "== fuzz: ${#targets[@]} targets passed (${seconds}s each)"
