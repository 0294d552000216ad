#!/bin/bash
# The cost of following a failover inside a cluster target exactly: reshardd
# pipelines ROLE after every stream command it sends to a cluster master.
# Side by side in one run, against one master with one replica (as a cluster
# master with --cluster-replicas 1): N INCRs through redis-cli --pipe alone,
# then each followed by ROLE; then the master's own time per call of each
# (INFO commandstats).
#   bash bench/cluster_role_cost.sh            (N=300000 by default)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
N=${N:-300000}
bench_workdir cluster_role_cost
master_port=$(free_port)
replica_port=$(free_port)
mkdir -p "$work/m" "$work/r"
redis-server --port "$master_port" --bind 127.0.0.1 --dir "$work/m" --save "" >"$work/m.log" 2>&1 &
pids+=($!)
redis-server --port "$replica_port" --bind 127.0.0.1 --dir "$work/r" --save "" \
  --replicaof 127.0.0.1 "$master_port" >"$work/r.log" 2>&1 &
pids+=($!)
until redis-cli -p "$replica_port" INFO replication 2>/dev/null | grep -q "master_link_status:up"; do
  sleep 0.1
done
python3 - "$N" "$work" <<'PY'
import sys
n, work = int(sys.argv[1]), sys.argv[2]
def cmd(*a): return "*%d\r\n" % len(a) + "".join("$%d\r\n%s\r\n" % (len(x), x) for x in a)
open(work + "/plain.txt", "w").write("".join(cmd("INCR", "k%d" % (i % 1000)) for i in range(n)))
open(work + "/role.txt", "w").write(
    "".join(cmd("INCR", "k%d" % (i % 1000)) + cmd("ROLE") for i in range(n)))
PY
for f in plain role plain role; do
  s=$(date +%s.%N)
  redis-cli -p "$master_port" --pipe <"$work/$f.txt" >/dev/null
  e=$(date +%s.%N)
  echo "$f: $(python3 -c "print(round($N / ($e - $s)))") writes/s"
done
redis-cli -p "$master_port" INFO commandstats | grep -E "cmdstat_(incr|role):"
