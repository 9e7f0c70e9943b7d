# Sourced by the other scripts: shared paths. Build outputs and tool caches
# live outside the clone so repeated runs on one machine reuse them.
FERRY_CACHE="${FERRY_CACHE:-$HOME/.cache/ferry}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$FERRY_CACHE/target}"
FERRY_TOOLS="$FERRY_CACHE/tools"
export PATH="$FERRY_TOOLS/bin:$HOME/.cargo/bin:$PATH"
