"""A throwaway PostgreSQL cluster for the test suite.

Debian's server binaries live in ``/usr/lib/postgresql/<major>/bin`` (not on PATH). When the
tests run as root, ``initdb``/``pg_ctl``/``postgres`` refuse to run, so they are started as the
``postgres`` OS user (via ``runuser``) in a temp directory owned by that user.

The cluster is tuned for speed, not durability (fsync, synchronous_commit and full_page_writes
off), listens only on 127.0.0.1 on a free port, keeps its unix socket inside the temp
directory and trusts every local connection. It is stopped with ``pg_ctl stop -m immediate``
and its directory removed when the session ends; an ``atexit`` hook and a SIGTERM handler are
fallbacks for interrupted sessions.

Used by the fixtures in ``tests/conftest.py`` (``pg_server``, ``store_url``,
``make_source_url``); see there.
"""

from __future__ import annotations

import atexit
import itertools
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

STORE_ENV = "SITROOM_TEST_STORE"
STORE_BACKENDS = ("sqlite", "postgresql")

PG_ROOT = Path("/usr/lib/postgresql")
PG_OS_USER = "postgres"
PG_SUPERUSER = "postgres"

_INSTALL_HINT = "run `bash scripts/install` (it installs Debian's postgresql package)"


class PgClusterError(RuntimeError):
    """The throwaway cluster could not be found, started or used."""


def test_store_backend() -> str:
    """The store backend the tests should use, from ``SITROOM_TEST_STORE``.

    Unset or empty means ``sqlite``. Any other value than the allowed ones is an error.
    """
    value = os.environ.get(STORE_ENV, "").strip()
    if not value:
        return "sqlite"
    if value not in STORE_BACKENDS:
        raise PgClusterError(
            f"{STORE_ENV}={value!r} is not supported; allowed values: "
            f"{', '.join(STORE_BACKENDS)} (unset means sqlite)"
        )
    return value


# Not a test, despite the name.
test_store_backend.__test__ = False  # type: ignore[attr-defined]


