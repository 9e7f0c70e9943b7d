#!/usr/bin/env bash
# `make test`: install what is missing, build, and run every test: UI unit
# tests, Rust tests (with a real Secret Service), and the E2E test of the
# real window.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
export FERRY_NEED_DRIVER=1
start=$(date +%s)
scripts/deps.sh

echo "== UI: build and unit tests"
(cd ui && npm run --silent build && npm test)

echo "== Rust: build"
cargo build --workspace --all-targets

echo "== Rust: tests (keychain: gnome-keyring on a private D-Bus session)"
dbus-run-session -- scripts/with-keyring.sh cargo test --workspace

echo "== Reliability suites, short versions (figures: target/RELIABILITY-short.md; make soak runs the long ones)"
"$CARGO_TARGET_DIR/debug/ferry-prove" all --report target/RELIABILITY-short.md

echo "== Benchmark harness, small sizes (figures: target/BENCHMARKS-smoke.md; make bench runs the real ones)"
"$CARGO_TARGET_DIR/debug/ferry" bench --orders 300,1200 --skus 600 --events 20000 --read-sizes 250 \
  --out target/BENCHMARKS-smoke.md > /dev/null

echo "== Connectors against real servers: Tryton, Karrio (PyPI) and Vendure (npm)"
scripts/real-servers.sh

echo "== Public clients against the emulators: ShopifyAPI and woocommerce (PyPI), over HTTPS"
scripts/public-clients.sh

echo "== E2E: the app window under Xvfb"
dbus-run-session -- scripts/with-keyring.sh scripts/e2e.sh

echo "make test: all stages passed in $(( $(date +%s) - start )) s"
