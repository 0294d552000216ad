#!/usr/bin/env bash
# One benchmark run that measures everything reshard promises, each figure
# side by side with the direct alternative (a plain Redis replica of the same
# source, in the same run), and prints one table:
#   sync     full sync of --sync-keys keys: direct replica vs reshardd match-all
#            vs two-way split (bench/sync_bench.sh), reshardd's peak RSS and CPU;
#   relay    the source's SET rate (redis-benchmark, pipelined) with a direct
#            replica attached vs with a reshardd job of two targets, and how
#            long each takes to catch up once the burst ends;
#   cross    a burst of --burst SUNIONSTOREs whose keys live on two targets:
#            reshardd's cross-target writes per second and its catch-up after
#            the burst, next to a direct replica's; a plain write on another
#            key every 10 ms meanwhile, timed to each (p50/p99/max), and the
#            same during a burst of same-target SUNIONSTOREs (no copies);
#   jobs     --jobs concurrent jobs of two targets each (sources of --job-keys
#            keys with writes going on): time to sync and catch up vs direct
#            replicas of the same sources, reshardd's CPU, peak RSS, RSS once
#            idle, every job exact;
#   cutover  the write pause of a cutover (bench/cutover_pause.sh, when it
#            exists).
# Every reshardd result is compared key by key with its source (DEBUG
# DIGEST-VALUE and PEXPIRETIME of every key, no stray key: reshard_bench_tool
# compare); a failed check shows as FAILED and the script exits 1.
#
# Usage: bench/run.sh [--only sync,relay,cross,jobs,cutover] [--sync-keys N]
#                     [--relay-sets N] [--burst N] [--jobs N] [--job-keys N] [--keep]
# Defaults: 1000000 sync keys, 1000000 SETs, a burst of 100000, 10 jobs of
# 50000 keys: about 4 minutes on 2 cores. Not part of CI: run it by hand.
#
# Needs reshardd, reshardctl and reshard_bench_tool in ${RESHARD_BUILD_DIR:-build}
# (ninja -C build reshardd reshardctl reshard_bench_tool), redis-server,
# redis-cli and redis-benchmark (Debian's redis-server and redis-tools).
# Everything runs on loopback under a temporary directory; every process is
# stopped by its PID on exit or Ctrl-C; logs are kept on failure or with --keep.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${RESHARD_BUILD_DIR:-$root/build}"
reshardd_bin="$build/server/reshardd"
reshardctl_bin="$build/client/reshardctl"
tool_bin="$build/bench/reshard_bench_tool"

only="sync,relay,cross,jobs,cutover"
sync_keys=1000000
relay_sets=1000000
burst=100000
jobs=10
job_keys=50000
keep=0

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --only) only="$2"; shift 2 ;;
    --sync-keys) sync_keys="$2"; shift 2 ;;
    --relay-sets) relay_sets="$2"; shift 2 ;;
    --burst) burst="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --job-keys) job_keys="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
for n in "$sync_keys" "$relay_sets" "$burst" "$jobs" "$job_keys"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: counts must be positive integers" >&2; exit 2; }
done
for bin in "$reshardd_bin" "$reshardctl_bin" "$tool_bin"; do
  [ -x "$bin" ] || { echo "run.sh: $bin not built (ninja -C $build reshardd reshardctl reshard_bench_tool)" >&2; exit 2; }
done
for bin in redis-server redis-cli redis-benchmark python3; do
  command -v "$bin" >/dev/null || { echo "run.sh: $bin not found" >&2; exit 2; }
done
wants() { [[ ",$only," == *",$1,"* ]]; }

work="$(mktemp -d /tmp/reshard-bench.XXXXXX)"
pids=()
failed=0
rows="$work/rows"
: >"$rows"

