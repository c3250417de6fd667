#!/usr/bin/env bash
# `npm run demo`: build what is missing, bring up the lab, run a DR director in lab-dir1 from
# configs/lab-dr.yaml, send 70 requests from lab-client through the VIP, show how they were
# shared and the `ulvs list -n` table, then tear everything down. Idempotent; run as root.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (it builds network namespaces)" >&2; exit 1; }

bash scripts/setup.sh
ulvs() { node bin/ulvs.js "$@"; }
log=$(mktemp)
director_pid=""
cleanup() {
  [ -n "$director_pid" ] && kill -TERM "$director_pid" 2>/dev/null && wait "$director_pid" 2>/dev/null || true
  ulvs lab down >/dev/null 2>&1 || true
  rm -f "$log"
}
trap cleanup EXIT

echo "== ulvs lab up"
ulvs lab up
echo
echo "== ulvs run -c configs/lab-dr.yaml (in lab-dir1)"
ip netns exec lab-dir1 node bin/ulvs.js run -c configs/lab-dr.yaml >"$log" 2>&1 &
director_pid=$!
for _ in $(seq 1 100); do
  grep -q 'director running' "$log" && break
  kill -0 "$director_pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.2
done
grep -q 'director running' "$log" || { echo "demo: the director did not start:" >&2; cat "$log" >&2; exit 1; }
grep -o '"msg":"packets taken with [^"]*"' "$log" | sed 's/"msg":"/  /; s/"$//'
echo
echo "== 70 requests from lab-client to http://198.18.0.100/ (each a new connection)"
ip netns exec lab-client node scripts/lab-http-client.mjs http://198.18.0.100/ 70 new |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const {bodies}=JSON.parse(s);const c={};for(const b of bodies)c[b]=(c[b]??0)+1;for(const k of Object.keys(c).sort())console.log(`  ${k}: ${c[k]}`)})'
echo
echo "== ulvs list -n (in lab-dir1)"
ip netns exec lab-dir1 node bin/ulvs.js list -n
echo "== tearing down"
