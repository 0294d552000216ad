#!/usr/bin/env bash
# Full-sync benchmark: how long a complete initial sync of one dataset takes
#   direct  a fresh empty redis-server does REPLICAOF the source;
#   all     through reshardd, one managed target with a match-all filter;
#   split   through reshardd, two managed targets (regex ^[0-4] / ^[5-9]);
# and reshardd's peak RSS (VmHWM of a fresh reshardd per run) and CPU time.
#
# Usage: bench/sync_bench.sh [--keys N] [--value-size B] [--modes direct,all,split]
#                            [--diskless yes|no] [--timeout SECONDS] [--keep]
#        bench/sync_bench.sh --huge [--modes direct,all] [...]
#
# Default dataset: N keys (default 1000000) in db 0, named D:key:I with D the
# first digit (so ^[0-4] / ^[5-9] split them in half); 80% strings of B bytes
# (default 100, random letters so that RDB LZF compression does not shrink
# them), 10% lists and 10% hashes of 4 elements of B/4 bytes each.
#
# --huge: instead, one 512 MiB string (8 APPENDs of 64 MiB of base64 random
# data, not compressible) and one set of 5,000,000 members; modes default to
# direct,all; verifies STRLEN, SCARD and DEBUG DIGEST-VALUE on the target.
#
# Every run starts fresh replicas/targets (and a fresh reshardd), polls every
# 20 ms, and is verified afterwards (key counts; DEBUG DIGEST equal to the
# source's where the target holds everything); a failed check exits non-zero.
# The source's repl-diskless-sync is the installed server's default unless
# --diskless is given; repl-diskless-sync-delay is 0.
#
# Needs reshardd and reshardctl built in ${RESHARD_BUILD_DIR:-build}, e.g.
#   cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release
#   ninja -C build-bench reshardd reshardctl
#   RESHARD_BUILD_DIR=$PWD/build-bench bench/sync_bench.sh --keys 1000000
# Everything runs under a temporary directory on loopback; every process is
# stopped by PID on exit or Ctrl-C. Logs are kept on failure or with --keep.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${RESHARD_BUILD_DIR:-$root/build}"
reshardd_bin="$build/server/reshardd"
reshardctl_bin="$build/client/reshardctl"

keys=1000000
value_size=100
huge=0
modes=""
diskless=""
timeout_s=1800
keep=0

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --keys) keys="$2"; shift 2 ;;
    --keys=*) keys="${1#*=}"; shift ;;
    --value-size) value_size="$2"; shift 2 ;;
    --value-size=*) value_size="${1#*=}"; shift ;;
    --modes) modes="$2"; shift 2 ;;
    --modes=*) modes="${1#*=}"; shift ;;
    --diskless) diskless="$2"; shift 2 ;;
    --diskless=*) diskless="${1#*=}"; shift ;;
    --timeout) timeout_s="$2"; shift 2 ;;
    --timeout=*) timeout_s="${1#*=}"; shift ;;
    --huge) huge=1; shift ;;
    --keep) keep=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "sync_bench: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
[[ "$keys" =~ ^[0-9]+$ && "$keys" -gt 0 ]] || { echo "sync_bench: --keys must be a positive integer" >&2; exit 2; }
[[ "$value_size" =~ ^[0-9]+$ && "$value_size" -ge 4 ]] || { echo "sync_bench: --value-size must be an integer >= 4" >&2; exit 2; }
[[ -z "$diskless" || "$diskless" = yes || "$diskless" = no ]] || { echo "sync_bench: --diskless yes|no" >&2; exit 2; }
if [ -z "$modes" ]; then
  if [ "$huge" = 1 ]; then modes="direct,all"; else modes="direct,all,split"; fi
fi
IFS=, read -r -a mode_list <<<"$modes"
for m in "${mode_list[@]}"; do
  case "$m" in
    direct|all) ;;
    split) [ "$huge" = 0 ] || { echo "sync_bench: split is not a --huge mode" >&2; exit 2; } ;;
    *) echo "sync_bench: unknown mode '$m' (direct, all, split)" >&2; exit 2 ;;
  esac
