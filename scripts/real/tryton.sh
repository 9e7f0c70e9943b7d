#!/usr/bin/env bash
# Installs (once) and starts a real Tryton server for the connector's real
# tests: crates/connectors/tests/real_tryton.rs.
#
#   scripts/real/tryton.sh [ENV_FILE]   start; print (or write to ENV_FILE)
#                                       the FERRY_REAL_TRYTON_* lines
#   scripts/real/tryton.sh stop         stop the server this script started
#
# The venv lives in ~/.cache/ferry/venvs/tryton and is reused once complete.
# A seeded template database (modules activated, company, chart of accounts,
# warehouse stock, products, a customer) is built once in
# ~/.cache/ferry/tryton/template; every start copies it to a fresh temp dir,
# so each run begins from the same data and a warm start takes seconds.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CACHE="${FERRY_CACHE:-$HOME/.cache/ferry}"
VENV="$CACHE/venvs/tryton"
STATE="$CACHE/tryton"
PIDFILE="$STATE/trytond.pid"
DB="${FERRY_REAL_TRYTON_DB:-ferry}"
LOGIN=admin
# Tryton refuses weak admin passwords (length and entropy checks).
PASSWORD="${FERRY_REAL_TRYTON_PASSWORD:-ferry-Tryton-8q2x}"

# Pinned: the versions this connector was tested against.
PACKAGES=(
  trytond==8.2.1
  trytond-party==8.2.0 trytond-company==8.2.0 trytond-currency==8.2.0 trytond-country==8.2.0
  trytond-product==8.2.0 trytond-stock==8.2.1 trytond-account==8.2.1 trytond-account-product==8.2.0
  trytond-account-invoice==8.2.0 trytond-account-invoice-stock==8.2.0 trytond-sale==8.2.0
  trytond-stock-package-shipping==8.2.0
  proteus==8.2.0
)
MODULES=(sale stock_package_shipping)
STAMP="$(printf '%s\n' "${PACKAGES[@]}" "${MODULES[@]}" | sha256sum | cut -c1-16)"

log() { echo "tryton.sh: $*" >&2; }

stop() {
  if [[ -f "$PIDFILE" ]]; then
    local pid
    pid="$(cat "$PIDFILE")"
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      log "stopped trytond (pid $pid)"
    fi
    rm -f "$PIDFILE"
  fi
  # The per-start copy of the database (see step 3).
  if [[ -f "$STATE/run.dir" ]]; then
    rm -rf "$(cat "$STATE/run.dir")"
    rm -f "$STATE/run.dir"
  fi
}

if [[ "${1:-}" == "stop" ]]; then
  stop
  exit 0
fi

mkdir -p "$STATE"

# 1. The venv: skipped when the stamp of the pinned set matches.
if [[ "$(cat "$VENV/.ferry-stamp" 2>/dev/null)" != "$STAMP" ]]; then
  log "installing Tryton into $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet "${PACKAGES[@]}"
  echo "$STAMP" >"$VENV/.ferry-stamp"
fi

export TRYTOND_DATABASE__URI="sqlite://"
# trytond-admin reads the new admin password from TRYTONPASSFILE (8.x;
# older releases read TRYTONPSW).
printf '%s\n' "$PASSWORD" >"$STATE/admin.pass"
export TRYTONPASSFILE="$STATE/admin.pass" TRYTONPSW="$PASSWORD"

# 2. The seeded template database, built once per pinned set.
TEMPLATE="$STATE/template"
if [[ "$(cat "$TEMPLATE/.ferry-stamp" 2>/dev/null)" != "$STAMP" ]]; then
  log "creating and seeding the template database"
  rm -rf "$TEMPLATE" && mkdir -p "$TEMPLATE"
  : >"$TEMPLATE/$DB.sqlite"
  TRYTOND_DATABASE__PATH="$TEMPLATE" "$VENV/bin/trytond-admin" -d "$DB" --all \
    -u "${MODULES[@]}" --activate-dependencies --email admin@example.com >"$STATE/admin.log" 2>&1 \
    || { tail -30 "$STATE/admin.log" >&2; exit 1; }
  TRYTOND_DATABASE__PATH="$TEMPLATE" "$VENV/bin/python" "$HERE/tryton_seed.py" "$DB"
  echo "$STAMP" >"$TEMPLATE/.ferry-stamp"
fi

# 3. A fresh copy, served on a free loopback port.
stop
RUN="$(mktemp -d "${TMPDIR:-/tmp}/ferry-tryton.XXXXXX")"
echo "$RUN" >"$STATE/run.dir"
cp "$TEMPLATE/$DB.sqlite" "$RUN/"
PORT="$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
TRYTOND_DATABASE__PATH="$RUN" TRYTOND_WEB__LISTEN="127.0.0.1:$PORT" \
  nohup "$VENV/bin/trytond" -d "$DB" >"$STATE/trytond.log" 2>&1 &
echo $! >"$PIDFILE"
URL="http://127.0.0.1:$PORT"
for i in $(seq 100); do
  if curl -fsS -m 2 -H 'Content-Type: application/json' \
      -d '{"method":"common.server.version","params":[],"id":1}' "$URL/rpc/" >/dev/null 2>&1; then
    break
  fi
  if ! kill -0 "$(cat "$PIDFILE")" 2>/dev/null || [[ $i == 100 ]]; then
    tail -30 "$STATE/trytond.log" >&2
    log "trytond did not start"
    stop
    exit 1
  fi
  sleep 0.2
done
log "trytond (pid $(cat "$PIDFILE")) serves $URL, database $DB in $RUN"

LINES="FERRY_REAL_TRYTON_URL=$URL
FERRY_REAL_TRYTON_DB=$DB
FERRY_REAL_TRYTON_LOGIN=$LOGIN
FERRY_REAL_TRYTON_PASSWORD=$PASSWORD"
if [[ -n "${1:-}" ]]; then
  echo "$LINES" >"$1"
else
  echo "$LINES"
fi
