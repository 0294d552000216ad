#!/usr/bin/env bash
# Snapshot into a Redis Cluster: how fast reshardd fills a 3-master cluster
# from one standalone source, side by side with the alternatives in the same
# run:
#   replica   a fresh empty redis-server does REPLICAOF the source (what one
#             standalone server takes: the ceiling of a full sync here);
#   reshardd  a job with one cluster target (every key) into 3 masters:
#             pipelined RESTORE ... REPLACE to every master at once;
#   import    redis-cli --cluster import --cluster-copy --cluster-replace
#             (SCAN + one MIGRATE per key), the tool Redis ships for this.
# Each mode reports seconds from start until every key is there, and keys/s.
#
# Usage: bench/cluster_bench.sh [--keys N] [--value-size B] [--runs R]
#                               [--modes replica,reshardd,import] [--timeout S] [--keep]
#
# The dataset is bench/lib.sh's fill_dataset (default 1,000,000 keys: 80%
# strings of B bytes, default 100, random letters; 10% lists and 10% hashes).
# The cluster (3 masters, no replicas) is started once and flushed between
# runs; `import` runs once (it is slow), the other modes R times (default 3).
# Every run is checked: the masters hold N keys in all, and 200 keys spread
# over the key space have the source's DUMP payload on the master of their
# slot (redis-cli -c). A failed check exits non-zero.
#
# Needs reshardd and reshardctl built in ${RESHARD_BUILD_DIR:-build}
# (ninja -C build reshardd reshardctl) and redis-server / redis-cli (>= 7.0)
# on PATH. Everything runs under a temporary directory on loopback; every
# process is stopped by PID on exit or Ctrl-C. Logs are kept on failure or
# with --keep.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${RESHARD_BUILD_DIR:-$root/build}"
reshardd_bin="$build/server/reshardd"
reshardctl_bin="$build/client/reshardctl"

keys=1000000
value_size=100
runs=3
modes="replica,reshardd,import"
timeout_s=900
keep=0

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --keys) keys="$2"; shift 2 ;;
    --value-size) value_size="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --modes) modes="$2"; shift 2 ;;
    --timeout) timeout_s="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "cluster_bench: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
[[ "$keys" =~ ^[0-9]+$ && "$keys" -ge 200 ]] || { echo "cluster_bench: --keys must be an integer >= 200" >&2; exit 2; }
[[ "$value_size" =~ ^[0-9]+$ && "$value_size" -ge 4 ]] || { echo "cluster_bench: --value-size must be an integer >= 4" >&2; exit 2; }
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "cluster_bench: --runs must be a positive integer" >&2; exit 2; }
IFS=, read -r -a mode_list <<<"$modes"
for m in "${mode_list[@]}"; do
  case "$m" in
    replica|reshardd|import) ;;
    *) echo "cluster_bench: unknown mode '$m' (replica, reshardd, import)" >&2; exit 2 ;;
  esac
done
for b in "$reshardd_bin" "$reshardctl_bin"; do
  [ -x "$b" ] || { echo "cluster_bench: $b not found (ninja -C $build reshardd reshardctl, or set RESHARD_BUILD_DIR)" >&2; exit 2; }
done
for t in redis-server redis-cli awk python3; do
  command -v "$t" >/dev/null || { echo "cluster_bench: $t not found" >&2; exit 2; }
done

# bench_workdir, free_port, stop_pid, now, elapsed (and pipe_in, fill_dataset)
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_workdir cluster_bench

die() { echo "cluster_bench: FAILED: $*" >&2; exit 1; }
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }

rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%d", (s > 0 ? n / s : 0) }'; }

# start_redis NAME PORT [extra config...]; sets last_pid.
start_redis() {
  local name="$1" port="$2"; shift 2
  mkdir -p "$work/$name"
  redis-server --port "$port" --bind 127.0.0.1 --dir "$work/$name" --save "" --appendonly no \
    --repl-diskless-sync-delay 0 --daemonize no --logfile "$work/$name/redis.log" "$@" &
  last_pid=$!
  pids+=("$last_pid")
  for _ in $(seq 200); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  die "redis-server '$name' did not start on port $port (see $work/$name/redis.log)"
}

