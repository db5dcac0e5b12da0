#!/bin/sh
# tests/editors/vscode/setup.sh: everything the VS Code end-to-end test needs, outside the repo in
# $ORMLENS_EDITOR_CACHE (default ~/.cache/ormlens-editor-tests), reused by later runs:
#   cs/         code-server 4.100.3 (= VS Code 1.100.3, the newest that installs on node 20) and
#               playwright-core, from npm (skipped when already installed);
#   ext-build/  a copy of vscode-extension/ built there: npm ci (only when package-lock.json changed),
#               the bundled ormlens for $PYTHON's version (scripts/bundle.py: this checkout and
#               its dependencies from PyPI), tsc, esbuild, vsce -> ormlens.vsix.
# System packages (chromium, ripgrep, compilers, libkrb5-dev): scripts/install-test-system-deps.sh.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../../.." && pwd)
CACHE=${ORMLENS_EDITOR_CACHE:-$HOME/.cache/ormlens-editor-tests}
CS=$CACHE/cs
B=$CACHE/ext-build

fail() { echo "setup.sh: $*" >&2; exit 1; }
command -v node >/dev/null || fail "node not found (node 20 is needed)"
[ "$(node -p 'process.versions.node.split(".")[0]')" = 20 ] ||
  fail "code-server 4.100.3 and @vscode/vsce 3.9.2 need node 20 (found $(node -v))"
command -v rg >/dev/null || fail "ripgrep (rg) not found: run scripts/install-test-system-deps.sh"
mkdir -p "$CACHE"

if [ "$(cat "$CS/.installed" 2>/dev/null)" != "$(cat "$HERE/package.json")" ]; then
  # node-gyp (code-server's native modules) must use the local node headers, or it downloads them.
  NODEDIR=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
  [ -f "$NODEDIR/include/node/node.h" ] || fail "no node headers in $NODEDIR/include/node"
  # @vscode/ripgrep 1.15.11's postinstall downloads rg from GitHub unless
  # os.tmpdir()/vscode-ripgrep-cache-1.15.11/<asset> exists: seed it with the system's rg.
  case $(uname -m) in x86_64) T=x86_64-unknown-linux-musl ;; aarch64) T=aarch64-unknown-linux-musl ;;
    *) fail "unsupported arch $(uname -m)" ;; esac
  TMPDIR=$CACHE/tmp; export TMPDIR
  rm -rf "$CS" && mkdir -p "$TMPDIR/vscode-ripgrep-cache-1.15.11" "$CS"
  tar czf "$TMPDIR/vscode-ripgrep-cache-1.15.11/ripgrep-v13.0.0-10-$T.tar.gz" -C "$(dirname "$(command -v rg)")" rg
  cp "$HERE/package.json" "$CS/package.json"
  # unsafe_perm: code-server's postinstall refuses to run as root without it; yes: node-pty's
  # postinstall runs `npx node-gyp`, which must not prompt.
  (cd "$CS" && npm_config_unsafe_perm=true npm_config_yes=true npm_config_nodedir="$NODEDIR" \
    npm install --no-audit --no-fund --loglevel=error) || fail "npm install of code-server failed"
  cp "$HERE/package.json" "$CS/.installed"
fi
[ -x "$CS/node_modules/.bin/code-server" ] || fail "code-server missing in $CS"

# The extension, built from a copy of vscode-extension/ (no build output in the repo).
mkdir -p "$B"
if ! cmp -s "$REPO/vscode-extension/package-lock.json" "$B/package-lock.json" || [ ! -d "$B/node_modules" ]; then
  rm -rf "$B" && mkdir -p "$B"
  cp "$REPO/vscode-extension/package.json" "$REPO/vscode-extension/package-lock.json" "$B/"
  (cd "$B" && npm ci --no-audit --no-fund --loglevel=error) || fail "npm ci in $B failed"
fi
rm -rf "$B/src" "$B/test" "$B/out" "$B/out-test" "$B"/*.vsix
(cd "$REPO/vscode-extension" && tar cf - --exclude=node_modules --exclude=out --exclude=out-test \
  --exclude='*.vsix' --exclude=package-lock.json --exclude=bundled/libs --exclude=bundled/libs.zip .) | (cd "$B" && tar xf -)
rm -rf "$B/bundled/libs" "$B/bundled/libs.zip"
"${PYTHON:-python3}" "$REPO/vscode-extension/scripts/bundle.py" --pythons current --out "$B/bundled/libs" \
  >/dev/null || fail "scripts/bundle.py failed"
cd "$B"
node_modules/.bin/tsc --noEmit -p . || fail "tsc failed"
node_modules/.bin/esbuild src/extension.ts --bundle --platform=node --format=cjs --target=node18 \
  --external:vscode --outfile=out/extension.js --log-level=warning || fail "esbuild failed"
node_modules/.bin/vsce package --no-dependencies --allow-missing-repository --no-rewrite-relative-links -o "$CACHE/ormlens.vsix" \
  >/dev/null || fail "vsce package failed"
echo "setup.sh: $CACHE/ormlens.vsix"
