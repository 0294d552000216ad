#!/usr/bin/env bash
# Cutover write-pause benchmark: how long a source's writes wait during
# `reshardctl cutover`, against the same load, side by side in each run with
#   plain    the fastest hand-written switch to a plain replica of the same
#            source (bench/reshard_plain_switch): CLIENT PAUSE 2000 WRITE with
#            the source's offset in one MULTI, the replica's INFO replication
#            polled until it has that offset, REPLICAOF NO ONE, CLIENT UNPAUSE
#            (WAIT would not do: a paused source sends no GETACK, so WAIT waits
#            for the replicas' once-a-second ACK);
#   reshard  `reshardctl cutover JOB --promote --max-write-pause 2s` of a job
#            splitting the source in two managed targets (^[0-4] / ^[5-9]).
# The load is reshard_write_load: WRITES_PER_S SETs a second (default 10,000),
# a pipeline every millisecond; each measurement has a writer of its own, and
# "client max" is the longest a batch of its writes waited. reshard's own
# figure is the report's write_pause_ms (CLIENT PAUSE reply to CLIENT UNPAUSE
# reply). A last column gives a writer's longest wait with no pause at all (the
# noise floor of this machine). Every run starts fresh targets, replica and job.
#
# Usage: bench/cutover_pause.sh [--rate WRITES_PER_S] [--runs N] [--keys N]
# Needs reshardd, reshardctl, bench/reshard_write_load and reshard_plain_switch
# built in ${RESHARD_BUILD_DIR:-build} (ninja -C build reshardd reshardctl
# reshard_write_load reshard_plain_switch),
# redis-server, redis-cli and python3 (free ports). Not run in CI.
set -euo pipefail

rate=10000 runs=5 keys=100000
while [ $# -gt 0 ]; do
  case "$1" in
    --rate) rate="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --keys) keys="$2"; shift 2 ;;
    *) sed -n '2,24p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2 ;;
  esac
done
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${RESHARD_BUILD_DIR:-$root/build}"
reshardd_bin="$build/server/reshardd" reshardctl_bin="$build/client/reshardctl"
load_bin="$build/bench/reshard_write_load" switch_bin="$build/bench/reshard_plain_switch"
for f in "$reshardd_bin" "$reshardctl_bin" "$load_bin" "$switch_bin"; do
  [ -x "$f" ] || { echo "cutover_pause: no $f (ninja -C $build reshardd reshardctl reshard_write_load reshard_plain_switch)" >&2; exit 2; }
done
for t in redis-server redis-cli python3; do
  command -v "$t" >/dev/null || { echo "cutover_pause: $t not found" >&2; exit 2; }
done

work="$(mktemp -d /tmp/reshard-cutover.XXXXXX)"
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
start_redis() {  # NAME PORT [args...]; sets last_pid
  local name="$1" port="$2"; shift 2
  mkdir -p "$work/$name"
  redis-server --port "$port" --bind 127.0.0.1 --dir "$work/$name" --save "" --appendonly no \
    --repl-diskless-sync-delay 0 --logfile "$work/$name/redis.log" "$@" &
  last_pid=$!; pids+=("$last_pid")
  for _ in $(seq 200); do redis-cli -p "$port" ping >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "cutover_pause: redis-server $name did not start" >&2; exit 1
}
stop_pid() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
json_field() {  # FIELD < JSON: a number or a quoted string's contents
  sed -n "s/.*\"$1\": *\"\{0,1\}\([^\",}]*\).*/\1/p" | head -1
}

# A writer for one measurement: started, given 2 s to settle, then EVENT
# (a command) runs, then 1 s more; prints the writer's JSON summary.
measure() {
  local out="$work/writer.$RANDOM.json"
  "$load_bin" --port "$src" --rate "$rate" >"$out" &
  local wpid=$!
  sleep 2
  "$@" >"$work/event.out" 2>&1 || { cat "$work/event.out" >&2; stop_pid "$wpid"; return 1; }
  sleep 1
  kill -TERM "$wpid"; wait "$wpid" || true
  cat "$out"
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

plain_switch() { "$switch_bin" --source-port "$src" --replica-port "$rp" --pause-ms 2000 >"$work/plain.json"; }
nothing() { true; }

echo "source: $(redis-cli -p "$src" INFO server | sed -n 's/^redis_version:\(.*\)\r$/Redis \1/p'), $keys keys, $rate writes/s"
echo "milliseconds: the longest wait of a writer's batch (client), the pause from CLIENT PAUSE to CLIENT UNPAUSE (pause)"
printf '%-4s %-13s %-12s %-15s %-14s %-10s\n' run plain_client plain_pause reshard_client reshard_pause no_pause
for run in $(seq "$runs"); do
  # The plain replica, caught up under the load.
  rp=$(free_port); start_redis "run$run-replica" "$rp"; replica_pid=$last_pid
  redis-cli -p "$rp" REPLICAOF 127.0.0.1 "$src" >/dev/null
  for _ in $(seq 400); do
    redis-cli -p "$rp" INFO replication | grep -q 'master_link_status:up' && break; sleep 0.05
  done
  plain=$(measure plain_switch | json_field max_latency_ms)
  plain_pause=$(json_field write_pause_ms <"$work/plain.json")
  stop_pid "$replica_pid"

  targets="" tpids=()
  for name in a b; do
    tp=$(free_port); lp=$(free_port); start_redis "run$run-$name" "$tp"; tpids+=("$last_pid")
    filter='{"regex":"^[0-4]"}'; [ "$name" = a ] || filter='{"regex":"^[5-9]"}'
    [ -z "$targets" ] || targets="$targets,"
    targets="$targets{\"name\":\"$name\",\"filter\":$filter,\"listen\":\"127.0.0.1:$lp\",\"replica\":{\"address\":\"127.0.0.1:$tp\"}}"
  done
  echo "{\"source\":{\"address\":\"127.0.0.1:$src\"},\"targets\":[$targets]}" >"$work/job$run.json"
  ctl create -f "$work/job$run.json" --id "job-bench-$run" >/dev/null
  ctl watch "job-bench-$run" >/dev/null
  reshard=$(measure ctl -o json cutover "job-bench-$run" --promote --max-write-pause 2s | json_field max_latency_ms)
  report=$(ctl -o json get "job-bench-$run")
  state=$(echo "$report" | sed -n '/"last_cutover"/,$p' | json_field state)
  pause=$(echo "$report" | sed -n '/"last_cutover"/,$p' | json_field write_pause_ms)
  offset=$(echo "$report" | sed -n '/"last_cutover"/,$p' | json_field final_offset)
  [ "$state" = DONE ] || { echo "cutover_pause: run $run: cutover $state" >&2; ctl get "job-bench-$run" >&2; exit 1; }
  noise=$(measure nothing | json_field max_latency_ms)
  printf '%-4s %-13s %-12.2f %-15s %-14.2f %-10s\n' "$run" "$plain" "$plain_pause" "$reshard" "$pause" "$noise"
  ctl delete "job-bench-$run" >/dev/null
  for pid in "${tpids[@]}"; do stop_pid "$pid"; done
done
