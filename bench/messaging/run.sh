#!/usr/bin/env bash
# Load benchmark of the messaging HTTP API (issue #5): `cruddur serve --demo --in-memory` driven
# by wrk with bench/messaging/api.lua. Builds nothing; run it by hand, never in CI.
#
#   CRUDDUR_BIN=build-release/src/cli/cruddur bash bench/messaging/run.sh
#
# For each cache capacity in BENCH_CACHE_CAPACITIES: start a fresh server (demo users and the
# 104-message conversation between andrewbrown and bayko), mint tokens for andrewbrown, bayko,
# londo and altbrown with `cruddur auth token`, check that andrewbrown's inbox answers, then for
# each mode a warm-up and a measured wrk run:
#   groups    GET /api/message_groups as andrewbrown
#   messages  GET /api/messages/<the demo group> as andrewbrown
#   post      POST /api/messages {message, message_group_uuid} as andrewbrown
#   mixed     70% list groups (four users), 20% list messages, 10% post (andrewbrown, bayko)
# After the modes that post, it checks in the table itself (boto3 on the engine's port) that
# both participants' group rows carry the group's newest message, i.e. that the stream handler
# kept up, and reports how long after the run that took.
#
# Prints one tab-separated line per run:
#   cache  mode  requests/s  p50_ms  p99_ms  errors  status
# and, per server, a "converged" line for each stream-handler check. Exits non-zero if any run
# had an error (a non-2xx answer, a socket error or a timeout) or a check failed.
#
# Environment (defaults in brackets):
#   CRUDDUR_BIN             the cruddur binary [build-release/src/cli/cruddur]
#   BENCH_MODES             [groups messages post mixed]
#   BENCH_CACHE_CAPACITIES  `serve --cache-capacity` values, one server each [100000 0]
#   BENCH_DURATION          seconds per measured run [5]
#   BENCH_WARMUP            seconds of warm-up per mode [1]
#   BENCH_THREADS           wrk threads [2]
#   BENCH_CONNECTIONS       wrk connections [32]
#   BENCH_SERVE_THREADS     `serve --threads` (event loops per server; 0 = one per core) [0]
#   BENCH_CACHE_STATS       1: also report each run's read-cache hits and misses [0]
#
# Cache hit rate: `cruddur serve` keeps hit/miss counters (MessagingService::cache_stats) but
# shows them nowhere yet, so with BENCH_CACHE_STATS=1 the script reads them with gdb from the
# running server, after the warm-up and after the measured run, and reports the difference.
# That needs a binary with debug information (a RelWithDebInfo build such as build/; the
# Release build has none) and is a stopgap until serve reports the counters itself. gdb
# pauses the server for a moment between runs, never during one.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(cd "$BENCH_DIR/../.." && pwd)
PYTHON=/usr/bin/python3
CRUDDUR_BIN=${CRUDDUR_BIN:-$REPO_DIR/build-release/src/cli/cruddur}
BENCH_MODES=${BENCH_MODES:-"groups messages post mixed"}
BENCH_CACHE_CAPACITIES=${BENCH_CACHE_CAPACITIES:-"100000 0"}
BENCH_DURATION=${BENCH_DURATION:-5}
BENCH_WARMUP=${BENCH_WARMUP:-1}
BENCH_THREADS=${BENCH_THREADS:-2}
BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-32}
BENCH_SERVE_THREADS=${BENCH_SERVE_THREADS:-0}
BENCH_CACHE_STATS=${BENCH_CACHE_STATS:-0}
USERS=(andrewbrown bayko londo altbrown)

for n in "$BENCH_DURATION" "$BENCH_WARMUP" "$BENCH_THREADS" "$BENCH_CONNECTIONS" \
  "$BENCH_SERVE_THREADS" $BENCH_CACHE_CAPACITIES; do
  [[ $n =~ ^[0-9]+$ ]] || { echo "run.sh: expected a whole number, got '$n'" >&2; exit 2; }
done
for mode in $BENCH_MODES; do
  case $mode in groups | messages | post | mixed) ;; *)
    echo "run.sh: unknown mode '$mode'" >&2; exit 2 ;;
  esac
done
[[ -x $CRUDDUR_BIN ]] || { echo "run.sh: no cruddur binary at $CRUDDUR_BIN" >&2; exit 2; }
command -v wrk >/dev/null || { echo "run.sh: wrk is not installed" >&2; exit 2; }
if [[ $BENCH_CACHE_STATS == 1 ]]; then
  command -v gdb >/dev/null || { echo "run.sh: BENCH_CACHE_STATS=1 needs gdb" >&2; exit 2; }
