#!/usr/bin/env bash
# Soak test (not in CI): one job, a source and three targets on loopback,
# live writes for $SOAK_MINUTES (default 10) minutes and a random fault every
# $SOAK_FAULT_EVERY (default 30) seconds:
#   kill   kill -9 a target, restart it empty on its port, REPLICAOF again
#   stop   SIGSTOP a target for 10 s, then SIGCONT
#   pause  reshardctl pause, 10 s, reshardctl resume
#   master CLIENT KILL TYPE master on a target (its link to reshardd)
#   source CLIENT KILL TYPE replica on the source (reshardd's link)
# Then the writes stop, the targets catch up and every key of dbs 0 and 1 is
# compared (value and absolute TTL) against its target. Prints the faults
# injected, the key counts, missing / stray / different keys, the largest
# spool seen and the resyncs; exits non-zero on any difference.
#   SOAK_KEYS (default 50000) keys are loaded before the job starts.
#   SOAK_SEED seeds the choice of faults (default: random, printed).
#   SOAK_CATCHUP_SECONDS (default 180) bounds the wait for the targets at the end.
#   SOAK_FAULTS limits the kinds drawn from (default "kill stop pause master source").
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${RESHARD_BUILD_DIR:-$root/build}"
minutes="${SOAK_MINUTES:-10}"
fault_every="${SOAK_FAULT_EVERY:-30}"
keys="${SOAK_KEYS:-50000}"
catchup="${SOAK_CATCHUP_SECONDS:-180}"
seed="${SOAK_SEED:-$RANDOM}"
RANDOM=$seed

bash "$root/scripts/build.sh" reshardd reshardctl
command -v jq >/dev/null || { echo "soak: needs jq (apt-get install jq)" >&2; exit 2; }

work="$(mktemp -d /tmp/reshard-soak.XXXXXX)"
names=(left middle right)
regexes=('^[0-3]' '^[4-6]' '^[7-9]')
markers=(0:__soak_done 4:__soak_done 7:__soak_done)
declare -a tgt_pid tgt_port listen_port
src_pid="" reshardd_pid="" writer_pid="" monitor_pid=""

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  local pid
  for pid in "${tgt_pid[@]}"; do kill -CONT "$pid" 2>/dev/null || true; done
  for pid in "$writer_pid" "$monitor_pid" "$reshardd_pid" "${tgt_pid[@]}" "$src_pid"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done
  for pid in "$writer_pid" "$monitor_pid" "$reshardd_pid" "${tgt_pid[@]}" "$src_pid"; do
    [ -n "$pid" ] && wait "$pid" 2>/dev/null || true
  done
  if [ "$status" -eq 0 ]; then rm -rf "$work"; else echo "soak: logs kept in $work" >&2; fi
  exit "$status"
}
trap cleanup EXIT
trap 'echo; echo "soak: interrupted"; exit 130' INT TERM

used_ports=" "
free_port() {  # a loopback port nobody answers on, outside the ephemeral range
  local p
  while :; do
    p=$((20000 + RANDOM % 12000))
    case "$used_ports" in *" $p "*) continue ;; esac
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      used_ports="$used_ports$p "
      echo "$p"
      return
    fi
  done
}
# start_redis NAME PORT: the server's PID in $started_pid.
start_redis() {
  mkdir -p "$work/$1"
  redis-server --port "$2" --bind 127.0.0.1 --dir "$work/$1" --save "" --appendonly no \
    --repl-diskless-sync-delay 0 --repl-backlog-size 64mb --daemonize no \
    --logfile "$work/$1/redis.log" &
  started_pid=$!
  for _ in $(seq 100); do redis-cli -p "$2" ping >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "soak: redis-server '$1' did not start on port $2 (see $work/$1/redis.log)" >&2
  return 1
}
ctl() { "$build/client/reshardctl" --server "127.0.0.1:$grpc_port" "$@"; }
log() { echo "[$(date +%T)] $*" | tee -a "$work/faults.log"; }

src_port=$(free_port); grpc_port=$(free_port); metrics_port=$(free_port)
start_redis source "$src_port"; src_pid=$started_pid
for t in 0 1 2; do
  tgt_port[t]=$(free_port); listen_port[t]=$(free_port)
  start_redis "${names[t]}" "${tgt_port[t]}"; tgt_pid[t]=$started_pid
