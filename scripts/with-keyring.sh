#!/usr/bin/env bash
# Runs a command with a real, unlocked Secret Service (gnome-keyring) on the
# current D-Bus session. Call it inside `dbus-run-session`. The keyring lives
# in a temporary folder and is unlocked with a throwaway, non-empty password
# (an empty one makes writes wait for a prompt that never comes).
set -euo pipefail
XDG_DATA_HOME=$(mktemp -d)
export XDG_DATA_HOME
eval "$(printf 'ferry-test-keyring' | gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL
export FERRY_REQUIRE_KEYCHAIN=1
exec "$@"
