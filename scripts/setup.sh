#!/usr/bin/env bash
# Prepares a machine to build, test and demo ulvs. Idempotent: each step runs only when its
# output is missing or stale, and prints one line when it does something.
# Usage (as root): bash scripts/setup.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Debian packages: dataplane build (libxdp/libbpf/clang/llvm, cmake + a C++ toolchain for the
# addon), the lab (iproute2, ethtool, procps, curl) and the reference peers (keepalived, nginx,
# haproxy, wrk, tshark, openssl, bird2 for the BGP lab), for the appliance tests systemd
# (systemd-analyze) and python3, stress-ng (the busy-machine runs), faketime (one director's wall
# clock jumps in test/e2e/clock-jump.test.ts), and patchelf, which lets Jazzer.js's prebuilt
# fuzzer load here (scripts/jazzer-prebuilt.sh).
PACKAGES=(libxdp-dev libbpf-dev clang llvm cmake build-essential pkg-config
          iproute2 ethtool procps curl tshark keepalived bird2 nginx haproxy wrk openssl nftables
          systemd python3 stress-ng faketime patchelf)
NATIVE_OUTPUT=build/native/Release/ulvs_native.node
TS_STAMP=dist/.setup-build-stamp

step() { printf 'setup: %s\n' "$*"; }
die() { printf 'setup: FAILED: %s\n' "$*" >&2; exit 1; }

missing_packages() {
  local installed pkg
  # One dpkg-query for all packages (unknown ones only print an error, silenced).
  installed=$(dpkg-query -W -f='${Package} ${Status}\n' "${PACKAGES[@]}" 2>/dev/null | awk '/ install ok installed$/ {print $1}')
  for pkg in "${PACKAGES[@]}"; do
    grep -qx "$pkg" <<<"$installed" || printf '%s ' "$pkg"
  done
}

missing=$(missing_packages)
missing=${missing% }
if [ -n "$missing" ]; then
  [ "$(id -u)" -eq 0 ] || die "missing Debian packages ($missing) and not root: run as root or: apt-get install -y $missing"
  step "installing Debian packages: $missing"
  export DEBIAN_FRONTEND=noninteractive
  # tshark asks whether non-root users may capture; answer for it so the install never blocks.
  echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections 2>/dev/null || true
  log=$(mktemp)
  apt-get update -qq >"$log" 2>&1 || { tail -n 20 "$log" >&2; die "apt-get update failed (output above)"; }
  # shellcheck disable=SC2086 # word splitting of the package list is intended
  apt-get install -y -qq --no-install-recommends $missing >"$log" 2>&1 ||
    { tail -n 20 "$log" >&2; die "apt-get install $missing failed (output above)"; }
  rm -f "$log"
fi

command -v node >/dev/null || die "node is not installed (ulvs needs Node.js >= 20)"
command -v npm >/dev/null || die "npm is not installed"

if [ ! -d node_modules ] || [ package.json -nt node_modules ] || { [ -f package-lock.json ] && [ package-lock.json -nt node_modules ]; }; then
  step "npm install"
  npm install --no-audit --no-fund --loglevel=error >/dev/null || die "npm install failed"
  # npm may change nothing (or, with no dependencies, create nothing): mark it up to date.
  mkdir -p node_modules && touch node_modules
fi
# Only where the fuzzer is installed (a devDependency: `npm run fuzz` and its tests need it).
if [ -d node_modules/@jazzer.js/fuzzer ]; then
  bash scripts/jazzer-prebuilt.sh || die "could not make Jazzer.js's fuzzer addon load (output above)"
fi

# Rebuild the addon when its output is missing or older than anything under native/.
[ -f native/CMakeLists.txt ] || die "native/CMakeLists.txt is missing: cannot build the addon"
if [ ! -f "$NATIVE_OUTPUT" ] || [ -n "$(find native -type f -newer "$NATIVE_OUTPUT" -print -quit)" ]; then
  step "building the native addon"
  log=$(mktemp)
  if ! npm run --silent build:native >"$log" 2>&1; then
    tail -n 40 "$log" >&2; rm -f "$log"; die "npm run build:native failed (output above)"
  fi
  rm -f "$log"
  [ -f "$NATIVE_OUTPUT" ] || die "build:native succeeded but $NATIVE_OUTPUT is missing"
fi

# Rebuild TypeScript when any source or the config changed since the last successful build.
if [ ! -f "$TS_STAMP" ] || [ tsconfig.json -nt "$TS_STAMP" ] || \
   [ -n "$(find src bench fuzz -name '*.ts' -newer "$TS_STAMP" -print -quit 2>/dev/null)" ]; then
  step "building TypeScript"
  log=$(mktemp)
  if ! npm run --silent build:ts >"$log" 2>&1; then
    head -n 40 "$log" >&2; rm -f "$log"; die "npm run build:ts failed (type errors above)"
  fi
  rm -f "$log"
  touch "$TS_STAMP"
fi
