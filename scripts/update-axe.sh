#!/usr/bin/env bash
# Vendor the current axe-core from npm for the accessibility test
# (tests/browser/vendor/axe-core/): axe.min.js, its licence and its version.
# Usage: scripts/update-axe.sh [version]   (default: the latest on npm). Needs npm.
set -euo pipefail
version="${1:-latest}"
dest="$(cd "$(dirname "$0")/.." && pwd)/tests/browser/vendor/axe-core"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "axe-core@${version}" >/dev/null && tar xzf axe-core-*.tgz)
mkdir -p "$dest"
cp "$work/package/axe.min.js" "$work/package/LICENSE" "$dest/"
node -p "require('$work/package/package.json').version" > "$dest/VERSION"
echo "axe-core $(cat "$dest/VERSION") vendored in $dest"
