#!/usr/bin/env bash
# Verification benchmark: how many keys a second `reshardctl verify --full
# --rate 0` compares, side by side in each run with the raw rate of pipelined
# DUMP reads of the same keys (bench/reshard_dump_scan: SCAN + DUMP of each
# batch in one round trip, as the verifier does):
#   dump source   every key read once from the source alone;
#   dump all      the source and both targets read at once (three readers):
#                 the reads a byte-exact comparison cannot do without;
#   verify        the job's verification: source pass (DUMP + expiry of every
#                 key on the source and on the target its filter selects) and
#                 target pass (every target key SCANned, checked against its
#                 filter and with EXISTS on the source), at once.
# Dataset: N keys (default 1,000,000) in db 0 named D:key:I (D = I % 10, split
# ^[0-4] / ^[5-9] onto two managed targets), 80% strings of B bytes (default
# 100), 10% lists and 10% hashes of 4 elements, 10% of all keys with a TTL.
# The job streams (idle source) while it runs: every difference would be
# re-checked against its offsets. Each run must find 0 problems.
#
# Usage: bench/verify_bench.sh [--keys N] [--value-size B] [--runs N]
# Needs reshardd, reshardctl and bench/reshard_dump_scan built in
# ${RESHARD_BUILD_DIR:-build} (ninja -C build reshardd reshardctl reshard_dump_scan),
# redis-server, redis-cli and python3 (free ports). Not run in CI.
set -euo pipefail

keys=1000000 value_size=100 runs=3
while [ $# -gt 0 ]; do
  case "$1" in
    --keys) keys="$2"; shift 2 ;;
    --value-size) value_size="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    *) sed -n '2,23p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
done
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${RESHARD_BUILD_DIR:-$root/build}"
reshardd_bin="$build/server/reshardd" reshardctl_bin="$build/client/reshardctl"
dump_bin="$build/bench/reshard_dump_scan"
for f in "$reshardd_bin" "$reshardctl_bin" "$dump_bin"; do
  [ -x "$f" ] || { echo "verify_bench: no $f (ninja -C $build reshardd reshardctl reshard_dump_scan)" >&2; exit 2; }
done
for t in redis-server redis-cli python3; do
  command -v "$t" >/dev/null || { echo "verify_bench: $t not found" >&2; exit 2; }
done

work="$(mktemp -d /tmp/reshard-verify.XXXXXX)"
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
# free_port (never the same port twice in a run)
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
start_redis() {  # NAME PORT; sets last_pid
  mkdir -p "$work/$1"
  redis-server --port "$2" --bind 127.0.0.1 --dir "$work/$1" --save "" --appendonly no \
    --repl-diskless-sync-delay 0 --logfile "$work/$1/redis.log" &
  last_pid=$!; pids+=("$last_pid")
  for _ in $(seq 200); do redis-cli -p "$2" ping >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "verify_bench: redis-server $1 did not start" >&2; exit 1
}
json_field() { sed -n "s/.*\"$1\": *\"\{0,1\}\([^\",}]*\).*/\1/p" | head -1; }
now() { echo "$EPOCHREALTIME"; }

src=$(free_port); start_redis source "$src"
awk -v n="$keys" -v vs="$value_size" '
  function cmd(a, c,   s, i) {
    s = "*" c "\r\n"
    for (i = 1; i <= c; i++) s = s "$" length(a[i]) "\r\n" a[i] "\r\n"
    printf "%s", s
  }
  BEGIN {
    srand(42)
    chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    for (p = 0; p < 997; p++) {
      s = ""; for (j = 0; j < vs + 16; j++) s = s substr(chars, int(rand() * 62) + 1, 1)
      val[p] = s
    }
    part = int(vs / 4); if (part < 1) part = 1
    for (i = 0; i < n; i++) {
      k = (i % 10) ":key:" i; t = int(i / 10) % 10; v = val[i % 997]
      if (t < 8) { a[1] = "SET"; a[2] = k; a[3] = substr(v, (i % 16) + 1, vs); cmd(a, 3) }
      else if (t == 8) { a[1] = "RPUSH"; a[2] = k; for (e = 0; e < 4; e++) a[3 + e] = substr(v, e * 4 + 1, part); cmd(a, 6) }
      else { a[1] = "HSET"; a[2] = k; for (e = 0; e < 4; e++) { a[3 + 2 * e] = "f" e; a[4 + 2 * e] = substr(v, e * 4 + 1, part) }; cmd(a, 10) }
      if (i % 10 == 3) { a[1] = "PEXPIRE"; a[2] = k; a[3] = 3600000 + i; cmd(a, 3) }
    }
  }' | redis-cli -p "$src" --pipe >/dev/null
