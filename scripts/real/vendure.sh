#!/usr/bin/env bash
# Installs (once) and starts a real Vendure server for the connector's real
# tests: crates/connectors/tests/real_vendure.rs.
#
#   scripts/real/vendure.sh [ENV_FILE]   start; print (or write to ENV_FILE)
#                                        the FERRY_REAL_VENDURE_* lines
#   scripts/real/vendure.sh stop         stop the server this script started
#
# The npm project (scripts/real/vendure: @vendure/core with sql.js, so no
# native database module and no download at install or run time) is copied
# to ~/.cache/ferry/vendure/app and installed once per version of its files.
# A seeded template database (tax zone, shipping, products MUG-01, TEE-02,
# SOCK-03, the customer ada@example.com, three paid orders, one cancelled)
# is built once; every start copies it, so each run begins from the same
# data and a warm start takes seconds.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${FERRY_CACHE:-$HOME/.cache/ferry}"
STATE="$CACHE/vendure"
APP="$STATE/app"
PIDFILE="$STATE/vendure.pid"
export VENDURE_USER=superadmin
export VENDURE_PASSWORD="${FERRY_REAL_VENDURE_PASSWORD:-ferry-Vendure-7k3p}"
STAMP="$(cat "$HERE"/vendure/* | sha256sum | cut -c1-16)"

log() { echo "vendure.sh: $*" >&2; }

stop_pid() {
  local file="$1" pid
  [[ -f "$file" ]] || return 0
  pid="$(cat "$file")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    log "stopped vendure (pid $pid)"
  fi
  rm -f "$file"
}

stop() {
  stop_pid "$PIDFILE"
  if [[ -f "$STATE/run.dir" ]]; then
    rm -rf "$(cat "$STATE/run.dir")"
    rm -f "$STATE/run.dir"
  fi
}

free_port() {
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# Starts server.js on a free port with database $1 and pid file $2; sets URL.
serve() {
  local db="$1" pidfile="$2" logfile="$3" port
  port="$(free_port)"
  # From $APP, which Vendure's own .vendure folder then goes into; `exec`
  # makes $! node itself, so stop() signals the server, not a shell.
  (cd "$APP" && VENDURE_DB="$db" VENDURE_PORT="$port" exec nohup node server.js) >"$logfile" 2>&1 </dev/null &
  echo $! >"$pidfile"
  URL="http://127.0.0.1:$port"
  for i in $(seq 150); do
    if curl -fsS -m 2 -H 'Content-Type: application/json' -d '{"query":"{ __typename }"}' \
        "$URL/admin-api" >/dev/null 2>&1; then
      return 0
    fi
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null || [[ $i == 150 ]]; then
      tail -30 "$logfile" >&2
      log "vendure did not start"
      stop_pid "$pidfile"
      return 1
    fi
    sleep 0.2
  done
}

if [[ "${1:-}" == "stop" ]]; then
  stop
  exit 0
fi

command -v node >/dev/null || { log "node is required (Node 20 works)"; exit 1; }
mkdir -p "$STATE"

# 1. The npm project: skipped when the stamp of its files matches.
if [[ "$(cat "$APP/.ferry-stamp" 2>/dev/null)" != "$STAMP" ]]; then
  log "installing Vendure into $APP"
  rm -rf "$APP" && mkdir -p "$APP"
  cp "$HERE"/vendure/* "$APP/"
  (cd "$APP" && npm install --no-audit --no-fund --loglevel=error >"$STATE/npm.log" 2>&1) \
    || { tail -30 "$STATE/npm.log" >&2; exit 1; }
  echo "$STAMP" >"$APP/.ferry-stamp"
fi

# 2. The seeded template database, built once per stamp.
TEMPLATE="$STATE/template.sqlite"
if [[ "$(cat "$TEMPLATE.stamp" 2>/dev/null)" != "$STAMP" ]]; then
  log "creating and seeding the template database"
  rm -f "$TEMPLATE" "$TEMPLATE.stamp"
  BUILD="$STATE/build.sqlite"
  rm -f "$BUILD"
  (cd "$APP" && VENDURE_DB="$BUILD" node populate.js) >"$STATE/populate.log" 2>&1 \
    || { tail -30 "$STATE/populate.log" >&2; exit 1; }
  serve "$BUILD" "$STATE/seed.pid" "$STATE/seed-server.log"
  if ! node "$APP/seed.js" "$URL" "$VENDURE_USER" "$VENDURE_PASSWORD" >&2; then
    stop_pid "$STATE/seed.pid"
    exit 1
  fi
  stop_pid "$STATE/seed.pid"
  mv "$BUILD" "$TEMPLATE"
  echo "$STAMP" >"$TEMPLATE.stamp"
fi

# 3. A fresh copy, served on a free loopback port.
stop
RUN="$(mktemp -d "${TMPDIR:-/tmp}/ferry-vendure.XXXXXX")"
echo "$RUN" >"$STATE/run.dir"
cp "$TEMPLATE" "$RUN/vendure.sqlite"
serve "$RUN/vendure.sqlite" "$PIDFILE" "$STATE/vendure.log" || { stop; exit 1; }
log "vendure (pid $(cat "$PIDFILE")) serves $URL/admin-api, database in $RUN"

LINES="FERRY_REAL_VENDURE_URL=$URL
FERRY_REAL_VENDURE_USER=$VENDURE_USER
FERRY_REAL_VENDURE_PASSWORD=$VENDURE_PASSWORD"
if [[ -n "${1:-}" ]]; then
  echo "$LINES" >"$1"
else
  echo "$LINES"
fi
