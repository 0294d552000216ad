#!/usr/bin/env bash
# Plain vs TLS full-sync throughput, side by side in one run, from one source
# that serves both its port and its tls-port:
#   direct-plain    a fresh redis-server does REPLICAOF the source's port;
#   direct-tls      a fresh redis-server (tls-replication yes) does REPLICAOF its tls-port;
#   reshardd-plain  through reshardd: one managed match-all target, plain everywhere;
#   reshardd-tls    through reshardd: source.tls (the tls-port), a listen_tls listener, the
#                   managed target reached over TLS and replicating with tls-replication yes.
# Each run: seconds until the replica/target holds every key, MB/s of the
# source's RDB (its size / seconds), reshardd's CPU and peak RSS; checked
# afterwards (DEBUG DIGEST equal to the source's). Not run in CI.
#
# Usage: bench/tls_bench.sh [--keys N] [--value-size B] [--modes direct-plain,direct-tls,reshardd-plain,reshardd-tls]
#                           [--timeout SECONDS] [--keep]
#
# Dataset: N keys (default 1000000) of B random bytes (default 100) in db 0 (SETs),
# sent as RESP from awk (random letters, as bench/sync_bench.sh makes its strings).
# Certificates: a throwaway CA and a server certificate for 127.0.0.1 made with the openssl CLI.
#
# Needs reshardd and reshardctl built in ${RESHARD_BUILD_DIR:-build}, e.g.
#   cmake -S . -B build-bench -G Ninja -DCMAKE_BUILD_TYPE=Release
#   ninja -C build-bench reshardd reshardctl
#   RESHARD_BUILD_DIR=$PWD/build-bench bench/tls_bench.sh
# Everything runs under a temporary directory on loopback; every process is
# stopped by PID on exit or Ctrl-C. Logs are kept on failure or with --keep.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${RESHARD_BUILD_DIR:-$root/build}"
reshardd_bin="$build/server/reshardd"
reshardctl_bin="$build/client/reshardctl"

keys=1000000
value_size=100
modes="direct-plain,direct-tls,reshardd-plain,reshardd-tls"
timeout_s=900
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
    --timeout) timeout_s="$2"; shift 2 ;;
    --timeout=*) timeout_s="${1#*=}"; shift ;;
    --keep) keep=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "tls_bench: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
  esac
done
[[ "$keys" =~ ^[0-9]+$ && "$keys" -gt 0 ]] || { echo "tls_bench: --keys must be a positive integer" >&2; exit 2; }
[[ "$value_size" =~ ^[0-9]+$ && "$value_size" -ge 4 ]] || { echo "tls_bench: --value-size must be an integer >= 4" >&2; exit 2; }
IFS=, read -r -a mode_list <<<"$modes"
for m in "${mode_list[@]}"; do
  case "$m" in
    direct-plain|direct-tls|reshardd-plain|reshardd-tls) ;;
    *) echo "tls_bench: unknown mode '$m'" >&2; exit 2 ;;
  esac
done
for b in "$reshardd_bin" "$reshardctl_bin"; do
  [ -x "$b" ] || { echo "tls_bench: $b not found; build it (see the header of this script) or set RESHARD_BUILD_DIR" >&2; exit 2; }
done
for t in redis-server redis-cli awk python3 openssl; do
  command -v "$t" >/dev/null || { echo "tls_bench: $t not found" >&2; exit 2; }
done

# bench_workdir, free_port, stop_pid, now, elapsed (and pipe_in, fill_dataset)
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_workdir tls_bench

die() { echo "tls_bench: FAILED: $*" >&2; exit 1; }
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"; }

# The certificates: a CA and a server certificate for 127.0.0.1/localhost (EC P-256).
pki="$work/pki"
mkdir -p "$pki"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=bench-ca \
  -keyout "$pki/ca.key" -out "$pki/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
  -keyout "$pki/server.key" -out "$pki/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' >"$pki/ext"
openssl x509 -req -in "$pki/server.csr" -CA "$pki/ca.pem" -CAkey "$pki/ca.key" -CAcreateserial \
  -days 2 -extfile "$pki/ext" -out "$pki/server.pem" 2>/dev/null
