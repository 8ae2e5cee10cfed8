"""Throwaway PostgreSQL clusters on loopback ports, built with PostgreSQL's own tools: a primary and a
streaming replica of it (``pg_basebackup -R``), for the replica tests.

As root the tools run as the ``postgres`` user (PostgreSQL refuses to run as root), in a temporary directory
owned by it. ``replicated_pair`` stops both servers and removes their directories even when a test fails.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

BIN = Path(os.environ.get("LANDRELEASE_PG_BIN", "/usr/lib/postgresql/15/bin"))
TOOLS = ("initdb", "pg_ctl", "pg_basebackup")
DATABASE = "landrelease"

#: Small, throwaway servers: little memory, no fsync (nothing here must survive a power cut).
SETTINGS = """
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{sockets}'
shared_buffers = 16MB
max_connections = 40
fsync = off
full_page_writes = off
wal_level = replica
max_wal_senders = 4
hot_standby = on
hot_standby_feedback = on
"""


def missing_tools() -> str | None:
    """Why the clusters cannot be built here, or None if they can."""
    absent = [tool for tool in TOOLS if not (BIN / tool).exists()]
    if absent:
        return f"PostgreSQL server tools {', '.join(absent)} are not in {BIN} (install postgresql-15)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root and there is no postgres user to run the PostgreSQL tools as"
    return None


@dataclass(frozen=True)
class Pair:
    """A primary and its streaming replica: URLs of the ``landrelease`` database (with PostGIS) on each."""

    primary: str
    replica: str
    directory: Path

    def stop_replica(self) -> None:
        """Stop the replica as an administrator would (``pg_ctl stop -m fast``): its connections are ended."""
        _run("pg_ctl", "-D", str(self.directory / "replica"), "-m", "fast", "-w", "stop")

    def start_replica(self) -> None:
        """Start the replica again (it resumes streaming from the primary)."""
        if not (self.directory / "replica" / "postmaster.pid").exists():
            _start(self.directory / "replica")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _run(*command: str) -> None:
    """Run a PostgreSQL tool (as postgres when we are root); its output goes into the error if it fails."""
    args = [str(BIN / command[0]), *command[1:]]
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--", *args]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:2])} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")


def _configure(data: Path, port: int, sockets: Path) -> None:
    with (data / "postgresql.conf").open("a", encoding="utf-8") as conf:  # later settings win
        conf.write(SETTINGS.format(port=port, sockets=sockets))


def _start(data: Path) -> None:
    _run("pg_ctl", "-D", str(data), "-l", str(data.parent / f"{data.name}.log"), "-w", "-t", "120", "start")


def _stop(data: Path) -> None:
    pid_file = data / "postmaster.pid"
    if not pid_file.exists():
        return
    try:
        _run("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop")
    except (RuntimeError, subprocess.TimeoutExpired):
        # pg_ctl could not stop it: end the server we started by its own process id (SIGQUIT: immediate stop).
        os.kill(int(pid_file.read_text().split()[0]), signal.SIGQUIT)


@contextmanager
def replicated_pair() -> Iterator[Pair]:
    """A running primary (with PostGIS in database ``landrelease``) and a hot-standby streaming replica."""
    import psycopg

    directory = Path(tempfile.mkdtemp(prefix="landrelease-replica-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    primary, replica = directory / "primary", directory / "replica"
    started: list[Path] = []
    try:
        primary_port, replica_port = _free_port(), _free_port()
        _run("initdb", "-D", str(primary), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C")
        _configure(primary, primary_port, directory)
        _start(primary)
        started.append(primary)
        base = f"postgresql://postgres@127.0.0.1:{primary_port}"
        with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")
        with psycopg.connect(f"{base}/{DATABASE}", autocommit=True) as conn:
            conn.execute("CREATE EXTENSION postgis")
        _run(
            "pg_basebackup", "-h", "127.0.0.1", "-p", str(primary_port), "-U", "postgres",
            "-D", str(replica), "-R", "-X", "stream", "-c", "fast",
        )  # fmt: skip
        _configure(replica, replica_port, directory)
        _start(replica)
        started.append(replica)
        yield Pair(f"{base}/{DATABASE}", f"postgresql://postgres@127.0.0.1:{replica_port}/{DATABASE}", directory)
    finally:
        for data in reversed(started):
            with contextlib.suppress(OSError):  # already gone; the test's own error matters more
                _stop(data)
        shutil.rmtree(directory, ignore_errors=True)
