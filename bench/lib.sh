# Shared by the bench scripts: source it; call free_port once "$work" exists.

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
