#!/usr/bin/env bash
# E2E: the real app window under Xvfb, driven by tauri-driver and
# WebKitWebDriver through webdriverio. Call inside `dbus-run-session` with
# scripts/with-keyring.sh so the app has a real keychain.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# Xvfb picks a free display number and writes it to fd 3.
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$work/display" 2>"$work/xvfb.log" &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/display" ] && break; sleep 0.1; done
[ -s "$work/display" ] || { echo "e2e: Xvfb did not start"; cat "$work/xvfb.log"; exit 1; }
export DISPLAY=":$(cat "$work/display")"

# A notification server, as a desktop has (dunst): alerts are shown, and a
# click on one (its default action) can be made with `dunstctl action`.
if command -v dunst >/dev/null; then
  # Alerts stay until dealt with, so the test can click one.
  printf '[urgency_low]\ntimeout = 0\n[urgency_normal]\ntimeout = 0\n[urgency_critical]\ntimeout = 0\n' >"$work/dunstrc"
  dunst -config "$work/dunstrc" >"$work/dunst.log" 2>&1 &
  pids+=($!)
fi

# Desktop alerts go over the session D-Bus: record every Notify call.
dbus-monitor --session "type='method_call',interface='org.freedesktop.Notifications',member='Notify'" >"$work/notify.log" 2>&1 &
pids+=($!)
export FERRY_E2E_NOTIFY_LOG="$work/notify.log"

# The app inherits this environment: demo mode, its own data dir, no automatic runs.
export FERRY_DEMO=1 FERRY_SCHEDULE=manual FERRY_DATA_DIR="$work/data"
tauri-driver --port 4444 >"$work/driver.log" 2>&1 &
pids+=($!)
for _ in $(seq 150); do (exec 3<>/dev/tcp/127.0.0.1/4444) 2>/dev/null && break; sleep 0.2; done
(exec 3<>/dev/tcp/127.0.0.1/4444) 2>/dev/null || { echo "e2e: tauri-driver did not listen on 4444"; cat "$work/driver.log"; exit 1; }

mkdir -p target-e2e
export FERRY_APP_BINARY="$CARGO_TARGET_DIR/debug/ferry-app"
export FERRY_CLI_BINARY="$CARGO_TARGET_DIR/debug/ferry" FERRY_E2E_DATA_DIR="$work/data"
export FERRY_E2E_SCREENSHOT="${FERRY_E2E_SCREENSHOT:-$PWD/target-e2e/overview.png}"
export FERRY_E2E_SCREENSHOT_DIR="${FERRY_E2E_SCREENSHOT_DIR:-$PWD/target-e2e}"
node --test tests/e2e/ || { echo "e2e: failed; tauri-driver log:"; tail -40 "$work/driver.log"; exit 1; }
echo "e2e: screenshot at $FERRY_E2E_SCREENSHOT"
