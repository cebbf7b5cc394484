"""Weather warnings read from the JMA feed, and what each did."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.database import Connection, to_db

# What a document read did (not a drill, a 取消 or one skipped).
_READ = "('started', 'already', 'below', 'elsewhere')"


class StormRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def seen(self, document: str) -> bool:
        return (
            await self._conn.fetch_one(
                "SELECT 1 FROM storm_reports WHERE document = ?", (document,)
            )
            is not None
        )

    async def open_started(self) -> list[dict[str, Any]]:
        """The roll-calls the feed started that are still open, newest first, each with the
        warning it was started for."""
        rows = await self._conn.fetch_all(
            "SELECT s.warning, s.roll_call_id FROM storm_reports s"
            " JOIN roll_calls c ON c.id = s.roll_call_id"
            " WHERE s.action = 'started' AND c.closed_at IS NULL ORDER BY c.id DESC",
        )
        return [dict(row) for row in rows]

    async def last_started_by(self, office: str, title: str) -> dict[str, Any] | None:
        """The latest document of this office and title that started a roll-call: the one a
        取消 of theirs may cancel."""
        row = await self._conn.fetch_one(
            "SELECT * FROM storm_reports WHERE office = ? AND title = ? AND action = 'started'"
            " ORDER BY received_at DESC LIMIT 1",
            (office, title),
        )
        return None if row is None else dict(row)

    async def last_read(self, office: str, title: str, at_most: datetime) -> dict[str, Any] | None:
        """The latest real document of this office and title issued by `at_most` that was
        read (not a drill, a 取消 or one skipped): what its summary then said was in force in
        the city."""
        row = await self._conn.fetch_one(
            "SELECT * FROM storm_reports WHERE office = ? AND title = ?"
            f" AND action IN {_READ} AND reported_at <= ?"
            " ORDER BY reported_at DESC, received_at DESC LIMIT 1",
            (office, title, to_db(at_most)),
        )
        return None if row is None else dict(row)

    async def read_after(self, office: str, title: str, after: datetime) -> list[dict[str, Any]]:
        """The real documents of this office and title issued after `after` and read already
        (a document that comes late: none, in order), each with what it recorded."""
        rows = await self._conn.fetch_all(
            "SELECT warning, stated FROM storm_reports WHERE office = ? AND title = ?"
            f" AND action IN {_READ} AND reported_at > ?",
            (office, title, to_db(after)),
        )
        return [dict(row) for row in rows]

    async def record(
        self,
        document: str,
        title: str,
        office: str,
        warning: str | None,
        action: str,
        roll_call_id: int | None,
        now: datetime,
        reported_at: datetime | None = None,
        stated: frozenset[str] = frozenset(),
    ) -> None:
        """`stated`: the warnings in force in the city a bulletin or a summary named."""
        await self._conn.execute(
            "INSERT INTO storm_reports (document, title, office, warning, action,"
            " roll_call_id, received_at, reported_at, stated)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (
                document,
                title,
                office,
                warning,
                action,
                roll_call_id,
                to_db(now),
                None if reported_at is None else to_db(reported_at),
                ",".join(sorted(stated)) or None,
            ),
        )

    async def recent(self, since: datetime) -> list[dict[str, Any]]:
        """What the console's roll-call page tells the admins: roll-calls started, warnings
        that started none because one is open, cancellations, documents skipped."""
        rows = await self._conn.fetch_all(
            "SELECT * FROM storm_reports WHERE received_at >= ? AND (action IN ('started',"
            " 'already', 'skipped') OR (action = 'cancelled' AND roll_call_id IS NOT NULL))"
            " ORDER BY received_at DESC",
            (to_db(since),),
        )
        return [dict(row) for row in rows]
