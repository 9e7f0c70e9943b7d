#!/usr/bin/env bash
# The connectors against real open-source servers from the package
# registries: Tryton (ERP) and Karrio (courier) from PyPI, Vendure (store)
# from npm. Installs them once into ~/.cache/ferry, starts them on loopback,
# runs the real tests, and stops them again whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
env_file=$(mktemp)
cleanup() {
  scripts/real/tryton.sh stop >/dev/null 2>&1 || true
  scripts/real/karrio.sh stop >/dev/null 2>&1 || true
  scripts/real/vendure.sh stop >/dev/null 2>&1 || true
  rm -f "$env_file"
}
trap cleanup EXIT
start=$(date +%s)
scripts/real/tryton.sh "$env_file.tryton" >/dev/null
scripts/real/karrio.sh "$env_file.karrio" >/dev/null
scripts/real/vendure.sh "$env_file.vendure" >/dev/null
echo "real servers: Tryton, Karrio and Vendure up in $(( $(date +%s) - start )) s"
set -a
. "$env_file.tryton"
. "$env_file.karrio"
. "$env_file.vendure"
set +a
rm -f "$env_file.tryton" "$env_file.karrio" "$env_file.vendure"
export FERRY_REQUIRE_REAL=1
cargo test -p ferry-connectors --test real_tryton --test real_karrio --test real_vendure --test contract_stores --test contract_erps --test contract_couriers
cargo test -p ferry-tests --test real_systems
