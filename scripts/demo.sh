#!/usr/bin/env bash
# The README's demo: reshard a live Redis into two through reshardd.
#
# Starts a source Redis on loopback filled with ~100k keys of every basic type
# (some with TTLs, in two databases), two empty target Redis servers and
# reshardd; creates a job that splits the keys in half by their first digit
# (^[0-4] / ^[5-9]); writes live traffic to the source while the job syncs;
# shows progress; then checks that every key is on exactly the right target,
# with the same value and TTL, and prints per-target counts.
# Everything runs under a temporary directory and is stopped (by PID) on exit
# or Ctrl-C.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${RESHARD_BUILD_DIR:-$root/build}"
keys="${DEMO_KEYS:-100000}"

bash "$root/scripts/build.sh" reshardd reshardctl

work="$(mktemp -d /tmp/reshard-demo.XXXXXX)"
pids=()
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$status" -eq 0 ]; then rm -rf "$work"; else echo "demo: logs kept in $work" >&2; fi
  exit "$status"
}
trap cleanup EXIT
trap 'echo; echo "demo: interrupted"; exit 130' INT TERM

# A free loopback port: one nobody answers on, from a range the kernel does
# not hand out as ephemeral ports.
used_ports=" "
free_port() {
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
start_redis() {  # name port
  mkdir -p "$work/$1"
  redis-server --port "$2" --bind 127.0.0.1 --dir "$work/$1" --save "" --appendonly no \
    --repl-diskless-sync-delay 0 --daemonize no --logfile "$work/$1/redis.log" &
  pids+=($!)
  for _ in $(seq 100); do redis-cli -p "$2" ping >/dev/null 2>&1 && return 0; sleep 0.05; done
  echo "demo: redis-server '$1' did not start on port $2 (see $work/$1/redis.log)" >&2
  return 1
}

src_port=$(free_port); a_port=$(free_port); b_port=$(free_port)
la_port=$(free_port); lb_port=$(free_port); grpc_port=$(free_port); metrics_port=$(free_port)
echo "== starting source (:$src_port) and targets a (:$a_port), b (:$b_port)"
start_redis source "$src_port"
start_redis target-a "$a_port"
start_redis target-b "$b_port"

echo "== filling the source with $keys keys (strings, lists, hashes, sets, zsets; TTLs; dbs 0 and 1)"
# Key names start with a digit so that ^[0-4] / ^[5-9] split them in half.
awk -v n="$keys" 'BEGIN {
  for (i = 0; i < n; i++) {
    d = i % 10; k = d ":" i; t = i % 5;
    if (i == int(n / 2)) print "SELECT 1";
    if (t == 0) { print "SET " k ":str value-" i; if (i % 7 == 0) print "PEXPIRE " k ":str 3600000" }
    else if (t == 1) print "RPUSH " k ":list a" i " b" i " c" i;
    else if (t == 2) print "HSET " k ":hash f1 v" i " f2 w" i;
    else if (t == 3) print "SADD " k ":set m" i " n" i " " i;
    else { print "ZADD " k ":zset " i " m" i " 1.5 x" i; if (i % 11 == 0) print "EXPIRE " k ":zset 7200" }
  } }' | redis-cli -p "$src_port" --pipe >/dev/null
# Slow the snapshot a little so that the live traffic below lands during it.
redis-cli -p "$src_port" CONFIG SET rdb-key-save-delay 20 >/dev/null

echo "== starting reshardd (gRPC :$grpc_port, metrics :$metrics_port)"
"$build/server/reshardd" --grpc_listen="127.0.0.1:$grpc_port" --metrics_listen="127.0.0.1:$metrics_port" \
  >"$work/reshardd.log" 2>&1 &
pids+=($!)
ctl() { "$build/client/reshardctl" --server "127.0.0.1:$grpc_port" "$@"; }
for _ in $(seq 100); do ctl list >/dev/null 2>&1 && break; sleep 0.1; done

cat >"$work/job.json" <<JSON
{"source": {"address": "127.0.0.1:$src_port"},
 "targets": [
  {"name": "a", "filter": {"regex": "^[0-4]"}, "listen": "127.0.0.1:$la_port",
   "replica": {"address": "127.0.0.1:$a_port"}},
  {"name": "b", "filter": {"regex": "^[5-9]"}, "listen": "127.0.0.1:$lb_port",
   "replica": {"address": "127.0.0.1:$b_port"}}]}
