#!/usr/bin/env bash
# Builds the Debian package from a configured and built tree and checks it
# without installing it (run by ctest as package_test):
#   - cpack -G DEB succeeds; the control data names the package, its
#     dependencies (from dpkg-shlibdeps) and the maintainer scripts;
#   - it holds reshardd, reshardctl, the unit, the flags file (a conffile),
#     the dashboards, alert rules, Grafana provisioning and completions;
#   - systemd-analyze verify accepts the unit (running the unpacked binary);
#   - the unpacked binaries answer --version, reshardd --help names no build
#     path, and reshardd starts with the packaged flags file (ports and state
#     dir overridden after it) and stops on SIGTERM.
# Usage: packaging/check_package.sh BUILD_DIR
set -euo pipefail
build="$(cd "${1:?usage: check_package.sh BUILD_DIR}" && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/reshard-package.XXXXXX")"
pid=""
cleanup() {
  if [[ -n "$pid" ]]; then kill "$pid" 2> /dev/null || true; wait "$pid" 2> /dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "check_package: $*" >&2; exit 1; }

(cd "$build" && cpack -G DEB -B "$work/out" > "$work/cpack.log" 2>&1) ||
  { cat "$work/cpack.log" >&2; fail "cpack failed"; }
deb="$(ls "$work"/out/reshard_*.deb)"
echo "check_package: built $(basename "$deb") ($(du -h "$deb" | cut -f1))"

info="$(dpkg-deb --info "$deb")"
grep -q "^ Package: reshard$" <<< "$info" || fail "no Package: reshard"
depends="$(grep "^ Depends:" <<< "$info")" || fail "no Depends"
for lib in adduser libc6 libstdc++6 libgrpc++ libprotobuf libre2 libprometheus-cpp-pull; do
  grep -q "$lib" <<< "$depends" || fail "Depends lacks $lib: $depends"
done
for script in postinst prerm postrm conffiles; do
  grep -qw "$script" <<< "$info" || fail "no $script in the control archive"
done

contents="$(dpkg-deb --contents "$deb" | awk '{print $NF}')"
for path in ./usr/sbin/reshardd ./usr/bin/reshardctl ./lib/systemd/system/reshardd.service \
  ./etc/reshard/reshardd.flags ./usr/share/reshard/dashboards/reshard.json \
  ./usr/share/reshard/dashboards/alerts.yml ./usr/share/reshard/dashboards/alerts_test.yml \
  ./usr/share/reshard/grafana/datasource.yml ./usr/share/reshard/grafana/dashboards.yml \
  ./usr/share/bash-completion/completions/reshardctl ./usr/share/zsh/vendor-completions/_reshardctl \
  ./usr/share/doc/reshard/README.md; do
  grep -qx "$path" <<< "$contents" || fail "$path is not in the package"
done
mkdir -p "$work/control"
dpkg-deb --control "$deb" "$work/control"
[[ "$(cat "$work/control/conffiles")" == "/etc/reshard/reshardd.flags" ]] || fail "conffiles"
for script in postinst prerm postrm; do sh -n "$work/control/$script" || fail "$script: syntax"; done

root="$work/root"
dpkg-deb -x "$deb" "$root"
# The Grafana provider loads the dashboards from where the package puts them.
grep -q "path: /usr/share/reshard/dashboards$" "$root/usr/share/reshard/grafana/dashboards.yml" ||
  fail "the Grafana provider's path is not the packaged dashboards directory"
if command -v systemd-analyze > /dev/null; then
  # verify checks that ExecStart's binary exists: a copy of the unit runs the
  # unpacked one (verify --root= would also need systemd's own units there).
  mkdir -p "$work/unit"
  sed "s|^ExecStart=/usr/sbin/reshardd|ExecStart=$root/usr/sbin/reshardd|" \
    "$root/lib/systemd/system/reshardd.service" > "$work/unit/reshardd.service"
  systemd-analyze verify "$work/unit/reshardd.service" > "$work/verify.log" 2>&1 ||
    { cat "$work/verify.log" >&2; fail "systemd-analyze verify"; }
  # Anything it says about the unit (an unknown key, a bad value) is a defect.
  if grep "reshardd.service" "$work/verify.log" >&2; then fail "systemd-analyze verify warns"; fi
  echo "check_package: systemd-analyze verify: the unit is valid"
fi
grep -q "^ExecStart=/usr/sbin/reshardd --flagfile=/etc/reshard/reshardd.flags$" \
  "$root/lib/systemd/system/reshardd.service" || fail "ExecStart"

version="$("$root/usr/sbin/reshardd" --version)"
[[ "$version" =~ ^reshardd\ [0-9]+\.[0-9]+\.[0-9]+$ ]] || fail "reshardd --version: $version"
[[ "$("$root/usr/bin/reshardctl" --version)" == "reshardctl ${version#reshardd }" ]] ||
  fail "reshardctl --version differs from reshardd's"
help="$("$root/usr/sbin/reshardd" --help 2>&1 || true)"
grep -q -- "--log_format" <<< "$help" || fail "reshardd --help lacks --log_format"
if grep -n "$(dirname "$build")\|/work/\|/home/\|/build/" <<< "$help"; then
  fail "reshardd --help shows a build path"
fi

# reshardd with the packaged flags file, ports and state dir overridden.
"$root/usr/sbin/reshardd" --flagfile="$root/etc/reshard/reshardd.flags" \
  --grpc_listen=127.0.0.1:0 --metrics_listen=127.0.0.1:0 --state_dir="$work/state" \
  2> "$work/reshardd.log" &
pid=$!
for _ in $(seq 100); do
  grep -q "gRPC listening on" "$work/reshardd.log" && break
  sleep 0.1
done
grep -q "gRPC listening on" "$work/reshardd.log" || { cat "$work/reshardd.log" >&2; fail "no start"; }
address="$(grep -o "gRPC listening on [0-9.:]*" "$work/reshardd.log" | awk '{print $4}')"
"$root/usr/bin/reshardctl" --server "$address" list > "$work/list.out" || fail "reshardctl list"
[[ "$(cat "$work/list.out")" == "ID  STATE  SOURCE  TARGETS  DETAIL" ]] || fail "list: $(cat "$work/list.out")"
kill -TERM "$pid"
wait "$pid" || fail "reshardd did not exit 0 on SIGTERM"
pid=""
grep -q "INFO stopped$" "$work/reshardd.log" || fail "no 'stopped' line: $(cat "$work/reshardd.log")"
echo "check_package: OK"
