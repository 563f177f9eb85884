#!/usr/bin/env bash
# The added cost of an enabled stream on PutItem (issue #3's target: under 15%): bench/run.sh's
# PutItem run on cruddur (in memory and on disk) with the table created without a stream and
# with each StreamViewType in BENCH_STREAM_VIEWS, alternating, BENCH_ROUNDS times. Builds
# nothing; run it by hand, never in CI.
#
#   CRUDDUR_BIN=build-release/src/cli/cruddur bash bench/stream_cost.sh
#
# Each round runs the variants in turn (none, then each view type), so slow phases of a shared
# machine hit every variant alike. bench/run.sh runs from a scratch copy of bench/, so the
# committed bench/results/latest.md is left alone. Prints every run's requests/s, then per
# target and variant the median over the rounds and its cost against the median without a
# stream: 1 - with/without.
#
# Environment (defaults in brackets): BENCH_ROUNDS [3], BENCH_STREAM_VIEWS
# [NEW_AND_OLD_IMAGES KEYS_ONLY], BENCH_TARGETS [cruddur cruddur-disk], BENCH_DURATION [5],
# BENCH_WARMUP [2], CRUDDUR_BIN [build-release/src/cli/cruddur]; the other BENCH_* settings of
# bench/run.sh pass through.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname "$BENCH_DIR")
BENCH_ROUNDS=${BENCH_ROUNDS:-3}
BENCH_STREAM_VIEWS=${BENCH_STREAM_VIEWS:-"NEW_AND_OLD_IMAGES KEYS_ONLY"}
export BENCH_TARGETS=${BENCH_TARGETS:-"cruddur cruddur-disk"}
export BENCH_DURATION=${BENCH_DURATION:-5}
export BENCH_WARMUP=${BENCH_WARMUP:-2}
export BENCH_STARTS=${BENCH_STARTS:-1}
export BENCH_OPERATIONS=putitem
export CRUDDUR_BIN=${CRUDDUR_BIN:-$REPO_DIR/build-release/src/cli/cruddur}
[[ $BENCH_ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "stream_cost.sh: bad BENCH_ROUNDS" >&2; exit 2; }
[[ -x $CRUDDUR_BIN ]] || { echo "stream_cost.sh: no cruddur binary at $CRUDDUR_BIN" >&2; exit 2; }

SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/cruddur-stream-cost.XXXXXX")
trap 'rm -rf "$SCRATCH"' EXIT
mkdir -p "$SCRATCH/bench"
cp -r "$BENCH_DIR/run.sh" "$BENCH_DIR/report.py" "$BENCH_DIR/setup_table.py" \
  "$BENCH_DIR/start_server.py" "$BENCH_DIR/wrk" "$SCRATCH/bench/"
# A private copy of the binary: a rebuild of a shared build folder cannot swap it mid-run.
cp "$CRUDDUR_BIN" "$SCRATCH/cruddur"
export CRUDDUR_BIN=$SCRATCH/cruddur
RESULTS=$SCRATCH/results.tsv
: >"$RESULTS"

echo "round	variant	target	requests/s	p99_ms"
for ((round = 1; round <= BENCH_ROUNDS; round++)); do
  for variant in none $BENCH_STREAM_VIEWS; do
    report=$SCRATCH/report-$round-$variant.md
    if [[ $variant == none ]]; then
      env -u BENCH_STREAM bash "$SCRATCH/bench/run.sh" >"$report" 2>"$SCRATCH/log" ||
        { cat "$SCRATCH/log" >&2; exit 1; }
    else
      BENCH_STREAM=$variant bash "$SCRATCH/bench/run.sh" >"$report" 2>"$SCRATCH/log" ||
        { cat "$SCRATCH/log" >&2; exit 1; }
    fi
    # Rows of the report: | cruddur (--in-memory) | PutItem | rps | p50 | p99 | errors |
    awk -F' *[|] *' -v round="$round" -v variant="$variant" '
      $3 == "PutItem" {
        target = ($2 ~ /data-dir/) ? "cruddur-disk" : "cruddur"
        printf "%s\t%s\t%s\t%s\t%s\n", round, variant, target, $4, $6
      }' "$report" | tee -a "$RESULTS"
  done
done

echo
echo "target	variant	median requests/s	runs	cost vs no stream"
/usr/bin/python3 - "$RESULTS" "$BENCH_STREAM_VIEWS" <<'EOF'
import statistics
import sys

rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])]
views = ["none"] + sys.argv[2].split()
for target in dict.fromkeys(r[2] for r in rows):
    medians = {}
    for view in views:
        runs = [float(r[3]) for r in rows if r[1] == view and r[2] == target]
        if not runs:
            continue
        medians[view] = statistics.median(runs)
        cost = ""
        if view != "none" and "none" in medians:
            cost = f"{100 * (1 - medians[view] / medians['none']):.1f}%"
        print(f"{target}\t{view}\t{medians[view]:.0f}\t{' '.join(f'{x:.0f}' for x in runs)}\t{cost}")
EOF
