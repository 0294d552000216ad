#!/usr/bin/env bash
# Cutover write-pause benchmark: a source under a paced write load (default
# 10,000 SETs/s from redis-cli --pipe, 1/10 of a second's batch at a time), a
# job splitting it in two managed targets, then `reshardctl cutover --promote`;
# prints the measured write pause (the report's write_pause_ms) of each run.
# Every run uses fresh targets and a fresh job (a promoted target no longer
# replicates). Not run in CI.
#
# Usage: bench/cutover_pause.sh [--rate WRITES_PER_S] [--runs N] [--keys N]
# Needs reshardd and reshardctl in ${RESHARD_BUILD_DIR:-build}, redis-server,
# redis-cli and python3 (for free ports).
set -euo pipefail

rate=10000 runs=3 keys=100000
while [ $# -gt 0 ]; do
  case "$1" in
    --rate) rate="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --keys) keys="$2"; shift 2 ;;
    *) sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
done
build="${RESHARD_BUILD_DIR:-build}"
reshardd_bin="$build/server/reshardd" reshardctl_bin="$build/client/reshardctl"
for f in "$reshardd_bin" "$reshardctl_bin"; do [ -x "$f" ] || { echo "cutover_pause: no $f" >&2; exit 2; }; done

work="$(mktemp -d /tmp/reshard-cutover.XXXXXX)"
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
start_redis() {  # NAME PORT; sets last_pid
  mkdir -p "$work/$1"
  redis-server --port "$2" --bind 127.0.0.1 --dir "$work/$1" --save "" --appendonly no \
    --repl-diskless-sync-delay 0 --logfile "$work/$1/redis.log" &
  last_pid=$!; pids+=("$last_pid")
  for _ in $(seq 200); do redis-cli -p "$2" ping >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "cutover_pause: redis-server $1 did not start" >&2; exit 1
}

src=$(free_port); start_redis source "$src"
awk -v n="$keys" 'BEGIN { for (i = 0; i < n; i++) printf "SET %d:key:%d v%d\r\n", i % 10, i, i }' |
  redis-cli -p "$src" --pipe >/dev/null
gport=$(free_port)
"$reshardd_bin" --grpc_listen="127.0.0.1:$gport" --metrics_listen="127.0.0.1:$(free_port)" \
  >"$work/reshardd.log" 2>&1 &
pids+=("$!")
ctl() { "$reshardctl_bin" --server "127.0.0.1:$gport" "$@"; }
for _ in $(seq 200); do ctl list >/dev/null 2>&1 && break; sleep 0.05; done

# The writer: every 100 ms, rate/10 SETs through one redis-cli --pipe.
writer() {
  local batch=$((rate / 10)) r=0
  while true; do
    awk -v b="$batch" -v r="$r" 'BEGIN { for (j = 0; j < b; j++) printf "SET %d:live:%d r%d\r\n", j % 10, j, r }' |
      redis-cli -p "$src" --pipe >/dev/null 2>&1 || true
    r=$((r + 1)); sleep 0.1
  done
}
writer & wpid=$!; pids+=("$wpid")

printf '%-4s %-14s %-12s %s\n' run write_pause_ms final_offset mode
for run in $(seq "$runs"); do
  targets=""
  for name in a b; do
    tp=$(free_port); lp=$(free_port); start_redis "run$run-$name" "$tp"
    filter='{"regex":"^[0-4]"}'; [ "$name" = a ] || filter='{"regex":"^[5-9]"}'
    [ -z "$targets" ] || targets="$targets,"
    targets="$targets{\"name\":\"$name\",\"filter\":$filter,\"listen\":\"127.0.0.1:$lp\",\"replica\":{\"address\":\"127.0.0.1:$tp\"}}"
  done
  echo "{\"source\":{\"address\":\"127.0.0.1:$src\"},\"targets\":[$targets]}" >"$work/job$run.json"
  ctl create -f "$work/job$run.json" --id "job-bench-$run" >/dev/null
  ctl watch "job-bench-$run" >/dev/null
  sleep 2  # steady streaming under the load
  report=$(ctl -o json cutover "job-bench-$run" --promote --max-write-pause 2s)
  pause=$(echo "$report" | sed -n 's/.*"write_pause_ms": *\([0-9.]*\).*/\1/p')
  offset=$(echo "$report" | sed -n 's/.*"final_offset": *"\([0-9]*\)".*/\1/p')
  mode=$(echo "$report" | sed -n 's/.*"pause_mode": *"\([A-Z]*\)".*/\1/p')
  printf '%-4s %-14s %-12s %s\n' "$run" "$pause" "$offset" "$mode"
  ctl delete "job-bench-$run" >/dev/null
done
