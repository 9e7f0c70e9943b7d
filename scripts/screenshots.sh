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
ls -1 docs/screenshots