cleanup() {
  local status=$?
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "$keep" = 0 ] && [ "$failed" = 0 ] && [ "$status" = 0 ]; then
    rm -rf "$work"
  else
    echo "run.sh: logs kept in $work" >&2
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'echo; echo "run.sh: interrupted" >&2; exit 130' INT TERM

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
# A table row: section | figure | direct | reshardd | note.
row() { printf '%s|%s|%s|%s|%s\n' "$@" >>"$rows"; }
fail_row() { failed=1; row "$1" "$2" "-" "FAILED" "$3"; log "FAILED: $1 $2: $3"; }

# free_port (never the same port twice in a run)
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

# start_redis NAME PORT [config...]: sets last_pid.
start_redis() {
  local name="$1" port="$2"; shift 2
  mkdir -p "$work/$name"
  redis-server --port "$port" --bind 127.0.0.1 --dir "$work/$name" --save "" --appendonly no \
    --repl-diskless-sync-delay 0 --enable-debug-command local --daemonize no \
    --logfile "$work/$name/redis.log" "$@" &
  last_pid=$!
  pids+=("$last_pid")
  for _ in $(seq 200); do
    redis-cli -p "$port" ping >/dev/null 2>&1 && return 0
    sleep 0.05
  done
  echo "run.sh: redis-server '$name' did not start on :$port" >&2
  return 1
}
rcli() { local port="$1"; shift; redis-cli -p "$port" "$@"; }
# The source's master_repl_offset.
repl_offset() { rcli "$1" INFO replication | sed -n 's/^master_repl_offset:\([0-9]*\).*/\1/p'; }

# start_reshardd NAME: sets rd_pid and rd_grpc.
start_reshardd() {
  rd_grpc="127.0.0.1:$(free_port)"
  "$reshardd_bin" --grpc_listen="$rd_grpc" --metrics_listen="127.0.0.1:$(free_port)" \
    >"$work/reshardd-$1.log" 2>&1 &
  rd_pid=$!
  pids+=("$rd_pid")
  for _ in $(seq 200); do ctl list >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "run.sh: reshardd did not answer (see $work/reshardd-$1.log)" >&2
  return 1
}
ctl() { "$reshardctl_bin" --server "$rd_grpc" "$@"; }

# job_spec SOURCE_PORT NAME=REGEX=TARGET_PORT...: a spec with managed targets.
job_spec() {
  local src="$1" targets="" t name regex port; shift
  for t in "$@"; do
    name="${t%%=*}"; port="${t##*=}"; regex="${t#*=}"; regex="${regex%=*}"
    [ -z "$targets" ] || targets="$targets,"
    targets="$targets{\"name\":\"$name\",\"filter\":{\"regex\":\"$regex\"},\"listen\":\"127.0.0.1:$(free_port)\",\"replica\":{\"address\":\"127.0.0.1:$port\"}}"
  done
  echo "{\"source\":{\"address\":\"127.0.0.1:$src\"},\"targets\":[$targets]}"
}
# create_job SPEC_FILE: prints the job id.
create_job() { ctl create -f "$1" | awk '/^created job/ { print $3 }'; }
job_state() { ctl get "$1" 2>/dev/null | awk 'NR == 1 { print $NF }'; }
# wait_streaming JOB [TIMEOUT_S]
wait_streaming() {
  local deadline=$(( $(date +%s) + ${2:-300} )) state
  while true; do
    state=$(job_state "$1")
    [ "$state" = STREAMING ] && return 0
    case "$state" in FAILED|CANCELLED) ctl get "$1" >&2; return 1 ;; esac
    [ "$(date +%s)" -lt "$deadline" ] || { ctl get "$1" >&2; return 1; }
    sleep 0.1
  done
}
# marker SOURCE_PORT KEY TARGET_PORT: sets KEY on the source, prints the
# seconds until the target has it.
marker() {
  rcli "$1" SET "$2" 1 >/dev/null
  "$tool_bin" wait-key "$3" "$2" 300
}
kb_field() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
cpu_s() {
  local utime stime
  read -r utime stime < <(awk '{ print $14, $15 }' "/proc/$1/stat")
  awk -v u="$utime" -v s="$stime" -v t="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", (u + s) / t }'
}
# compare SOURCE_PORT DBS PORT=REGEX...: "exact: N keys", or the differences (status 1).
compare() {
  local src="$1" dbs="$2" args=() t; shift 2
  for t in "$@"; do args+=(--target "$t"); done
  "$tool_bin" compare --source "$src" --dbs "$dbs" "${args[@]}"
}
# pipe_resp: stdin (RESP) into the server; fails on any error reply.
pipe_resp() {
  local out
  out="$(redis-cli -p "$1" --pipe 2>&1)" || { echo "$out" >&2; return 1; }
  grep -q 'errors: 0,' <<<"$out" || { echo "$out" >&2; return 1; }
}

