#!/usr/bin/env bash
# A throwaway PostgreSQL server for the unit tests of the PostgreSQL users directory.
#
#   scripts/postgres_test_server.sh start <dir>   initdb in <dir>/pgdata, start on 127.0.0.1 at a
#                                                 free port (socket in <dir>), create the database
#                                                 cruddur_test, print its connection URL
#   scripts/postgres_test_server.sh stop <dir>    stop it (the data stays until <dir> is removed)
#
# Uses Debian's server binaries (package postgresql). initdb and postgres refuse to run as root,
# so as root the server runs as the `postgres` OS user (created by the package) and <dir> is
# handed to that user. Only trust authentication on 127.0.0.1 and the socket: a test server.
set -euo pipefail

PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
DATABASE=cruddur_test

usage() {
  echo "usage: $0 start|stop <dir>" >&2
  exit 2
}

[[ $# -eq 2 ]] || usage
action="$1"
mkdir -p "$2"
dir="$(cd "$2" && pwd)"

# Runs a command as the server's OS user: postgres when we are root, ourselves otherwise.
as_server_user() {
  if [[ "$(id -u)" -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# A TCP port nobody listens on now, from the kernel (bind to port 0).
free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

case "$action" in
  start)
    if [[ "$(id -u)" -eq 0 ]]; then chown postgres: "$dir"; fi
    if [[ ! -f "$dir/pgdata/PG_VERSION" ]]; then
      as_server_user "$PG_BIN/initdb" -D "$dir/pgdata" -U postgres -A trust -E UTF8 \
        --no-locale >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    fi
    # Already running (a second start): report the port it listens on.
    if as_server_user "$PG_BIN/pg_ctl" -D "$dir/pgdata" status >/dev/null 2>&1; then
      echo "postgresql://postgres@127.0.0.1:$(cat "$dir/port")/$DATABASE"
      exit 0
    fi
    # The port may be taken between choosing and binding it: try a few.
    started=""
    for _ in 1 2 3 4 5; do
      port="$(free_port)"
      if as_server_user "$PG_BIN/pg_ctl" -D "$dir/pgdata" -l "$dir/server.log" -w -t 30 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off" start >/dev/null; then
        started=yes
        break
      fi
    done
    if [[ -z "$started" ]]; then
      cat "$dir/server.log" >&2
      exit 1
    fi
    echo "$port" >"$dir/port"
    if ! as_server_user "$PG_BIN/psql" -h "$dir" -p "$port" -U postgres -d postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname = '$DATABASE'" | grep -q 1; then
      as_server_user "$PG_BIN/createdb" -h "$dir" -p "$port" -U postgres "$DATABASE"
    fi
    echo "postgresql://postgres@127.0.0.1:$port/$DATABASE"
    ;;
  stop)
    if [[ -f "$dir/pgdata/postmaster.pid" ]]; then
      as_server_user "$PG_BIN/pg_ctl" -D "$dir/pgdata" -m fast -w stop >/dev/null
    fi
    ;;
  *)
    usage
    ;;
esac