done
for b in "$reshardd_bin" "$reshardctl_bin"; do
  [ -x "$b" ] || { echo "sync_bench: $b not found; build it (see the header of this script) or set RESHARD_BUILD_DIR" >&2; exit 2; }
done
for t in redis-server redis-cli awk python3 base64; do
  command -v "$t" >/dev/null || { echo "sync_bench: $t not found" >&2; exit 2; }
done

# bench_workdir, free_port, stop_pid, now, elapsed (and pipe_in, fill_dataset)
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_workdir sync_bench

# In a run (a subshell, $cur_mode set) the reason is kept for the table.
die() {
  echo "sync_bench: FAILED: $*" >&2
  [ -z "${cur_mode:-}" ] || echo "$*" >"$work/failed-$cur_mode"
  exit 1
}
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }

# Stops one process we started (by PID) and forgets it.


# start_redis NAME PORT [extra config...]; sets last_pid.
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
  die "redis-server '$name' did not start on port $port (see $work/$name/redis.log)"
}

rcli() { local port="$1"; shift; redis-cli -p "$port" "$@"; }
dbsize() { rcli "$1" DBSIZE 2>/dev/null || true; }
digest() { rcli "$1" DEBUG DIGEST 2>/dev/null || echo "unavailable"; }

# ---------------------------------------------------------------------------
# The dataset (fill_dataset and pipe_in: bench/lib.sh).

fill_keys() { fill_dataset "$1" "$keys" "$value_size"; }

huge_len=536870912     # 512 MiB
huge_members=5000000

fill_huge() {
  local port="$1"
  # 8 x 64 MiB of base64 text from /dev/urandom (48 MiB of random bytes each):
  # LZF in the RDB cannot shrink it, unlike SETRANGE's zero bytes.
  for _ in $(seq 8); do
    head -c 50331648 /dev/urandom | base64 -w0 | redis-cli -p "$port" -x APPEND bigkey >/dev/null
  done
  awk -v n="$huge_members" 'BEGIN {
      batch = 1000
      for (i = 0; i < n; i += batch) {
        c = (n - i < batch ? n - i : batch)
        s = "*" (c + 2) "\r\n$4\r\nSADD\r\n$6\r\nbigset\r\n"
        for (j = i; j < i + c; j++) { m = "member:" j; s = s "$" length(m) "\r\n" m "\r\n" }
        printf "%s", s
      }
    }' | pipe_in "$port"
}

# ---------------------------------------------------------------------------
# Runs.

# A run records "seconds rss_mb cpu_s note..." in $work/result-MODE.
record() { echo "$*" >"$work/result-$cur_mode"; }

# wait_until LABEL COMMAND...: polls COMMAND every 20 ms. With $watch_pid set
# (a reshardd), it also checks that reshardd lives and, every ~5 s, that
# the job has not failed and that no target is still receiving its snapshot
# 60 s after the job reached STREAMING (a target that missed the EOF mark
# would otherwise wait forever).
wait_until() {
  local label="$1"; shift
  local deadline=$(( $(date +%s) + timeout_s )) tick=0 streaming_since="" state p info
  while ! "$@"; do
    [ "$(date +%s)" -lt "$deadline" ] || die "$label: not done after ${timeout_s}s"
    if [ -n "${watch_pid:-}" ] && ! kill -0 "$watch_pid" 2>/dev/null; then
      die "$label: reshardd exited (see $work/reshardd-$label.log)"
    fi
    if [ -n "${watch_pid:-}" ] && [ $((++tick % 200)) = 0 ]; then
      state=$(ctl get "$job" 2>/dev/null | awk 'NR == 1 { print $NF }')
      case "$state" in
        FAILED|CANCELLED) ctl get "$job" >&2 || true; die "$label: job $state" ;;
        STREAMING) [ -n "$streaming_since" ] || streaming_since=$(date +%s) ;;
      esac
      if [ -n "$streaming_since" ] && [ $(( $(date +%s) - streaming_since )) -ge 60 ]; then
        for p in "${tports[@]}"; do
          info=$(rcli "$p" INFO replication 2>/dev/null || true)
          if grep -q 'master_sync_in_progress:1' <<<"$info" &&
             ! rcli "$p" INFO persistence 2>/dev/null | grep -q '^loading:1'; then
            # Evidence: what follows the end of the RDB in the target's temp file.
            for f in "$work/$label"-*/temp-*.rdb; do
              [ -f "$f" ] && tail -c 2048 "$f" >"$f.tail" && cat -v "$f.tail" | tail -c 600 >&2 && echo >&2
            done
            die "$label: target :$p still receiving its snapshot 60 s after the job reached STREAMING" \
              "($(grep -o 'master_sync_read_bytes:[0-9]*' <<<"$info")); it probably missed the EOF mark" \
              "(see $work/$label-*/redis.log and the end of its temp-*.rdb)"
          fi
        done
      fi
    fi
    sleep 0.02
  done
}