# A 100-byte value of random letters.
value100="$(python3 -c 'import random, string; random.seed(7); print("".join(random.choice(string.ascii_letters) for _ in range(100)))')"

# RESP for N keys "<d>:key:<i>" (d = i mod 10): strings of 100 bytes, every
# tenth a hash of 4 fields.
fill_keys_resp() {
  awk -v n="$1" -v v="$value100" '
    function cmd(a, c,   s, i) {
      s = "*" c "\r\n"
      for (i = 1; i <= c; i++) s = s "$" length(a[i]) "\r\n" a[i] "\r\n"
      printf "%s", s
    }
    BEGIN {
      for (i = 0; i < n; i++) {
        k = (i % 10) ":key:" i
        if (int(i / 10) % 10 == 9) {
          a[1] = "HSET"; a[2] = k
          for (e = 0; e < 4; e++) { a[3 + 2 * e] = "f" e; a[4 + 2 * e] = substr(v, e * 20 + 1, 25) }
          cmd(a, 10)
        } else {
          a[1] = "SET"; a[2] = k; a[3] = substr(v, 1 + i % 7, 93); cmd(a, 3)
        }
      }
    }'
}

# The SET rate redis-benchmark reports (requests per second).
bench_sets() {
  local port="$1" n="$2" out
  out="$(redis-benchmark -p "$port" -n "$n" -P 16 -c 50 -r 1000000 -q SET 'k:__rand_int__' "$value100" 2>&1)"
  sed -n 's/.*: \([0-9]*\)[0-9.]* requests per second.*/\1/p' <<<"$out" | tail -1
}

# ---------------------------------------------------------------------------
# sync: bench/sync_bench.sh, its table parsed.

run_sync() {
  log "sync: bench/sync_bench.sh --keys $sync_keys"
  local out status=0
  out="$(RESHARD_BUILD_DIR="$build" "$root/bench/sync_bench.sh" --keys "$sync_keys" 2>"$work/sync_bench.err")" || status=$?
  echo "$out" >"$work/sync_bench.out"
  local d a s
  d="$(awk '$1 == "direct" { print $2 }' <<<"$out")"
  a="$(awk '$1 == "all" { print $2 " " $3 " " $4 " " $5 }' <<<"$out")"
  s="$(awk '$1 == "split" { print $2 " " $3 " " $4 " " $5 }' <<<"$out")"
  if [ "$status" != 0 ] || [ -z "$d" ] || [ -z "$a" ] || [ -z "$s" ]; then
    fail_row sync "full sync, $sync_keys keys" "see $work/sync_bench.out"
    return
  fi
  local a_s a_x a_rss a_cpu s_s s_x s_rss s_cpu
  read -r a_s a_x a_rss a_cpu <<<"$a"
  read -r s_s s_x s_rss s_cpu <<<"$s"
  row sync "full sync of $sync_keys keys, s" "$d" "match-all $a_s (${a_x}×), split $s_s (${s_x}×)" \
    "peak RSS $a_rss / $s_rss MB, CPU $a_cpu / $s_cpu s; digests and key counts equal"
}

# ---------------------------------------------------------------------------
# relay: the source's SET rate with a direct replica, then with reshardd.

