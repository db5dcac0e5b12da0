#!/usr/bin/env bash
# Makes sure the system packages the tests need are installed: Debian's PostgreSQL server
# binaries (initdb, pg_ctl under /usr/lib/postgresql/<version>/bin/), which the PostgreSQL tests
# use to start a throwaway cluster (tests/pg_cluster.py). Idempotent and quiet when already there.
#
# Never fails the command it is prepended to: when it cannot install (not root and no sudo, no
# apt-get), it says why and exits 0, and the PostgreSQL tests then fail with a clear message.
set -euo pipefail

have_postgres_server() {
    local initdb
    for initdb in /usr/lib/postgresql/*/bin/initdb; do
        [ -x "$initdb" ] && [ -x "$(dirname "$initdb")/pg_ctl" ] && return 0
    done
    return 1
}

have_postgres_server && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-test-system-deps: no apt-get here; install the PostgreSQL server (initdb, pg_ctl) by hand." >&2
    echo "install-test-system-deps: the PostgreSQL tests will fail until it is installed." >&2
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    # prompt for a password only when someone is there to type it
    if [ -t 0 ]; then as_root=(sudo); else as_root=(sudo -n); fi
else
    echo "install-test-system-deps: PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin/," >&2
    echo "install-test-system-deps: and not root with no sudo to install them. Run as root:" >&2
    echo "    apt-get update && apt-get install -y postgresql" >&2
    echo "install-test-system-deps: the PostgreSQL tests will fail until it is installed." >&2
    exit 0
fi

echo "install-test-system-deps: installing postgresql (apt-get)..." >&2
if ! { "${as_root[@]}" apt-get update -qq \
        && "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }; then
    echo "install-test-system-deps: installing postgresql failed; the PostgreSQL tests will fail." >&2
    exit 0
fi

if ! have_postgres_server; then
    echo "install-test-system-deps: postgresql installed, but no initdb/pg_ctl under /usr/lib/postgresql/*/bin/." >&2
fi
exit 0
