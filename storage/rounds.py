"""Check-in rounds: one row per scheduled check-in of one person, from sent to closed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import aiosqlite

from storage.database import from_db, to_db
from storage.models import CheckinRound, RoundState

_OPEN = "('open', 'resent', 'alerted')"


class RoundRepository:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def open_unless_open(self, openings: list[tuple[int, datetime]], now: datetime) -> None:
        """Open a round per (member, slot); skipped where the member has an open round (the
        one-open-round index) or a round for that slot already (the member/slot key)."""
        await self._conn.executemany(
            "INSERT OR IGNORE INTO checkin_rounds (member_id, slot_at, state, opened_at)"
            " VALUES (?, ?, 'open', ?)",
            [(member_id, to_db(slot), to_db(now)) for member_id, slot in openings],
        )

    async def open_round(self, member_id: int) -> CheckinRound | None:
        return await self._one(
            f"SELECT * FROM checkin_rounds WHERE member_id = ? AND state IN {_OPEN}", (member_id,)
        )

    async def attach_outbox(self, round_ids: Sequence[int], outbox_id: int, resend: bool) -> None:
        column = "resend_outbox_id" if resend else "checkin_outbox_id"
        await self._conn.executemany(
            f"UPDATE checkin_rounds SET {column} = ? WHERE id = ?",
            [(outbox_id, round_id) for round_id in round_ids],
        )

    async def mark_delivered(self, outbox_id: int, at: datetime) -> None:
        """LINE accepted the check-in or re-send carried by this outbox row: the clock starts."""
        when = to_db(at)
        await self._conn.execute(
            "UPDATE checkin_rounds SET sent_at = COALESCE(sent_at, ?) WHERE checkin_outbox_id = ?",
            (when, outbox_id),
        )
        await self._conn.execute(
            "UPDATE checkin_rounds SET resent_at = COALESCE(resent_at, ?)"
            " WHERE resend_outbox_id = ?",
            (when, outbox_id),
        )

    async def without_message(self, resend: bool, limit: int) -> list[CheckinRound]:
        """Rounds opened (or moved to re-send) whose message is not yet in the outbox, ordered
        so that rounds sharing a slot and a language come together."""
        state, column = ("resent", "resend_outbox_id") if resend else ("open", "checkin_outbox_id")
        return await self._many(
            f"SELECT r.* FROM checkin_rounds r JOIN members m ON m.id = r.member_id"
            f" WHERE r.state = ? AND r.{column} IS NULL"
            f" ORDER BY r.slot_at, m.language, r.id LIMIT ?",
            (state, limit),
        )

    async def awaiting_resend(self, sent_before: datetime, limit: int) -> list[CheckinRound]:
        return await self._many(
            "SELECT * FROM checkin_rounds WHERE state = 'open' AND sent_at <= ?"
            " ORDER BY sent_at, id LIMIT ?",
            (to_db(sent_before), limit),
        )

    async def awaiting_alert(self, resent_before: datetime, limit: int) -> list[CheckinRound]:
        return await self._many(
            "SELECT * FROM checkin_rounds WHERE state = 'resent' AND resent_at <= ?"
            " ORDER BY resent_at, id LIMIT ?",
            (to_db(resent_before), limit),
        )

    async def earliest_started(self) -> tuple[datetime | None, datetime | None]:
        """(earliest sent_at of rounds waiting to be re-sent, earliest resent_at of rounds
        waiting to alert) -- what the next sweep must wake for."""
        async with self._conn.execute(
            "SELECT MIN(CASE WHEN state = 'open' THEN sent_at END),"
            " MIN(CASE WHEN state = 'resent' THEN resent_at END)"
            " FROM checkin_rounds WHERE state IN ('open', 'resent')"
        ) as cursor:
            row = await cursor.fetchone()
        return (from_db(row[0]), from_db(row[1])) if row else (None, None)

    async def set_state(self, round_id: int, state: RoundState, at: datetime) -> None:
        column = {RoundState.RESENT: None, RoundState.ALERTED: "alerted_at"}.get(state)
        if column:
            await self._conn.execute(
                f"UPDATE checkin_rounds SET state = ?, {column} = ? WHERE id = ?",
                (state.value, to_db(at), round_id),
            )
        else:
            await self._conn.execute(
                "UPDATE checkin_rounds SET state = ? WHERE id = ?", (state.value, round_id)
            )

    async def close(self, round_id: int, state: RoundState, reason: str, at: datetime) -> None:
        await self._conn.execute(
            f"UPDATE checkin_rounds SET state = ?, close_reason = ?, closed_at = ?"
            f" WHERE id = ? AND state IN {_OPEN}",
            (state.value, reason, to_db(at), round_id),
        )

    async def _one(self, sql: str, params: tuple[object, ...]) -> CheckinRound | None:
        async with self._conn.execute(sql, params) as cursor:
            row = await cursor.fetchone()
        return CheckinRound.from_row(row) if row else None

    async def _many(self, sql: str, params: tuple[object, ...]) -> list[CheckinRound]:
        async with self._conn.execute(sql, params) as cursor:
            return [CheckinRound.from_row(row) for row in await cursor.fetchall()]