direct_done() {
  local port="$1" info
  info="$(rcli "$port" INFO replication 2>/dev/null)" || return 1
  grep -q 'master_link_status:up' <<<"$info" || return 1
  [ "$(dbsize "$port")" = "$src_keys" ]
}

run_direct() {
  local port; port=$(free_port)
  start_redis direct "$port"
  local rpid=$last_pid t0 t1
  t0=$(now)
  rcli "$port" REPLICAOF 127.0.0.1 "$src_port" >/dev/null
  wait_until direct direct_done "$port"
  t1=$(now)
  local secs; secs=$(elapsed "$t0" "$t1")
  local got_digest; got_digest=$(digest "$port")
  [ "$got_digest" = "$src_digest" ] || die "direct: DEBUG DIGEST $got_digest != source $src_digest"
  [ "$huge" = 0 ] || verify_huge direct "$port"
  record "$secs - - digest equal"
  stop_pid "$rpid"
  log "direct: $secs s"
}

sum_equals() {  # sum_equals WANT PORT...
  local want="$1" sum=0 n p; shift
  for p in "$@"; do
    n=$(dbsize "$p")
    [[ "$n" =~ ^[0-9]+$ ]] || return 1
    sum=$((sum + n))
  done
  [ "$sum" = "$want" ]
}