run_relay() {
  local src rep t1 t2 rate_direct rate_rd catch_direct catch_rd c1 c2 job check
  # Direct replica.
  src=$(free_port); rep=$(free_port)
  start_redis relay-direct-source "$src"; local src_pid=$last_pid
  start_redis relay-direct-replica "$rep"; local rep_pid=$last_pid
  rcli "$rep" REPLICAOF 127.0.0.1 "$src" >/dev/null
  marker "$src" m:ready "$rep" >/dev/null
  log "relay: $relay_sets SETs with a direct replica"
  rate_direct=$(bench_sets "$src" "$relay_sets")
  catch_direct=$(marker "$src" m:end "$rep")
  stop_pid "$rep_pid"; stop_pid "$src_pid"
  # reshardd, two targets split by the key's last digit.
  src=$(free_port); t1=$(free_port); t2=$(free_port)
  start_redis relay-source "$src"; src_pid=$last_pid
  start_redis relay-a "$t1"; local t1_pid=$last_pid
  start_redis relay-b "$t2"; local t2_pid=$last_pid
  start_reshardd relay
  job_spec "$src" "a=[0-4]\$=$t1" "b=[5-9]\$=$t2" >"$work/relay.json"
  job=$(create_job "$work/relay.json")
  if ! wait_streaming "$job"; then fail_row relay "SET rate" "job did not stream"; stop_pid "$rd_pid"; return; fi
  marker "$src" m:ready0 "$t1" >/dev/null
  log "relay: $relay_sets SETs through reshardd"
  local cpu0; cpu0=$(cpu_s "$rd_pid")
  rate_rd=$(bench_sets "$src" "$relay_sets")
  c1=$(marker "$src" m:end0 "$t1"); c2=$(marker "$src" m:end9 "$t2")
  catch_rd=$(awk -v a="$c1" -v b="$c2" 'BEGIN { print (a > b ? a : b) }')
  local cpu; cpu=$(awk -v a="$cpu0" -v b="$(cpu_s "$rd_pid")" 'BEGIN { printf "%.2f", b - a }')
  local hwm; hwm=$(mb "$(kb_field "$rd_pid" VmHWM)")
  if check=$(compare "$src" 1 "$t1=[0-4]\$" "$t2=[5-9]\$"); then
    row relay "source SET rate, $relay_sets pipelined SETs, /s" "$rate_direct" "$rate_rd ($(ratio "$rate_rd" "$rate_direct")×)" \
      "reshardd CPU $cpu s, peak RSS $hwm MB; $check"
    row relay "catch-up once the SETs end, s" "$catch_direct" "$catch_rd" "last write on the replica / on both targets"
  else
    fail_row relay "SET rate" "$check"
  fi
  stop_pid "$rd_pid"; stop_pid "$t2_pid"; stop_pid "$t1_pid"; stop_pid "$src_pid"
}

# ---------------------------------------------------------------------------
# cross: bursts of SUNIONSTORE d:<i> s:<i> (d: on target a, s: on target b),
# and, to tell what the copies cost other keys, of SUNIONSTORE f:<i> c:<i>
# (both on target a: nothing to copy).

# RESP for SUNIONSTORE <prefix>:<i> s:<i>, i < n, then one whose destination
# is on each target: every cross-target write waits for its copy in the
# source's order, so these arrive after the whole burst.
burst_resp() {
  awk -v n="$1" -v p="$2" 'BEGIN {
      for (i = 0; i < n; i++) {
        d = p ":" i; s = "s:" i
        printf "*3\r\n$11\r\nSUNIONSTORE\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length(d), d, length(s), s
      }
      d = p ":last"; z = "z" p ":last"
      printf "*3\r\n$11\r\nSUNIONSTORE\r\n$%d\r\n%s\r\n$3\r\ns:0\r\n", length(d), d
      printf "*3\r\n$11\r\nSUNIONSTORE\r\n$%d\r\n%s\r\n$3\r\nd:0\r\n", length(z), z
    }'
}

