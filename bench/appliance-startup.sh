#!/usr/bin/env bash
# Start-up time to forwarding: `ulvs run` until the first HTTP answer through the VIP, for the
# single executable and for `node bin/ulvs.js`, alternated, TRIALS each (default 3). As root;
# builds its own lab (prefix aps-) and removes it. Usage: bash bench/appliance-startup.sh [TRIALS]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
trials=${1:-3}
exe=build/package/ulvs
[ -x "$exe" ] || { echo "run npm run package first" >&2; exit 1; }
node bin/ulvs.js lab up -p aps- >/dev/null
trap 'node bin/ulvs.js lab down -p aps- >/dev/null' EXIT
measure() {
  local start end pid
  start=$(date +%s%N)
  ip netns exec aps-dir1 "$@" run -c configs/lab-dr.yaml 2>/dev/null & pid=$!
  until ip netns exec aps-client curl -s -m 0.5 -o /dev/null http://198.18.0.100/; do sleep 0.05; done
  end=$(date +%s%N)
  kill -TERM $pid; wait $pid || true
  echo $(( (end - start) / 1000000 ))
}
for i in $(seq 1 "$trials"); do
  printf 'executable %s ms\n' "$(measure "$exe")"
  printf 'node       %s ms\n' "$(measure node bin/ulvs.js)"
done
printf 'load average: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
