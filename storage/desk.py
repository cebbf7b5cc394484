"""The desk's cases and every step taken on them (who, when, what came of it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.database import Connection, from_db, to_db
from storage.models import required_time


@dataclass(frozen=True)
class DeskCase:
    id: int
    member_id: int
    round_id: int | None
    roll_call_id: int | None
    reason: str  # untaken, help, rollcall_help, unwell
    urgent: bool
    opened_at: datetime
    taken_by: str | None  # the staff member's name
    taken_at: datetime | None
    closed_at: datetime | None
    closed_by: str | None  # '' when the service closed it (the person's OK)
    outcome: str | None
    outcome_note: str | None

    @property
    def open(self) -> bool:
        return self.closed_at is None

    @classmethod
    def from_row(cls, row: Any) -> DeskCase:
        return cls(
            id=row["id"],
            member_id=row["member_id"],
            round_id=row["round_id"],
            roll_call_id=row["roll_call_id"],
            reason=row["reason"],
            urgent=bool(row["urgent"]),
            opened_at=required_time(row["opened_at"]),
            taken_by=row["taken_by"],
            taken_at=from_db(row["taken_at"]),
            closed_at=from_db(row["closed_at"]),
            closed_by=row["closed_by"],
            outcome=row["outcome"],
            outcome_note=row["outcome_note"],
        )


@dataclass(frozen=True)
class DeskStep:
    at: datetime
    staff: str  # '' for the service itself
    kind: str  # opened, taken, call, note, answered, family_took, family_confirmed, ...
    result: str | None
    note: str | None


@dataclass(frozen=True)
class PersonNote:
    at: datetime
    staff: str
    note: str


class DeskRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def open_case(
        self,
        member_id: int,
        reason: str,
        urgent: bool,
        at: datetime,
        round_id: int | None = None,
        roll_call_id: int | None = None,
    ) -> int | None:
        """A new case; None when the round has one already (an alert reaches the desk once)."""
        row = await self._conn.fetch_one(
            "INSERT INTO desk_cases (member_id, round_id, roll_call_id, reason, urgent,"
            " opened_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
            (member_id, round_id, roll_call_id, reason, int(urgent), to_db(at)),
        )
        return int(row[0]) if row else None

    async def get(self, case_id: int) -> DeskCase | None:
        row = await self._conn.fetch_one("SELECT * FROM desk_cases WHERE id = ?", (case_id,))
        return DeskCase.from_row(row) if row else None

    async def open_of_round(self, round_id: int) -> DeskCase | None:
        row = await self._conn.fetch_one(
            "SELECT * FROM desk_cases WHERE round_id = ? AND closed_at IS NULL", (round_id,)
        )
        return DeskCase.from_row(row) if row else None

    async def open_of_member(self, member_id: int, reason: str) -> DeskCase | None:
        row = await self._conn.fetch_one(
            "SELECT * FROM desk_cases WHERE member_id = ? AND reason = ? AND closed_at IS NULL"
            " ORDER BY id LIMIT 1",
            (member_id, reason),
        )
        return DeskCase.from_row(row) if row else None

    async def open_of_roll_call(self, member_id: int, roll_call_id: int) -> DeskCase | None:
        row = await self._conn.fetch_one(
            "SELECT * FROM desk_cases WHERE member_id = ? AND roll_call_id = ?"
            " AND closed_at IS NULL",
            (member_id, roll_call_id),
        )
        return DeskCase.from_row(row) if row else None

    async def queue(self) -> list[dict[str, Any]]:
        """Open cases, most urgent first, then the oldest: with the person's name and who
        has each."""
        rows = await self._conn.fetch_all(
            # The person's open alert beside each case (one open round a person at most):
            # staff see a call for help even on a case that came from something else.
            "SELECT c.*, m.display_name, m.full_name, r.id AS alert_round_id,"
            " r.urgent AS alert_urgent FROM desk_cases c"
            " JOIN members m ON m.id = c.member_id"
            " LEFT JOIN checkin_rounds r ON r.member_id = c.member_id AND r.state = 'alerted'"
            " WHERE c.closed_at IS NULL"
            " ORDER BY c.urgent DESC, c.opened_at, c.id",
            (),
        )
        return [dict(row) for row in rows]

    async def closed_since(self, since: datetime) -> list[dict[str, Any]]:
        rows = await self._conn.fetch_all(
            "SELECT c.*, m.display_name FROM desk_cases c JOIN members m ON m.id = c.member_id"
            " WHERE c.closed_at >= ? ORDER BY c.closed_at DESC, c.id DESC",
            (to_db(since),),
        )
        return [dict(row) for row in rows]

    async def mark_urgent(self, case_id: int) -> None:
        """A call for help on a case that came for something else: urgent from now on."""
        await self._conn.execute("UPDATE desk_cases SET urgent = 1 WHERE id = ?", (case_id,))

    async def take(self, case_id: int, staff: str, at: datetime) -> bool:
        """True for the first staff member to take the case; nobody takes it twice."""
        cursor = await self._conn.execute(
            "UPDATE desk_cases SET taken_by = ?, taken_at = ?"
            " WHERE id = ? AND taken_by IS NULL AND closed_at IS NULL",
            (staff, to_db(at), case_id),
        )
        return cursor.rowcount == 1

    async def close(
        self, case_id: int, staff: str, outcome: str, note: str | None, at: datetime
    ) -> bool:
        cursor = await self._conn.execute(
            "UPDATE desk_cases SET closed_at = ?, closed_by = ?, outcome = ?, outcome_note = ?"
            " WHERE id = ? AND closed_at IS NULL",
            (to_db(at), staff, outcome, note, case_id),
        )
        return cursor.rowcount == 1

    async def add_step(
        self,
        case_id: int,
        staff: str,
        kind: str,
        at: datetime,
        result: str | None = None,
        note: str | None = None,
    ) -> None:
        await self._conn.execute(
            "INSERT INTO desk_steps (case_id, at, staff, kind, result, note)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (case_id, to_db(at), staff, kind, result, note),
        )

    async def steps(self, case_id: int) -> list[DeskStep]:
        rows = await self._conn.fetch_all(
            "SELECT at, staff, kind, result, note FROM desk_steps WHERE case_id = ? ORDER BY id",
            (case_id,),
        )
        return [DeskStep(required_time(r[0]), r[1], r[2], r[3], r[4]) for r in rows]

    async def cases_of(self, member_id: int) -> list[DeskCase]:
        """Every case of the person, the newest first."""
        rows = await self._conn.fetch_all(
            "SELECT * FROM desk_cases WHERE member_id = ? ORDER BY id DESC", (member_id,)
        )
        return [DeskCase.from_row(row) for row in rows]

    async def add_person_note(self, member_id: int, staff: str, note: str, at: datetime) -> None:
        await self._conn.execute(
            "INSERT INTO person_notes (member_id, staff, at, note) VALUES (?, ?, ?, ?)",
            (member_id, staff, to_db(at), note),
        )

    async def person_notes(self, member_id: int) -> list[PersonNote]:
        """The desk's notes on the person, the newest first."""
        rows = await self._conn.fetch_all(
            "SELECT at, staff, note FROM person_notes WHERE member_id = ? ORDER BY id DESC",
            (member_id,),
        )
        return [PersonNote(required_time(r[0]), r[1], r[2]) for r in rows]

    async def forget_person(self, member_id: int) -> None:
        """退会: the desk's notes on the person go; her cases are reduced to what the city's
        records rule keeps of a case it handled (公文書, MIMAMORI_KEEP_CASES): when it opened and
        why, who took and closed it and when, its outcome, and each step's time, staff, kind and
        result. The free text goes (the outcome's note, each step's note): staff write her name,
        her illness and her family there. Her 会員ID stays on the case, pointing at a row that
        holds no name after 退会 (storage.members.withdraw), so the report still counts it."""
        await self._conn.execute("DELETE FROM person_notes WHERE member_id = ?", (member_id,))
        await self._conn.execute(
            "UPDATE desk_cases SET outcome_note = NULL WHERE member_id = ?", (member_id,)
        )
        await self._conn.execute(
            "UPDATE desk_steps SET note = NULL WHERE case_id IN"
            " (SELECT id FROM desk_cases WHERE member_id = ?)",
            (member_id,),
        )