# wait_all OUT_FILE PORT=KEY...: waits (1 ms polls, in parallel) until each
# port has its key; the longest wait in seconds into OUT_FILE. Fails when
# one did not come within 300 s.
wait_all() {
  local out="$1" waiters=() i=0 t status=0; shift
  rm -f "$out".*
  for t in "$@"; do
    "$tool_bin" wait-key "${t%%=*}" "${t#*=}" 300 >"$out.$i" &
    waiters+=($!); i=$((i + 1))
  done
  for t in "${waiters[@]}"; do wait "$t" || status=1; done
  cat "$out".* | sort -n | tail -1 >"$out"
  return "$status"
}

# RESP for SUNIONSTORE f:<i> c:<i>, i < n, then f:last: all on target a.
same_target_resp() {
  awk -v n="$1" 'BEGIN {
      for (i = 0; i <= n; i++) {
        d = (i < n) ? "f:" i : "f:last"; s = (i < n) ? "c:" i : "c:0"
        printf "*3\r\n$11\r\nSUNIONSTORE\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length(d), d, length(s), s
      }
    }'
}

# probe_during OUT PREFIX: a plain write on another key (PREFIX:probe:<i>,
# target b) every 10 ms for 4 s, timed to run_cross's target b and replica,
# in the background (sets probe_pid); the burst starts a second in.
probe_during() {
  "$tool_bin" probe --source "$src" --target "$t2" --target "$rep" --seconds 4 --every-ms 10 \
    --prefix "$2:probe" >"$1" &
  probe_pid=$!
  pids+=("$probe_pid")
  sleep 1
}
# probe_figures OUT PORT: the probe's p50 / p99 / max for PORT.
probe_figures() {
  awk -v p=":$2" '$1 == p { print "p50 " $5 " / p99 " $7 " / max " $9 " ms" }' "$1"
}