fi

WORK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/cruddur-messaging-bench.XXXXXX")
# Run a private copy: a rebuild of a shared build folder during the run cannot swap the binary
# under the server (nor its debug information under gdb).
cp "$CRUDDUR_BIN" "$WORK_DIR/cruddur"
CRUDDUR_BIN=$WORK_DIR/cruddur
SERVER_PID=
FAILED=0

log() { echo "[messaging-bench $(date +%H:%M:%S)] $*" >&2; }

# Stops the server this script started (its own session: the group id is its pid).
stop_server() {
  [[ -n $SERVER_PID ]] || return 0
  kill -TERM -- "-$SERVER_PID" 2>/dev/null || true
  local i
  for ((i = 0; i < 100; i++)); do
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL -- "-$SERVER_PID" 2>/dev/null || true
  SERVER_PID=
}

# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
  local rc=$?
  stop_server
  if [[ $rc -eq 0 ]]; then rm -rf "$WORK_DIR"; else log "logs kept in $WORK_DIR"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts `cruddur serve --demo` with cache capacity $1; sets SERVER_PID, API_PORT, DDB_PORT,
# DATA_DIR and GROUP (the demo conversation's uuid).
start_server() {
  local capacity=$1 i
  DATA_DIR=$WORK_DIR/data-$capacity
  API_PORT=$(free_port)
  DDB_PORT=$(free_port)
  local out=$WORK_DIR/serve-$capacity.log
  setsid "$CRUDDUR_BIN" serve --demo --in-memory --data-dir "$DATA_DIR" --host 127.0.0.1 \
    --api-port "$API_PORT" --dynamodb-port "$DDB_PORT" --cache-capacity "$capacity" \
    --threads "$BENCH_SERVE_THREADS" >"$out" 2>&1 &
  SERVER_PID=$!
  for ((i = 0; i < 300; i++)); do
    grep -qs '^cruddur serve: messaging API on' "$out" && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$out" >&2; return 1; }
    sleep 0.1
  done
  GROUP=$(sed -n 's/^demo: .*(group \([0-9a-f-]*\))$/\1/p' "$out")
  [[ -n $GROUP ]] || { cat "$out" >&2; return 1; }
}

declare -A TOKEN
mint_tokens() {
  local user
  for user in "${USERS[@]}"; do
    TOKEN[$user]=$("$CRUDDUR_BIN" auth token "$user" --data-dir "$DATA_DIR")
  done
}

# Runs one wrk run; prints the RESULT line's key=value pairs.
run_wrk() {
  local mode=$1 seconds=$2 tag=$3
  local out=$WORK_DIR/wrk-$CAPACITY-$mode-$tag.txt
  timeout --kill-after=5 $((seconds + 30)) wrk "-t$BENCH_THREADS" "-c$BENCH_CONNECTIONS" \
    "-d${seconds}s" --latency -s "$BENCH_DIR/api.lua" "http://127.0.0.1:$API_PORT" \
    -- "$mode" "$GROUP" "${TOKEN[andrewbrown]}" "${TOKEN[bayko]}" "${TOKEN[londo]}" \
    "${TOKEN[altbrown]}" >"$out" 2>&1 || { cat "$out" >&2; return 1; }
  grep '^RESULT ' "$out" | tail -n 1 | cut -d' ' -f2-
}

# Prints the server's cache counters: "group_hits group_misses message_hits message_misses",
# read with gdb from RunServe's MessagingService (see the header). gdb runs in the scratch
# folder with core dumps off, so a crash of gdb itself leaves nothing behind.
cache_counters() {
  local out
  out=$(cd "$WORK_DIR" && ulimit -c 0 && timeout 60 gdb -p "$SERVER_PID" -batch -ex 'thread 1' \
    -ex 'frame function cruddur::cli::RunServe' \
    -ex 'printf "COUNTERS %lu %lu %lu %lu\n", service.groups_.stats_.hits, service.groups_.stats_.misses, service.messages_.stats_.hits, service.messages_.stats_.misses' \
    2>&1) || true
  grep '^COUNTERS ' <<<"$out" | cut -d' ' -f2- || { echo "gdb: $out" >&2; return 1; }
}

# "hits/(hits+misses) (hits of lookups)" for one cache between two counter readings.
hit_rate() {
  awk -v h="$1" -v m="$2" 'BEGIN {
    if (h + m == 0) { print "no lookups"; exit }
    printf "%.1f%% (%d of %d lookups)", 100 * h / (h + m), h, h + m }'
}

