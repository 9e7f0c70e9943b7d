#!/usr/bin/env bash
# The connectors against real open-source servers installed from PyPI:
# Tryton (ERP) and Karrio (courier). Installs them once into
# ~/.cache/ferry/venvs, starts them on loopback, runs the real tests, and
# stops them again whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
env_file=$(mktemp)
cleanup() {
  scripts/real/tryton.sh stop >/dev/null 2>&1 || true
  scripts/real/karrio.sh stop >/dev/null 2>&1 || true
  rm -f "$env_file"
}
trap cleanup EXIT
start=$(date +%s)
scripts/real/tryton.sh "$env_file.tryton" >/dev/null
scripts/real/karrio.sh "$env_file.karrio" >/dev/null
echo "real servers: Tryton and Karrio up in $(( $(date +%s) - start )) s"
set -a
. "$env_file.tryton"
. "$env_file.karrio"
set +a
rm -f "$env_file.tryton" "$env_file.karrio"
export FERRY_REQUIRE_REAL=1
cargo test -p ferry-connectors --test real_tryton --test real_karrio
