#!/usr/bin/env bash
# `make bench`: the benchmarks, on this machine, into BENCHMARKS.md: Ferry
# against a bare loop at 10,000 and 100,000 orders, memory, the first read
# by export or pages, 20,000 SKUs of stock under Shopify's rate limit, the
# journal at a million lines (release build, `ferry bench`), then the real
# desktop app idle and at launch (scripts/bench-desktop.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
scripts/deps.sh
cargo build --release -p ferry-cli
"$CARGO_TARGET_DIR/release/ferry" bench --out BENCHMARKS.md "$@"
if [ -x scripts/bench-desktop.sh ]; then
  scripts/bench-desktop.sh
  if [ -f target/bench-desktop.md ]; then
    { echo; cat target/bench-desktop.md; } >> BENCHMARKS.md
  fi
fi
echo "make bench: BENCHMARKS.md written"
