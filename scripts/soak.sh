#!/usr/bin/env bash
# `make soak`: the long reliability suites (30 crash trials, a 10-minute
# faults soak, 20,000 fuzz cases, the bad-input table, journal safety, two
# PCs, then the secrets scan over everything they left), writing their
# figures into RELIABILITY.md.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
scripts/deps.sh
cargo build -p ferry-cli -p ferry-prove
"$CARGO_TARGET_DIR/debug/ferry-prove" all --long --report RELIABILITY.md
