"""Webhook events as received from LINE, keyed by webhookEventId."""

from __future__ import annotations

from datetime import datetime, timedelta

from storage.database import POSTGRESQL, Connection, fetch_all, fetch_in, to_db


class InboxRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def record(self, event_id: str, payload: str, now: datetime) -> bool:
        """True when the event is new; False for a redelivery or duplicate."""
        cursor = await self._conn.execute(
            "INSERT INTO webhook_events (event_id, payload, received_at)"
            " VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (event_id, payload, to_db(now)),
        )
        return cursor.rowcount == 1

    async def record_many(self, events: list[tuple[str, str]], now: datetime) -> set[str]:
        """Store (event id, payload) pairs in a few trips; -> the ids not seen before."""
        ids = [event_id for event_id, _ in events]
        sql = "SELECT event_id FROM webhook_events WHERE event_id IN ({marks})"
        seen = {row[0] for row in await fetch_in(self._conn, sql, ids)}
        fresh = [(event_id, payload) for event_id, payload in events if event_id not in seen]
        stamp = to_db(now)
        await self._conn.executemany(
            "INSERT INTO webhook_events (event_id, payload, received_at)"
            " VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            [(event_id, payload, stamp) for event_id, payload in fresh],
        )
        return {event_id for event_id, _ in fresh}

    async def mark_processed(self, event_id: str, now: datetime) -> None:
        await self.mark_processed_many([event_id], now)

    async def mark_processed_many(self, event_ids: list[str], now: datetime) -> None:
        stamp = to_db(now)
        await self._conn.executemany(
            "UPDATE webhook_events SET processed_at = ? WHERE event_id = ?",
            [(stamp, event_id) for event_id in event_ids],
        )

    async def claim_unprocessed(
        self, limit: int, instance: str, lease: timedelta, now: datetime
    ) -> list[tuple[str, str]]:
        """Events stored but not yet handled, in the order they came, that no live instance
        holds; claimed for `instance` until the lease runs out (an instance that dies mid-batch
        leaves them to another)."""
        skip = " FOR UPDATE SKIP LOCKED" if self._conn.dialect == POSTGRESQL else ""
        rows = await fetch_all(
            self._conn,
            "UPDATE webhook_events SET claimed_by = ?, claimed_until = ? WHERE event_id IN ("
            " SELECT event_id FROM webhook_events WHERE processed_at IS NULL"
            " AND (claimed_until IS NULL OR claimed_until <= ? OR claimed_by = ?)"
            f" ORDER BY received_at, rowid LIMIT ?{skip})"
            " RETURNING event_id, payload, received_at, rowid",
            (instance, to_db(now + lease), to_db(now), instance, limit),
        )
        return [(row[0], row[1]) for row in sorted(rows, key=lambda row: (row[2], row[3]))]

    async def still_unprocessed(self, event_ids: list[str]) -> set[str]:
        """Those of the events that no one has handled yet (another instance may have,
        since they were claimed)."""
        sql = (
            "SELECT event_id FROM webhook_events"
            " WHERE processed_at IS NULL AND event_id IN ({marks})"
        )
        return {row[0] for row in await fetch_in(self._conn, sql, event_ids)}

    async def release_claims(self) -> None:
        await self._conn.execute(
            "UPDATE webhook_events SET claimed_by = NULL, claimed_until = NULL"
            " WHERE claimed_by IS NOT NULL AND processed_at IS NULL"
        )

    async def scrub_words_of(self, line_user_id: str) -> None:
        """退会: the person's handled events keep their id (LINE may redeliver; the id is
        what drops the repeat) and lose everything else: words, stickers, the user id."""
        # The payload is JSON text on both engines; its source is read by each one's own
        # JSON functions (a payload that is not JSON is left alone).
        if self._conn.dialect == POSTGRESQL:
            sql = (
                'UPDATE webhook_events SET payload = \'{"type": "scrubbed"}\''
                " WHERE processed_at IS NOT NULL AND CASE WHEN payload LIKE '{%'"
                " THEN payload::jsonb -> 'source' ->> 'userId' END = ?"
            )
        else:
            sql = (
                "UPDATE webhook_events SET payload = json_object('type', 'scrubbed')"
                " WHERE processed_at IS NOT NULL AND json_valid(payload)"
                " AND json_extract(payload, '$.source.userId') = ?"
            )
        await self._conn.execute(sql, (line_user_id,))

    async def forget_processed_before(self, before: datetime) -> None:
        # LINE redelivers for a limited time only; old ids need not be kept forever.
        await self._conn.execute(
            "DELETE FROM webhook_events WHERE processed_at IS NOT NULL AND received_at < ?",
            (to_db(before),),
        )
