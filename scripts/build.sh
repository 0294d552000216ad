#!/usr/bin/env bash
# Installs what is missing (Debian 12 packages), then configures and builds
# reshard into build/ (or $RESHARD_BUILD_DIR). Usage: scripts/build.sh [ninja targets...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${RESHARD_BUILD_DIR:-$root/build}"

bash "$root/scripts/setup.sh"

if [ ! -f "$build/build.ninja" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="${RESHARD_BUILD_TYPE:-RelWithDebInfo}" \
    ${RESHARD_CMAKE_ARGS:-}
fi
ninja -C "$build" "$@"
