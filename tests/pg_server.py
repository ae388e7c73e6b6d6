"""A throw-away PostgreSQL server for the tests (see shared/design.md, "Servers").

    server = PostgresServer()
    url = server.start()      # postgresql://postgres@127.0.0.1:PORT/postgres
    ...
    server.stop()             # also runs at interpreter exit

It finds Debian's server binaries (``initdb``/``pg_ctl`` on PATH, else the newest
``/usr/lib/postgresql/*/bin``), creates a cluster in a temporary directory with trust
authentication for the ``postgres`` role, starts it on a free port on 127.0.0.1 with
durability switched off (fsync, full_page_writes, synchronous_commit) and stops it with
``pg_ctl -m immediate stop``.  initdb and postgres refuse to run as root, so as root the
directory is handed to the ``postgres`` OS user and the binaries run through
``runuser -u postgres --``.

When the server cannot start, :class:`PostgresUnavailable` carries a readable reason
(binaries missing, initdb failed, ...); the conftest turns it into a skip or, with
``IOREVIEW_REQUIRE_PG=1``, a failure.
"""
from __future__ import annotations

import atexit
import glob
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

OS_USER = "postgres"  # the OS account that runs the server when we are root
DB_USER = "postgres"  # the superuser role initdb creates
START_TIMEOUT_S = 60
_SOCKET_PATH_MAX = 100  # unix socket paths are limited to ~107 bytes


class PostgresUnavailable(RuntimeError):
    """The throw-away server could not be started; ``str(exc)`` says why."""


def _version_key(bindir: str) -> tuple[int, ...]:
    match = re.search(r"/postgresql/([0-9.]+)/bin", bindir)
    return tuple(int(p) for p in match.group(1).split(".") if p) if match else ()


