#!/usr/bin/env bash
# Builds the bench's C tools into build/bench/ (idempotent: only what is older than its source).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=build/bench
mkdir -p "$out"
CFLAGS=(-O2 -g -Wall -Wextra -std=gnu11)
build() { # name, extra libs...
  local name=$1; shift
  if [ ! -x "$out/$name" ] || [ "bench/c/$name.c" -nt "$out/$name" ] || [ bench/c/common.h -nt "$out/$name" ]; then
    cc "${CFLAGS[@]}" -o "$out/$name" "bench/c/$name.c" "$@"
    echo "bench: built $out/$name"
  fi
}
build sender
build sink
build rtt
build rtt_pair
build ref_forwarder -lxdp -lbpf
