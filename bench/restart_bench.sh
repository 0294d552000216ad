#!/usr/bin/env bash
# What a restart of reshardd costs, measured: a source of N keys (DEBUG
# POPULATE, 100-byte values) split by hash slot into two managed targets,
# writes running (redis-benchmark SETs over 100k keys), then:
#   initial    the job's first full sync (creation -> every target STREAMING)
#   kill       SIGKILL reshardd, 2 s down, start it again
#   term       SIGTERM reshardd, 2 s down, start it again
#   small      SIGKILL, the source's repl-backlog-size cut to 16 KB, 2 s down
#              (its backlog moves on), start it again
# For each: seconds until the job and every target stream again, the
# source's forks for replicas (INFO stats sync_full), and the targets' full
# and partial resyncs (their logs). Checked at the end, once writes stopped
# and every target acknowledged the source's last offset: the targets' key
# counts add up to the source's (the slot ranges give every key to exactly
# one target).
#
# Usage: bench/restart_bench.sh [--keys N] [--keep]
# Needs reshardd and reshardctl built in ${RESHARD_BUILD_DIR:-build}, and
# redis-server, redis-cli, redis-benchmark on PATH. Everything runs under a
# temporary directory on loopback; every process is stopped by PID on exit.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${RESHARD_BUILD_DIR:-$root/build}"
keys=1000000
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --keys) keys="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    *) echo "restart_bench: unknown argument '$1'" >&2; exit 2 ;;
  esac
done

work="$(mktemp -d "${TMPDIR:-/tmp}/restart_bench.XXXXXX")"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -n "${reshardd_pid:-}" ] && kill "$reshardd_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  if [ "$keep" = 0 ]; then rm -rf "$work"; else echo "kept $work"; fi
}
trap cleanup EXIT INT TERM

# free_port (never the same port twice in a run)
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
start_redis() {  # name port args...
  local name=$1 port=$2; shift 2
  mkdir -p "$work/$name"
  redis-server --port "$port" --bind 127.0.0.1 --dir "$work/$name" --save "" --appendonly no \
    --repl-diskless-sync-delay 0 --logfile "$work/$name.log" "$@" &
  pids+=($!)
  for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && return; sleep 0.05; done
  echo "restart_bench: $name did not start" >&2; exit 1
}

src=$(free_port); a=$(free_port); b=$(free_port); la=$(free_port); lb=$(free_port)
start_redis source "$src" --repl-backlog-size 256mb --enable-debug-command yes
start_redis a "$a"
start_redis b "$b"
redis-cli -p "$src" DEBUG POPULATE "$keys" key 100 >/dev/null

ctl() { "$build/client/reshardctl" --server "127.0.0.1:$grpc" "$@"; }
start_reshardd() {
  "$build/server/reshardd" --grpc_listen=127.0.0.1:0 --metrics_listen= \
    --state_dir="$work/state" 2>"$work/reshardd.$1.log" &
  reshardd_pid=$!
  for _ in $(seq 200); do
    grpc=$(sed -n 's/.*gRPC listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$work/reshardd.$1.log")
    [ -n "$grpc" ] && return
    sleep 0.05
  done
  echo "restart_bench: reshardd did not start" >&2; exit 1
}
streaming() {
  ctl -o json get job-bench 2>/dev/null | python3 -c '
import json, sys
s = json.load(sys.stdin)["status"]
ok = s["state"] == "STREAMING" and all(t["state"] == "STREAMING" for t in s["targets"])
sys.exit(0 if ok else 1)'
}
wait_streaming() {  # prints seconds since $1 (date +%s.%N)
  for _ in $(seq 12000); do
    if streaming; then python3 -c "import time; print(f'{time.time() - $1:.2f}')"; return; fi
    sleep 0.05
  done
  echo "restart_bench: the job did not stream" >&2; exit 1
}
count() { grep -c "$2" "$work/$1.log" || true; }
forks() { redis-cli -p "$src" info stats | sed -n 's/^sync_full:\([0-9]*\).*/\1/p'; }
report() {  # case seconds forks-before
  printf '%-8s %8s s   forks %s   full resyncs a/b %s/%s   partial a/b %s/%s\n' "$1" "$2" \
    "$(( $(forks) - $3 ))" "$(count a 'Full resync from master')" "$(count b 'Full resync from master')" \
    "$(count a 'Successful partial resynchronization')" "$(count b 'Successful partial resynchronization')"
}

start_reshardd 0
cat >"$work/job.json" <<JSON
{"source": {"address": "127.0.0.1:$src"},
 "targets": [
  {"name": "a", "filter": {"slots": "0-8191"}, "listen": "127.0.0.1:$la", "replica": {"address": "127.0.0.1:$a"}},
  {"name": "b", "filter": {"slots": "8192-16383"}, "listen": "127.0.0.1:$lb", "replica": {"address": "127.0.0.1:$b"}}]}
JSON
echo "keys: $keys; $(nproc) cores; $(redis-server --version | cut -d' ' -f1-3)"
redis-benchmark -p "$src" -t set -n 2000000000 -r 100000 -c 2 -q >/dev/null 2>&1 &
pids+=($!)
t0=$(date +%s.%N); f0=$(forks)
ctl create -f "$work/job.json" --id job-bench >/dev/null
report initial "$(wait_streaming "$t0")" "$f0"

restart() {  # case signal
  local f=$(forks)
  kill "-$2" "$reshardd_pid"; wait "$reshardd_pid" 2>/dev/null || true
  sleep 2
  local t=$(date +%s.%N)
  start_reshardd "$1"
  report "$1" "$(wait_streaming "$t")" "$f"
}
restart kill KILL
restart term TERM
redis-cli -p "$src" config set repl-backlog-size 16kb >/dev/null
restart small KILL
ctl -o json get job-bench | python3 -c 'import json,sys; print("restore_detail:", json.load(sys.stdin)["status"]["restore_detail"])'

# Writes stop; once the job has caught up every key is on exactly its target.
kill "${pids[-1]}"
sleep 1
end=$(redis-cli -p "$src" info replication | sed -n 's/^master_repl_offset:\([0-9]*\).*/\1/p')
for _ in $(seq 600); do
  got=$(ctl -o json get job-bench | python3 -c 'import json,sys; s=json.load(sys.stdin)["status"]; print(min(int(t.get("source_acked_offset", 0)) for t in s["targets"]))')
  [ "$got" -ge "$end" ] && break
  sleep 0.1
done
total=$(redis-cli -p "$src" dbsize); na=$(redis-cli -p "$a" dbsize); nb=$(redis-cli -p "$b" dbsize)
echo "keys: source $total, a $na + b $nb = $((na + nb))"
[ "$((na + nb))" = "$total" ] || { echo "restart_bench: key counts differ" >&2; exit 1; }
