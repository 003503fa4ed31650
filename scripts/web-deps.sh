#!/usr/bin/env bash
# The npm packages the browser tests load into the pages: axe-core (the accessibility
# check), pinned, installed once into build/npm (not committed). No browser is ever
# downloaded: the tests drive Debian's Chromium. A no-op when the pinned version is there.
set -euo pipefail
cd "$(dirname "$0")/.."

AXE_VERSION=4.14.1
target=build/npm
manifest=$target/node_modules/axe-core/package.json

if [ -f "$manifest" ] && grep -q "\"version\": \"$AXE_VERSION\"" "$manifest"; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "npm is missing: scripts/system-deps.sh installs it (Debian package npm)" >&2
  exit 1
fi
echo "installing axe-core $AXE_VERSION into $target"
mkdir -p "$target"
npm install --prefix "$target" --no-save --no-audit --no-fund --ignore-scripts --loglevel=error \
  "axe-core@$AXE_VERSION"
