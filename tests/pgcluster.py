"""A throwaway PostgreSQL + PostGIS cluster for the tests and benchmarks (no mock).

:func:`start_cluster` runs ``initdb`` in a fresh temporary folder, starts the server on a
free loopback port (its unix socket in the same folder), creates a password-protected user
and a database with the ``postgis`` extension, and returns a :class:`Cluster` whose ``url``
is what a deployment would pass as ``--store``. :meth:`Cluster.stop` shuts it down and
removes the folder.

``initdb`` and ``pg_ctl`` refuse to run as root (CI runs as root): then they run as the
``postgres`` system user the Debian package creates (or ``nobody``) through ``runuser``,
in a folder that user owns.

:func:`cluster_or_skip` is what fixtures call: without the server binaries or the PostGIS
extension the calling tests skip with a message naming the Debian packages, except under
``CI=true``, where a missing server fails the run.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PACKAGES", "Cluster", "ClusterUnavailableError", "cluster_or_skip", "start_cluster"]

#: Debian packages providing the server and the extension (installed by ``make postgres``).
PACKAGES = "postgresql postgresql-15-postgis-3"
USER = "warmheart"
DATABASE = "warmheart"


class ClusterUnavailableError(RuntimeError):
    """PostgreSQL or PostGIS is not installed, or the cluster would not start."""


def _bindir() -> Path:
    """The newest ``/usr/lib/postgresql/<N>/bin`` with initdb, else initdb on PATH."""
    found = sorted(
        (
            p
            for p in glob.glob("/usr/lib/postgresql/*/bin/initdb")
            if Path(p).parents[1].name.isdigit()
        ),
        key=lambda p: int(Path(p).parents[1].name),
    )
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    msg = f"PostgreSQL server binaries (initdb) not found: install {PACKAGES} (make postgres)"
    raise ClusterUnavailableError(msg)


def _has_postgis(bindir: Path) -> bool:
    version = bindir.parent.name
    return Path(f"/usr/share/postgresql/{version}/extension/postgis.control").is_file()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_as() -> str | None:
    """The unprivileged user to run the server as when we are root, else ``None``."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    msg = "Running as root and no unprivileged user (postgres, nobody) to run PostgreSQL as"
    raise ClusterUnavailableError(msg)


@dataclass
class Cluster:
    """A running throwaway cluster."""

    folder: Path
    bindir: Path
    port: int
    password: str
    run_as: str | None

    @property
    def datadir(self) -> Path:
        return self.folder / "data"

    @property
    def url(self) -> str:
        """``postgresql://warmheart:<password>@127.0.0.1:<port>/warmheart`` (scram over TCP)."""
        return f"postgresql://{USER}:{self.password}@127.0.0.1:{self.port}/{DATABASE}"

    def admin_url(self, database: str = DATABASE) -> str:
        """A superuser URL over the unix socket (trust auth inside the private folder)."""
        return f"postgresql://postgres@/{database}?host={self.folder}&port={self.port}"

    def pg_ctl(self, *args: str, check: bool = True, timeout: float = 60) -> None:
        """Run ``pg_ctl`` on this cluster (``start``, ``stop -m fast``, ``restart``...)."""
        _run(
            [str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-w", "-t", "30", *args],
            self.run_as,
            check=check,
            timeout=timeout,
            log=self.folder / "server.log",
        )

    def start(self) -> None:
        self.pg_ctl("-l", str(self.folder / "server.log"), "start")

    def stop(self, mode: str = "fast") -> None:
        self.pg_ctl("stop", "-m", mode, check=False)

    def kill(self) -> None:
        """SIGKILL the postmaster (and so every backend): a crash, not a shutdown."""
        pid_file = self.datadir / "postmaster.pid"
        pid = int(pid_file.read_text().split()[0])
        os.kill(pid, 9)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # backends exit once the postmaster is gone
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        time.sleep(0.3)

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.folder, ignore_errors=True)


def _run(
    cmd: list[str],
    run_as: str | None,
    *,
    check: bool = True,
    timeout: float = 120,
    log: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    if run_as is not None:
        cmd = ["runuser", "-u", run_as, "--", *cmd]
    done = subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout, check=False, cwd="/"
    )
    if check and done.returncode != 0:
        tail = log.read_text()[-2000:] if log is not None and log.is_file() else ""
        msg = f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr.strip()} {tail}"
        raise ClusterUnavailableError(msg)
    return done


def start_cluster() -> Cluster:
    """initdb, start, create the user and a PostGIS database; see the module docstring."""
    bindir = _bindir()
    if not _has_postgis(bindir):
        msg = f"The PostGIS extension is not installed for {bindir.parent}: install {PACKAGES}"
        raise ClusterUnavailableError(msg)
    run_as = _run_as()
    folder = Path(tempfile.mkdtemp(prefix="warmheart-pg-"))
    password = secrets.token_urlsafe(12)
    try:
        if run_as is not None:
            shutil.chown(folder, run_as)
        (folder / "pw").write_text("postgres\n")
        if run_as is not None:
            shutil.chown(folder / "pw", run_as)
        _run(
            [
                str(bindir / "initdb"),
                "-D",
                str(folder / "data"),
                "-U",
                "postgres",
                "--pwfile",
                str(folder / "pw"),
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
            run_as,
        )
        port = _free_port()
        conf = folder / "data" / "postgresql.conf"
        with conf.open("a") as f:
            f.write(
                f"\nport = {port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{folder}'\nfsync = on\n"
                "shared_buffers = 64MB\nmax_connections = 100\n"
                "log_min_messages = warning\n"
            )
        cluster = Cluster(folder=folder, bindir=bindir, port=port, password=password, run_as=run_as)
        cluster.start()
        _setup_database(cluster)
    except BaseException:
        with contextlib.suppress(Exception):
            _run(
                [str(bindir / "pg_ctl"), "-D", str(folder / "data"), "stop", "-m", "immediate"],
                run_as,
                check=False,
            )
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return cluster


def _setup_database(cluster: Cluster) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(cluster.admin_url("postgres"), autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(USER), sql.Literal(cluster.password)
            )
        )
        conn.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(DATABASE), sql.Identifier(USER)
            )
        )
    with psycopg.connect(cluster.admin_url(DATABASE), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")


def cluster_or_skip() -> Cluster:
    """A started cluster, or skip the test (fail under ``CI=true``) when that is impossible."""
    import pytest

    try:
        return start_cluster()
    except ClusterUnavailableError as exc:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI needs PostgreSQL + PostGIS for the store tests: {exc}")
        pytest.skip(f"PostgreSQL + PostGIS unavailable ({exc}); install {PACKAGES}")
