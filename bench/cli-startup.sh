#!/usr/bin/env bash
# CLI start-up, interleaved: per trial and per ulvs given, `--version`, `check-config
# configs/lab-dr.yaml`, and `run` until the first HTTP answer through the VIP (the lab, prefix
# k4b-). Prints median (min-max) ms of each. As root. Compare builds by naming each, e.g.
#   bash bench/cli-startup.sh 5 "node=node bin/ulvs.js" "exe=build/package/ulvs" "old=node /tmp/old/bin/ulvs.js"
# (default: the checkout and the single executable).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
trials=${1:-5}; shift || true
[ $# -gt 0 ] || set -- "node=node bin/ulvs.js" "exe=build/package/ulvs"
node bin/ulvs.js lab up -p k4b- >/dev/null
trap 'node bin/ulvs.js lab down -p k4b- >/dev/null' EXIT
results=$(mktemp)
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
to_forwarding() {
  local start pid n=0
  start=$(date +%s%N)
  ip netns exec k4b-dir1 $1 run -c configs/lab-dr.yaml 2>/dev/null & pid=$!
  until ip netns exec k4b-client curl -s -m 0.5 -o /dev/null http://198.18.0.100/; do
    sleep 0.02; n=$((n + 1)); [ $n -lt 1500 ] || { echo "no forwarding" >&2; break; }
  done
  ms "$start"
  kill -TERM $pid; wait $pid || true
}
for i in $(seq 1 "$trials"); do
  for spec in "$@"; do
    label=${spec%%=*}; cmd=${spec#*=}
    s=$(date +%s%N); $cmd --version >/dev/null 2>&1 || true; echo "$label version $(ms "$s")" >> "$results"
    s=$(date +%s%N); $cmd check-config configs/lab-dr.yaml >/dev/null; echo "$label check-config $(ms "$s")" >> "$results"
    echo "$label run-to-forwarding $(to_forwarding "$cmd")" >> "$results"
  done
done
python3 - "$results" <<'EOF'
import sys, statistics, collections
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    label, what, ms = line.split()
    runs[(label, what)].append(int(ms))
for (label, what), v in runs.items():
    print(f"{label:10} {what:18} median {statistics.median(v):6.0f} ms  ({min(v)}-{max(v)}, n={len(v)})")
EOF
printf 'load average: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
rm -f "$results"
