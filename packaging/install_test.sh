#!/usr/bin/env bash
# Installs the Debian package built from this tree INTO THIS MACHINE, checks
# it and purges it again. Not part of CI (it changes the system: a user, files
# under /usr, /etc, /lib/systemd); run it by hand as root on a Debian 12 host:
#   packaging/install_test.sh [BUILD_DIR]      (default: build)
# It checks: apt installs the .deb with its dependencies; the `reshard` user
# exists; the files are where the unit and the flags file expect them;
# systemd-analyze verify accepts the installed unit; the unit's ExecStart,
# run as its User with its StateDirectory, serves reshardctl (under systemd
# when PID 1 is systemd, else by hand: ports overridden to free ones); purge
# removes the user's state and the user.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$(cd "${1:-$root/build}" && pwd)"
[[ $(id -u) -eq 0 ]] || { echo "install_test: run as root" >&2; exit 1; }
work="$(mktemp -d "${TMPDIR:-/tmp}/reshard-install.XXXXXX")"
pid=""
cleanup() {
  if [[ -n "$pid" ]]; then kill "$pid" 2> /dev/null || true; wait "$pid" 2> /dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "install_test: $*" >&2; exit 1; }

(cd "$build" && cpack -G DEB -B "$work/out" > "$work/cpack.log") || { cat "$work/cpack.log"; fail cpack; }
deb="$(ls "$work"/out/reshard_*.deb)"
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$deb"
dpkg -s reshard | grep -q "^Status: install ok installed" || fail "not installed"
getent passwd reshard > /dev/null || fail "no reshard user"
for path in /usr/sbin/reshardd /usr/bin/reshardctl /lib/systemd/system/reshardd.service \
  /etc/reshard/reshardd.flags /usr/share/reshard/dashboards/reshard.json \
  /usr/share/reshard/dashboards/alerts.yml /usr/share/bash-completion/completions/reshardctl; do
  [[ -e "$path" ]] || fail "$path missing"
done
systemd-analyze verify /lib/systemd/system/reshardd.service || fail "systemd-analyze verify"
reshardd --version
reshardctl --version

if [[ -d /run/systemd/system ]]; then
  systemctl start reshardd
  sleep 2
  systemctl is-active reshardd || { journalctl -u reshardd --no-pager | tail -20; fail "unit"; }
  reshardctl list
  systemctl stop reshardd
  echo "install_test: the unit started reshardd under systemd"
else
  # No systemd here (a container): do what the unit does, by hand.
  echo "install_test: PID 1 is $(ps -p 1 -o comm=), not systemd: running ExecStart as User=reshard"
  install -d -o reshard -g reshard -m 0700 /var/lib/reshard
  cd /var/lib/reshard
  setpriv --reuid=reshard --regid=reshard --init-groups /usr/sbin/reshardd \
    --flagfile=/etc/reshard/reshardd.flags --grpc_listen=127.0.0.1:0 \
    --metrics_listen=127.0.0.1:0 2> "$work/reshardd.log" &
  pid=$!
  cd "$root"
  for _ in $(seq 100); do grep -q "gRPC listening" "$work/reshardd.log" && break; sleep 0.1; done
  address="$(grep -o "gRPC listening on [0-9.:]*" "$work/reshardd.log" | awk '{print $4}')"
  [[ -n "$address" ]] || { cat "$work/reshardd.log"; fail "reshardd did not start"; }
  reshardctl --server "$address" list
  [[ -d /var/lib/reshard/spool && "$(stat -c %U /var/lib/reshard/spool)" == reshard ]] ||
    fail "the state dir is not the reshard user's"
  kill -TERM "$pid"
  wait "$pid" || fail "reshardd did not exit 0 on SIGTERM"
  pid=""
  cat "$work/reshardd.log"
fi

DEBIAN_FRONTEND=noninteractive apt-get purge -y reshard
! getent passwd reshard > /dev/null || fail "the reshard user is still there after purge"
[[ ! -e /var/lib/reshard && ! -e /usr/sbin/reshardd ]] || fail "files left after purge"
echo "install_test: OK"
