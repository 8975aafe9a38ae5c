#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests of `PostgresStore`.
#
#   scripts/postgres.sh [start]   installs the server from Debian's packages where it is missing
#                                 (as root), starts a cluster in a temp dir, listening on
#                                 127.0.0.1 only, on a free port, as a non-root user, waits until
#                                 it takes connections and prints its URL (the only line on
#                                 stdout): the value for KERN_TEST_POSTGRES_URL.
#   scripts/postgres.sh url       prints the URL of the running cluster (fails if none).
#   scripts/postgres.sh stop      stops the cluster and removes its dir.
#
# Idempotent: `start` with a cluster running prints its URL again; `stop` with none does nothing.
# The cluster's dir is $KERN_POSTGRES_DIR (default: /tmp/kern-postgres-$UID). It is for tests
# only: `trust` authentication on loopback, `fsync = off`.
#
#   export KERN_TEST_POSTGRES_URL="$(scripts/postgres.sh)"
#   cargo test --workspace
#   scripts/postgres.sh stop
set -euo pipefail

DIR="${KERN_POSTGRES_DIR:-/tmp/kern-postgres-$(id -u)}"
DATA="$DIR/data"
SOCKETS="$DIR/sockets"
LOG="$DIR/server.log"
DB_USER=kern
DB_NAME=kern

log() { echo "postgres.sh: $*" >&2; }
die() {
  log "$*"
  exit 1
}

# The newest server installed from Debian's packages, if any.
server_bindir() {
  local dir
  dir=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -type d -name bin 2>/dev/null | sort -V | tail -n 1)
  if [[ -n "$dir" && -x "$dir/postgres" && -x "$dir/initdb" && -x "$dir/pg_ctl" ]]; then
    echo "$dir"
  fi
}

install_server() {
  [[ $(id -u) -eq 0 ]] || die "PostgreSQL is not installed and this is not root: apt-get install postgresql"
  log "installing PostgreSQL from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  timeout 300 apt-get update -qq >&2 || die "apt-get update failed or timed out"
  timeout 900 apt-get install -y -qq --no-install-recommends postgresql >&2 ||
    die "apt-get install postgresql failed or timed out"
}

# The user the server runs as: PostgreSQL refuses to run as root.
server_user() {
  if [[ $(id -u) -ne 0 ]]; then
    id -un
  elif id postgres >/dev/null 2>&1; then
    echo postgres
  else
    id kern-postgres >/dev/null 2>&1 ||
      useradd --system --no-create-home --shell /usr/sbin/nologin kern-postgres
    echo kern-postgres
  fi
}

# Runs a command as the server's user.
as_user() {
  local user=$1
  shift
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u "$user" -- "$@"
  else
    "$@"
  fi
}

url() {
  [[ -f "$DIR/port" ]] || return 1
  echo "postgresql://$DB_USER@127.0.0.1:$(cat "$DIR/port")/$DB_NAME"
}

running() {
  local bindir
  bindir=$(server_bindir)
  [[ -n "$bindir" && -f "$DATA/PG_VERSION" && -f "$DIR/port" && -f "$DIR/user" ]] || return 1
  as_user "$(cat "$DIR/user")" "$bindir/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start() {
  if running; then
    log "already running"
    url
    return
  fi
  local bindir user port
  bindir=$(server_bindir)
  if [[ -z "$bindir" ]]; then
    install_server
    bindir=$(server_bindir)
    [[ -n "$bindir" ]] || die "no PostgreSQL server under /usr/lib/postgresql after the install"
  fi
  user=$(server_user)

  # A dir left by a cluster that is not running (a crash, a reboot): start afresh.
  rm -rf "$DIR"
  mkdir -p "$DATA" "$SOCKETS"
  echo "$user" >"$DIR/user"
  chown -R "$user" "$DIR"
  chmod 700 "$DATA"

  log "initdb in $DATA as $user ($bindir)"
  as_user "$user" timeout 120 "$bindir/initdb" -D "$DATA" --username="$DB_USER" --auth=trust \
    --encoding=UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 ||
    die "initdb failed: $(tail -n 20 "$DIR/initdb.log")"

  # A free port: the first of a range nobody listens on; if another program takes it in the
  # meantime, the start fails and the next one is tried.
  local started=
  for port in $(seq 54320 54420); do
    port_free "$port" || continue
    echo "$port" >"$DIR/port"
    if as_user "$user" timeout 60 "$bindir/pg_ctl" -D "$DATA" -l "$LOG" -w -t 30 \
      -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$SOCKETS \
          -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
          -c max_connections=300" start >&2; then
      started=1
      break
    fi
    log "could not start on port $port: $(tail -n 3 "$LOG" 2>/dev/null)"
  done
  [[ -n "$started" ]] || die "the server did not start on any port of 54320-54420"

  # Ready: it takes a query (bounded).
  local tries=0
  until as_user "$user" "$bindir/psql" -h 127.0.0.1 -p "$port" -U "$DB_USER" -d postgres \
    -Atqc 'SELECT 1' >/dev/null 2>&1; do
    tries=$((tries + 1))
    [[ $tries -lt 60 ]] || die "the server does not answer: $(tail -n 20 "$LOG")"
    sleep 0.5
  done
  as_user "$user" "$bindir/psql" -h 127.0.0.1 -p "$port" -U "$DB_USER" -d postgres -Atqc \
    "CREATE DATABASE $DB_NAME" >/dev/null
  log "ready on 127.0.0.1:$port (stop it with: scripts/postgres.sh stop)"
  url
}

stop() {
  if [[ ! -d "$DIR" ]]; then
    log "no cluster in $DIR"
    return
  fi
  local bindir
  bindir=$(server_bindir)
  if [[ -n "$bindir" && -f "$DATA/PG_VERSION" && -f "$DIR/user" ]] && running; then
    as_user "$(cat "$DIR/user")" timeout 60 "$bindir/pg_ctl" -D "$DATA" -m fast -w -t 30 stop >&2 ||
      log "pg_ctl stop failed; removing the dir anyway"
  fi
  rm -rf "$DIR"
  log "stopped and removed $DIR"
}

case "${1:-start}" in
start) start ;;
stop) stop ;;
url) running && url || die "no cluster running in $DIR" ;;
*) die "usage: $0 [start|url|stop]" ;;
esac