tls_args=(--tls-cert-file "$pki/server.pem" --tls-key-file "$pki/server.key"
          --tls-ca-cert-file "$pki/ca.pem" --tls-auth-clients no)

# start_redis NAME PORT [extra config...]; sets last_pid. PORT is the plain
# port the script itself talks to (a TLS server gets its tls-port besides).
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

fill_keys() {
  local port="$1" out
  awk -v n="$keys" -v vs="$value_size" '
    BEGIN {
      srand(42)
      chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
      pool = 997
      for (p = 0; p < pool; p++) {
        s = ""
        for (j = 0; j < vs + 16; j++) s = s substr(chars, int(rand() * 62) + 1, 1)
        val[p] = s
      }
      for (i = 0; i < n; i++) {
        k = (i % 10) ":key:" i
        v = substr(val[i % pool], (i % 16) + 1, vs)
        printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", length(k), k, length(v), v
      }
    }' | { out="$(redis-cli -p "$port" --pipe 2>&1)" || die "redis-cli --pipe: $out"
           grep -q 'errors: 0,' <<<"$out" || die "redis-cli --pipe reported errors: $out"; }
}

# wait_until LABEL COMMAND...: polls every 20 ms, up to --timeout.
wait_until() {
  local label="$1"; shift
  local deadline=$(( $(date +%s) + timeout_s ))
  while ! "$@"; do
    [ "$(date +%s)" -lt "$deadline" ] || die "$label: not done after ${timeout_s}s"
    if [ -n "${watch_pid:-}" ] && ! kill -0 "$watch_pid" 2>/dev/null; then
      die "$label: reshardd exited (see $work/reshardd-$label.log)"
    fi
    sleep 0.02
  done
}
synced() {  # synced PORT: the link is up and every key is there
  local info
  info="$(rcli "$1" INFO replication 2>/dev/null)" || return 1
  grep -q 'master_link_status:up' <<<"$info" || return 1
  [ "$(dbsize "$1")" = "$src_keys" ]
}

record() { local mode="$1"; shift; echo "$*" >"$work/result-$mode"; }

run_direct() {
  local mode="$1" port t0 t1 secs
  port=$(free_port)
  if [ "$mode" = direct-tls ]; then
    start_redis "$mode" "$port" --tls-port "$(free_port)" "${tls_args[@]}" --tls-replication yes
    t0=$(now)
    rcli "$port" REPLICAOF 127.0.0.1 "$src_tls_port" >/dev/null
  else
    start_redis "$mode" "$port"
    t0=$(now)
    rcli "$port" REPLICAOF 127.0.0.1 "$src_port" >/dev/null
  fi
  wait_until "$mode" synced "$port"
  t1=$(now)
  secs=$(elapsed "$t0" "$t1")
  [ "$(digest "$port")" = "$src_digest" ] || die "$mode: DEBUG DIGEST differs from the source's"
  record "$mode" "$secs - -"
  stop_pid "$last_pid"
  log "$mode: $secs s"
}

