#!/usr/bin/env bash
# Fetches old, newer and alternative servers for compatibility tests, without
# installing them:
#
#   DIR/redis-6.0/bin/{redis-server,redis-check-rdb,redis-cli}
#       Debian 11 "bullseye" packages redis-server and redis-tools
#   DIR/valkey-8.0/bin/{valkey-server,valkey-check-rdb,valkey-cli}
#       Debian 12 bookworm-backports packages valkey-server and valkey-tools
#   DIR/redis-8.0/bin/{redis-server,redis-check-rdb,redis-cli}
#   DIR/valkey-9.1/bin/{valkey-server,valkey-check-rdb,valkey-cli}
#       built here (make BUILD_TLS=yes, needs libssl-dev) from the upstream
#       tarball of Debian unstable's ("sid") source packages redis and valkey:
#       their binary packages need a newer glibc than Debian 12 has. A few
#       minutes each on 2 cores; the log is DIR/.build/<tree>.log.
#
# The fetched packages are unpacked with dpkg -x; DIR/<tree>/bin holds small
# wrappers that set LD_LIBRARY_PATH for shared libraries Debian 12 no longer
# has (e.g. libssl1.1), fetched into the same tree. The built binaries need
# only the system's libraries.
#
# apt runs with a private configuration under DIR/.apt-<suite> (its own
# sources.list, state and cache); the system's apt sources and state are only
# read, never written. The mirror is the one the system's own apt sources use
# (override with RESHARD_DEBIAN_MIRROR=URL). Safe to run again: finished trees
# (marked DIR/<tree>/.complete) are left as they are. A tree that cannot be
# fetched or built is reported and left out; the others are still made, and
# the exit status is then 1. Needs no root.
#
#   scripts/fetch_servers.sh DIR
set -euo pipefail

die() {
  echo "fetch_servers.sh: $*" >&2
  exit 1
}

