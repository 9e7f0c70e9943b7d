#!/usr/bin/env bash
# `make screenshots`: builds the app and takes a screenshot of every page
# from the real window under Xvfb (through the E2E run), into
# docs/screenshots, which the README shows.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
export FERRY_NEED_DRIVER=1
scripts/deps.sh
(cd ui && npm run --silent build)
cargo build -p ferry-app -p ferry-cli
mkdir -p docs/screenshots
export FERRY_E2E_SCREENSHOT="$PWD/docs/screenshots/overview.png"
export FERRY_E2E_SCREENSHOT_DIR="$PWD/docs/screenshots"
dbus-run-session -- scripts/with-keyring.sh scripts/e2e.sh

# Two views the E2E run does not reach: the first start with nothing
# configured (the choice between the demo and real systems), and the
# Overview at 150% text scaling.
still() { # still NAME SECONDS ENV... -- ARGS...
  local name=$1 wait=$2 work disp pid xvfb
  shift 2
  work=$(mktemp -d)
  Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$work/display" 2>/dev/null &
  xvfb=$!
  for _ in $(seq 100); do [ -s "$work/display" ] && break; sleep 0.1; done
  disp=":$(cat "$work/display")"
  local envs=()
  while [ "$#" -gt 0 ] && [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift || true
  env DISPLAY="$disp" FERRY_NO_TRAY=1 FERRY_SCHEDULE=manual "${envs[@]}" \
    dbus-run-session -- scripts/with-keyring.sh "$CARGO_TARGET_DIR/debug/ferry-app" --data-dir "$work/data" "$@" \
    >"$work/app.log" 2>&1 &
  pid=$!
  sleep "$wait"
  import -display "$disp" -window root "docs/screenshots/$name.png"
  kill "$pid" 2>/dev/null || true
  kill "$xvfb" 2>/dev/null || true
  wait "$pid" "$xvfb" 2>/dev/null || true
  rm -rf "$work"
}
still welcome 12 --
still overview-150 15 GDK_DPI_SCALE=1.5 -- --demo
ls -1 docs/screenshots