# Per-thread CPU seconds of PID ("comm utime+stime"), busiest first.
thread_cpu() {
  local pid="$1" tck; tck=$(getconf CLK_TCK)
  for s in /proc/"$pid"/task/*/stat; do
    # comm may contain spaces; it is between the first '(' and the last ')'.
    sed -E 's/^[0-9]+ \((.*)\) (.*)$/\1|\2/' "$s" 2>/dev/null
  done | awk -F'|' -v tck="$tck" '{ split($2, f, " "); printf "%s %.2f\n", $1, (f[12] + f[13]) / tck }' |
    sort -k2 -nr -t' ' | head -8 | paste -sd, -
}

run_reshardd() {
  local mode="$1" gport mport rpid t0 t1 tpids=() names=() filters=()
  tports=() job=""
  if [ "$mode" = all ]; then
    names=(all); filters=('{"glob":"*"}')
  else
    names=(lo hi); filters=('{"regex":"^[0-4]"}' '{"regex":"^[5-9]"}')
  fi
  local i spec targets=""
  for i in "${!names[@]}"; do
    local tp lp; tp=$(free_port); lp=$(free_port)
    start_redis "$mode-${names[$i]}" "$tp"
    tports+=("$tp"); tpids+=("$last_pid")
    [ -z "$targets" ] || targets="$targets,"
    targets="$targets{\"name\":\"${names[$i]}\",\"filter\":${filters[$i]},\"listen\":\"127.0.0.1:$lp\",\"replica\":{\"address\":\"127.0.0.1:$tp\"}}"
  done
  spec="$work/job-$mode.json"
  echo "{\"source\":{\"address\":\"127.0.0.1:$src_port\"},\"targets\":[$targets]}" >"$spec"

  gport=$(free_port); mport=$(free_port)
  "$reshardd_bin" --grpc_listen="127.0.0.1:$gport" --metrics_listen="127.0.0.1:$mport" \
    >"$work/reshardd-$mode.log" 2>&1 &
  rpid=$!
  pids+=("$rpid")
  ctl() { "$reshardctl_bin" --server "127.0.0.1:$gport" "$@"; }
  for _ in $(seq 200); do ctl list >/dev/null 2>&1 && break; sleep 0.05; done
  ctl list >/dev/null 2>&1 || die "$mode: reshardd did not answer (see $work/reshardd-$mode.log)"

  t0=$(now)
  job=$(ctl create -f "$spec" | awk '/^created job/ { print $3 }')
  [ -n "$job" ] || die "$mode: reshardctl create failed"
  watch_pid=$rpid
  wait_until "$mode" sum_equals "$src_keys" "${tports[@]}"
  t1=$(now)
  watch_pid=""
  local secs rss cpu note; secs=$(elapsed "$t0" "$t1")

  # Peak RSS and CPU of this reshardd (it ran only this job).
  local hwm_kb utime stime tck
  hwm_kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$rpid/status")
  read -r utime stime < <(awk '{ print $14, $15 }' "/proc/$rpid/stat")
  tck=$(getconf CLK_TCK)
  rss=$(awk -v k="$hwm_kb" 'BEGIN { printf "%.1f", k / 1024 }')
  cpu=$(awk -v u="$utime" -v s="$stime" -v t="$tck" 'BEGIN { printf "%.2f", (u + s) / t }')
  echo "$mode threads (cpu s): $(thread_cpu "$rpid")" >>"$work/threads.txt"
  ctl get "$job" >"$work/job-$mode.txt" 2>&1 || true
  curl -s "http://127.0.0.1:$mport/metrics" >"$work/metrics-$mode.txt" 2>/dev/null || true

  # Verify.
  local counts=() n
  for i in "${!tports[@]}"; do
    n=$(dbsize "${tports[$i]}")
    counts+=("$n")
    [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "$mode: target ${names[$i]} has '$n' keys"
  done
  if [ "$mode" = all ]; then
    [ "${counts[0]}" = "$src_keys" ] || die "$mode: target has ${counts[0]} keys, source $src_keys"
    local got_digest; got_digest=$(digest "${tports[0]}")
    [ "$got_digest" = "$src_digest" ] || die "$mode: DEBUG DIGEST $got_digest != source $src_digest"
    [ "$huge" = 0 ] || verify_huge "$mode" "${tports[0]}"
    note="digest equal"
  else
    # The generator puts key I under first digit I % 10.
    local want_lo=$(( (keys / 10) * 5 + (keys % 10 < 5 ? keys % 10 : 5) ))
    local want_hi=$(( keys - want_lo ))
    if [ "${counts[0]}" != "$want_lo" ] || [ "${counts[1]}" != "$want_hi" ]; then
      die "$mode: targets have ${counts[0]} + ${counts[1]} keys, expected $want_lo + $want_hi"
    fi
    note="${counts[0]} + ${counts[1]} keys"
  fi

  watch_pid=""
  stop_pid "$rpid"
  for i in "${!tpids[@]}"; do stop_pid "${tpids[$i]}"; done
  record "$secs $rss $cpu $note"
  log "$mode: $secs s, reshardd peak RSS $rss MB, CPU $cpu s"
}

verify_huge() {
  local mode="$1" port="$2" len card d_src d_dst
  len=$(rcli "$port" STRLEN bigkey)
  card=$(rcli "$port" SCARD bigset)
  [ "$len" = "$huge_len" ] || die "$mode: STRLEN bigkey = $len, want $huge_len"
  [ "$card" = "$huge_members" ] || die "$mode: SCARD bigset = $card, want $huge_members"
  d_src=$(rcli "$src_port" DEBUG DIGEST-VALUE bigkey bigset | paste -sd, -)
  d_dst=$(rcli "$port" DEBUG DIGEST-VALUE bigkey bigset | paste -sd, -)
  [ "$d_src" = "$d_dst" ] || die "$mode: DEBUG DIGEST-VALUE differs: $d_dst vs source $d_src"
}

# ---------------------------------------------------------------------------

echo "machine: $(nproc) cpus, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)," \
  "$(free -g | awk '/^Mem:/ { print $2 " GiB RAM, " $7 " GiB available" }')"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "redis: $(redis-server --version | awk '{ print $3 }'), reshardd: $reshardd_bin"

src_port=$(free_port)
src_args=()
[ -z "$diskless" ] || src_args=(--repl-diskless-sync "$diskless")
start_redis source "$src_port" "${src_args[@]}"
diskless_used=$(rcli "$src_port" CONFIG GET repl-diskless-sync | tail -1)

t_fill=$(now)
if [ "$huge" = 1 ]; then
  log "filling the source: 512 MiB string + set of $huge_members members"
  fill_huge "$src_port"
else
  log "filling the source: $keys keys, value size $value_size"
  fill_keys "$src_port"
fi
src_keys=$(dbsize "$src_port")
src_digest=$(digest "$src_port")
src_mem=$(rcli "$src_port" INFO memory | sed -n 's/^used_memory_human:\(.*\)\r$/\1/p')
log "source: $src_keys keys, used_memory $src_mem, filled in $(elapsed "$t_fill" "$(now)") s," \
  "repl-diskless-sync $diskless_used"
[ "$huge" = 1 ] || [ "$src_keys" = "$keys" ] || die "source has $src_keys keys, wanted $keys"

# Each run is a subshell with its own processes (stopped when it ends); a
# failed run is reported in the table and the next run still goes.
failed=0
for m in "${mode_list[@]}"; do
  log "run: $m"
  set +e
  (
    set -e
    cur_mode=$m
    pids=()
    trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done' EXIT
    trap 'exit 130' INT TERM
    if [ "$m" = direct ]; then run_direct; else run_reshardd "$m"; fi
  )
  rc=$?
  set -e
  [ "$rc" != 130 ] || exit 130
  [ "$rc" = 0 ] || failed=1
done

echo
if [ "$huge" = 1 ]; then
  echo "dataset: huge (512 MiB string + $huge_members-member set), source used_memory $src_mem," \
    "repl-diskless-sync $diskless_used"
else
  echo "dataset: $keys keys, value size $value_size, source used_memory $src_mem," \
    "repl-diskless-sync $diskless_used"
fi
printf '%-8s %9s %10s %22s %16s  %s\n' mode seconds "x direct" "reshardd peak RSS MB" "reshardd CPU s" check
direct_secs=""
[ ! -f "$work/result-direct" ] || read -r direct_secs _ <"$work/result-direct"
for m in "${mode_list[@]}"; do
  if [ -f "$work/result-$m" ]; then
    read -r secs rss cpu note <"$work/result-$m"
  else
    secs=FAILED rss=- cpu=- note="$(cat "$work/failed-$m" 2>/dev/null || echo 'no result')"
  fi
  ratio="-"
  if [ -n "$direct_secs" ] && [ "$secs" != FAILED ]; then
    ratio=$(awk -v a="$secs" -v d="$direct_secs" 'BEGIN { if (d > 0) printf "%.2f", a / d; else print "-" }')
  fi
  printf '%-8s %9s %10s %22s %16s  %s\n' "$m" "$secs" "$ratio" "$rss" "$cpu" "$note"
done
[ ! -s "$work/threads.txt" ] || { echo; echo "reshardd busiest threads:"; cat "$work/threads.txt"; }
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$failed" = 0 ] || { echo "sync_bench: some runs FAILED (see above)" >&2; exit 1; }
