"""Calls before the alert: a member's number and consent, a round's call, Twilio's webhooks
taken once, and the month's calls counted against the budget."""

from __future__ import annotations

from datetime import datetime

from storage.database import Connection, to_db

CALL_PURPOSE = "call"  # the outbox rows that place a call


class CallRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def set_consent(
        self, member_id: int, number: str | None, before_alert: bool, by: str | None
    ) -> None:
        await self._conn.execute(
            "UPDATE members SET call_number = ?, call_before_alert = ?, call_consented_by = ?"
            " WHERE id = ?",
            (number, int(before_alert), by if before_alert or number else None, member_id),
        )

    async def placed(self, round_id: int, at: datetime, until: datetime, outbox_id: int) -> None:
        """The round's call is recorded: the alert waits for it until `until` at the most."""
        await self._conn.execute(
            "UPDATE checkin_rounds SET called_at = ?, call_until = ?, call_outbox_id = ?"
            " WHERE id = ? AND state = 'resent' AND called_at IS NULL",
            (to_db(at), to_db(until), outbox_id, round_id),
        )

    async def ended(self, round_id: int, at: datetime) -> bool:
        """The call settled nothing (no answer, busy, a machine): the alert is due now.
        -> whether the round was still waiting on it."""
        row = await self._conn.fetch_one(
            "UPDATE checkin_rounds SET call_until = ? WHERE id = ? AND state = 'resent'"
            " AND called_at IS NOT NULL AND call_until > ? RETURNING id",
            (to_db(at), round_id, to_db(at)),
        )
        return row is not None

    async def take_event(self, call_sid: str, kind: str, at: datetime) -> bool:
        """-> False when this webhook of this call was acted on before (Twilio sends again
        what it did not hear back from)."""
        row = await self._conn.fetch_one(
            "INSERT INTO call_events (call_sid, kind, handled_at) VALUES (?, ?, ?)"
            " ON CONFLICT DO NOTHING RETURNING call_sid",
            (call_sid, kind, to_db(at)),
        )
        return row is not None

    async def taken(self, call_sid: str, kind: str) -> bool:
        row = await self._conn.fetch_one(
            "SELECT 1 FROM call_events WHERE call_sid = ? AND kind = ?", (call_sid, kind)
        )
        return row is not None

    async def placed_since(self, since: datetime) -> int:
        """Calls recorded since the moment (the month's start): what the budget counts, the
        check-ins of people watched by phone alone as much as the calls before an alert."""
        row = await self._conn.fetch_one(
            "SELECT COUNT(*) FROM outbox WHERE channel = 'voice' AND created_at >= ?",
            (to_db(since),),
        )
        return int(row[0]) if row else 0