run_reshardd() {
  local mode="$1" tport tls_port lp gport mport rpid tpid t0 t1 secs spec job
  tport=$(free_port); tls_port=$(free_port); lp=$(free_port)
  spec="$work/job-$mode.json"
  if [ "$mode" = reshardd-tls ]; then
    # reshardd reaches the target on its tls-port and sets tls-replication yes itself.
    start_redis "$mode-target" "$tport" --tls-port "$tls_port" "${tls_args[@]}"
    cat >"$spec" <<EOF
{"source":{"address":"127.0.0.1:$src_tls_port","tls":{"ca_file":"$pki/ca.pem"}},
 "targets":[{"name":"all","filter":{"glob":"*"},"listen":"127.0.0.1:$lp",
   "listen_tls":{"cert_file":"$pki/server.pem","key_file":"$pki/server.key"},
   "replica":{"address":"127.0.0.1:$tls_port","tls":{"ca_file":"$pki/ca.pem"}}}]}
EOF
  else
    start_redis "$mode-target" "$tport"
    cat >"$spec" <<EOF
{"source":{"address":"127.0.0.1:$src_port"},
 "targets":[{"name":"all","filter":{"glob":"*"},"listen":"127.0.0.1:$lp",
   "replica":{"address":"127.0.0.1:$tport"}}]}
EOF
  fi
  tpid=$last_pid
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
  wait_until "$mode" synced "$tport"
  t1=$(now)
  watch_pid=""
  secs=$(elapsed "$t0" "$t1")
  local hwm_kb utime stime tck rss cpu
  hwm_kb=$(awk '/^VmHWM:/ { print $2 }' "/proc/$rpid/status")
  read -r utime stime < <(awk '{ print $14, $15 }' "/proc/$rpid/stat")
  tck=$(getconf CLK_TCK)
  rss=$(awk -v k="$hwm_kb" 'BEGIN { printf "%.1f", k / 1024 }')
  cpu=$(awk -v u="$utime" -v s="$stime" -v t="$tck" 'BEGIN { printf "%.2f", (u + s) / t }')
  [ "$(digest "$tport")" = "$src_digest" ] || die "$mode: DEBUG DIGEST differs from the source's"
  if [ "$mode" = reshardd-tls ]; then
    [ "$(rcli "$tport" CONFIG GET tls-replication | tail -1)" = yes ] || die "$mode: the target does not replicate over TLS"
  fi
  stop_pid "$rpid"
  stop_pid "$tpid"
  record "$mode" "$secs $rss $cpu"
  log "$mode: $secs s, reshardd peak RSS $rss MB, CPU $cpu s"
}

echo "machine: $(nproc) cpus, $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "redis: $(redis-server --version | awk '{ print $3 }'), openssl: $(openssl version | awk '{ print $2 }'), reshardd: $reshardd_bin"

src_port=$(free_port)
src_tls_port=$(free_port)
start_redis source "$src_port" --tls-port "$src_tls_port" "${tls_args[@]}"
log "filling the source: $keys keys, value size $value_size"
fill_keys "$src_port"
src_keys=$(dbsize "$src_port")
[ "$src_keys" = "$keys" ] || die "source has $src_keys keys, wanted $keys"
src_digest=$(digest "$src_port")
rcli "$src_port" SAVE >/dev/null
rdb_mb=$(awk -v b="$(stat -c %s "$work/source/dump.rdb")" 'BEGIN { printf "%.1f", b / 1048576 }')
src_mem=$(rcli "$src_port" INFO memory | sed -n 's/^used_memory_human:\(.*\)\r$/\1/p')
log "source: $src_keys keys, used_memory $src_mem, RDB $rdb_mb MB," \
  "repl-diskless-sync $(rcli "$src_port" CONFIG GET repl-diskless-sync | tail -1)"

failed=0
for m in "${mode_list[@]}"; do
  log "run: $m"
  set +e
  (
    set -e
    pids=()
    trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done' EXIT
    case "$m" in
      direct-*) run_direct "$m" ;;
      *) run_reshardd "$m" ;;
    esac
  )
  rc=$?
  set -e
  [ "$rc" != 130 ] || exit 130
  [ "$rc" = 0 ] || failed=1
done

echo
echo "dataset: $keys keys, value size $value_size, source used_memory $src_mem, RDB $rdb_mb MB"
printf '%-15s %8s %8s %18s %22s %16s\n' mode seconds "RDB MB/s" "x direct, same link" "reshardd peak RSS MB" "reshardd CPU s"
for m in "${mode_list[@]}"; do
  if [ -f "$work/result-$m" ]; then read -r secs rss cpu <"$work/result-$m"; else secs=FAILED rss=- cpu=-; fi
  base="direct-${m##*-}" ratio="-" rate="-"
  if [ "$secs" != FAILED ]; then
    rate=$(awk -v mb="$rdb_mb" -v s="$secs" 'BEGIN { if (s > 0) printf "%.1f", mb / s; else print "-" }')
    if [ -f "$work/result-$base" ]; then
      read -r bsecs _ <"$work/result-$base"
      ratio=$(awk -v a="$secs" -v d="$bsecs" 'BEGIN { if (d > 0) printf "%.2f", a / d; else print "-" }')
    fi
  fi
  printf '%-15s %8s %8s %18s %22s %16s\n' "$m" "$secs" "$rate" "$ratio" "$rss" "$cpu"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
[ "$failed" = 0 ] || { echo "tls_bench: some runs FAILED (see above)" >&2; exit 1; }
