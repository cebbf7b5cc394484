"""Earthquake reports read from the JMA feed, and what each did."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from storage.database import Connection, to_db


class QuakeRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def seen(self, document: str) -> bool:
        return (
            await self._conn.fetch_one("SELECT 1 FROM jma_reports WHERE document = ?", (document,))
            is not None
        )

    async def started_since(self, since: datetime) -> bool:
        return (
            await self._conn.fetch_one(
                "SELECT 1 FROM jma_reports WHERE action = 'started' AND received_at >= ?",
                (to_db(since),),
            )
            is not None
        )

    async def record(
        self,
        document: str,
        event_id: str,
        title: str,
        max_int: str | None,
        action: str,
        roll_call_id: int | None,
        now: datetime,
    ) -> None:
        await self._conn.execute(
            "INSERT INTO jma_reports (document, event_id, title, max_int, action,"
            " roll_call_id, received_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (document, event_id, title, max_int, action, roll_call_id, to_db(now)),
        )

    async def recent(self, since: datetime) -> list[dict[str, Any]]:
        rows = await self._conn.fetch_all(
            "SELECT * FROM jma_reports WHERE received_at >= ? AND action IN ('started',"
            " 'aftershock', 'skipped') ORDER BY received_at DESC",
            (to_db(since),),
        )
        return [dict(row) for row in rows]
