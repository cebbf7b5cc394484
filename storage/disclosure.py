"""Reads for a person's own record (care.privacy.disclosure): every row the service holds about one
member, by her id only. Nothing here writes; nothing here takes another person's id from the
caller, so a query can only ever return rows about the member it was given."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.database import Connection, from_db
from storage.models import columns as _columns


@dataclass(frozen=True)
class Told:
    """A message the service sent (or tried to) about her to someone else, or to her."""

    at: datetime
    purpose: str
    channel: str
    state: str
    sent_at: datetime | None
    round_id: int | None
    recipient_member_id: int | None
    recipients: list[str]  # addresses (LINE ids, numbers): mapped to names, never shown


class DisclosureRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def rounds(self, member_id: int) -> list[dict[str, Any]]:
        """Her check-in rounds, oldest first, with what she answered and when."""
        rows = await self._conn.fetch_all(
            "SELECT id, slot_at, state, sent_at, resent_at, alerted_at, closed_at,"
            " close_reason, answer, urgent, help_words, taken_by, taken_at, confirmed_by,"
            " called_at FROM checkin_rounds WHERE member_id = ? ORDER BY slot_at, id",
            (member_id,),
        )
        return [dict(_columns(row)) for row in rows]

    async def told(self, member_id: int) -> list[Told]:
        """Messages about her (her rounds' alerts, notes to her managers) and calls to her."""
        rows = await self._conn.fetch_all(
            "SELECT created_at, purpose, channel, state, sent_at, round_id, recipient_member_id,"
            " recipients FROM outbox WHERE id IN ("
            # Each by its own index: as one OR, the engine read the whole outbox (a year of
            # a prefecture's messages) for one person's record.
            " SELECT id FROM outbox WHERE subject_member_id = ?"
            " UNION SELECT o.id FROM checkin_rounds r JOIN outbox o ON o.round_id = r.id"
            " WHERE r.member_id = ?"
            " UNION SELECT id FROM outbox WHERE recipient_member_id = ? AND channel = 'voice'"
            ") ORDER BY created_at, id",
            (member_id, member_id, member_id),
        )
        return [
            Told(
                at=_time(row["created_at"]),
                purpose=row["purpose"],
                channel=row["channel"],
                state=row["state"],
                sent_at=from_db(row["sent_at"]),
                round_id=row["round_id"],
                recipient_member_id=row["recipient_member_id"],
                recipients=[str(r) for r in json.loads(row["recipients"] or "[]")],
            )
            for row in rows
        ]

    async def verifications(self, member_id: int) -> list[dict[str, Any]]:
        """The calls that checked her number was hers (the code's hash is never read)."""
        rows = await self._conn.fetch_all(
            "SELECT number, created_at, ended_at, outcome FROM call_verifications"
            " WHERE member_id = ? ORDER BY created_at, id",
            (member_id,),
        )
        return [dict(_columns(row)) for row in rows]

    async def devices(self, member_id: int) -> list[dict[str, Any]]:
        """Every device linked to her, revoked ones too (the token's hash is never read)."""
        rows = await self._conn.fetch_all(
            "SELECT id, label, counts_as_ok, created_at, revoked_at, last_ping_at, consented_at"
            " FROM devices WHERE member_id = ? ORDER BY id",
            (member_id,),
        )
        return [dict(_columns(row)) for row in rows]

    async def memberships(self, member_id: int) -> list[dict[str, Any]]:
        """Her teams (deleted ones left out) with her role and when she joined."""
        rows = await self._conn.fetch_all(
            "SELECT t.id AS team_id, t.name, tm.role, tm.joined_at, tm.consented_at"
            " FROM team_members tm JOIN teams t ON t.id = tm.team_id AND t.deleted_at IS NULL"
            " WHERE tm.member_id = ? ORDER BY t.id",
            (member_id,),
        )
        return [dict(_columns(row)) for row in rows]

    async def shares(self, member_id: int) -> dict[int, datetime]:
        """The managers she agreed to show her details to, and since when."""
        rows = await self._conn.fetch_all(
            "SELECT manager_id, granted_at FROM personal_shares WHERE user_id = ?", (member_id,)
        )
        return {int(row["manager_id"]): _time(row["granted_at"]) for row in rows}

    async def roll_calls(self, member_id: int) -> list[dict[str, Any]]:
        """Her answers to the city's roll-calls (安否確認 after a quake)."""
        rows = await self._conn.fetch_all(
            "SELECT p.roll_call_id, r.started_at, p.answer, p.answered_at, p.unasked"
            " FROM roll_call_people p JOIN roll_calls r ON r.id = p.roll_call_id"
            " WHERE p.member_id = ? ORDER BY r.started_at, p.roll_call_id",
            (member_id,),
        )
        return [dict(_columns(row)) for row in rows]

    async def withheld_notes(self, member_id: int) -> int:
        """How many staff notes about her exist (their words are not disclosed here)."""
        row = await self._conn.fetch_one(
            "SELECT (SELECT COUNT(*) FROM person_notes WHERE member_id = ?)"
            " + (SELECT COUNT(*) FROM desk_steps s JOIN desk_cases c ON c.id = s.case_id"
            " WHERE c.member_id = ? AND s.note IS NOT NULL AND s.note != '')"
            " + (SELECT COUNT(*) FROM desk_cases WHERE member_id = ?"
            " AND outcome_note IS NOT NULL AND outcome_note != '')",
            (member_id, member_id, member_id),
        )
        return int(row[0]) if row else 0


def _time(text: str) -> datetime:
    found = from_db(text)
    assert found is not None
    return found