# wait_until LABEL COMMAND...: polls COMMAND every 20 ms, up to --timeout.
# The wait itself starts no process (read -t on a pipe that never writes):
# on two cores, a process per poll takes CPU from the servers being timed.
exec {idle_fd}<> <(:)
wait_until() {
  local label="$1"; shift
  local deadline=$(( EPOCHSECONDS + timeout_s ))
  while ! "$@"; do
    [ "$EPOCHSECONDS" -lt "$deadline" ] || die "$label: not done after ${timeout_s}s"
    read -rt 0.02 -u "$idle_fd" || true
  done
}

# dbsize PORT: the server's DBSIZE in $dbsize_reply, over a connection bash
# opens itself (no redis-cli per poll: ~5 ms of CPU each). Fails while the
# server answers something else (-LOADING).
dbsize() {
  local fd reply
  exec {fd}<>"/dev/tcp/127.0.0.1/$1" || return 1
  printf 'DBSIZE\r\n' >&"$fd"
  IFS= read -r reply <&"$fd" || reply=""
  exec {fd}>&-
  reply=${reply%$'\r'}
  [[ "$reply" == :* ]] || return 1
  dbsize_reply=${reply#:}
}

# CPU seconds the three masters used so far.
masters_cpu() {
  local pid total=0
  for pid in "${master_pids[@]}"; do
    total=$(awk -v t="$total" -v c="$(getconf CLK_TCK)" '{ printf "%.2f", t + ($14 + $15) / c }' "/proc/$pid/stat")
  done
  echo "$total"
}

masters_total() {
  local p total=0
  for p in "${masters[@]}"; do
    dbsize "$p" || return 1
    total=$(( total + dbsize_reply ))
  done
  masters_total_reply=$total
}
cluster_has_all() { masters_total && [ "$masters_total_reply" = "$keys" ]; }
cluster_ok() { [ "$(redis-cli -p "$1" CLUSTER INFO 2>/dev/null | tr -d '\r' | awk -F: '/^cluster_state/ { print $2 }')" = ok ]; }

# 200 keys spread over the key space: the source's DUMP payload on the
# master of the key's slot.
check_sample() {
  local label="$1" i k want got
  for i in $(seq 0 $(( keys / 200 )) $(( keys - 1 )) | head -200); do
    k="$(( i % 10 )):key:$i"
    want=$(redis-cli -p "$src_port" --no-raw DUMP "$k")
    got=$(redis-cli -c -p "${masters[0]}" --no-raw DUMP "$k")
    [ -n "$want" ] && [ "$want" = "$got" ] || die "$label: key '$k' differs on the cluster"
  done
}

flush_cluster() {
  local p
  for p in "${masters[@]}"; do redis-cli -p "$p" FLUSHALL >/dev/null; done
}

run_replica() {
  local run="$1" port t0 t1 pid
  port=$(free_port)
  start_redis "replica-$run" "$port"
  pid=$last_pid
  t0=$(now)
  redis-cli -p "$port" REPLICAOF 127.0.0.1 "$src_port" >/dev/null
  # Every key there once the RDB is loaded (-LOADING until then).
  replica_done() { dbsize "$port" && [ "$dbsize_reply" = "$keys" ]; }
  wait_until "replica" replica_done
  t1=$(now)
  [ "$(redis-cli -p "$port" INFO replication | tr -d '\r' | awk -F: '/^master_link_status/ { print $2 }')" = up ] ||
    die "replica run $run: the link is not up"
  stop_pid "$pid"
  secs=$(elapsed "$t0" "$t1")
}

run_reshardd() {
  local run="$1" gport mport lport rpid t0 t1 job spec state
  flush_cluster
  spec="$work/job-$run.json"
  echo "{\"source\":{\"address\":\"127.0.0.1:$src_port\"},\"targets\":[{\"name\":\"c\",\"cluster\":{\"nodes\":[\"127.0.0.1:${masters[0]}\"]}}]}" >"$spec"
  gport=$(free_port); mport=$(free_port)
  mkdir -p "$work/state-$run"
  "$reshardd_bin" --grpc_listen="127.0.0.1:$gport" --metrics_listen="127.0.0.1:$mport" \
    --state_dir="$work/state-$run" >"$work/reshardd-$run.log" 2>&1 &
  rpid=$!
  pids+=("$rpid")
  ctl() { "$reshardctl_bin" --server "127.0.0.1:$gport" "$@"; }
  for _ in $(seq 200); do ctl list >/dev/null 2>&1 && break; sleep 0.05; done
  ctl list >/dev/null 2>&1 || die "reshardd did not answer (see $work/reshardd-$run.log)"
  local masters_cpu0; masters_cpu0=$(masters_cpu)
  t0=$(now)
  job=$(ctl create -f "$spec" | awk '/^created job/ { print $3 }')
  [ -n "$job" ] || die "reshardctl create failed"
  reshardd_done() {
    kill -0 "$rpid" 2>/dev/null || die "reshardd exited (see $work/reshardd-$run.log)"
    cluster_has_all
  }
  wait_until "reshardd" reshardd_done
  t1=$(now)
  state=$(ctl get "$job" | awk 'NR == 1 { print $NF }')
  ctl get "$job" >"$work/job-$run.txt" 2>&1 || true
  case "$state" in FAILED|CANCELLED) die "reshardd: job $state (see $work/job-$run.txt)" ;; esac
  masters_cpu_used+="$(awk -v a="$masters_cpu0" -v b="$(masters_cpu)" 'BEGIN { printf "%.2f", b - a }') "
  local utime stime
  read -r utime stime < <(awk '{ print $14, $15 }' "/proc/$rpid/stat")
  reshardd_cpu+="$(awk -v u="$utime" -v s="$stime" -v t="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", (u + s) / t }') "
  check_sample "reshardd run $run"
  stop_pid "$rpid"
  secs=$(elapsed "$t0" "$t1")
}