src_keys=$(redis-cli -p "$src" DBSIZE)

gport=$(free_port)
"$reshardd_bin" --grpc_listen="127.0.0.1:$gport" --metrics_listen="127.0.0.1:$(free_port)" \
  >"$work/reshardd.log" 2>&1 &
pids+=("$!")
ctl() { "$reshardctl_bin" --server "127.0.0.1:$gport" "$@"; }
for _ in $(seq 200); do ctl list >/dev/null 2>&1 && break; sleep 0.05; done
targets="" tports=()
for name in a b; do
  tp=$(free_port); lp=$(free_port); start_redis "$name" "$tp"; tports+=("$tp")
  filter='{"regex":"^[0-4]"}'; [ "$name" = a ] || filter='{"regex":"^[5-9]"}'
  [ -z "$targets" ] || targets="$targets,"
  targets="$targets{\"name\":\"$name\",\"filter\":$filter,\"listen\":\"127.0.0.1:$lp\",\"replica\":{\"address\":\"127.0.0.1:$tp\"}}"
done
echo "{\"source\":{\"address\":\"127.0.0.1:$src\"},\"targets\":[$targets]}" >"$work/job.json"
ctl create -f "$work/job.json" --id bench >/dev/null
ctl watch bench >/dev/null
for _ in $(seq 6000); do
  sum=0
  for tp in "${tports[@]}"; do
    n=$(redis-cli -p "$tp" DBSIZE 2>/dev/null || true)
    [[ "$n" =~ ^[0-9]+$ ]] || n=0  # LOADING
    sum=$((sum + n))
  done
  [ "$sum" = "$src_keys" ] && break; sleep 0.05
done
[ "$sum" = "$src_keys" ] || { echo "verify_bench: targets hold $sum keys, source $src_keys" >&2; exit 1; }

echo "source: $(redis-cli -p "$src" INFO server | sed -n 's/^redis_version:\(.*\)\r$/Redis \1/p'), $src_keys keys ($value_size-byte values), split in two"
printf '%-4s %-22s %-22s %-30s %s\n' run "dump source keys/s" "dump all keys/s" "verify keys/s (s, problems)" "verify / dump all"
for run in $(seq "$runs"); do
  one=$("$dump_bin" --port "$src" | json_field keys_per_second)
  t0=$(now)
  "$dump_bin" --port "$src" >"$work/d0" & d0=$!
  "$dump_bin" --port "${tports[0]}" >"$work/d1" & d1=$!
  "$dump_bin" --port "${tports[1]}" >"$work/d2" & d2=$!
  wait "$d0" "$d1" "$d2"
  t1=$(now)
  all=$(awk -v n="$src_keys" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }')
  t0=$(now)
  report=$(ctl -o json verify bench --full --rate 0) || true
  t1=$(now)
  rate=$(echo "$report" | json_field keys_per_second)
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
  problems=$(echo "$report" | awk '/"(missing|stray|different)"/ { gsub(/[^0-9]/, "", $2); s += $2 } END { print s + 0 }')
  state=$(echo "$report" | json_field state)
  [ "$state" = DONE ] || { echo "verify_bench: verification $state: $report" >&2; exit 1; }
  ratio=$(awk -v v="$rate" -v d="$all" 'BEGIN { printf "%.2f", v / d }')
  printf '%-4s %-22.0f %-22s %-30s %s\n' "$run" "$one" "$all" "$(printf '%.0f (%s s, %s)' "$rate" "$secs" "$problems")" "$ratio"
  [ "$problems" = 0 ] || { echo "verify_bench: the verification found $problems problems" >&2; exit 1; }
done