def find_bindir() -> Path:
    """The bin directory of the newest PostgreSQL major version installed by Debian."""
    candidates = []
    if PG_ROOT.is_dir():
        for entry in PG_ROOT.iterdir():
            try:
                major = float(entry.name)
            except ValueError:
                continue
            bindir = entry / "bin"
            if all((bindir / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
                candidates.append((major, bindir))
    if not candidates:
        raise PgClusterError(
            f"PostgreSQL server binaries not found under {PG_ROOT}/<version>/bin "
            f"(initdb, pg_ctl, postgres); {_INSTALL_HINT}"
        )
    return max(candidates)[1]


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def slug(text: str, maxlen: int = 30) -> str:
    """A lowercase identifier fragment: [a-z0-9_] only."""
    out = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return out[:maxlen].rstrip("_") or "x"


class PgServer:
    """A running throwaway cluster. Create with :func:`start_cluster`."""

    host = "127.0.0.1"

    def __init__(self, bindir: Path, basedir: Path):
        self.bindir = bindir
        self.basedir = basedir
        self.datadir = basedir / "data"
        self.sockdir = basedir / "sock"
        self.logfile = basedir / "postgresql.log"
        self.port: int | None = None
        self.running = False
        self._as_root = os.geteuid() == 0
        self._names = itertools.count(1)
        self._lock = threading.Lock()
        self._stopped = False
        self.startup_seconds: float | None = None

    # -- public API ------------------------------------------------------------------------

    def url(self, dbname: str = "postgres") -> str:
        """SQLAlchemy URL of database ``dbname`` on this cluster."""
        return f"postgresql+psycopg://{PG_SUPERUSER}@{self.host}:{self.port}/{dbname}"

    def conninfo(self, dbname: str = "postgres") -> str:
        """libpq connection string (for psycopg.connect)."""
        return (
            f"host={self.host} port={self.port} user={PG_SUPERUSER} dbname={dbname} "
            "connect_timeout=10"
        )

    def unique_name(self, prefix: str, hint: str = "") -> str:
        """A database name not used before in this session: ``prefix_N[_hint]`` (<= 63)."""
        with self._lock:
            n = next(self._names)
        name = f"{slug(prefix, 20)}_{n}"
        if hint:
            name += "_" + slug(hint, 63 - len(name) - 1)
        return name[:63]

    def create_database(self, name: str) -> str:
        """Create an empty database ``name`` and return its SQLAlchemy URL."""
        from psycopg import sql

        # FILE_COPY is ~35% faster than PG15's default WAL_LOG for these tiny databases
        # (its checkpoint is cheap with fsync off).
        self._admin(sql.SQL(
            "CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8' STRATEGY FILE_COPY"
        ).format(sql.Identifier(name)))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop database ``name``, disconnecting whoever still uses it."""
        from psycopg import sql

        self._admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no server log)"

    # -- lifecycle -------------------------------------------------------------------------

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        cmd = [str(a) for a in args]
        if self._as_root:
            cmd = ["runuser", "-u", PG_OS_USER, "--", *cmd]
        # Keep the caller's PG* settings (PGPORT, PGDATA, ...) away from the server tools.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env.update(LC_ALL="C.UTF-8", LANG="C.UTF-8", TZ="UTC")
        return subprocess.run(
            cmd, cwd=self.basedir, env=env, stdin=subprocess.DEVNULL,
            capture_output=True, text=True, timeout=timeout,
        )

    def _prepare_dir(self) -> None:
        self.sockdir.mkdir()
        self.logfile.touch()
        if self._as_root:
            import pwd

            try:
                pw = pwd.getpwnam(PG_OS_USER)
            except KeyError:
                raise PgClusterError(
                    f"running as root but there is no '{PG_OS_USER}' OS user to run the "
                    f"PostgreSQL server as; {_INSTALL_HINT}"
                ) from None
            # mkdtemp makes a 0700 root-owned dir: hand the whole tree to postgres.
            for path in (self.basedir, self.sockdir, self.logfile):
                os.chown(path, pw.pw_uid, pw.pw_gid)

    def _initdb(self) -> None:
        proc = self._run(
            self.bindir / "initdb", "-D", self.datadir, "-U", PG_SUPERUSER,
            "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8",
            "--no-sync", "--no-instructions",
        )
        if proc.returncode != 0:
            raise PgClusterError(
                f"initdb failed (exit {proc.returncode}) in {self.datadir}:\n"
                f"{proc.stdout}{proc.stderr}"
            )

    def _configure(self, port: int) -> None:
        # Appended last, so these override initdb's defaults (and any previous attempt).
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(port),
            "unix_socket_directories": f"'{self.sockdir}'",
            "max_connections": "200",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "shared_buffers": "64MB",
            "timezone": "'UTC'",
            "logging_collector": "off",
            "log_min_messages": "warning",
        }
        conf = self.datadir / "postgresql.conf"
        with conf.open("a") as fh:
            fh.write("\n# --- sitroom test cluster ---\n")
            for key, value in settings.items():
                fh.write(f"{key} = {value}\n")

    def _pg_ctl_start(self) -> subprocess.CompletedProcess:
        return self._run(
            self.bindir / "pg_ctl", "-D", self.datadir, "-l", self.logfile,
            "-w", "-t", "60", "start",
        )

    def start(self, attempts: int = 5) -> "PgServer":
        self._prepare_dir()
        self._initdb()
        last = None
        for _ in range(attempts):
            # A free port can be taken between our probe and the server's bind: retry.
            port = free_port(self.host)
            self._configure(port)
            self.port = port
            self.running = True  # from here on, stop() must try pg_ctl stop
            last = self._pg_ctl_start()
            if last.returncode == 0:
                return self
            self._pg_ctl_stop()
            self.running = False
        raise PgClusterError(
            f"pg_ctl start failed {attempts} times (last exit {last.returncode}):\n"
            f"{last.stdout}{last.stderr}\n--- server log ---\n{self.log_tail()}"
        )

    def _pg_ctl_stop(self) -> None:
        try:
            self._run(self.bindir / "pg_ctl", "-D", self.datadir, "-m", "immediate",
                      "-w", "-t", "30", "stop", timeout=60)
        except (OSError, subprocess.SubprocessError):
            pass

    def stop(self) -> None:
        """Stop the server (immediate) and remove its directory. Idempotent."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
        try:
            if self.running:
                self._pg_ctl_stop()
                self.running = False
        finally:
            shutil.rmtree(self.basedir, ignore_errors=True)
            _LIVE.discard(self)

    def _admin(self, statement) -> None:
        import psycopg

        try:
            with psycopg.connect(self.conninfo("postgres"), autocommit=True) as conn:
                conn.execute(statement)
        except psycopg.OperationalError as exc:
            raise PgClusterError(
                f"cannot reach the test cluster on {self.host}:{self.port}: {exc}\n"
                f"--- server log ---\n{self.log_tail()}"
            ) from exc

    def __repr__(self) -> str:
        return f"<PgServer {self.bindir.parent.name} {self.host}:{self.port} {self.basedir}>"


# -- cleanup fallbacks -----------------------------------------------------------------------

_LIVE: set[PgServer] = set()


def _stop_all() -> None:
    for server in list(_LIVE):
        server.stop()


atexit.register(_stop_all)

_sigterm_installed = False


def _install_sigterm_handler() -> None:
    """On SIGTERM (CI timeouts), stop the clusters, then die as SIGTERM would have.

    Only installed when nobody else handles SIGTERM, and only from the main thread.
    """
    global _sigterm_installed
    if _sigterm_installed or threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        return

    def handler(signum, frame):
        _stop_all()
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)

    signal.signal(signal.SIGTERM, handler)
    _sigterm_installed = True


def _traversable_by_others(path: Path) -> bool:
    path = path.resolve()
    for p in (path, *path.parents):
        try:
            if not os.stat(p).st_mode & 0o001:
                return False
        except OSError:
            return False
    return True


def start_cluster() -> PgServer:
    """Start a fresh throwaway cluster; the caller must call ``.stop()`` (try/finally)."""
    bindir = find_bindir()
    # Under the system temp dir: /tmp is world-traversable, so postgres can reach it once the
    # mkdtemp'd directory (0700, root-owned) is chowned. Keep the path short: unix socket
    # paths are limited to ~107 bytes.
    parent = Path(tempfile.gettempdir())
    if os.geteuid() == 0 and not _traversable_by_others(parent):
        parent = Path("/tmp")  # e.g. TMPDIR=/root/tmp: postgres could not reach it
    base = Path(tempfile.mkdtemp(prefix="sitroom-pg-", dir=parent))
    server = PgServer(bindir, base)
    _LIVE.add(server)
    _install_sigterm_handler()
    started = time.monotonic()
    try:
        server.start()
    except BaseException:
        server.stop()
        raise
    server.startup_seconds = time.monotonic() - started
    return server
