#!/usr/bin/env bash
# `make run`: install what is missing, build, then open the desktop app on
# the built-in demo systems, or run `ferry demo` when there is no display.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
scripts/deps.sh
(cd ui && npm run --silent build)
cargo build -p ferry-app -p ferry-cli
if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
  exec "$CARGO_TARGET_DIR/debug/ferry-app" --demo
else
  echo "No display found: running the headless demo (ferry demo)."
  exec "$CARGO_TARGET_DIR/debug/ferry" demo
fi