[[ $# -eq 1 ]] || die "usage: fetch_servers.sh DIR"
mkdir -p "$1"
DIR="$(cd "$1" && pwd)"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
ARCH="$(dpkg --print-architecture)"
MULTIARCH="$(dpkg-architecture -qDEB_HOST_MULTIARCH 2> /dev/null || echo "$(uname -m)-linux-gnu")"

# The first Debian archive URI in the system's apt sources that is not the
# security archive, from one-line (.list) or deb822 (.sources) files.
system_mirror() {
  local files=()
  [[ -r /etc/apt/sources.list ]] && files+=(/etc/apt/sources.list)
  for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [[ -r "$f" ]] && files+=("$f")
  done
  [[ ${#files[@]} -gt 0 ]] || return 1
  local uri
  for f in "${files[@]}"; do
    if [[ "$f" == *.sources ]]; then
      uri="$(sed -n 's/^URIs:[[:space:]]*//p' "$f" | tr ' ' '\n')"
    else
      # deb [options] URI suite components...
      uri="$(sed -n 's/^[[:space:]]*deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]\+\).*/\2/p' "$f")"
    fi
    uri="$(echo "$uri" | grep -v -- '-security' | grep -E '^(https?|file)://' | head -n1 || true)"
    if [[ -n "$uri" ]]; then
      echo "${uri%/}"
      return 0
    fi
  done
  return 1
}

MIRROR="${RESHARD_DEBIAN_MIRROR:-}"
if [[ -z "$MIRROR" ]]; then
  MIRROR="$(system_mirror)" ||
    die "no Debian mirror found in /etc/apt/sources.list or /etc/apt/sources.list.d/; set RESHARD_DEBIAN_MIRROR"
fi
[[ -r "$KEYRING" ]] || die "$KEYRING is missing (package debian-archive-keyring)"

# apt-get with a private root for one suite: DIR/.apt-<suite>. TYPE is deb
# (binary packages, the default) or deb-src (source packages).
APT_OPTS=()
apt_root() {
  local suite="$1" type="${2:-deb}" root="$DIR/.apt-$1"
  mkdir -p "$root/state/lists/partial" "$root/cache/archives/partial" "$root/debs"
  touch "$root/state/status"
  echo "$type [signed-by=$KEYRING] $MIRROR $suite main" > "$root/sources.list"
  APT_OPTS=(
    -o "Dir::Etc::SourceList=$root/sources.list"
    -o "Dir::Etc::SourceParts=/dev/null"
    -o "Dir::Etc::Preferences=/dev/null"
    -o "Dir::Etc::PreferencesParts=/dev/null"
    -o "Dir::State=$root/state"
    -o "Dir::State::status=$root/state/status"
    -o "Dir::Cache=$root/cache"
    -o "APT::Architecture=$ARCH"
    -o "APT::Get::List-Cleanup=false"
    -o "Debug::NoLocking=true"
  )
  # As root, apt drops to the _apt user to download; it cannot write here.
  [[ $(id -u) -eq 0 ]] && APT_OPTS+=(-o "APT::Sandbox::User=root")
  if [[ ! -e "$root/state/updated" ]]; then
    echo "fetch_servers.sh: apt-get update for $suite from $MIRROR"
    apt-get "${APT_OPTS[@]}" -q update > "$root/update.log" 2>&1 ||
      die "apt-get update for $suite failed; see $root/update.log"
    touch "$root/state/updated"
  fi
}

# The newest version of package $1 (in the current apt root) that starts with $2.
pick_version() {
  apt-cache "${APT_OPTS[@]}" madison "$1" 2> /dev/null | awk -F'|' '{gsub(/ /,"",$2); print $2}' |
    { grep -E "^([0-9]+:)?$2" || true; } | sort -V | tail -n1
}

# Downloads package $1 at version $2 into the apt root's debs/ and unpacks it into $3.
fetch_and_unpack() {
  local pkg="$1" version="$2" tree="$3" root="$DIR/.apt-$SUITE"
  (cd "$root/debs" && apt-get "${APT_OPTS[@]}" -q download "$pkg=$version" > /dev/null) ||
    die "apt-get download $pkg=$version failed (stale lists? remove $root/state/updated)"
  local debs=("$root/debs/${pkg}_"*.deb)
  dpkg -x "${debs[0]}" "$tree"
  echo "fetch_servers.sh:   $pkg $version"
}

libdirs_of() {
  local tree="$1"
  echo "$tree/lib/$MULTIARCH:$tree/usr/lib/$MULTIARCH:$tree/usr/lib"
}

# Package names that fetched packages depend on: first alternative, without
# version or architecture qualifiers.
depends_of_fetched() {
  local deb
  for deb in "$DIR/.apt-$SUITE/debs"/*.deb; do
    dpkg-deb -f "$deb" Depends Pre-Depends | sed 's/^[A-Za-z-]*: //' | tr ',' '\n' |
      sed 's/|.*//; s/(.*)//; s/:.*//; s/[[:space:]]//g'
  done | grep -v '^$' | sort -u
}

# Fetches, from the same suite, the library packages (lib*, lua-*) that the
# fetched packages depend on and the system lacks (the Lua modules and
# libssl1.1 of bullseye's Redis, say), then checks with ldd that binary $2 of
# tree $1 finds every shared library.
resolve_libraries() {
  local tree="$1" binary="$2" dep version fetched=1 missing
  for _ in 1 2 3 4 5; do
    [[ $fetched -eq 1 ]] || break
    fetched=0
    for dep in $(depends_of_fetched); do
      [[ "$dep" =~ ^(lib|lua-) ]] || continue
      dpkg-query -W -f='${Status}' "$dep" 2> /dev/null | grep -q '^install ok installed$' && continue
      ls "$DIR/.apt-$SUITE/debs/${dep}_"*.deb > /dev/null 2>&1 && continue
      version="$(pick_version "$dep" "")"
      # A virtual or renamed package (libgcc1 -> libgcc-s1): the system's
      # library usually serves; ldd below is the judge.
      [[ -n "$version" ]] || continue
      fetch_and_unpack "$dep" "$version" "$tree"
      fetched=1
    done
  done
  missing="$(LD_LIBRARY_PATH="$(libdirs_of "$tree")" ldd "$binary" 2> /dev/null |
    awk '/not found/ {print $1}' | sort -u | tr '\n' ' ')"
  [[ -z "$missing" ]] || die "$binary cannot find shared libraries: $missing"
}

# Writes DIR/<tree>/bin/<name> running usr/bin/<name> with the tree's libraries.
write_wrapper() {
  local tree="$1" name="$2"
  [[ -e "$tree/usr/bin/$name" ]] || die "$tree/usr/bin/$name is not in the packages"
  mkdir -p "$tree/bin"
  cat > "$tree/bin/$name" << WRAPPER
#!/bin/sh
# Written by scripts/fetch_servers.sh: runs the unpacked $name with the
# shared libraries unpacked next to it.
tree="\$(cd "\$(dirname "\$0")/.." && pwd)"
LD_LIBRARY_PATH="\$tree/lib/$MULTIARCH:\$tree/usr/lib/$MULTIARCH:\$tree/usr/lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export LD_LIBRARY_PATH
exec "\$tree/usr/bin/$name" "\$@"
WRAPPER
  chmod +x "$tree/bin/$name"
}

# fetch_server NAME SUITE VERSION-PREFIX PACKAGE... -- BINARY...
fetch_server() {
  local name="$1" suite="$2" prefix="$3"
  shift 3
  local packages=() binaries=()
  while [[ "$1" != "--" ]]; do packages+=("$1"); shift; done
  shift
  binaries=("$@")
  local tree="$DIR/$name"
  if [[ -e "$tree/.complete" ]]; then
    echo "fetch_servers.sh: $name already in $tree"
    return 0
  fi
  SUITE="$suite"
  apt_root "$suite"
  rm -rf "$tree" "$DIR/.apt-$suite/debs"/*.deb
  mkdir -p "$tree"
  echo "fetch_servers.sh: $name from $suite:"
  local pkg version
  for pkg in "${packages[@]}"; do
    version="$(pick_version "$pkg" "$prefix")"
    [[ -n "$version" ]] || die "no $pkg $prefix* in $suite (see: apt-cache madison $pkg)"
    fetch_and_unpack "$pkg" "$version" "$tree"
  done
  local binary
  for binary in "${binaries[@]}"; do
    [[ -e "$tree/usr/bin/$binary" ]] || die "$binary is not in ${packages[*]}"
    resolve_libraries "$tree" "$(readlink -f "$tree/usr/bin/$binary")"
    write_wrapper "$tree" "$binary"
    "$tree/bin/$binary" --version > /dev/null 2>&1 || [[ "$binary" == *check* ]] ||
      die "$tree/bin/$binary --version failed"
  done
  touch "$tree/.complete"
}

# build_server NAME SUITE VERSION-PREFIX SOURCE-PACKAGE -- BINARY...
# Downloads the newest source package version starting with VERSION-PREFIX
# from SUITE, builds its upstream tarball with TLS and copies BINARY... from
# its src/ into DIR/NAME/bin.
#
# Debian's debian/patches are not applied: the upstream tarball builds as it
# is on Debian 12 (with the jemalloc, Lua and hiredis copies in its deps/), and
# the result is the release as its developers ship it. The patches are Debian
# integration (configuration-file defaults, CPPFLAGS, an opt-in system
# jemalloc, kFreeBSD) and, for redis, backported security fixes for hostile
# input (cluster bus packets, corrupt RESTORE payloads, scripts timing out
# during a full sync, CLIENT KILL across pending TLS connections), which the
# tests' own loopback servers do not meet.
build_server() {
  local name="$1" suite="$2" prefix="$3" pkg="$4"
  shift 5
  local binaries=("$@")
  local tree="$DIR/$name" work="$DIR/.build/$name" log="$DIR/.build/$name.log"
  if [[ -e "$tree/.complete" ]]; then
    echo "fetch_servers.sh: $name already in $tree"
    return 0
  fi
  SUITE="$suite"
  apt_root "$suite" deb-src
  local version upstream src="$DIR/.apt-$suite/src"
  version="$(pick_version "$pkg" "$prefix")"
  [[ -n "$version" ]] || die "no source package $pkg $prefix* in $suite (see: apt-cache showsrc $pkg)"
  upstream="${version#*:}"
  upstream="${upstream%-*}"
  mkdir -p "$src" "$DIR/.build"
  rm -rf "$tree" "$work"
  local orig="$src/${pkg}_$upstream.orig.tar.gz"
  if [[ ! -s "$orig" ]]; then
    (cd "$src" && apt-get "${APT_OPTS[@]}" -q source --download-only "$pkg=$version" > /dev/null) ||
      die "apt-get source $pkg=$version failed (stale lists? remove $DIR/.apt-$suite/state/updated)"
    [[ -s "$orig" ]] || die "apt-get source $pkg=$version gave no $orig"
  fi
  mkdir -p "$work"
  tar -xzf "$orig" -C "$work" --strip-components=1
  # -O1 without debug info or LTO (the servers' defaults are -O3 -flto -g):
  # test servers need no more, and it halves the build on 2 cores.
  local make_args=(-j2 BUILD_TLS=yes OPTIMIZATION=-O1 DEBUG=)
  echo "fetch_servers.sh: $name: building $pkg $upstream from $suite (make ${make_args[*]}; log: $log)"
  local start=$SECONDS
  # GIT_CEILING_DIRECTORIES: the server's mkreleasehdr.sh asks git for its
  # commit, and would otherwise find the repository DIR is in.
  GIT_CEILING_DIRECTORIES="$DIR/.build" make -C "$work" "${make_args[@]}" > "$log" 2>&1 ||
    die "building $pkg $upstream failed; see $log (last lines: $(tail -n3 "$log" | tr '\n' ' '))"
  mkdir -p "$tree/bin"
  local binary
  for binary in "${binaries[@]}"; do
    [[ -x "$work/src/$binary" ]] || die "the build of $pkg $upstream made no src/$binary; see $log"
    cp -L "$work/src/$binary" "$tree/bin/$binary"
  done
  "$tree/bin/${binaries[0]}" --version | grep -q "v=$upstream " ||
    die "$tree/bin/${binaries[0]} --version does not say v=$upstream"
  rm -rf "$work"
  echo "$pkg $version from $suite, built in $((SECONDS - start))s" > "$tree/.complete"
  echo "fetch_servers.sh: $name: built in $((SECONDS - start))s"
}

# Each tree in a subshell: one that fails is reported and left out without
# stopping the others. (Not "( ... ) || ...": bash ignores set -e there.)
failed=()
make_tree() {
  local name="$1" rc
  shift
  set +e
  (
    set -e
    "$@"
  )
  rc=$?
  set -e
  [[ $rc -eq 0 ]] || failed+=("$name")
}

make_tree redis-6.0 fetch_server redis-6.0 bullseye 6.0 redis-tools redis-server -- \
  redis-server redis-check-rdb redis-cli
make_tree valkey-8.0 fetch_server valkey-8.0 bookworm-backports 8.0 valkey-tools valkey-server -- \
  valkey-server valkey-check-rdb valkey-cli
make_tree redis-8.0 build_server redis-8.0 sid 8.0. redis -- \
  redis-server redis-check-rdb redis-cli
make_tree valkey-9.1 build_server valkey-9.1 sid 9.1. valkey -- \
  valkey-server valkey-check-rdb valkey-cli

echo "fetch_servers.sh: ready:"
for b in redis-6.0/bin/redis-server redis-6.0/bin/redis-check-rdb \
  valkey-8.0/bin/valkey-server valkey-8.0/bin/valkey-check-rdb \
  redis-8.0/bin/redis-server redis-8.0/bin/redis-check-rdb \
  valkey-9.1/bin/valkey-server valkey-9.1/bin/valkey-check-rdb; do
  [[ -e "$DIR/${b%%/*}/.complete" ]] || continue
  printf '  %-45s %s\n' "$DIR/$b" "$("$DIR/$b" --version 2>&1 | head -n1)"
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fetch_servers.sh: not made (see the messages above): ${failed[*]}" >&2
  exit 1
fi