def find_bindir() -> Path:
    """The directory holding ``initdb`` and ``pg_ctl``; PATH first, else the newest Debian one."""
    initdb = shutil.which("initdb")
    if initdb:
        bindir = Path(initdb).resolve().parent
        if os.access(bindir / "pg_ctl", os.X_OK):
            return bindir
        pg_ctl = shutil.which("pg_ctl")
        if pg_ctl and os.access(Path(pg_ctl).resolve().parent / "initdb", os.X_OK):
            return Path(pg_ctl).resolve().parent
    candidates = [
        d
        for d in glob.glob("/usr/lib/postgresql/*/bin")
        if os.access(os.path.join(d, "initdb"), os.X_OK) and os.access(os.path.join(d, "pg_ctl"), os.X_OK)
    ]
    if candidates:
        return Path(max(candidates, key=_version_key))
    raise PostgresUnavailable(
        "PostgreSQL server binaries not found (no initdb/pg_ctl on PATH nor in "
        "/usr/lib/postgresql/*/bin); install Debian's 'postgresql' package "
        "or set IOREVIEW_TEST_PG_URL"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


class PostgresServer:
    """One throw-away cluster; :meth:`start` returns its libpq URL."""

    def __init__(self, bindir: str | os.PathLike | None = None):
        self._bindir = Path(bindir) if bindir else None
        self.root: Path | None = None  # temp dir holding data/, the socket and the log
        self.port: int | None = None
        self.url: str | None = None
        self._started = False
        self._as_root = hasattr(os, "geteuid") and os.geteuid() == 0

    # -- paths -----------------------------------------------------------------------
    @property
    def datadir(self) -> Path:
        assert self.root is not None
        return self.root / "data"

    @property
    def logfile(self) -> Path:
        assert self.root is not None
        return self.root / "server.log"

    @property
    def sockdir(self) -> Path:
        assert self.root is not None
        return self.root

    # -- helpers ---------------------------------------------------------------------
    def _env(self) -> dict[str, str]:
        # PG* variables of the caller (PGDATA, PGPORT, PGHOST, ...) must not leak into the cluster.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        env.pop("LANGUAGE", None)
        return env

    def _cmd(self, *args: str) -> list[str]:
        if self._as_root:
            return ["runuser", "-u", OS_USER, "--", *args]
        return list(args)

    def _run(self, *args: str, timeout: float = START_TIMEOUT_S) -> subprocess.CompletedProcess:
        # stdin/stdout/stderr are files or pipes that the child closes before it returns;
        # pg_ctl start is given -l so the postmaster does not inherit our pipes.
        return subprocess.run(
            self._cmd(*args),
            cwd=str(self.root),  # the postgres user may not be able to enter our cwd (/root)
            env=self._env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def _make_root(self) -> Path:
        root = Path(tempfile.mkdtemp(prefix="ioreview-pg-"))
        if len(str(root / ".s.PGSQL.65535")) > _SOCKET_PATH_MAX:
            shutil.rmtree(root, ignore_errors=True)
            root = Path(tempfile.mkdtemp(prefix="ioreview-pg-", dir="/tmp"))
        if self._as_root:
            try:
                shutil.chown(root, user=OS_USER, group=None)
            except LookupError:
                shutil.rmtree(root, ignore_errors=True)
                raise PostgresUnavailable(
                    f"running as root, but there is no '{OS_USER}' OS user to run the server as "
                    "(initdb refuses root); install Debian's 'postgresql' package"
                ) from None
            if shutil.which("runuser") is None:
                shutil.rmtree(root, ignore_errors=True)
                raise PostgresUnavailable("running as root, but 'runuser' is missing (initdb refuses root)")
            probe = subprocess.run(
                ["runuser", "-u", OS_USER, "--", "test", "-w", str(root)],
                cwd="/", capture_output=True, text=True, timeout=30,
            )
            if probe.returncode != 0:
                shutil.rmtree(root, ignore_errors=True)
                root = Path(tempfile.mkdtemp(prefix="ioreview-pg-", dir="/tmp"))
                shutil.chown(root, user=OS_USER)
        return root

    # -- life cycle ------------------------------------------------------------------
    def start(self) -> str:
        """Create and start the cluster; return ``postgresql://postgres@127.0.0.1:PORT/postgres``."""
        if self._started:
            assert self.url is not None
            return self.url
        bindir = self._bindir or find_bindir()
        initdb, pg_ctl = str(bindir / "initdb"), str(bindir / "pg_ctl")
        self.root = self._make_root()
        atexit.register(self.stop)
        try:
            try:
                res = self._run(
                    initdb, "-D", str(self.datadir), "-A", "trust", "-U", DB_USER,
                    "-E", "UTF8", "--locale=C", "--no-sync",
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise PostgresUnavailable(f"initdb ({initdb}) could not run: {exc}") from exc
            if res.returncode != 0:
                raise PostgresUnavailable(
                    f"initdb ({initdb}) failed with exit code {res.returncode}:\n{_tail(res.stderr or res.stdout)}"
                )
            # The free port can be taken between probing and binding; try a few.
            last = ""
            for _attempt in range(3):
                self.port = free_port()
                opts = (
                    f"-p {self.port} -k {self.sockdir} -c listen_addresses=127.0.0.1"
                    " -c fsync=off -c full_page_writes=off -c synchronous_commit=off"
                )
                try:
                    res = self._run(
                        pg_ctl, "-D", str(self.datadir), "-l", str(self.logfile), "-o", opts,
                        "-t", str(START_TIMEOUT_S), "-w", "start",
                        timeout=START_TIMEOUT_S + 10,
                    )
                except (OSError, subprocess.TimeoutExpired) as exc:
                    raise PostgresUnavailable(f"pg_ctl start ({pg_ctl}) could not run: {exc}") from exc
                if res.returncode == 0:
                    self._started = True
                    self.url = f"postgresql://{DB_USER}@127.0.0.1:{self.port}/postgres"
                    return self.url
                last = _tail(self._read_log() or res.stderr or res.stdout)
                if "already in use" not in last:
                    break
                self._pg_ctl_stop(pg_ctl)
            raise PostgresUnavailable(f"pg_ctl start failed (port {self.port}):\n{last}")
        except BaseException:
            self.stop()
            raise

    def _read_log(self) -> str:
        try:
            return self.logfile.read_text(errors="replace")
        except OSError:
            return ""

    def _pg_ctl_stop(self, pg_ctl: str) -> None:
        try:
            self._run(pg_ctl, "-D", str(self.datadir), "-m", "immediate", "-w", "stop", timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            pass

    def stop(self) -> None:
        """Stop the server (immediate mode) and remove its directory; safe to call twice."""
        root = self.root
        if root is None:
            return
        try:
            if self._started or (self.datadir / "postmaster.pid").exists():
                bindir = self._bindir or find_bindir()
                self._pg_ctl_stop(str(bindir / "pg_ctl"))
        except PostgresUnavailable:
            pass
        finally:
            self._started = False
            self.root = None
            shutil.rmtree(root, ignore_errors=True)
            try:
                atexit.unregister(self.stop)
            except Exception:
                pass

    def __enter__(self) -> PostgresServer:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def start_server() -> PostgresServer:
    """Start a throw-away server (raises :class:`PostgresUnavailable` with a reason)."""
    server = PostgresServer()
    server.start()
    return server


if __name__ == "__main__":  # manual check: python tests/pg_server.py
    t0 = time.perf_counter()
    with PostgresServer() as srv:
        print(f"{srv.url} up in {time.perf_counter() - t0:.2f} s (data in {srv.root})")