done
echo "== seed $seed; source :$src_port; targets ${names[*]} :${tgt_port[*]}"

echo "== filling the source with $keys keys (dbs 0 and 1)"
awk -v n="$keys" 'BEGIN {
  for (i = 0; i < n; i++) {
    d = i % 10; k = d ":" i; t = i % 5;
    if (i == int(n / 2)) print "SELECT 1";
    if (t == 0) { print "SET " k ":str value-" i; if (i % 7 == 0) print "PEXPIRE " k ":str 7200000" }
    else if (t == 1) print "RPUSH " k ":list a" i " b" i " c" i;
    else if (t == 2) print "HSET " k ":hash f1 v" i " f2 w" i;
    else if (t == 3) print "SADD " k ":set m" i " n" i " " i;
    else print "ZADD " k ":zset " i " m" i " 1.5 x" i;
  } }' | redis-cli -p "$src_port" --pipe >/dev/null

echo "== starting reshardd (gRPC :$grpc_port, metrics :$metrics_port)"
mkdir -p "$work/state"
"$build/server/reshardd" --grpc_listen="127.0.0.1:$grpc_port" \
  --metrics_listen="127.0.0.1:$metrics_port" --state_dir="$work/state" >"$work/reshardd.log" 2>&1 &
reshardd_pid=$!
for _ in $(seq 100); do ctl list >/dev/null 2>&1 && break; sleep 0.1; done

targets_json=""
for t in 0 1 2; do
  [ -n "$targets_json" ] && targets_json="$targets_json,"
  targets_json="$targets_json
  {\"name\": \"${names[t]}\", \"filter\": {\"regex\": \"${regexes[t]}\"},
   \"listen\": \"127.0.0.1:${listen_port[t]}\", \"replica\": {\"address\": \"127.0.0.1:${tgt_port[t]}\"}}"
done
echo "{\"source\": {\"address\": \"127.0.0.1:$src_port\"}, \"targets\": [$targets_json]}" \
  >"$work/job.json"
ctl create -f "$work/job.json" --id soak >/dev/null
job=soak
echo "== waiting for the job to stream"
ctl watch "$job" >/dev/null || { ctl get "$job"; echo "soak: the job did not start" >&2; exit 1; }

# Live writes until $work/stop exists: sets, counters, hashes, capped lists,
# expiries, deletes, over 5000 keys in each of dbs 0 and 1.
writer() {
  local round=0
  while [ ! -e "$work/stop" ]; do
    round=$((round + 1))
    awk -v r="$round" 'BEGIN { srand(r);
      for (j = 0; j < 400; j++) { i = int(rand() * 5000); d = i % 10; k = d ":w" i;
        print "SELECT " (j % 2);
        print "SET " k ":s r" r "-" j;
        print "INCR " d ":counter" (i % 20);
        if (j % 3 == 0) print "HSET " k ":h f" (r % 7) " r" r;
        if (j % 4 == 0) { print "LPUSH " k ":l r" r; print "LTRIM " k ":l 0 9" }
        if (j % 5 == 0) print "EXPIRE " k ":s " (600 + r % 100);
        if (j % 6 == 0) print "SETEX " k ":t 900 r" r;
        if (j % 7 == 0) print "DEL " k ":h"; } }' | redis-cli -p "$src_port" --pipe >/dev/null
    sleep 0.05
  done
}
# Every 2 s: the largest spool of any target so far, and the last status.
monitor() {
  local max=0 now
  while [ ! -e "$work/stop-monitor" ]; do
    if ctl -o json get "$job" >"$work/status.tmp" 2>/dev/null; then
      mv "$work/status.tmp" "$work/status.json"
      now=$(jq '[.status.targets[]? | (.spool_bytes // "0") | tonumber] | max // 0' \
        "$work/status.json")
      [ "$now" -gt "$max" ] && max=$now && echo "$max" >"$work/max_spool"
    fi
    sleep 2
  done
}
echo 0 >"$work/max_spool"
writer & writer_pid=$!
monitor & monitor_pid=$!