JSON

# Live traffic while the job syncs: writes, overwrites, deletes, TTLs, MSET
# across both halves, both databases.
traffic() {
  for round in $(seq 1 40); do
    awk -v r="$round" -v n="$keys" 'BEGIN { srand(r);
      for (j = 0; j < 500; j++) { i = int(rand() * n); d = i % 10; k = d ":" i;
        print "SELECT " (i < n / 2 ? 0 : 1);
        print "SET " k ":live r" r;
        print "INCR " d ":counter";
        if (j % 10 == 0) print "DEL " k ":str";
        if (j % 13 == 0) print "MSET " d ":m" j " x " ((d + 5) % 10) ":m" j " y";
        if (j % 17 == 0) print "SETEX " k ":ttl 600 t";
        if (j % 19 == 0) print "LPUSH " k ":list z" r; } }' | redis-cli -p "$src_port" --pipe >/dev/null
    sleep 0.1
  done
}

echo "== creating the job (live traffic starts now)"
traffic &
traffic_pid=$!
pids+=($traffic_pid)
ctl create -f "$work/job.json" | tee "$work/create.out"
job=$(ctl -o json list | sed -n 's/.*"id": *"\([^"]*\)".*/\1/p' | head -1)
ctl watch "$job"
redis-cli -p "$src_port" CONFIG SET rdb-key-save-delay 0 >/dev/null
wait "$traffic_pid"

echo "== live traffic done; waiting for the targets to catch up"
redis-cli -p "$src_port" SET "0:__demo_done" 1 >/dev/null
redis-cli -p "$src_port" SET "5:__demo_done" 1 >/dev/null
for _ in $(seq 600); do
  [ "$(redis-cli -p "$a_port" EXISTS 0:__demo_done)" = 1 ] &&
    [ "$(redis-cli -p "$b_port" EXISTS 5:__demo_done)" = 1 ] && break
  sleep 0.1
done
ctl get "$job"

echo "== checking every key"
# Values are compared in a canonical form (sets and hashes sorted: a hash
# table iterates in a per-process order), expiries as absolute times.
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
for p in "$src_port" "$a_port" "$b_port"; do canon_sha=$(redis-cli -p "$p" SCRIPT LOAD "$canon"); done
fail=0
for db in 0 1; do
  redis-cli -p "$src_port" -n "$db" --scan | LC_ALL=C sort >"$work/src.$db"
  for t in a b; do
    port=$a_port; re='^[0-4]'
    [ "$t" = b ] && port=$b_port && re='^[5-9]'
    redis-cli -p "$port" -n "$db" --scan | LC_ALL=C sort >"$work/$t.$db"
    grep -E "$re" "$work/src.$db" >"$work/want.$t.$db" || true
    missing=$(LC_ALL=C comm -23 "$work/want.$t.$db" "$work/$t.$db" | wc -l)
    stray=$(LC_ALL=C comm -13 "$work/want.$t.$db" "$work/$t.$db" | wc -l)
    differ=0
    if [ -s "$work/want.$t.$db" ]; then
      for p in "$src_port" "$port"; do
        { sed "s/^/EVALSHA $canon_sha 1 /" "$work/want.$t.$db"
          sed 's/^/PEXPIRETIME /' "$work/want.$t.$db"; } | redis-cli -p "$p" -n "$db" | md5sum
      done >"$work/sums.$t.$db"
      [ "$(sort -u "$work/sums.$t.$db" | wc -l)" = 1 ] || differ=1
    fi
    printf 'db %s target %s: %7d keys  missing %d  stray %d  %s\n' "$db" "$t" \
      "$(wc -l <"$work/$t.$db")" "$missing" "$stray" \
      "$([ "$differ" = 0 ] && echo 'values and TTLs equal' || echo 'VALUES DIFFER')"
    [ "$missing" = 0 ] && [ "$stray" = 0 ] && [ "$differ" = 0 ] || fail=1
  done
  printf 'db %s source:   %7d keys\n' "$db" "$(wc -l <"$work/src.$db")"
done
if [ "$fail" = 0 ]; then
  echo "== OK: every key is on exactly the right target with the same value and TTL"
else
  echo "== FAILED: see above" >&2
  exit 1
fi
