#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, fetches the
# extra Redis/Valkey versions the compatibility tests use, and runs the whole
# suite with ctest. Exits non-zero when any test fails.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${RESHARD_BUILD_DIR:-$root/build}"

bash "$root/scripts/build.sh"
# Redis 6.0 and Valkey 8.0 for the version tests; when they cannot be fetched
# those tests skip (and say so) rather than failing the whole run.
bash "$root/scripts/fetch_servers.sh" "$build/servers" ||
  echo "test.sh: could not fetch Redis 6.0 / Valkey 8.0; their tests will skip" >&2
cd "$build"
ctest --output-on-failure --timeout 900 -j "${RESHARD_TEST_JOBS:-2}" "$@"
