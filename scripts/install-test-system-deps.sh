#!/usr/bin/env bash
# Makes sure the Debian packages the tests need are installed; idempotent and quiet when they are:
# - postgresql: initdb/pg_ctl for the throwaway cluster of the PostgreSQL tests (tests/pg_cluster.py);
# - chromium, ripgrep, build-essential, pkg-config, libkrb5-dev, curl: the VS Code test drives
#   code-server in chromium (playwright-core); code-server builds native modules at npm install,
#   and ripgrep stands in for @vscode/ripgrep's GitHub download;
# - emacs-nox, elpa-eglot: the Emacs eglot test.
# Never fails the command it is prepended to: when it cannot install (not root and no sudo, no
# apt-get, the install fails), it says why and exits 0; the tests that need it then fail saying so.
set -uo pipefail

missing_packages() {
    local pkg
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || echo "$pkg"
    done
}

have_postgres_server() {
    local initdb
    for initdb in /usr/lib/postgresql/*/bin/initdb; do
        [ -x "$initdb" ] && [ -x "$(dirname "$initdb")/pg_ctl" ] && return 0
    done
    return 1
}

install() {  # install PURPOSE PACKAGE...
    local purpose=$1 as_root=()
    shift
    [ $# -eq 0 ] && return 0
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "install-test-system-deps: no apt-get; install $* by hand (for the $purpose)." >&2
        return 0
    fi
    if [ "$(id -u)" -ne 0 ]; then
        if ! command -v sudo >/dev/null 2>&1; then
            echo "install-test-system-deps: not root and no sudo; as root run: apt-get install $*" >&2
            return 0
        fi
        if [ -t 0 ]; then as_root=(sudo); else as_root=(sudo -n); fi  # a password prompt only with a person there
    fi
    echo "install-test-system-deps: installing $* (for the $purpose)..." >&2
    { "${as_root[@]}" apt-get update -qq \
        && "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "$@" >/dev/null; } \
        || echo "install-test-system-deps: installing $* failed; the $purpose will fail." >&2
    return 0
}

wanted=()
have_postgres_server || wanted+=(postgresql)
mapfile -t more < <(missing_packages chromium ripgrep build-essential pkg-config libkrb5-dev curl emacs-nox elpa-eglot)
wanted+=("${more[@]}")
install "tests (PostgreSQL, VS Code, Emacs)" "${wanted[@]}"
if [[ " ${wanted[*]} " == *" postgresql "* ]] && ! have_postgres_server; then
    echo "install-test-system-deps: no initdb/pg_ctl under /usr/lib/postgresql/*/bin/ after installing." >&2
fi
exit 0
