# Shared by the bench scripts: source it; call free_port once "$work" exists.

# bench_workdir NAME: a fresh temporary $work and an empty pids array; on exit
# every PID in pids is stopped, and $work is removed after a successful run
# unless keep=1 (otherwise kept, and said). Ctrl-C exits with 130.
bench_workdir() {
  bench_name="$1"
  work="$(mktemp -d "/tmp/reshard-$bench_name.XXXXXX")"
  pids=()
  trap bench_cleanup EXIT
  trap 'echo; echo "$bench_name: interrupted" >&2; exit 130' INT TERM
}
bench_cleanup() {
  local status=$? pid
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "$status" -eq 0 ] && [ "${keep:-0}" = 0 ]; then
    rm -rf "$work"
  else
    echo "$bench_name: logs kept in $work" >&2
  fi
  exit "$status"
}

# now: the time in seconds (microseconds after the point); elapsed A B: B - A.
now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# free_port: a free loopback port, never one already handed out in this run.
# Ports are picked before the servers bind them, and the kernel may offer
# the same free port twice (two servers, or a target and its listener, on
# one port).
free_port() {
  local port
  while :; do
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
    if ! grep -qx "$port" "$work/.ports" 2>/dev/null; then
      echo "$port" >>"$work/.ports"
      echo "$port"
      return
    fi
  done
}

# stop_pid PID: SIGTERM, up to 10 s for it to end, then SIGKILL; reaped and
# taken out of the script's "pids" (what its cleanup stops).
stop_pid() {
  local pid="$1" keep_pids=() p
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  for p in "${pids[@]}"; do [ "$p" = "$pid" ] || keep_pids+=("$p"); done
  pids=("${keep_pids[@]}")
}

# pipe_in PORT: feeds RESP/inline commands from stdin to the server; fails
# (die, the script's) on any error reply.
pipe_in() {
  local port="$1" out
  out="$(redis-cli -p "$port" --pipe 2>&1)" || die "redis-cli --pipe: $out"
  grep -q 'errors: 0,' <<<"$out" || die "redis-cli --pipe reported errors: $out"
}

# fill_dataset PORT N B: N keys in db 0, named D:key:I with D the first digit
# (so ^[0-4] / ^[5-9] split them in half); 80% strings of B bytes (random
# letters, so that the RDB's LZF does not shrink them), 10% lists and 10%
# hashes of 4 elements of B/4 bytes each. Sent as RESP through pipe_in.
fill_dataset() {
  local port="$1"
  # RESP, so that any value size works (inline commands stop at 64 KiB).
  awk -v n="$2" -v vs="$3" '
    function cmd(a, c,   s, i) {
      s = "*" c "\r\n"
      for (i = 1; i <= c; i++) s = s "$" length(a[i]) "\r\n" a[i] "\r\n"
      printf "%s", s
    }
    BEGIN {
      srand(42)
      chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
      pool = 997  # values differ between neighbours; a pool keeps awk fast
      for (p = 0; p < pool; p++) {
        s = ""
        for (j = 0; j < vs + 16; j++) s = s substr(chars, int(rand() * 62) + 1, 1)
        val[p] = s
      }
      part = int(vs / 4); if (part < 1) part = 1
      for (i = 0; i < n; i++) {
        k = (i % 10) ":key:" i
        t = int(i / 10) % 10
        v = val[i % pool]
        if (t < 8) {
          a[1] = "SET"; a[2] = k; a[3] = substr(v, (i % 16) + 1, vs); cmd(a, 3)
        } else if (t == 8) {
          a[1] = "RPUSH"; a[2] = k
          for (e = 0; e < 4; e++) a[3 + e] = substr(v, e * 4 + 1, part)
          cmd(a, 6)
        } else {
          a[1] = "HSET"; a[2] = k
          for (e = 0; e < 4; e++) { a[3 + 2 * e] = "f" e; a[4 + 2 * e] = substr(v, e * 4 + 1, part) }
          cmd(a, 10)
        }
      }
    }' | pipe_in "$port"
}
