#!/usr/bin/env bash
# `npm run install-local`: builds this checkout (scripts/setup.sh) and puts `ulvs` on the PATH
# as a link to bin/ulvs.js (Node runs it from here, so keep the checkout). As root.
# Undo: rm /usr/local/bin/ulvs
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
target=${ULVS_INSTALL_DIR:-/usr/local/bin}
mkdir -p "$target"
ln -sfn "$PWD/bin/ulvs.js" "$target/ulvs"
printf 'install-local: %s/ulvs -> %s/bin/ulvs.js\n' "$target" "$PWD"