# Waits (up to 20 s) until both participants' group rows in the table carry the group's newest
# message; prints the seconds it took.
check_converged() {
  "$PYTHON" - "$DDB_PORT" "$GROUP" <<'EOF'
import sys, time
import boto3
from boto3.dynamodb.conditions import Attr, Key

port, group = sys.argv[1], sys.argv[2]
table = boto3.resource(
    "dynamodb", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
    aws_access_key_id="bench", aws_secret_access_key="bench").Table("cruddur-messages")
start = time.monotonic()
while True:
    newest = table.query(KeyConditionExpression=Key("pk").eq(f"MSG#{group}"),
                         ScanIndexForward=False, Limit=1)["Items"][0]
    rows = table.query(IndexName="message-group-sk-index",
                       KeyConditionExpression=Key("message_group_uuid").eq(group),
                       FilterExpression=Attr("pk").begins_with("GRP#"))["Items"]
    ok = len(rows) == 2 and all(
        r["sk"] == newest["sk"] and r["message"] == newest["message"] for r in rows)
    if ok:
        print(f"{time.monotonic() - start:.2f}")
        sys.exit(0)
    if time.monotonic() - start > 20:
        print(f"group rows {[(r['pk'], r['sk']) for r in rows]} newest {newest['sk']}",
              file=sys.stderr)
        sys.exit(1)
    time.sleep(0.05)
EOF
}

printf 'cache\tmode\trequests/s\tp50_ms\tp99_ms\terrors\tstatus\n'
for CAPACITY in $BENCH_CACHE_CAPACITIES; do
  log "cache capacity $CAPACITY: starting cruddur serve"
  start_server "$CAPACITY" || { log "serve did not start"; exit 1; }
  mint_tokens
  status=$(curl -s -o "$WORK_DIR/groups.json" -w '%{http_code}' \
    -H "Authorization: Bearer ${TOKEN[andrewbrown]}" "http://127.0.0.1:$API_PORT/api/message_groups")
  if [[ $status != 200 ]] || ! grep -q "$GROUP" "$WORK_DIR/groups.json"; then
    log "GET /api/message_groups answered $status: $(cat "$WORK_DIR/groups.json")"
    exit 1
  fi
  log "group $GROUP, api port $API_PORT, engine port $DDB_PORT"
  for mode in $BENCH_MODES; do
    rps=- p50=- p99=- errors=- state=FAIL
    before=
    if { [[ $BENCH_WARMUP -eq 0 ]] || run_wrk "$mode" "$BENCH_WARMUP" warmup >/dev/null; } &&
      { [[ $BENCH_CACHE_STATS != 1 || $CAPACITY == 0 ]] || before=$(cache_counters); } &&
      result=$(run_wrk "$mode" "$BENCH_DURATION" run) && [[ -n $result ]]; then
      for kv in $result; do
        case ${kv%%=*} in
          rps) rps=${kv#*=} ;;
          p50_us) p50=$(awk -v u="${kv#*=}" 'BEGIN {printf "%.2f", u / 1000}') ;;
          p99_us) p99=$(awk -v u="${kv#*=}" 'BEGIN {printf "%.2f", u / 1000}') ;;
          errors) errors=${kv#*=} ;;
        esac
      done
      [[ $errors == 0 ]] && state=ok
    fi
    [[ $state == ok ]] || FAILED=1
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$CAPACITY" "$mode" "$rps" "$p50" "$p99" "$errors" "$state"
    if [[ -n $before && $CAPACITY != 0 ]] && after=$(cache_counters); then
      read -r gh0 gm0 mh0 mm0 <<<"$before"
      read -r gh1 gm1 mh1 mm1 <<<"$after"
      printf '%s\t%s\tcache hits: groups %s, messages %s\n' "$CAPACITY" "$mode" \
        "$(hit_rate $((gh1 - gh0)) $((gm1 - gm0)))" "$(hit_rate $((mh1 - mh0)) $((mm1 - mm0)))"
    fi
    if [[ $mode == post || $mode == mixed ]]; then
      if seconds=$(check_converged); then
        printf '%s\t%s\tconverged: group rows carry the newest message %s s after the run\n' \
          "$CAPACITY" "$mode" "$seconds"
      else
        printf '%s\t%s\tNOT converged: group rows behind the newest message after 20 s\n' \
          "$CAPACITY" "$mode"
        FAILED=1
      fi
    fi
  done
  stop_server
done
exit "$FAILED"
