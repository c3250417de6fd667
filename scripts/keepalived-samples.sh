#!/bin/bash
# The figure "keepalived's doc/samples that migrate and pass check-config with no flags":
# for each keepalived.conf.* in DIR, `ulvs migrate FILE` then `ulvs check-config` on its output,
# both must exit 0. Prints one line per sample and the count; the failures' first lines follow.
#   git -C keepalived show HEAD:doc/samples/... (or a checkout): scripts/keepalived-samples.sh DIR
set -u
dir=${1:?usage: keepalived-samples.sh DIR-with-keepalived.conf.*}
here=$(cd "$(dirname "$0")/.." && pwd)
ulvs="node $here/bin/ulvs.js"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
pass=0 total=0
for f in "$dir"/keepalived.conf.*; do
  total=$((total + 1))
  name=$(basename "$f")
  if ! $ulvs migrate "$f" >"$out/$name.yaml" 2>"$out/$name.err"; then
    echo "FAIL migrate      $name: $(grep -v '^OK' "$out/$name.err" | tail -n 3 | tr '\n' ' ')"
  elif ! (cd "$out" && $ulvs check-config "$name.yaml" >"$out/$name.chk" 2>&1); then
    echo "FAIL check-config $name: $(head -n 3 "$out/$name.chk" | tr '\n' ' ')"
  else
    echo "ok                $name"
    pass=$((pass + 1))
  fi
done
echo "$pass of $total samples migrate and pass check-config with no flags"
