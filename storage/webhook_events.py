"""Webhook events as received from LINE, keyed by webhookEventId: arrivals, then handled.

An event lands first among the arrivals (`ArrivalsRepository`, before LINE is answered), then
the transaction that applies its effects takes it (`HandledEventsRepository.take`), which
records it handled in webhook_events: effects and mark commit together, so a replay finds it
taken and does nothing. Its reply is kept with it until LINE has it (`keep_replies`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.database import POSTGRESQL, Connection, fetch_in, from_db, insert_rows, to_db


@dataclass(frozen=True)
class Arrival:
    event_id: str
    payload: str  # the event's JSON as LINE sent it
    received_at: str  # as stored


def _arrival_order(arrival: Arrival) -> tuple[str, str]:
    return (arrival.received_at, arrival.event_id)


# What an event set aside keeps of why it failed: the exception, never a whole traceback.
FAILURE_KEPT = 300


@dataclass(frozen=True)
class SetAside:
    """A webhook event that failed its tries, as the console lists it."""

    event_id: str
    payload: str
    received_at: datetime
    set_aside_at: datetime
    failure: str


class ArrivalsRepository:
    """Events that came and are not yet handled (`Database.arrivals`): on SQLite the arrivals
    table of a file of its own, emptied as they are handled; on PostgreSQL webhook_events
    itself, whose unhandled rows are claimed by one instance at a time."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._shared = conn.dialect == POSTGRESQL
        self._table = "webhook_events" if self._shared else "arrivals"

    async def land(self, events: list[tuple[str, str]], now: datetime) -> set[str]:
        """Store (event id, payload) pairs, a trip per 200; -> the ids not seen before."""
        stamp = to_db(now)
        return await self._store([(event_id, payload, stamp) for event_id, payload in events])

    async def waiting(
        self, limit: int, instance: str, lease: timedelta, now: datetime
    ) -> list[Arrival]:
        """Events not yet handled, in the order they came. On PostgreSQL, those no live
        instance holds, claimed for `instance` until the lease runs out (an instance that dies
        mid-batch leaves them to another); on SQLite one process drains them alone."""
        if not self._shared:
            rows = await self._conn.fetch_all(
                "SELECT event_id, payload, received_at FROM arrivals"
                " ORDER BY received_at, rowid LIMIT ?",
                (limit,),
            )
            return [Arrival(row[0], row[1], row[2]) for row in rows]
        rows = await self._conn.fetch_all(
            "UPDATE webhook_events SET claimed_by = ?, claimed_until = ? WHERE event_id IN ("
            " SELECT event_id FROM webhook_events WHERE processed_at IS NULL"
            " AND (claimed_until IS NULL OR claimed_until <= ? OR claimed_by = ?)"
            " ORDER BY received_at, rowid LIMIT ? FOR UPDATE SKIP LOCKED)"
            " RETURNING event_id, payload, received_at, rowid",
            (instance, to_db(now + lease), to_db(now), instance, limit),
        )
        ordered = sorted(rows, key=lambda row: (row[2], row[3]))
        return [Arrival(row[0], row[1], row[2]) for row in ordered]

    async def renew_claims(self, instance: str, until: datetime) -> None:
        """The heartbeat: events this instance is handling stay its own until `until` (on
        SQLite one process drains them alone: nothing to renew)."""
        if self._shared:
            await self._conn.execute(
                "UPDATE webhook_events SET claimed_until = ?"
                " WHERE claimed_by = ? AND (processed_at IS NULL OR reply IS NOT NULL)",
                (to_db(until), instance),
            )

    async def backlog(self, handled: list[str]) -> tuple[int, datetime | None]:
        """(how many events wait to be handled, when the oldest came). `handled`: events
        handled whose removal from the SQLite arrivals is still to come (they are not waiting)."""
        if self._shared:
            row = await self._conn.fetch_one(
                "SELECT COUNT(*), MIN(received_at) FROM webhook_events WHERE processed_at IS NULL"
            )
        else:
            marks = ",".join("?" * len(handled))
            row = await self._conn.fetch_one(
                "SELECT COUNT(*), MIN(received_at) FROM arrivals"
                + (f" WHERE event_id NOT IN ({marks})" if handled else ""),
                handled,
            )
        return (row[0], from_db(row[1])) if row else (0, None)

    async def carry(self, arrivals: list[Arrival]) -> None:
        """Events that landed elsewhere and wait still (`HandledEventsRepository.unhandled`), kept
        with the moment they came."""
        await self._store([(a.event_id, a.payload, a.received_at) for a in arrivals])

    async def _store(self, rows: list[tuple[str, str, str]]) -> set[str]:
        sql = (
            f"INSERT INTO {self._table} (event_id, payload, received_at) VALUES {{values}}"
            " ON CONFLICT DO NOTHING RETURNING event_id"
        )
        return {row[0] for row in await insert_rows(self._conn, sql, rows)}

    async def forget(self, event_ids: list[str]) -> None:
        """Handled events leave the arrivals (taking them recorded them in webhook_events)."""
        if not self._shared:
            sql = "DELETE FROM arrivals WHERE event_id IN ({marks})"
            await fetch_in(self._conn, sql, event_ids)


