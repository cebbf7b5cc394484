"""Events forwarded to the city's system on a shared account: kept with the batch that decided
so, claimed a chat at a time (so each chat's events go in order, and by one instance), and
marked once the city's system has taken them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from storage.database import Connection, from_db, guarded, to_db
from storage.models import required_time


@dataclass(frozen=True)
class Forward:
    id: int
    event_id: str
    chat: str
    payload: str
    attempts: int
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Forward:
        return cls(
            id=row["id"],
            event_id=row["event_id"],
            chat=row["chat"],
            payload=row["payload"],
            attempts=row["attempts"],
            created_at=required_time(row["created_at"]),
        )


class ForwardRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def add(self, event_id: str, chat: str, payload: str, now: datetime) -> None:
        await self._conn.execute(
            "INSERT INTO forwards (event_id, chat, payload, next_attempt_at, created_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING",
            (event_id, chat, payload, to_db(now), to_db(now)),
        )

    async def claim_due(
        self, now: datetime, chats: int, instance: str, lease: timedelta
    ) -> list[list[Forward]]:
        """Up to `chats` chats whose first waiting event is due and held by no live instance,
        each with everything it has waiting, in order, claimed for `instance`. A chat whose
        first event another instance holds is not taken: its order is that instance's."""
        heads = await self._conn.fetch_all(
            "SELECT f.chat, f.id FROM forwards f WHERE f.state = 'pending'"
            " AND f.id = (SELECT MIN(g.id) FROM forwards g"
            "             WHERE g.chat = f.chat AND g.state = 'pending')"
            " AND f.next_attempt_at <= ?"
            " AND (f.claimed_until IS NULL OR f.claimed_until <= ? OR f.claimed_by = ?)"
            " ORDER BY f.id LIMIT ?",
            (to_db(now), to_db(now), instance, chats),
        )
        if not heads:
            return []
        first = {row[0]: row[1] for row in heads}
        marks = ", ".join("?" for _ in first)
        rows = await self._conn.fetch_all(
            "UPDATE forwards SET claimed_by = ?, claimed_until = ?"
            f" WHERE state = 'pending' AND chat IN ({marks})"
            " AND (claimed_until IS NULL OR claimed_until <= ? OR claimed_by = ?) RETURNING *",
            (instance, to_db(now + lease), *first, to_db(now), instance),
        )
        by_chat: dict[str, list[Forward]] = {}
        for row in rows:
            found = Forward.from_row(row)
            by_chat.setdefault(found.chat, []).append(found)
        claimed = []
        for chat, events in by_chat.items():
            events.sort(key=lambda f: f.id)
            if events[0].id == first[chat]:
                claimed.append(events)
            else:  # its first event went to another instance meanwhile: theirs, in order
                await self.release([f.id for f in events])
        return claimed

    async def release(self, ids: list[int]) -> None:
        await self._update(ids, "claimed_by = NULL, claimed_until = NULL", ())

    async def release_claims(self) -> None:
        """Alone on the database: what this instance held before it stopped is its own again."""
        await self._conn.execute(
            "UPDATE forwards SET claimed_by = NULL, claimed_until = NULL"
            " WHERE claimed_by IS NOT NULL"
        )

    async def sent(self, ids: list[int], at: datetime) -> None:
        await self._update(
            ids,
            "state = 'sent', sent_at = ?, attempts = attempts + 1, claimed_by = NULL,"
            " claimed_until = NULL",
            (to_db(at),),
        )

    async def retry(self, ids: list[int], next_attempt_at: datetime, error: str) -> None:
        await self._update(
            ids,
            "attempts = attempts + 1, next_attempt_at = ?, last_error = ?, claimed_by = NULL,"
            " claimed_until = NULL",
            (to_db(next_attempt_at), error[:500]),
        )

    async def give_up(self, ids: list[int], at: datetime, error: str) -> None:
        await self._update(
            ids,
            "state = 'given_up', sent_at = ?, attempts = attempts + 1, last_error = ?,"
            " claimed_by = NULL, claimed_until = NULL",
            (to_db(at), error[:500]),
        )

    async def _update(self, ids: list[int], assignments: str, values: tuple[Any, ...]) -> None:
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            marks = ", ".join("?" for _ in part)
            await self._conn.execute(
                f"UPDATE forwards SET {assignments}"
                f" WHERE id IN ({marks}) AND {guarded('state')} = 'pending'",
                (*values, *part),
            )

    async def backlog(self) -> tuple[int, datetime | None, int]:
        """(events waiting, when the oldest of them came, events given up on): /metrics."""
        row = await self._conn.fetch_one(
            "SELECT COUNT(*), MIN(created_at) FROM forwards WHERE state = 'pending'"
        )
        given_up = await self._conn.fetch_one(
            "SELECT COUNT(*) FROM forwards WHERE state = 'given_up'"
        )
        count, oldest = (row[0], from_db(row[1])) if row else (0, None)
        return int(count or 0), oldest, int(given_up[0] if given_up else 0)

    async def forget_sent(self, before: datetime) -> None:
        """Forwarded events, once taken, are the city's: kept a while for the record only."""
        await self._conn.execute(
            "DELETE FROM forwards WHERE state <> 'pending' AND sent_at < ?", (to_db(before),)
        )

    async def forget_chat(self, chat: str) -> int:
        """退会: the events of her chat kept after the city's system took them (or after it was
        given up on) are deleted now, not a week later. Those still waiting are the city's
        and still go to it. -> rows deleted."""
        written = await self._conn.execute(
            "DELETE FROM forwards WHERE chat = ? AND state <> 'pending'", (chat,)
        )
        return written.rowcount
