#!/bin/sh
# tests/editors/vscode/run-e2e.sh RUN_DIR: real VS Code (code-server from setup.sh) with the ormlens
# extension, on the workspace RUN_DIR/workspace (a copy of examples/), driven in headless chromium by
# drive.js. RUN_DIR also receives: home/ (HOME and XDG dirs of code-server and chromium), data/
# (user data with settings.json, extensions), code-server.log, and the screenshots.
# env: ORMLENS_INTERPRETER (a Python set as `ormlens.interpreter`: the extension runs its bundled
#      ormlens on it) or ORMLENS_PATH (an ormlens executable, set as `ormlens.path`), PORT (default 18080),
#      ORMLENS_EDITOR_CACHE (as setup.sh), SCREENSHOT (where to copy the diagnostics screenshot),
#      TEMPLATE (optional: a template's path in the workspace, opened after the quick fix: drive.js
#      prints its findings as TPROBLEM lines).
# Exit 0 = drive.js printed OK.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${ORMLENS_EDITOR_CACHE:-$HOME/.cache/ormlens-editor-tests}
CS=$CACHE/cs
RUN=${1:?usage: run-e2e.sh RUN_DIR}
WS=$RUN/workspace
PORT=${PORT:-18080}
if [ -n "${ORMLENS_INTERPRETER:-}" ]; then LAUNCH="\"ormlens.interpreter\": \"$ORMLENS_INTERPRETER\""
elif [ -n "${ORMLENS_PATH:-}" ]; then LAUNCH="\"ormlens.path\": \"$ORMLENS_PATH\""
else echo "FAIL: set ORMLENS_INTERPRETER or ORMLENS_PATH"; exit 1; fi
[ -x "$CS/node_modules/.bin/code-server" ] && [ -f "$CACHE/ormlens.vsix" ] ||
  { echo "FAIL: code-server or the .vsix missing: run setup.sh"; exit 1; }
[ -d "$WS" ] || { echo "FAIL: no workspace at $WS"; exit 1; }
CHROMIUM=${CHROMIUM:-$(command -v chromium || true)}
[ -n "$CHROMIUM" ] || { echo "FAIL: chromium not found: run scripts/install-test-system-deps.sh"; exit 1; }
export CHROMIUM
curl -s -o /dev/null "http://127.0.0.1:$PORT/" && { echo "FAIL: port $PORT is taken: set PORT"; exit 1; }

# Unix socket paths (code-server's IPC socket, chromium's SingletonSocket under TMPDIR) must stay
# under 108 bytes, which a pytest tmp_path can exceed: reach RUN through a short symlink.
LINK=$(mktemp -d /tmp/olv.XXXXXX) && ln -s "$(cd "$RUN" && pwd)" "$LINK/r" || { echo "FAIL: mktemp"; exit 1; }
RUN=$LINK/r
trap 'rm -f "$LINK/r"; rmdir "$LINK" 2>/dev/null' EXIT

# code-server writes ~/.config/code-server, ~/.local/share/code-server, ~/.cache; chromium ~/.config
# and ~/.cache: all of it goes under the run directory.
export HOME="$RUN/home" XDG_CONFIG_HOME="$RUN/home/.config" XDG_DATA_HOME="$RUN/home/.local/share" \
  XDG_STATE_HOME="$RUN/home/.local/state" XDG_CACHE_HOME="$RUN/home/.cache" TMPDIR="$RUN/tmp"
mkdir -p "$HOME" "$TMPDIR" "$RUN/data/user/User" "$RUN/data/ext"
printf 'bind-addr: 127.0.0.1:%s\nauth: none\ncert: false\n' "$PORT" > "$RUN/data/config.yaml"
cat > "$RUN/data/user/User/settings.json" <<JSON
{ "security.workspace.trust.enabled": false, "telemetry.telemetryLevel": "off", "update.mode": "none",
  "extensions.autoUpdate": false, "extensions.autoCheckUpdates": false, "extensions.ignoreRecommendations": true,
  "workbench.startupEditor": "none", "workbench.enableExperiments": false, "workbench.tips.enabled": false,
  "chat.disableAIFeatures": true, "files.autoSave": "off", "editor.minimap.enabled": false,
  $LAUNCH, "ormlens.trace.server": "messages" }
JSON
CSOPTS="--config $RUN/data/config.yaml --user-data-dir $RUN/data/user --extensions-dir $RUN/data/ext"
# shellcheck disable=SC2086
"$CS/node_modules/.bin/code-server" $CSOPTS --install-extension "$CACHE/ormlens.vsix" --force \
  > "$RUN/install-extension.log" 2>&1 || { cat "$RUN/install-extension.log"; echo "FAIL: --install-extension"; exit 1; }

# setsid: code-server's children (extension host, file watcher, the ormlens server) outlive a plain
# kill of the code-server process; killing the process group ends them all.
# shellcheck disable=SC2086
setsid "$CS/node_modules/.bin/code-server" --auth none --bind-addr "127.0.0.1:$PORT" \
  --disable-telemetry --disable-update-check --disable-workspace-trust --disable-getting-started-override \
  $CSOPTS "$WS" > "$RUN/code-server.log" 2>&1 &
PG=$!
stop() {  # dash's kill takes -PGID; code-server needs a second or two for SIGTERM
  kill -TERM -"$PG" 2>/dev/null
  for i in $(seq 25); do kill -0 -"$PG" 2>/dev/null || return 0; sleep 0.2; done
  kill -KILL -"$PG" 2>/dev/null
}
cleanup() { stop; rm -f "$LINK/r"; rmdir "$LINK" 2>/dev/null; }
trap cleanup EXIT
up=0
for i in $(seq 150); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/healthz" && { up=1; break; }; sleep 0.2; done
[ $up = 1 ] || { tail -20 "$RUN/code-server.log"; echo "FAIL: code-server did not start"; exit 1; }
NODE_PATH="$CS/node_modules" CS_URL="http://127.0.0.1:$PORT/?folder=$WS" FILE="$WS/original.py" OUT_DIR="$RUN" \
  TEMPLATE="${TEMPLATE:+$WS/$TEMPLATE}" \
  timeout 150 node "$HERE/drive.js"
rc=$?
if [ $rc != 0 ]; then
  tail -30 "$RUN/code-server.log"
  for f in "$RUN"/data/user/logs/*/exthost*/output_logging_*/*ormlens*.log; do [ -f "$f" ] && tail -40 "$f"; done
  echo "FAIL: drive.js exit $rc (see $RUN)"; exit 1
fi
if [ -n "${SCREENSHOT:-}" ]; then cp "$RUN/vscode-diagnostics.png" "$SCREENSHOT"; fi
exit 0
