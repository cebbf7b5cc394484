"""Copies of the live database: taken while serving, checked before they replace anything.

SQLite's online backup API copies a consistent snapshot page by page while the server goes on
writing (WAL mode lets readers and the one writer pass each other). A restore checks the copy
first (integrity, a mimamori schema no newer than this code) and keeps the database it replaces.

Webhook events that landed and wait to be handled live in the arrivals file beside the database
(`storage.arrivals.arrivals_path`). A copy takes them into its webhook_events as not handled,
so that it is one self-contained file: the server that opens it moves them back and handles
them.
"""

from __future__ import annotations

import functools
import os
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from storage.arrivals import arrivals_path
from storage.database import SCHEMA_MIGRATIONS, SQLITE, known_migrations, migrations, owner_only


class BackupError(Exception):
    """Why a copy cannot be taken or used, in one sentence."""


@dataclass(frozen=True)
class CopyFacts:
    schema_version: int
    members: int
    rounds: int


def take_backup(database: Path, target: Path) -> CopyFacts:
    if not database.exists():
        raise BackupError(f"no database at {database}")
    if target.exists() or target.is_symlink():
        raise BackupError(f"{target} exists already; choose a new name")
    partial = target.with_name(target.name + ".partial")
    if partial.is_symlink():
        raise BackupError(f"{partial} is a symlink; remove it first")
    partial.unlink(missing_ok=True)
    owner_only(partial)  # a backup holds what the database holds: its owner's eyes only
    # Read before the copy: an event handled in between is then in the copy as handled, and
    # one that waits still is in it as waiting (not handled) - none falls between the two.
    waiting = _waiting_arrivals(Path(arrivals_path(database)))
    source = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
    try:
        copy = sqlite3.connect(partial)
        try:
            # Pages in steps so the server's writer is never held up for the whole copy.
            source.backup(copy, pages=1024)
            with copy:
                copy.executemany(
                    "INSERT INTO webhook_events (event_id, payload, received_at)"
                    " VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    waiting,
                )
            # A backup is one self-contained file: no -wal or -shm beside it.
            copy.execute("PRAGMA journal_mode=DELETE")
        finally:
            copy.close()
    finally:
        source.close()
    facts = check_copy(partial)
    os.replace(partial, target)
    return facts


def _waiting_arrivals(arrivals: Path) -> list[tuple[str, str, str]]:
    if not arrivals.exists():
        return []
    conn = sqlite3.connect(f"file:{arrivals}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute("SELECT event_id, payload, received_at FROM arrivals").fetchall()
    except sqlite3.OperationalError:  # made, but its table not yet
        return []
    finally:
        conn.close()


@functools.cache
def _schema(versions: frozenset[int]) -> dict[tuple[str, str], str]:
    """(type, name) -> SQL of everything these migrations make, in a scratch database: what a
    copy that says it ran them must hold, word for word."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute(SCHEMA_MIGRATIONS)
        for version, _, sql in migrations(SQLITE):
            if version in versions:
                conn.executescript(sql)
        return _objects(conn)
    finally:
        conn.close()


def _objects(conn: sqlite3.Connection) -> dict[tuple[str, str], str]:
    return {
        (kind, name): " ".join((sql or "").split())
        for kind, name, sql in conn.execute("SELECT type, name, sql FROM sqlite_master")
        if not name.startswith("sqlite_")
    }


def _foreign_objects(conn: sqlite3.Connection, versions: frozenset[int]) -> list[str]:
    """Where a copy's schema is not what its migrations make: a trigger or view of its own, a
    table or index it never made, one whose definition differs (a column more or less, a
    constraint dropped), or one missing (the audit log's append-only triggers, an index). By
    definition, not by name: a restored trigger would run inside the server with every write,
    and a table without its CHECK would take rows the service never writes."""
    expected, found = _schema(versions), []
    held = _objects(conn)
    for (kind, name), sql in sorted(held.items()):
        if (kind, name) not in expected:
            found.append(f"{kind} {name}")
        elif sql != expected[(kind, name)]:
            found.append(f"{kind} {name} (changed)")
    found += [f"{kind} {name} (missing)" for kind, name in sorted(expected.keys() - held.keys())]
    return found


def check_copy(copy: Path) -> CopyFacts:
    """What a copy holds, or BackupError if it is damaged, not a mimamori database, or holds
    anything this schema does not have (triggers and views above all)."""
    if copy.is_symlink():
        raise BackupError(f"{copy} is a symlink; give the file itself")
    if not copy.is_file():
        raise BackupError(f"no file at {copy}")
    try:
        conn = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise BackupError(f"{copy} cannot be opened: {error}") from error
    try:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        if integrity != "ok":
            raise BackupError(f"{copy} is damaged: {integrity}")
        versions = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
        if versions and max(versions) <= max(known_migrations(), default=0):
            foreign = _foreign_objects(conn, frozenset(versions))
            if foreign:
                raise BackupError(f"{copy} holds what mimamori never made: {', '.join(foreign)}")
        members = conn.execute("SELECT count(*) FROM members").fetchone()[0]
        rounds = conn.execute("SELECT count(*) FROM checkin_rounds").fetchone()[0]
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{copy} is not a mimamori database: {error}") from error
    finally:
        conn.close()
    newest = max(known_migrations(), default=0)
    if not versions or max(versions) > newest:
        raise BackupError(
            f"{copy} has schema version {max(versions, default=0)}; this mimamori knows up to"
            f" {newest}: restore it with the version that wrote it"
        )
    return CopyFacts(max(versions), members, rounds)


def restore(copy: Path, database: Path, now: datetime) -> tuple[CopyFacts, Path | None]:
    """Replace the database with a checked copy; the replaced one is kept beside it.

    Stop the server first: a running server keeps writing to the file it opened. The events
    that waited beside the replaced database go with it, into the kept copy."""
    facts = check_copy(copy)
    kept = None
    if database.exists():
        kept = database.with_name(f"{database.name}.before-restore-{now:%Y%m%dT%H%M%S}")
        take_backup(database, kept)
    if database.is_symlink():
        raise BackupError(f"{database} is a symlink; restore onto the file itself")
    incoming = database.with_name(database.name + ".restoring")
    incoming.unlink(missing_ok=True)
    owner_only(incoming)
    with copy.open("rb") as source, incoming.open("r+b") as written:
        shutil.copyfileobj(source, written)
    arrivals = arrivals_path(database)
    leftovers = (
        f"{database}-wal",
        f"{database}-shm",
        arrivals,
        f"{arrivals}-wal",
        f"{arrivals}-shm",
    )
    for leftover in leftovers:
        Path(leftover).unlink(missing_ok=True)
    os.replace(incoming, database)
    return facts, kept