run_import() {
  local t0 t1
  flush_cluster
  t0=$(now)
  redis-cli --cluster import "127.0.0.1:${masters[0]}" --cluster-from "127.0.0.1:$src_port" \
    --cluster-copy --cluster-replace >"$work/import.log" 2>&1 || die "redis-cli --cluster import failed (see $work/import.log)"
  t1=$(now)
  cluster_has_all || die "import: the cluster has ${masters_total_reply:-?} keys, the source $keys"
  check_sample "import"
  secs=$(elapsed "$t0" "$t1")
}

# ---------------------------------------------------------------------------

log "source: filling $keys keys ($value_size-byte values)"
src_port=$(free_port)
start_redis source "$src_port"
fill_dataset "$src_port" "$keys" "$value_size"
[ "$(redis-cli -p "$src_port" DBSIZE)" = "$keys" ] || die "the source has $(redis-cli -p "$src_port" DBSIZE) keys, not $keys"

log "cluster: 3 masters"
masters=()
master_pids=()
for i in 0 1 2; do
  p=$(free_port)
  start_redis "node$i" "$p" --cluster-enabled yes --cluster-config-file nodes.conf \
    --cluster-node-timeout 5000 --cluster-port "$(free_port)"
  masters+=("$p")
  master_pids+=("$last_pid")
done
redis-cli --cluster create "${masters[@]/#/127.0.0.1:}" --cluster-replicas 0 --cluster-yes \
  >"$work/cluster-create.log" 2>&1 || die "redis-cli --cluster create failed (see $work/cluster-create.log)"
for p in "${masters[@]}"; do wait_until "cluster_state:ok" cluster_ok "$p"; done

declare -A results
reshardd_cpu=""
masters_cpu_used=""
for m in "${mode_list[@]}"; do
  n=$runs
  [ "$m" = import ] && n=1
  for run in $(seq "$n"); do
    log "$m run $run"
    "run_$m" "$run"  # sets secs
    results["$m"]+="$secs "
    log "$m run $run: ${secs} s = $(rate "$keys" "$secs") keys/s"
  done
done

echo
echo "keys: $keys ($value_size-byte values), $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '| %-8s | %-28s | %-30s |\n' mode "seconds (runs)" "keys/s (runs)"
printf '|----------|------------------------------|--------------------------------|\n'
for m in "${mode_list[@]}"; do
  secs_list=${results[$m]% }
  rates=""
  for s in $secs_list; do rates+="$(rate "$keys" "$s") "; done
  printf '| %-8s | %-28s | %-30s |\n' "$m" "$secs_list" "${rates% }"
done
[ -z "$reshardd_cpu" ] || echo "reshardd runs, CPU seconds: reshardd ${reshardd_cpu% }; the three masters ${masters_cpu_used% }"
