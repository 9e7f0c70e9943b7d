#!/usr/bin/env bash
# A real Karrio server on loopback for Ferry's real courier tests.
#
#   scripts/real/karrio.sh [ENV_FILE]   install (once), start, print the env lines
#   scripts/real/karrio.sh stop         stop the server started here
#   scripts/real/karrio.sh scan NUMBER STATUS DESCRIPTION
#                                       add a carrier scan to a parcel's tracker
#
# Karrio comes from PyPI into a venv under ~/.cache/ferry/venvs/karrio, with
# SQLite and no Redis (tasks run inline). Parcels are booked with Karrio's
# generic "custom carrier", which rates and draws labels locally, so nothing
# here needs the internet after the install. karrio-server-documents is left
# out on purpose: it downloads a stylesheet when imported and so cannot start
# offline. Prints FERRY_REAL_KARRIO_URL and FERRY_REAL_KARRIO_TOKEN, and
# writes them to ENV_FILE when given. Safe to run again: a second run only
# starts the server, from the seeded template again (or finds it running).
set -euo pipefail

KARRIO_VERSION=2026.1.32
PORT="${FERRY_KARRIO_PORT:-5102}"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/ferry"
VENV="$CACHE/venvs/karrio"
STATE="$CACHE/karrio"
TEMPLATE="$STATE/template"
PIDFILE="$STATE/server.pid"
LOG="$STATE/server.log"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PACKAGES=(
  "karrio-server==$KARRIO_VERSION"
  "karrio-server-core==$KARRIO_VERSION"
  "karrio-server-manager==$KARRIO_VERSION"
  "karrio-server-events==$KARRIO_VERSION"
  "karrio-server-graph==$KARRIO_VERSION"
  "karrio-server-proxy==$KARRIO_VERSION"
  "karrio-server-pricing==$KARRIO_VERSION"
  "karrio-server-orders==$KARRIO_VERSION"
  "karrio-server-data==$KARRIO_VERSION"
  "karrio-generic==$KARRIO_VERSION"
)

say() { echo "karrio.sh: $*" >&2; }

server_env() {
  mkdir -p "$STATE/work"
  [[ -s "$STATE/secret_key" ]] || head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$STATE/secret_key"
  export DJANGO_SETTINGS_MODULE=karrio.server.settings
  export SECRET_KEY="$(cat "$STATE/secret_key")"
  export DEBUG_MODE=False DATABASE_ENGINE=sqlite3 DATABASE_NAME=db WORK_DIR="$STATE/work"
  export WORKER_IMMEDIATE_MODE=True USE_LOGURU=False LOG_LEVEL=WARNING DJANGO_LOG_LEVEL=WARNING
  export ALLOWED_HOSTS="127.0.0.1,localhost"
  # Karrio reads a .env from the working directory; ours has none.
  cd "$STATE"
}

running() { [[ -s "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }

stop() {
  if running; then
    local pid
    pid="$(cat "$PIDFILE")"
    kill "$pid"
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    say "stopped (pid $pid)"
  else
    say "not running"
  fi
  rm -f "$PIDFILE"
}

install() {
  local stamp="$VENV/.ferry-installed-$KARRIO_VERSION"
  [[ -f "$stamp" ]] && return
  say "installing Karrio $KARRIO_VERSION into $VENV (once)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "${PACKAGES[@]}"
  # Pulled in by nothing we install, but remove it if an older run added it:
  # it fetches a stylesheet from the internet at import and the server dies.
  "$VENV/bin/pip" uninstall --quiet --yes karrio-server-documents 2>/dev/null || true
  touch "$stamp"
}

# A seeded template (migrated database, admin user, API token, offline
# carrier), built once per Karrio version. Each start copies it, so every run
# begins from the same empty Karrio, as Tryton and Vendure do: Tryton's
# shipment ids start again each run, and a Karrio that kept the labels of
# earlier runs would hold the same references for other parcels.
prepare() {
  local stamp="$TEMPLATE/.ferry-seeded-$KARRIO_VERSION"
  if [[ ! -f "$stamp" ]]; then
    say "creating and seeding the template database (once)"
    rm -rf "$TEMPLATE" && mkdir -p "$TEMPLATE"
    WORK_DIR="$TEMPLATE" "$VENV/bin/karrio" migrate --no-input >"$STATE/migrate.log" 2>&1 || { tail -20 "$STATE/migrate.log" >&2; exit 1; }
    WORK_DIR="$TEMPLATE" "$VENV/bin/python" "$HERE/karrio_setup.py" setup 2>>"$STATE/setup.log" | sed -n 's/^TOKEN=//p' >"$TEMPLATE/token"
    [[ -s "$TEMPLATE/token" ]] || { say "no API token was made"; exit 1; }
    touch "$stamp"
  fi
}

start() {
  if running; then
    return
  fi
  rm -rf "$STATE/work"
  cp -a "$TEMPLATE" "$STATE/work"
  # One worker, one thread: SQLite answers concurrent writers with
  # "database is locked" (a 500); tests in parallel simply queue.
  "$VENV/bin/gunicorn" karrio.server.wsgi:application --bind "127.0.0.1:$PORT" --workers 1 --threads 1 \
    --timeout 60 --pid "$PIDFILE" --daemon --error-logfile "$LOG" --capture-output
  local url="http://127.0.0.1:$PORT"
  for _ in $(seq 600); do
    # Any answer from the API (401 without a token) means it is up.
    if curl -s -o /dev/null -w '%{http_code}' "$url/v1/shipments" 2>/dev/null | grep -q '^[24]'; then
      return
    fi
    sleep 0.1
  done
  say "the server did not answer on $url within 60 s; see $LOG"
  tail -20 "$LOG" >&2 || true
  exit 1
}

case "${1:-}" in
  stop)
    stop
    ;;
  scan)
    shift
    server_env
    "$VENV/bin/python" "$HERE/karrio_setup.py" scan "$@" 2>>"$STATE/setup.log"
    ;;
  *)
    install
    server_env
    prepare
    start
    lines="FERRY_REAL_KARRIO_URL=http://127.0.0.1:$PORT
FERRY_REAL_KARRIO_TOKEN=$(cat "$TEMPLATE/token")"
    if [[ -n "${1:-}" ]]; then
      echo "$lines" >"$1"
    fi
    echo "$lines"
    ;;
esac