class HandledEventsRepository:
    """Handled webhook events, kept for a week so that LINE's redeliveries find them taken, and
    the replies kept with them until sent."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def take(self, arrivals: list[Arrival], now: datetime) -> set[str]:
        """Record events handled, in the transaction that applies them; -> those nobody had
        taken before. Only those are applied: a replay after a crash, a redelivery LINE sent
        again, or an event another instance got to first, finds none."""
        stamp = to_db(now)
        rows = await insert_rows(
            self._conn,
            "INSERT INTO webhook_events (event_id, payload, received_at, processed_at)"
            " VALUES {values} ON CONFLICT (event_id) DO UPDATE"
            " SET processed_at = excluded.processed_at"
            " WHERE webhook_events.processed_at IS NULL RETURNING event_id",
            [(a.event_id, a.payload, a.received_at, stamp) for a in arrivals],
        )
        return {row[0] for row in rows}

    async def set_aside(self, arrival: Arrival, now: datetime, failure: str) -> bool:
        """An event that failed its tries: taken (it blocks no other), and kept with why until
        the console puts it back (`put_back`); -> False if another had taken it meanwhile."""
        row = await self._conn.fetch_one(
            "INSERT INTO webhook_events"
            " (event_id, payload, received_at, processed_at, set_aside_at, failure)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO UPDATE"
            " SET processed_at = excluded.processed_at, set_aside_at = excluded.set_aside_at,"
            " failure = excluded.failure"
            " WHERE webhook_events.processed_at IS NULL RETURNING event_id",
            (
                arrival.event_id,
                arrival.payload,
                arrival.received_at,
                to_db(now),
                to_db(now),
                failure[:FAILURE_KEPT],
            ),
        )
        return row is not None

    async def set_aside_events(self, limit: int = 200) -> list[SetAside]:
        """Events set aside, the oldest first."""
        rows = await self._conn.fetch_all(
            "SELECT event_id, payload, received_at, set_aside_at, failure FROM webhook_events"
            " WHERE set_aside_at IS NOT NULL ORDER BY received_at, event_id LIMIT ?",
            (limit,),
        )
        return [
            SetAside(row[0], row[1], from_db(row[2]), from_db(row[3]), row[4] or "")
            for row in rows
        ]

    async def set_aside_count(self) -> int:
        row = await self._conn.fetch_one(
            "SELECT COUNT(*) FROM webhook_events WHERE set_aside_at IS NOT NULL"
        )
        return row[0] if row else 0

    async def put_back(self) -> list[Arrival]:
        """Every event set aside waits to be handled again (handled as a new arrival would
        be; on SQLite the caller carries them to the arrivals). Until then a restart finds
        them unhandled here and carries them itself, so a crash loses none."""
        rows = await self._conn.fetch_all(
            "UPDATE webhook_events SET processed_at = NULL, set_aside_at = NULL, failure = NULL,"
            " claimed_by = NULL, claimed_until = NULL WHERE set_aside_at IS NOT NULL"
            " RETURNING event_id, payload, received_at"
        )
        return sorted((Arrival(row[0], row[1], row[2]) for row in rows), key=_arrival_order)

    async def keep_replies(self, replies: list[tuple[str, str]]) -> None:
        """(event id, its reply as JSON): kept with the event, in the transaction that handled
        it, until LINE has it (`replies_sent`)."""
        await self._conn.executemany(
            "UPDATE webhook_events SET reply = ? WHERE event_id = ?",
            [(reply, event_id) for event_id, reply in replies],
        )

    async def replies_sent(self, event_ids: list[str]) -> None:
        await fetch_in(
            self._conn,
            "UPDATE webhook_events SET reply = NULL WHERE event_id IN ({marks})"
            " RETURNING event_id",
            event_ids,
        )

    async def orphaned_replies(
        self, instance: str, lease: timedelta, now: datetime, since: datetime
    ) -> list[tuple[str, str, str]]:
        """(event id, payload, kept reply) of replies no live instance is sending, received
        since `since` (older tokens are dead: those replies are let go); claimed for
        `instance` for a lease, as the events were."""
        await self._conn.execute(
            "UPDATE webhook_events SET reply = NULL WHERE reply IS NOT NULL AND received_at < ?",
            (to_db(since),),
        )
        rows = await self._conn.fetch_all(
            "UPDATE webhook_events SET claimed_by = ?, claimed_until = ? WHERE event_id IN ("
            " SELECT event_id FROM webhook_events WHERE reply IS NOT NULL"
            " AND (claimed_until IS NULL OR claimed_until <= ?)"
            " ORDER BY received_at, rowid LIMIT 500"
            + (" FOR UPDATE SKIP LOCKED" if self._conn.dialect == POSTGRESQL else "")
            + ") RETURNING event_id, payload, reply",
            (instance, to_db(now + lease), to_db(now)),
        )
        return [(row[0], row[1], row[2]) for row in rows]

    async def release_claims(self) -> None:
        """Alone on the database after a restart: what it had claimed is free again."""
        await self._conn.execute(
            "UPDATE webhook_events SET claimed_by = NULL, claimed_until = NULL"
            " WHERE claimed_by IS NOT NULL AND (processed_at IS NULL OR reply IS NOT NULL)"
        )

    async def unhandled(self) -> list[Arrival]:
        """Events stored in webhook_events but not handled: on SQLite, left by a version that
        landed them there (they move to the arrivals file at start-up)."""
        rows = await self._conn.fetch_all(
            "SELECT event_id, payload, received_at FROM webhook_events"
            " WHERE processed_at IS NULL ORDER BY received_at, rowid",
        )
        return [Arrival(row[0], row[1], row[2]) for row in rows]

    async def scrub_words_of(self, line_user_id: str) -> None:
        """退会: the person's handled events keep their id (LINE may redeliver; the id is
        what drops the repeat) and lose everything else: words, stickers, the user id."""
        # The payload is JSON text on both engines; its source is read by each one's own
        # JSON functions (a payload that is not JSON is left alone).
        if self._conn.dialect == POSTGRESQL:
            sql = (
                'UPDATE webhook_events SET payload = \'{"type": "scrubbed"}\', failure = NULL'
                " WHERE processed_at IS NOT NULL AND CASE WHEN payload LIKE '{%'"
                " THEN payload::jsonb -> 'source' ->> 'userId' END = ?"
            )
        else:
            sql = (
                "UPDATE webhook_events SET payload = json_object('type', 'scrubbed'),"
                " failure = NULL"
                " WHERE processed_at IS NOT NULL AND json_valid(payload)"
                " AND json_extract(payload, '$.source.userId') = ?"
            )
        await self._conn.execute(sql, (line_user_id,))

    async def forget_processed_before(self, before: datetime) -> None:
        # LINE redelivers for a limited time only; old ids need not be kept forever.
        await self._conn.execute(
            "DELETE FROM webhook_events WHERE processed_at IS NOT NULL AND received_at < ?"
            " AND set_aside_at IS NULL",
            (to_db(before),),
        )
