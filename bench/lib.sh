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