restart_target() {  # t: kill -9, restart empty on the same port, point it at its listener
  local t=$1
  kill -9 "${tgt_pid[t]}"; wait "${tgt_pid[t]}" 2>/dev/null || true
  rm -f "$work/${names[t]}"/*.rdb
  start_redis "${names[t]}" "${tgt_port[t]}"; tgt_pid[t]=$started_pid
  redis-cli -p "${tgt_port[t]}" REPLICAOF 127.0.0.1 "${listen_port[t]}" >/dev/null
}
declare -A injected=([kill]=0 [stop]=0 [pause]=0 [master]=0 [source]=0)
kinds=(kill stop pause master source)
read -r -a drawn <<<"${SOAK_FAULTS:-${kinds[*]}}"
for kind in "${drawn[@]}"; do
  [ -n "${injected[$kind]+set}" ] || { echo "soak: SOAK_FAULTS: unknown fault '$kind'" >&2; exit 2; }
done
end=$((SECONDS + minutes * 60))
echo "== writing for $minutes min, a fault every ${fault_every}s"
while [ $((SECONDS + fault_every)) -le "$end" ]; do
  next=$((SECONDS + fault_every))
  kind=${drawn[RANDOM % ${#drawn[@]}]}
  t=$((RANDOM % 3))
  case "$kind" in
    kill) log "kill -9 ${names[t]}, restart empty"; restart_target "$t" ;;
    stop)
      log "SIGSTOP ${names[t]} for 10 s"
      kill -STOP "${tgt_pid[t]}"; sleep 10; kill -CONT "${tgt_pid[t]}" ;;
    pause)
      if ctl pause "$job" >"$work/pause.out" 2>&1; then
        log "pause for 10 s"; sleep 10
        ctl resume "$job" >/dev/null || { log "resume failed"; ctl get "$job"; exit 1; }
      else
        log "pause refused: $(tr '\n' ' ' <"$work/pause.out")"; kind=""
      fi ;;
    master)
      log "CLIENT KILL TYPE master on ${names[t]}"
      redis-cli -p "${tgt_port[t]}" CLIENT KILL TYPE master >/dev/null ;;
    source)
      log "CLIENT KILL TYPE replica on the source (reshardd's link)"
      redis-cli -p "$src_port" CLIENT KILL TYPE replica >/dev/null ;;
  esac
  [ -n "$kind" ] && injected[$kind]=$((injected[$kind] + 1))
  state=$(jq -r '.status.state' "$work/status.json" 2>/dev/null || echo "?")
  if [ "$state" = FAILED ] || [ "$state" = CANCELLED ]; then
    log "the job is $state"; ctl get "$job"; exit 1
  fi
  while [ "$SECONDS" -lt "$next" ]; do sleep 1; done
done
while [ "$SECONDS" -lt "$end" ]; do sleep 1; done
touch "$work/stop"; wait "$writer_pid" || true; writer_pid=""

echo "== writes done; waiting for the targets to catch up"
caught_up=0
for t in 0 1 2; do redis-cli -p "$src_port" SET "${markers[t]}" 1 >/dev/null; done
deadline=$((SECONDS + catchup))
while [ "$SECONDS" -lt "$deadline" ]; do
  arrived=0
  for t in 0 1 2; do
    [ "$(redis-cli -p "${tgt_port[t]}" EXISTS "${markers[t]}" 2>/dev/null)" = 1 ] &&
      arrived=$((arrived + 1))
  done
  [ "$arrived" = 3 ] && caught_up=1 && break
  sleep 0.1
done
# Then every target streaming with nothing unacknowledged.
while [ "$caught_up" = 1 ] && [ "$SECONDS" -lt "$deadline" ]; do
  ctl -o json get "$job" >"$work/final.json" || true
  jq -e '.status.state == "STREAMING" and
    ([.status.targets[] | (.lag_bytes // "0") | tonumber] | max) == 0' "$work/final.json" \
    >/dev/null && break
  sleep 1
done
touch "$work/stop-monitor"; wait "$monitor_pid" || true; monitor_pid=""
ctl -o json get "$job" >"$work/final.json" || true
ctl get "$job" || true

echo "== checking every key"
canon='local k = KEYS[1]
local t = redis.call("TYPE", k)["ok"]
if t == "string" then return "string:" .. redis.call("GET", k) end
if t == "list" then return "list:" .. table.concat(redis.call("LRANGE", k, 0, -1), ",") end
if t == "set" then local m = redis.call("SMEMBERS", k); table.sort(m); return "set:" .. table.concat(m, ",") end
if t == "zset" then return "zset:" .. table.concat(redis.call("ZRANGE", k, 0, -1, "WITHSCORES"), ",") end
if t == "hash" then
  local a = redis.call("HGETALL", k); local p = {}
  for i = 1, #a, 2 do p[#p + 1] = a[i] .. "=" .. a[i + 1] end
  table.sort(p); return "hash:" .. table.concat(p, ",")
end
return t'
for p in "$src_port" "${tgt_port[@]}"; do canon_sha=$(redis-cli -p "$p" SCRIPT LOAD "$canon"); done
total_missing=0 total_stray=0 total_differ=0
for db in 0 1; do
  redis-cli -p "$src_port" -n "$db" --scan | LC_ALL=C sort >"$work/src.$db"
  for t in 0 1 2; do
    port=${tgt_port[t]}; name=${names[t]}
    redis-cli -p "$port" -n "$db" --scan | LC_ALL=C sort >"$work/$name.$db"
    grep -E "${regexes[t]}" "$work/src.$db" >"$work/want.$name.$db" || true
    LC_ALL=C comm -12 "$work/want.$name.$db" "$work/$name.$db" >"$work/both.$name.$db"
    missing=$(LC_ALL=C comm -23 "$work/want.$name.$db" "$work/$name.$db" | wc -l)
    stray=$(LC_ALL=C comm -13 "$work/want.$name.$db" "$work/$name.$db" | wc -l)
    # Value and absolute expiry of every key on both sides, one line per key.
    for p in "$src_port" "$port"; do
      { sed "s/^/EVALSHA $canon_sha 1 /" "$work/both.$name.$db"
        sed 's/^/PEXPIRETIME /' "$work/both.$name.$db"; } |
        redis-cli -p "$p" -n "$db" >"$work/values.$p.$db"
    done
    # A key differs when its value or its expiry does.
    differ=$(paste "$work/values.$src_port.$db" "$work/values.$port.$db" |
      awk -F '\t' -v n="$(wc -l <"$work/both.$name.$db")" '
        $1 != $2 { k = (NR - 1) % n; if (!(k in bad)) { bad[k] = 1; c++ } }
        END { print c + 0 }')
    printf 'db %s %-6s %7d keys  missing %d  stray %d  different %d\n' "$db" "$name" \
      "$(wc -l <"$work/$name.$db")" "$missing" "$stray" "$differ"
    total_missing=$((total_missing + missing)); total_stray=$((total_stray + stray))
    total_differ=$((total_differ + differ))
  done
  printf 'db %s source %7d keys\n' "$db" "$(wc -l <"$work/src.$db")"
done

faults=0; for k in "${kinds[@]}"; do faults=$((faults + injected[$k])); done
resyncs=$(jq -r '[.status.targets[] | "\(.name)=\(.resyncs // "n/a")"] | join(" ")' \
  "$work/final.json" || echo n/a)
reconnects=$(jq -r '.status.upstream_reconnects' "$work/final.json" || echo n/a)
echo "== figures (seed $seed, $minutes min)"
echo "faults injected:   $faults (kill ${injected[kill]}, stop ${injected[stop]}," \
  "pause ${injected[pause]}, master ${injected[master]}, source ${injected[source]})"
echo "source keys:       $(($(wc -l <"$work/src.0") + $(wc -l <"$work/src.1")))"
echo "missing:           $total_missing"
echo "stray:             $total_stray"
echo "different:         $total_differ"
echo "max spool:         $(cat "$work/max_spool") bytes"
echo "resyncs:           $resyncs"
echo "source reconnects: $reconnects"
echo "source full syncs: $(redis-cli -p "$src_port" INFO stats | tr -d '\r' |
  sed -n 's/^sync_full://p')"
if [ "$caught_up" = 1 ] && [ "$total_missing" = 0 ] && [ "$total_stray" = 0 ] &&
  [ "$total_differ" = 0 ]; then
  echo "== OK: every key is on exactly the right target with the same value and TTL"
else
  [ "$caught_up" = 1 ] || echo "soak: the targets did not catch up (markers missing)" >&2
  echo "== FAILED: see above (logs in $work)" >&2
  exit 1
fi