run_cross() {
  local src rep t1 t2 job check
  src=$(free_port); rep=$(free_port); t1=$(free_port); t2=$(free_port)
  start_redis cross-source "$src"; local src_pid=$last_pid
  start_redis cross-replica "$rep"; local rep_pid=$last_pid
  start_redis cross-a "$t1"; local t1_pid=$last_pid
  start_redis cross-b "$t2"; local t2_pid=$last_pid
  log "cross: $burst sets to union"
  awk -v n="$burst" 'BEGIN {
      for (i = 0; i < n; i++) {
        k = "s:" i; m = "x" i
        printf "*5\r\n$4\r\nSADD\r\n$%d\r\n%s\r\n$2\r\nm1\r\n$2\r\nm2\r\n$%d\r\n%s\r\n", length(k), k, length(m), m
        k = "c:" i
        printf "*5\r\n$4\r\nSADD\r\n$%d\r\n%s\r\n$2\r\nm1\r\n$2\r\nm2\r\n$%d\r\n%s\r\n", length(k), k, length(m), m
      }
    }' | pipe_resp "$src"
  same_target_resp "$burst" >"$work/burst-same.resp"
  burst_resp "$burst" d >"$work/burst-live.resp"
  burst_resp "$burst" e >"$work/burst-backlog.resp"
  rcli "$rep" REPLICAOF 127.0.0.1 "$src" >/dev/null
  start_reshardd cross
  job_spec "$src" "a=^[a-m]=$t1" "b=^[n-z]=$t2" >"$work/cross.json"
  job=$(create_job "$work/cross.json")
  if ! wait_streaming "$job"; then fail_row cross "writes/s" "job did not stream"; stop_pid "$rd_pid"; return; fi
  marker "$src" c:ready "$t1" >/dev/null
  marker "$src" c:ready "$rep" >/dev/null

  # 0. The control: a burst of the same size and kind on one target
  # (nothing to copy), a plain write on another key meanwhile.
  local probe_pid
  probe_during "$work/probe-same.txt" x
  log "cross: $burst same-target SUNIONSTOREs, live"
  pipe_resp "$src" <"$work/burst-same.resp"
  wait_all "$work/wait-same" "$rep=f:last" "$t1=f:last"
  wait "$probe_pid" || true

  # 1. Live: the burst as fast as the source runs it, a plain write on
  # another key (probe:<i>, target b) meanwhile.
  probe_during "$work/probe.txt" y
  log "cross: $burst SUNIONSTOREs, live"
  local cpu0; cpu0=$(cpu_s "$rd_pid")
  local t0 t_src
  t0=$(now)
  pipe_resp "$src" <"$work/burst-live.resp"
  t_src=$(now)
  wait_all "$work/wait-rep" "$rep=zd:last"
  wait_all "$work/wait-rd" "$t1=d:last" "$t2=zd:last"
  local rep_after rd_after src_s
  rep_after=$(cat "$work/wait-rep"); rd_after=$(cat "$work/wait-rd")
  src_s=$(elapsed "$t0" "$t_src")
  wait "$probe_pid" || true
  local cpu; cpu=$(awk -v a="$cpu0" -v b="$(cpu_s "$rd_pid")" 'BEGIN { printf "%.2f", b - a }')

  # 2. A backlog: the burst written while the replica and reshardd are
  # stopped (SIGSTOP), then each let go alone, timed until it has it all.
  log "cross: $burst SUNIONSTOREs, as a backlog"
  kill -STOP "$rep_pid" "$rd_pid"
  pipe_resp "$src" <"$work/burst-backlog.resp"
  local t_cont
  t_cont=$(now); kill -CONT "$rep_pid"
  wait_all "$work/drain-rep" "$rep=ze:last"
  local drain_rep; drain_rep=$(elapsed "$t_cont" "$(now)")
  t_cont=$(now); kill -CONT "$rd_pid"
  wait_all "$work/drain-rd" "$t1=e:last" "$t2=ze:last"
  local drain_rd; drain_rd=$(elapsed "$t_cont" "$(now)")

  local materialized
  sleep 0.3  # the job's status is published every 100 ms
  materialized=$(ctl -o json get "$job" | python3 -c 'import json,sys; j=json.load(sys.stdin); print(sum(int(t.get("keys_materialized", 0)) for t in j["status"]["targets"]))' 2>/dev/null || echo "?")
  per_s() { awk -v n="$burst" -v s="$1" 'BEGIN { printf "%.0f", n / s }'; }
  if check=$(compare "$src" 1 "$t1=^[a-m]" "$t2=^[n-z]"); then
    row cross "$burst cross-target SUNIONSTOREs written live: applied, /s" \
      "$(per_s "$(awk -v a="$src_s" -v b="$rep_after" 'BEGIN { print a + b }')")" \
      "$(per_s "$(awk -v a="$src_s" -v b="$rd_after" 'BEGIN { print a + b }')")" \
      "the source ran them in $src_s s; reshardd CPU $cpu s"
    row cross "catch-up once that burst ends, s" "$rep_after" "$rd_after" "goal ≤ 1 s"
    row cross "a plain write on another key during it (every 10 ms)" \
      "$(probe_figures "$work/probe.txt" "$rep")" "$(probe_figures "$work/probe.txt" "$t2")" \
      "from the source's reply until read on the replica / target"
    row cross "the same during $burst same-target SUNIONSTOREs (nothing to copy)" \
      "$(probe_figures "$work/probe-same.txt" "$rep")" \
      "$(probe_figures "$work/probe-same.txt" "$t2")" "the control: what the copies add"
    row cross "the same burst as a backlog (replica / reshardd stopped, then let go): applied, /s" \
      "$(per_s "$drain_rep")" "$(per_s "$drain_rd")" \
      "$drain_rep s / $drain_rd s; $materialized keys copied in all; $check"
  else
    fail_row cross "cross-target writes" "$check"
  fi
  stop_pid "$rd_pid"
  for p in "$t2_pid" "$t1_pid" "$rep_pid" "$src_pid"; do stop_pid "$p"; done
}

# ---------------------------------------------------------------------------
# jobs: N concurrent jobs of two targets (one reshardd) vs N direct replicas.

