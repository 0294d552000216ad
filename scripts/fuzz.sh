#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang + ASan into build-fuzz/
# and runs each for a bounded time from a seed corpus: the RDB fixtures for
# rdb_reader_fuzz, a few hand-written commands for resp_parser_fuzz. Seeds are
# copied into a temporary corpus, so the repository is not modified. Exits
# non-zero on any crash, leak, timeout or out-of-memory; the input that did it
# is kept under build-fuzz/fuzz-artifacts/ and its path printed.
#
#   scripts/fuzz.sh [SECONDS]     # per fuzzer; default $RESHARD_FUZZ_SECONDS or 60
#   RESHARD_FUZZ_BUILD_DIR=DIR    # build directory (default build-fuzz)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${RESHARD_FUZZ_BUILD_DIR:-$root/build-fuzz}"
seconds="${1:-${RESHARD_FUZZ_SECONDS:-60}}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [[ "$seconds" -lt 1 ]]; then
  echo "fuzz.sh: seconds must be a positive integer, got '$seconds'" >&2
  exit 2
fi

bash "$root/scripts/setup.sh" --fuzz

if [[ ! -f "$build/build.ninja" ]]; then
  CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja \
    -DCMAKE_BUILD_TYPE="${RESHARD_BUILD_TYPE:-RelWithDebInfo}" \
    -DRESHARD_FUZZ=ON -DRESHARD_SANITIZE=address -DRESHARD_BENCH=OFF
fi
ninja -C "$build" -j "${RESHARD_BUILD_JOBS:-2}" rdb_reader_fuzz resp_parser_fuzz

work="$(mktemp -d "${TMPDIR:-/tmp}/reshard-fuzz.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# RDB seeds: every fixture, prefixed by one byte (the fuzzer's first byte
# picks the byte source's step size, 1..17), cycling through the steps.
mkdir -p "$work/rdb"
i=0
while IFS= read -r -d '' f; do
  {
    printf "\\x$(printf %02x $((i % 17)))"
    cat "$f"
  } > "$work/rdb/seed-$i"
  i=$((i + 1))
done < <(find "$root/tests/fixtures/rdb" -type f -name '*.rdb' -print0 | sort -z)
if [[ $i -eq 0 ]]; then
  echo "fuzz.sh: no RDB fixtures under tests/fixtures/rdb" >&2
  exit 1
fi

# RESP seeds: arrays of bulk strings, inline commands, pipelines, and a few
# malformed frames so the error paths are reached from the start.
mkdir -p "$work/resp"
resp_seeds=(
  '*1\r\n$4\r\nPING\r\n'
  '*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n'
  '*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n'
  '*5\r\n$4\r\nMSET\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$1\r\n2\r\n'
  '*3\r\n$4\r\nEVAL\r\n$8\r\nreturn 1\r\n$1\r\n0\r\n'
  '*1\r\n$5\r\nMULTI\r\n*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n*1\r\n$4\r\nEXEC\r\n'
  '*4\r\n$4\r\nXADD\r\n$1\r\ns\r\n$1\r\n*\r\n$0\r\n\r\n'
  'PING\r\n'
  'SET key "quoted value"\r\nGET key\r\n'
  '*0\r\n*-1\r\n'
  '*2\r\n$3\r\nGET\r\n$-1\r\n'
  '*1\r\n$99999999999\r\n'
  '*2\r\n+OK\r\n:1\r\n'
)
n=0
for s in "${resp_seeds[@]}"; do
  printf "$s" > "$work/resp/seed-$n"
  n=$((n + 1))
done

export ASAN_OPTIONS="detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
for sym in /usr/bin/llvm-symbolizer-14 /usr/bin/llvm-symbolizer; do
  if [[ -x "$sym" ]]; then
    export ASAN_SYMBOLIZER_PATH="${ASAN_SYMBOLIZER_PATH:-$sym}"
    break
  fi
done

stamp="$(date +%Y%m%d-%H%M%S)"
failed=()
run_fuzzer() {
  local name="$1" corpus="$2"
  shift 2
  local artifacts="$build/fuzz-artifacts/$name-$stamp"
  local log="$build/fuzz-artifacts/$name-$stamp.log"
  mkdir -p "$artifacts"
  echo "fuzz.sh: $name for ${seconds}s from $(find "$corpus" -type f | wc -l) seeds (log: $log)"
  local rc=0
  "$build/tests/fuzz/$name" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "$@" "$corpus" > "$log" 2>&1 || rc=$?
  if [[ $rc -eq 0 ]]; then
    rmdir "$artifacts" 2> /dev/null || true
    grep -E '^(Done [0-9]+ runs|stat::number_of_executed_units|stat::peak_rss_mb)' "$log" |
      sed "s/^/fuzz.sh: $name: /"
    return 0
  fi
  echo "fuzz.sh: $name FAILED (exit $rc); last lines of $log:" >&2
  tail -n 60 "$log" >&2
  local f
  for f in "$artifacts"/*; do
    [[ -e "$f" ]] && echo "fuzz.sh: $name artifact: $f (reproduce: $build/tests/fuzz/$name $f)" >&2
  done
  failed+=("$name")
}

run_fuzzer rdb_reader_fuzz "$work/rdb" -max_len=65536
run_fuzzer resp_parser_fuzz "$work/resp" -max_len=4096

if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz.sh: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz.sh: both fuzzers ran ${seconds}s each with no crash, leak or timeout"
