"""Webhook events as received from LINE, keyed by webhookEventId."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from storage.database import fetch_all, to_db


class InboxRepository:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def record(self, event_id: str, payload: str, now: datetime) -> bool:
        """True when the event is new; False for a redelivery or duplicate."""
        cursor = await self._conn.execute(
            "INSERT OR IGNORE INTO webhook_events (event_id, payload, received_at)"
            " VALUES (?, ?, ?)",
            (event_id, payload, to_db(now)),
        )
        return cursor.rowcount == 1

    async def mark_processed(self, event_id: str, now: datetime) -> None:
        await self._conn.execute(
            "UPDATE webhook_events SET processed_at = ? WHERE event_id = ?",
            (to_db(now), event_id),
        )

    async def unprocessed(self, limit: int = 1_000_000) -> list[tuple[str, str]]:
        """Events stored but not yet handled, in the order they came."""
        return [
            (row[0], row[1])
            for row in await fetch_all(
                self._conn,
                "SELECT event_id, payload FROM webhook_events WHERE processed_at IS NULL"
                " ORDER BY received_at, rowid LIMIT ?",
                (limit,),
            )
        ]

    async def forget_processed_before(self, before: datetime) -> None:
        # LINE redelivers for a limited time only; old ids need not be kept forever.
        await self._conn.execute(
            "DELETE FROM webhook_events WHERE processed_at IS NOT NULL AND received_at < ?",
            (to_db(before),),
        )
