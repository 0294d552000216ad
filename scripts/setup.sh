#!/usr/bin/env bash
# Installs what reshard needs to build and test on Debian 12, and nothing that
# is already there. Safe to run again. Run as root (or with sudo available).
#
#   scripts/setup.sh                       # Debian packages only
#   scripts/setup.sh --fetch-servers DIR   # also Redis 6.0 / 8.0 and Valkey 8.0 / 9.1
#                                          # into DIR (see scripts/fetch_servers.sh)
#   scripts/setup.sh --fuzz                # also clang + libFuzzer (scripts/fuzz.sh)
set -euo pipefail

PACKAGES=(
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libre2-dev libgtest-dev libgmock-dev prometheus-cpp-dev
  libasio-dev liblzf-dev ninja-build cmake g++ pkg-config libbenchmark-dev
  redis-server redis-tools prometheus
  # reshardctl's tests: watch on a real terminal (tmux), the completions
  # (bash is always there; zsh), Grafana's provisioning files (python3-yaml).
  tmux zsh python3-yaml
  # The Debian package (cpack -G DEB: dpkg-shlibdeps) and its unit check.
  dpkg-dev systemd
  # OpenSSL: the engine's TLS links (asio/ssl.hpp), reshardd's secret files and
  # certificate checks (libssl-dev), and the throwaway certificates of the TLS
  # tests (openssl); scripts/fetch_servers.sh builds Redis 8.0 and Valkey 9.1
  # with it (and make, g++ above).
  make libssl-dev openssl
)
# For the libFuzzer targets (scripts/fuzz.sh): clang 14, its compiler-rt
# (libFuzzer, ASan) and llvm-symbolizer for readable crash stacks.
FUZZ_PACKAGES=(clang libclang-rt-14-dev llvm-14)

fetch_dir=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --fetch-servers)
      [[ $# -ge 2 ]] || { echo "setup.sh: --fetch-servers needs a directory" >&2; exit 2; }
      fetch_dir="$2"
      shift 2
      ;;
    --fuzz)
      PACKAGES+=("${FUZZ_PACKAGES[@]}")
      shift
      ;;
    -h | --help)
      sed -n '2,9p' "$0"
      exit 0
      ;;
    *)
      echo "setup.sh: unknown argument '$1'" >&2
      exit 2
      ;;
  esac
done

if [[ ! -r /etc/debian_version ]] || ! command -v dpkg-query > /dev/null; then
  echo "setup.sh: this script expects Debian 12 (bookworm)" >&2
  exit 1
fi

is_installed() {
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2> /dev/null || true)" == "install ok installed" ]]
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  is_installed "$pkg" || missing+=("$pkg")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "setup.sh: all ${#PACKAGES[@]} packages are installed"
else
  as_root=()
  if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo > /dev/null; then
      as_root=(sudo)
    else
      echo "setup.sh: missing packages (${missing[*]}); run as root to install them" >&2
      exit 1
    fi
  fi
  echo "setup.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}"
fi

# The Debian redis-server package starts a service on 6379. Nothing in this
# project uses it (tests start their own servers on ports they pick), so it
# is left alone rather than stopped behind the operator's back.

if [[ -n "$fetch_dir" ]]; then
  "$(dirname "$0")/fetch_servers.sh" "$fetch_dir"
fi