# start_writers ARRAY PORT...: 20000 pipelined SETs on each source, in the
# background; their PIDs into ARRAY.
start_writers() {
  local -n out_pids="$1"; shift
  local s
  for s in "$@"; do
    redis-benchmark -p "$s" -n 20000 -P 4 -c 2 -r 100000 -q SET '__rand_int__' "$value100" \
      >/dev/null 2>&1 &
    out_pids+=($!)
  done
}

# wait_markers SOURCE... -- A_TARGET... B_TARGET...: a marker on each source,
# for its first target (0:end) and its second (9:end), waited for together.
wait_markers() {
  local srcs=() ports=() i args=() n
  while [ "$1" != -- ]; do srcs+=("$1"); shift; done
  shift
  ports=("$@")
  n=${#srcs[@]}
  for i in $(seq 0 $((n - 1))); do
    rcli "${srcs[$i]}" SET 0:end 1 >/dev/null
    rcli "${srcs[$i]}" SET 9:end 1 >/dev/null
    args+=("${ports[$i]}=0:end" "${ports[$((n + i))]}=9:end")
  done
  wait_all "$work/markers" "${args[@]}"
}

run_jobs() {
  local j srcs=() src_pids=() tas=() tbs=() t_pids=() job_ids=()
  log "jobs: $jobs sources of $job_keys keys"
  fill_keys_resp "$job_keys" >"$work/job-fill.resp"
  for j in $(seq "$jobs"); do
    local s a b; s=$(free_port); a=$(free_port); b=$(free_port)
    start_redis "jobs-source-$j" "$s"; src_pids+=("$last_pid")
    pipe_resp "$s" <"$work/job-fill.resp"
    start_redis "jobs-a-$j" "$a"; t_pids+=("$last_pid")
    start_redis "jobs-b-$j" "$b"; t_pids+=("$last_pid")
    srcs+=("$s"); tas+=("$a"); tbs+=("$b")
  done
  for j in $(seq 0 $((jobs - 1))); do
    job_spec "${srcs[$j]}" "a=^[0-4]=${tas[$j]}" "b=^[5-9]=${tbs[$j]}" >"$work/jobs-$j.json"
  done
  start_reshardd jobs
  local t0; t0=$(now)
  # All created at once, with writes on every source while they sync.
  local creators=() writers=()
  for j in $(seq 0 $((jobs - 1))); do
    create_job "$work/jobs-$j.json" >"$work/jobs-$j.id" &
    creators+=($!)
  done
  start_writers writers "${srcs[@]}"
  wait "${creators[@]}" || true
  for j in $(seq 0 $((jobs - 1))); do job_ids+=("$(cat "$work/jobs-$j.id")"); done
  local ok=1
  for id in "${job_ids[@]}"; do wait_streaming "$id" || ok=0; done
  wait "${writers[@]}" || true
  wait_markers "${srcs[@]}" -- "${tas[@]}" "${tbs[@]}" || ok=0
  local t_rd; t_rd=$(elapsed "$t0" "$(now)")
  local hwm cpu; hwm=$(mb "$(kb_field "$rd_pid" VmHWM)"); cpu=$(cpu_s "$rd_pid")
  sleep 5  # idle
  local idle; idle=$(mb "$(kb_field "$rd_pid" VmRSS)")
  local exact=0 check
  for j in $(seq 0 $((jobs - 1))); do
    if check=$(compare "${srcs[$j]}" 1 "${tas[$j]}=^[0-4]" "${tbs[$j]}=^[5-9]"); then
      exact=$((exact + 1))
    else
      echo "job $j: $check" >>"$work/jobs-compare.txt"
    fi
  done
  stop_pid "$rd_pid"
  for p in "${t_pids[@]}"; do stop_pid "$p"; done
  # The direct alternative: a replica of each source, all at once.
  local reps=() rep_pids=()
  for j in $(seq "$jobs"); do
    local r; r=$(free_port)
    start_redis "jobs-replica-$j" "$r"; rep_pids+=("$last_pid"); reps+=("$r")
  done
  t0=$(now)
  writers=()
  for j in $(seq 0 $((jobs - 1))); do rcli "${reps[$j]}" REPLICAOF 127.0.0.1 "${srcs[$j]}" >/dev/null; done
  start_writers writers "${srcs[@]}"
  wait "${writers[@]}" || true
  wait_markers "${srcs[@]}" -- "${reps[@]}" "${reps[@]}" || ok=0
  local t_direct; t_direct=$(elapsed "$t0" "$(now)")
  for p in "${rep_pids[@]}" "${src_pids[@]}"; do stop_pid "$p"; done
  if [ "$ok" = 1 ] && [ "$exact" = "$jobs" ]; then
    row jobs "$jobs concurrent jobs of 2 targets ($job_keys keys each, writes going on): synced and caught up, s" \
      "$t_direct" "$t_rd" "reshardd CPU $cpu s; all $jobs exact"
    row jobs "reshardd RSS with $jobs jobs (20 targets): peak / idle, MB" "-" "$hwm / $idle" "goal: idle ≤ 100 MB"
  else
    fail_row jobs "$jobs concurrent jobs" "$exact of $jobs exact (see $work/jobs-compare.txt)"
  fi
}

# ---------------------------------------------------------------------------
# cutover: bench/cutover_pause.sh (5 runs at 10k writes/s): the source's
# write pause of a hand-written switch to a plain replica and of reshardd's
# cutover, min-max over the runs, and the longest wait of a writer.

run_cutover() {
  local script="$root/bench/cutover_pause.sh" out
  log "cutover: $script --runs 5"
  if ! out="$(RESHARD_BUILD_DIR="$build" "$script" --runs 5 2>"$work/cutover.err")"; then
    fail_row cutover "write pause of a cutover" "see $work/cutover.err"
    return
  fi
  printf '%s\n' "$out" >"$work/cutover.out"
  # Rows: run plain_client plain_pause reshard_client reshard_pause no_pause.
  local ranges
  ranges="$(awk '$1 ~ /^[0-9]+$/ && NF == 6 {
      for (c = 2; c <= 6; c++) {
        if (!(c in lo) || $c < lo[c]) lo[c] = $c
        if (!(c in hi) || $c > hi[c]) hi[c] = $c
      }
      n++
    }
    END {
      if (n == 0) exit 1
      printf "%s|%s|%s", lo[3] "-" hi[3] " ms (a writer waited " lo[2] "-" hi[2] ")",
        lo[5] "-" hi[5] " ms (a writer waited " lo[4] "-" hi[4] ")",
        n " runs, 10k writes/s, two managed targets promoted; a writer with no pause: " lo[6] "-" hi[6] " ms"
    }' <<<"$out")" || { fail_row cutover "write pause of a cutover" "no runs in $work/cutover.out"; return; }
  row cutover "write pause of a cutover (plain: a hand-written switch to a replica)" \
    "${ranges%%|*}" "$(cut -d'|' -f2 <<<"$ranges")" "$(cut -d'|' -f3 <<<"$ranges")"
}

# ---------------------------------------------------------------------------

machine="$(nproc) cpus, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1), $(free -g | awk '/^Mem:/ { print $2 " GiB RAM" }')"
log "machine: $machine; load $(cut -d' ' -f1-3 /proc/loadavg)"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
started="$(now)"
wants sync && run_sync
wants relay && run_relay
wants cross && run_cross
wants jobs && run_jobs
wants cutover && run_cutover

echo
echo "machine: $machine; redis $(redis-server --version | awk '{ print $3 }'); reshardd $reshardd_bin"
echo "load before / after: $load_before / $(cut -d' ' -f1-3 /proc/loadavg); $(elapsed "$started" "$(now)") s in all"
echo
echo "| section | figure | direct replica | reshardd | notes |"
echo "|---|---|---:|---:|---|"
while IFS='|' read -r section figure direct reshardd note; do
  echo "| $section | $figure | $direct | $reshardd | $note |"
done <"$rows"
[ "$failed" = 0 ] || { echo "run.sh: some checks FAILED (see above)" >&2; exit 1; }
