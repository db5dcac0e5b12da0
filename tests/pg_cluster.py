"""A throwaway PostgreSQL server for the tests: the session fixture `postgres_url`.

It runs Debian's server binaries (`/usr/lib/postgresql/<version>/bin/`, the highest version), which
`scripts/install-test-system-deps.sh` installs: `initdb` into a fresh temporary directory, trust
authentication, listening only on 127.0.0.1 on a free port, its unix socket inside that directory,
durability off (fsync, synchronous_commit, full_page_writes) because nothing here must survive.
One database is created and its SQLAlchemy URL yielded (`postgresql+psycopg://...`); teardown
stops the server (`-m immediate`) and removes the directory.

`initdb` refuses to run as root: under euid 0 the directory is given to the `postgres` user and the
binaries run through `runuser -u postgres --`.

Use it from a test module with `from pg_cluster import postgres_url  # noqa: F401`.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

INSTALL_SCRIPT = "scripts/install-test-system-deps.sh"
BIN_GLOB = "/usr/lib/postgresql/*/bin"
SERVICE_USER = "postgres"
SUPERUSER = "postgres"
DATABASE = "ormlens_test"
START_ATTEMPTS = 3  # the free port is found before the server binds it, so it can be taken meanwhile
SOCKET_PATH_MAX = 107  # sockaddr_un.sun_path, with its terminating NUL

SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "20",
    "shared_buffers": "16MB",
    "max_wal_senders": "0",
    "wal_level": "minimal",
    "autovacuum": "off",
    "log_min_messages": "warning",
}


def find_bin_dir() -> Path | None:
    """The bin directory of the highest installed server version that has initdb and pg_ctl."""

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", path.parent.name))

    candidates = [Path(p) for p in Path("/").glob(BIN_GLOB.lstrip("/"))]
    usable = [d for d in candidates if all(os.access(d / b, os.X_OK) for b in ("initdb", "pg_ctl", "postgres"))]
    return max(usable, key=version, default=None)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Cluster:
    bin_dir: Path
    base: Path  # the temporary directory; everything the server writes is under it
    as_service_user: list[str] = field(default_factory=list)
    port: int = 0
    started: bool = False
    restore_modes: dict[Path, int] = field(default_factory=dict)
    startup_seconds: float = 0.0

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def sockets(self) -> Path:
        return self.base / "sock"

    @property
    def log(self) -> Path:
        return self.base / "server.log"

    def run(self, tool: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        command = [*self.as_service_user, str(self.bin_dir / tool), *args]
        # cwd: somewhere the service user can enter (the caller's cwd may be /root)
        return subprocess.run(command, cwd=self.base, capture_output=True, text=True, timeout=timeout,
                              env={**os.environ, "LC_ALL": "C", "TZ": "UTC"})

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    def prepare(self) -> None:
        """Make `base` usable by the service user: its ancestors traversable, itself owned by it."""
        if not self.as_service_user:
            return
        for parent in self.base.parents:
            mode = parent.stat().st_mode
            if not mode & stat.S_IXOTH:  # e.g. TMPDIR under /root: let the service user through
                self.restore_modes[parent] = stat.S_IMODE(mode)
                parent.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)
        self.give_to_service_user(self.base)
        self.base.chmod(0o700)

    def give_to_service_user(self, path: Path) -> None:
        user = pwd.getpwnam(SERVICE_USER)
        os.chown(path, user.pw_uid, user.pw_gid)

    def init(self) -> None:
        result = self.run("initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8",
                          "--locale=C", "--no-sync")
        if result.returncode:
            pytest.fail(f"initdb failed ({result.returncode}):\n{result.stdout}\n{result.stderr}", pytrace=False)
        self.make_dir(self.sockets)  # the server's unix socket goes here, not in /var/run/postgresql

    def make_dir(self, path: Path) -> None:
        path.mkdir(mode=0o700)
        if self.as_service_user:
            self.give_to_service_user(path)

    def start(self) -> None:
        errors = []
        for _ in range(START_ATTEMPTS):
            self.port = free_port()
            socket_file = self.sockets / f".s.PGSQL.{self.port}"
            if len(str(socket_file).encode()) > SOCKET_PATH_MAX:
                pytest.fail(f"unix socket path too long for the OS: {socket_file}; set TMPDIR to a shorter "
                            f"directory", pytrace=False)
            settings = {**SERVER_SETTINGS, "port": str(self.port), "unix_socket_directories": str(self.sockets)}
            options = " ".join(f"-c {key}={value}" for key, value in settings.items())
            result = self.run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options,
                              "-w", "-t", "30", "start")
            if result.returncode == 0:
                self.started = True
                return
            errors.append(f"port {self.port}: {result.stdout}{result.stderr}\n{self.log_tail()}")
            self.stop()  # in case it half started
        pytest.fail("pg_ctl start failed:\n" + "\n".join(errors), pytrace=False)

    def create_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user=SUPERUSER, dbname="postgres",
                             autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self.run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "-t", "30", "stop")
        self.started = False

    def remove(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)
        for path, mode in self.restore_modes.items():
            path.chmod(mode)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """`postgresql+psycopg://postgres@127.0.0.1:PORT/ormlens_test` of a server started for this
    test session, gone when it ends."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.fail(f"PostgreSQL server binaries (initdb, pg_ctl) not found under {BIN_GLOB}/: they are a "
                    f"declared test requirement. Install them with {INSTALL_SCRIPT} (as root, or with sudo).",
                    pytrace=False)
    as_service_user: list[str] = []
    if os.geteuid() == 0:
        runuser = shutil.which("runuser")
        try:
            pwd.getpwnam(SERVICE_USER)
        except KeyError:
            pytest.fail(f"running as root, and initdb refuses root; but there is no {SERVICE_USER!r} user to run "
                        f"it as. {INSTALL_SCRIPT} (Debian's postgresql package) creates it.", pytrace=False)
        if runuser is None:
            pytest.fail("running as root, and initdb refuses root; but runuser (util-linux) is missing",
                        pytrace=False)
        as_service_user = [runuser, "-u", SERVICE_USER, "--"]

    cluster = Cluster(bin_dir, Path(tempfile.mkdtemp(prefix="ormlens-pg-")), as_service_user)
    began = time.monotonic()
    try:
        cluster.prepare()
        cluster.init()
        cluster.start()
        cluster.create_database(DATABASE)
        cluster.startup_seconds = time.monotonic() - began
        yield f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{cluster.port}/{DATABASE}"
    finally:
        cluster.stop()
        cluster.remove()
