#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, fetches the
# extra Redis/Valkey versions the compatibility tests use, and runs the whole
# suite with ctest. Then the unit tests again under ASan+UBSan
# (scripts/sanitize.sh, build-asan/) and each libFuzzer target for
# $RESHARD_FUZZ_SECONDS (default 60) seconds (scripts/fuzz.sh, build-fuzz/).
# Exits non-zero when any of the three fails.
#   RESHARD_SKIP_SANITIZE=1 / RESHARD_SKIP_FUZZ=1 leave a stage out (local use).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${RESHARD_BUILD_DIR:-$root/build}"

bash "$root/scripts/build.sh"
# Redis 6.0 and Valkey 8.0 (fetched), Redis 8.0 and Valkey 9.1 (built once,
# cached in $build/servers) for the version tests; a server that cannot be
# fetched or built is left out, and the tests that need it skip (and say so)
# rather than failing the whole run.
bash "$root/scripts/fetch_servers.sh" "$build/servers" ||
  echo "test.sh: some servers could not be fetched or built (see above); their tests will skip" >&2
# Tests that take a server binary from the environment find these ones.
server_env() {
  local var="$1" binary="$build/servers/$2"
  if [[ -z "${!var:-}" && -x "$binary" && -e "$build/servers/${2%%/*}/.complete" ]]; then
    export "$var=$binary"
  fi
}
server_env RESHARD_REDIS6_SERVER redis-6.0/bin/redis-server
server_env RESHARD_VALKEY_SERVER valkey-8.0/bin/valkey-server
server_env RESHARD_REDIS8_SERVER redis-8.0/bin/redis-server
server_env RESHARD_VALKEY9_SERVER valkey-9.1/bin/valkey-server
cd "$build"
ctest_rc=0
ctest --output-on-failure --timeout 900 -j "${RESHARD_TEST_JOBS:-2}" "$@" 2>&1 |
  tee "$build/ctest.log" || ctest_rc=$?

sanitize_rc=skipped
if [[ "${RESHARD_SKIP_SANITIZE:-0}" != 1 ]]; then
  echo "test.sh: unit tests under ASan+UBSan (scripts/sanitize.sh)"
  sanitize_rc=0
  bash "$root/scripts/sanitize.sh" "${RESHARD_ASAN_BUILD_DIR:-$root/build-asan}" || sanitize_rc=$?
fi

fuzz_rc=skipped
if [[ "${RESHARD_SKIP_FUZZ:-0}" != 1 ]]; then
  echo "test.sh: libFuzzer targets, ${RESHARD_FUZZ_SECONDS:-60}s each (scripts/fuzz.sh)"
  fuzz_rc=0
  bash "$root/scripts/fuzz.sh" "${RESHARD_FUZZ_SECONDS:-60}" || fuzz_rc=$?
fi

# The main suite's summary again, so that it is not buried under the
# sanitizer and fuzzer output.
echo
echo "test.sh: ctest in $build (full log: $build/ctest.log):"
sed -n '/tests passed, /,$p' "$build/ctest.log"
verdict() { case "$1" in 0) echo passed ;; skipped) echo skipped ;; *) echo "FAILED (exit $1)" ;; esac; }
echo "test.sh: ctest $(verdict "$ctest_rc"); sanitize.sh $(verdict "$sanitize_rc"); fuzz.sh $(verdict "$fuzz_rc")"
for rc in "$ctest_rc" "$sanitize_rc" "$fuzz_rc"; do
  [[ "$rc" == 0 || "$rc" == skipped ]] || exit 1
done
