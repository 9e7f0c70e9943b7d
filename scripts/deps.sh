#!/usr/bin/env bash
# Installs what building, running and testing Ferry needs, skipping what is
# already there: Debian packages (apt-get when root; otherwise prints the
# line to run), tauri-driver (into the cache), npm modules from the
# committed lockfiles. Safe to run any number of times.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

PACKAGES=(build-essential pkg-config curl file libssl-dev
  libwebkit2gtk-4.1-dev libjavascriptcoregtk-4.1-dev libsoup-3.0-dev
  libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev libdbus-1-dev
  xvfb xauth webkit2gtk-driver at-spi2-core fonts-dejavu-core
  dbus-x11 gnome-keyring keyutils libnotify-bin dunst imagemagick
  python3 python3-venv openssl)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  line="apt-get install -y --no-install-recommends ${missing[*]}"
  if [ "$(id -u)" = 0 ]; then
    echo "deps: installing ${#missing[@]} system packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "deps: these system packages are missing. Run as root:" >&2
    echo "  sudo apt-get update && sudo $line" >&2
    exit 1
  fi
fi

command -v cargo >/dev/null || { echo "deps: cargo not found; install Rust from rustup.rs" >&2; exit 1; }
command -v npm >/dev/null || { echo "deps: npm not found; install Node.js 20 or newer" >&2; exit 1; }

if [ "${FERRY_NEED_DRIVER:-0}" = 1 ] && ! command -v tauri-driver >/dev/null; then
  echo "deps: installing tauri-driver into $FERRY_TOOLS"
  cargo install tauri-driver --locked --version '^2' --root "$FERRY_TOOLS" --quiet
fi

npm_install() {
  # `npm ci` fails on this registry for Vite projects (other platforms'
  # optional packages); `npm install` with the committed lockfile is exact.
  local dir=$1
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    echo "deps: npm install in $dir"
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error)
  fi
}
npm_install ui
if [ "${FERRY_NEED_DRIVER:-0}" = 1 ]; then npm_install tests/e2e; fi
