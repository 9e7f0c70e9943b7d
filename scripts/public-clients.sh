#!/usr/bin/env bash
# Public clients against the emulators: Shopify's Python library (ShopifyAPI)
# and WooCommerce's (woocommerce), from PyPI into ~/.cache/ferry/venvs/clients,
# pointed at `ferry sim` serving HTTPS with a certificate made here. They are
# used as published: only the address and the made-up demo keys are theirs.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/ferry"
VENV="$CACHE/venvs/clients"
PACKAGES=(ShopifyAPI==12.7.0 woocommerce==3.0.0)
say() { echo "public-clients.sh: $*" >&2; }

stamp="$VENV/.ferry-installed-2"
if [[ ! -f "$stamp" ]]; then
  say "installing ${PACKAGES[*]} into $VENV (once)"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "${PACKAGES[@]}"
  touch "$stamp"
fi

work="$(mktemp -d)"
sim_pid=""
cleanup() { [[ -n "$sim_pid" ]] && kill "$sim_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
  -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null

orders=620
"$CARGO_TARGET_DIR/debug/ferry" sim --port 0 --orders "$orders" --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" \
  >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
for _ in $(seq 100); do grep -q '^Seeded' "$work/sim.out" 2>/dev/null && break; sleep 0.1; done
port="$(sed -n 's#^Shopify emulator: https://127.0.0.1:\([0-9]*\)/.*#\1#p' "$work/sim.out")"
[[ -n "$port" ]] || { say "ferry sim did not start"; cat "$work/sim.err" >&2; exit 1; }

# Python's ssl and requests both trust the certificate made above.
SSL_CERT_FILE="$work/cert.pem" REQUESTS_CA_BUNDLE="$work/cert.pem" \
  "$VENV/bin/python" scripts/clients/check.py "$port" "$orders" shpat_demo_0000000000000000 ck_demo_0000:cs_demo_0000
