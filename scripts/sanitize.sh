#!/usr/bin/env bash
# Builds the unit tests (ctest label `unit`) with GCC under AddressSanitizer +
# UndefinedBehaviorSanitizer into build-asan/ (or $1) and runs them. Any
# crash, leak or undefined behaviour fails a test, and the script exits
# non-zero. Usage: scripts/sanitize.sh [BUILD_DIR] [extra ctest args...]
#
# Only the unit-test binaries (and what they link or run, e.g. reshardctl for
# rdb_commands_test) are built: not reshardd, the integration tests or the
# benchmarks.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$root/build-asan}"
[[ $# -gt 0 ]] && shift

bash "$root/scripts/setup.sh"

# Leaks fail at exit; the first UBSan report aborts (CMake also passes
# -fno-sanitize-recover=all). Exported before the build too: gtest discovery
# runs each test binary right after it is linked.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"

if [[ ! -f "$build/build.ninja" ]]; then
  CC=gcc CXX=g++ cmake -S "$root" -B "$build" -G Ninja \
    -DCMAKE_BUILD_TYPE="${RESHARD_BUILD_TYPE:-RelWithDebInfo}" \
    -DRESHARD_SANITIZE=address,undefined -DRESHARD_BENCH=OFF -DRESHARD_FUZZ=OFF
fi

# The unit-test binaries: every reshard_test(NAME ...) in tests/ whose labels
# are the default (unit) or name unit explicitly.
mapfile -t targets < <(perl -0777 -ne '
  while (/\breshard_test\(\s*(\w+)([^)]*)\)/g) {
    my ($name, $args) = ($1, $2);
    print "$name\n" if $args !~ /\bLABELS\b/ || $args =~ /\bLABELS\b.*\bunit\b/s;
  }' "$root"/tests/*/CMakeLists.txt)
if [[ ${#targets[@]} -eq 0 ]]; then
  echo "sanitize.sh: found no unit-test targets under tests/" >&2
  exit 1
fi
echo "sanitize.sh: building ${#targets[@]} unit-test binaries in $build"
ninja -C "$build" -j "${RESHARD_BUILD_JOBS:-2}" "${targets[@]}"

cd "$build"
# A test binary whose tests were not discovered shows up as NAME_NOT_BUILT,
# with no label, and `-L unit` would skip it silently: refuse that.
listed="$(ctest -N)"
for t in "${targets[@]}"; do
  if grep -q "${t}_NOT_BUILT" <<< "$listed"; then
    echo "sanitize.sh: $t was built but its tests were not discovered" >&2
    exit 1
  fi
done
echo "sanitize.sh: running ctest -L unit under ASan+UBSan"
ctest -L unit --output-on-failure --timeout 900 -j "${RESHARD_TEST_JOBS:-2}" "$@"
