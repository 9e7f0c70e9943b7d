#!/usr/bin/env bash
# Benchmarks of the real desktop app under Xvfb: launch to data (3 runs and
# the median), CPU and memory of the app and all its processes over 60 s
# idle and 60 s at the demo's default polling, and the machine. Prints the
# figures and writes them as a Markdown section to target/bench-desktop.md.
#
# Usage: scripts/bench-desktop.sh [--debug | --release] [--no-build]
#                                 [--runs N] [--window SECS] [--settle SECS]
#                                 [--only launch|idle|polling] [--out FILE]
#   --release   (default) release build; if it does not finish within
#               FERRY_BENCH_RELEASE_BUDGET seconds (720), the debug build is
#               measured instead and the report says so.
#   --debug     measure the debug build (as `make run` and the E2E use).
#   --no-build  measure the binary already built for the chosen profile.
#   --poll-interval SECS  FERRY_SYNC_INTERVAL_SECS for the polling window
#               (default: the demo's own, 5 s).
# Needs what `make screenshots` needs (scripts/deps.sh installs it). The
# sampler is scripts/bench/desktop.py (Python 3, stdlib only).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

profile=release build=1 out=target/bench-desktop.md
pyargs=()
while [ $# -gt 0 ]; do
  case "$1" in
    --debug) profile=debug ;;
    --release) profile=release ;;
    --no-build) build=0 ;;
    --out) out=$2; shift ;;
    --runs | --window | --settle | --only | --poll-interval) pyargs+=("$1" "$2"); shift ;;
    -h | --help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "bench-desktop: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

note=""
if [ "$build" = 1 ]; then
  FERRY_NEED_DRIVER=1 scripts/deps.sh
  (cd ui && npm run --silent build)
  if [ "$profile" = release ]; then
    budget=${FERRY_BENCH_RELEASE_BUDGET:-720}
    start=$(date +%s)
    set +e
    timeout "$budget" cargo build --release -p ferry-app
    rc=$?
    set -e
    secs=$(($(date +%s) - start))
    if [ "$rc" = 0 ]; then
      note=", \`cargo build --release -p ferry-app\` took ${secs} s this time"
    elif [ "$rc" = 124 ]; then
      echo "bench-desktop: the release build took over ${budget} s; measuring the debug build instead" >&2
      profile=debug
      note=" — the release build did not finish within ${budget} s, so this is the DEBUG build"
      cargo build -p ferry-app
    else
      exit "$rc"
    fi
  else
    cargo build -p ferry-app
  fi
fi
app="$CARGO_TARGET_DIR/$profile/ferry-app"
[ -x "$app" ] || { echo "bench-desktop: $app is not built (run without --no-build)" >&2; exit 1; }
[ "$profile" = debug ] && note="$note (debug: unoptimised Rust; the UI bundle is the same)"

mkdir -p "$(dirname "$out")"
dbus-run-session -- scripts/with-keyring.sh \
  python3 scripts/bench/desktop.py --app "$app" --profile "$profile" --build-note "$note" --out "$out" "${pyargs[@]}"
