"""A private PostgreSQL server for the suite and the benchmarks: Debian's postgresql package,
a cluster made with initdb in a temporary folder, reached on a Unix socket, stopped at the end.

No Docker and no system service: the suite starts what it needs. Run as root (CI), the server
runs as the `postgres` user the Debian package creates, as PostgreSQL refuses root.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg

MISSING = (
    "PostgreSQL is not installed here (Debian: apt-get install postgresql); "
    "the PostgreSQL half of the suite is skipped"
)


def binaries() -> Path | None:
    """The folder of initdb, pg_ctl and postgres, if PostgreSQL is installed."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0,
    )
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class PostgresServer:
    """One throwaway cluster; `fresh_database()` gives each test a database of its own."""

    def __init__(self, bindir: Path, durable: bool = False) -> None:
        self.bindir = bindir
        self.durable = durable  # benchmarks: fsync and synchronous commit as in production
        self.folder = Path(tempfile.mkdtemp(prefix="mimamori-pg-"))
        self.socket_dir = self.folder / "run"
        self.data = self.folder / "data"
        self._names = itertools.count(1)
        self._as_postgres = os.geteuid() == 0

    def _run(self, *command: str) -> None:
        argv = [str(self.bindir / command[0]), *command[1:]]
        if self._as_postgres:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        subprocess.run(argv, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self.socket_dir.mkdir()
        if self._as_postgres:
            shutil.chown(self.folder, "postgres")
            shutil.chown(self.socket_dir, "postgres")
        self._run(
            "initdb", "-D", str(self.data), "-U", "mimamori", "--auth=trust",
            "-E", "UTF8", "--no-locale", "--no-sync",
        )  # fmt: skip
        options = f"-k {self.socket_dir} -c listen_addresses='' -c max_connections=300"
        if not self.durable:
            # Durability is the database's business, not the suite's: fsync off for speed.
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-w", "-l",
                  str(self.folder / "server.log"), "start")  # fmt: skip

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://mimamori@/{database}?host={self.socket_dir}"

    def fresh_database(self, prefix: str = "t") -> str:
        name = f"{prefix}_{os.getpid()}_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def start_server() -> PostgresServer | None:
    bindir = binaries()
    if bindir is None:
        return None
    server = PostgresServer(bindir)
    server.start()
    return server
