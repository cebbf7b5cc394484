"""Roll-calls (災害時の安否確認): who was asked, through which area team, and how they answered."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.database import Connection, from_db, to_db
from storage.models import Member


@dataclass(frozen=True)
class RollCall:
    id: int
    started_at: datetime
    started_by: str
    audience: str
    detail: dict[str, Any]
    resend_every_minutes: int | None
    resends_left: int
    next_resend_at: datetime | None
    close_at: datetime | None
    closed_at: datetime | None
    # What it is about, when the JMA feed started it for a warning (landslide:4): its
    # question names the warning (care.broadcasts.storm).
    occasion: str | None = None
    # A declared disaster (49条の11 第3項): started by the JMA feed, or so marked by 運用管理.
    disaster: bool = False

    @property
    def open(self) -> bool:
        return self.closed_at is None

    @classmethod
    def from_row(cls, row: Any) -> RollCall:
        started = from_db(row["started_at"])
        assert started is not None
        return cls(
            id=row["id"],
            started_at=started,
            started_by=row["started_by"],
            audience=row["audience"],
            detail=json.loads(row["audience_detail"]),
            resend_every_minutes=row["resend_every_minutes"],
            resends_left=row["resends_left"],
            next_resend_at=from_db(row["next_resend_at"]),
            close_at=from_db(row["close_at"]),
            closed_at=from_db(row["closed_at"]),
            occasion=row["occasion"],
            disaster=bool(row["disaster"]),
        )


class RollCallRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def create(
        self,
        started_by: str,
        audience: str,
        detail: dict[str, Any],
        now: datetime,
        resend_every_minutes: int | None,
        resends: int,
        next_resend_at: datetime | None,
        close_at: datetime | None,
        occasion: str | None = None,
        disaster: bool = False,
    ) -> int:
        row = await self._conn.fetch_one(
            "INSERT INTO roll_calls (started_at, started_by, audience, audience_detail,"
            " resend_every_minutes, resends_left, next_resend_at, close_at, occasion, disaster)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                to_db(now),
                started_by,
                audience,
                json.dumps(detail),
                resend_every_minutes,
                resends,
                to_db(next_resend_at) if next_resend_at else None,
                to_db(close_at) if close_at else None,
                occasion,
                int(disaster),
            ),
        )
        assert row is not None
        return int(row[0])

    async def add_people(
        self, roll_call_id: int, people: Sequence[tuple[int, int | None]]
    ) -> None:
        await self._conn.executemany(
            "INSERT INTO roll_call_people (roll_call_id, member_id, team_id)"
            " VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            [(roll_call_id, member_id, team_id) for member_id, team_id in people],
        )

    async def add_unasked(
        self, roll_call_id: int, people: Sequence[tuple[int, int | None, str]]
    ) -> None:
        """Those the roll-call names but cannot ask, and why (care.broadcasts.reach)."""
        await self._conn.executemany(
            "INSERT INTO roll_call_people (roll_call_id, member_id, team_id, unasked)"
            " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [(roll_call_id, member_id, team_id, why) for member_id, team_id, why in people],
        )

    async def add_groups(self, roll_call_id: int, group_ids: Sequence[int]) -> None:
        await self._conn.executemany(
            "INSERT INTO roll_call_groups (roll_call_id, group_id) VALUES (?, ?)"
            " ON CONFLICT DO NOTHING",
            [(roll_call_id, group_id) for group_id in group_ids],
        )

    async def get(self, roll_call_id: int) -> RollCall | None:
        row = await self._conn.fetch_one("SELECT * FROM roll_calls WHERE id = ?", (roll_call_id,))
        return RollCall.from_row(row) if row else None

    async def recent(self, limit: int = 20) -> list[RollCall]:
        rows = await self._conn.fetch_all(
            "SELECT * FROM roll_calls ORDER BY id DESC LIMIT ?", (limit,)
        )
        return [RollCall.from_row(row) for row in rows]

    async def disaster_declared(self) -> RollCall | None:
        """The open roll-call of a declared disaster, the latest, if any."""
        row = await self._conn.fetch_one(
            "SELECT * FROM roll_calls WHERE disaster = 1 AND closed_at IS NULL"
            " ORDER BY id DESC LIMIT 1"
        )
        return RollCall.from_row(row) if row else None

    async def move_person(self, old_member_id: int, new_member_id: int) -> None:
        """The roll-calls that named `old_member_id` name `new_member_id` instead (the same
        person, reached another way), where they did not name it already."""
        await self._conn.execute(
            "UPDATE roll_call_people SET member_id = ? WHERE member_id = ? AND NOT EXISTS"
            " (SELECT 1 FROM roll_call_people q WHERE q.roll_call_id ="
            " roll_call_people.roll_call_id AND q.member_id = ?)",
            (new_member_id, old_member_id, new_member_id),
        )

    async def open_for_member(self, member_id: int) -> list[RollCall]:
        rows = await self._conn.fetch_all(
            "SELECT c.* FROM roll_calls c JOIN roll_call_people p ON p.roll_call_id = c.id"
            " WHERE p.member_id = ? AND c.closed_at IS NULL ORDER BY c.id",
            (member_id,),
        )
        return [RollCall.from_row(row) for row in rows]

    async def answer(self, roll_call_id: int, member_id: int, answer: str, at: datetime) -> bool:
        """Record (or change) the member's answer; -> whether they were asked."""
        cursor = await self._conn.execute(
            "UPDATE roll_call_people SET answer = ?, answered_at = ?, call_again_at = NULL"
            " WHERE roll_call_id = ? AND member_id = ?",
            (answer, to_db(at), roll_call_id, member_id),
        )
        return cursor.rowcount == 1

    async def group_answer(
        self,
        roll_call_id: int,
        group_id: int,
        line_user_id: str,
        name: str,
        answer: str,
        at: datetime,
    ) -> None:
        await self._conn.execute(
            "INSERT INTO roll_call_groups (roll_call_id, group_id, line_user_id, display_name,"
            " answer, answered_at) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (roll_call_id, group_id, line_user_id) DO UPDATE SET"
            " answer = excluded.answer, answered_at = excluded.answered_at",
            (roll_call_id, group_id, line_user_id, name, answer, to_db(at)),
        )

    async def silent(self, roll_call_id: int) -> list[Member]:
        """Those asked who have not answered (and are still members)."""
        rows = await self._conn.fetch_all(
            "SELECT m.* FROM roll_call_people p JOIN members m ON m.id = p.member_id"
            " WHERE p.roll_call_id = ? AND p.answer IS NULL AND p.unasked IS NULL"
            " AND m.status = 'active' ORDER BY m.id",
            (roll_call_id,),
        )
        return [Member.from_row(row) for row in rows]

    async def people(self, roll_call_id: int) -> list[dict[str, Any]]:
        """Everyone named, with their answer (or why they were not asked), area team and what
        the staff need to reach them."""
        rows = await self._conn.fetch_all(
            "SELECT m.id AS member_id, m.display_name, m.full_name, m.phone, p.answer,"
            " p.answered_at, p.unasked, p.team_id, p.asked_by, p.calls,"
            " CASE WHEN m.channel = 'voice' THEN m.channel_address END AS call_number,"
            " t.name AS team_name FROM roll_call_people p"
            " JOIN members m ON m.id = p.member_id LEFT JOIN teams t ON t.id = p.team_id"
            " WHERE p.roll_call_id = ? ORDER BY m.id",
            (roll_call_id,),
        )
        return [dict(row) for row in rows]

    async def group_answers(self, roll_call_id: int) -> list[dict[str, Any]]:
        rows = await self._conn.fetch_all(
            "SELECT r.group_id, g.name AS group_name, r.line_user_id, r.display_name, r.answer,"
            " r.answered_at FROM roll_call_groups r JOIN chat_groups g ON g.id = r.group_id"
            " WHERE r.roll_call_id = ? AND r.line_user_id != '' ORDER BY r.answered_at",
            (roll_call_id,),
        )
        return [dict(row) for row in rows]

    async def due_resends(self, now: datetime, limit: int) -> list[RollCall]:
        rows = await self._conn.fetch_all(
            "SELECT * FROM roll_calls WHERE closed_at IS NULL AND resends_left > 0"
            " AND next_resend_at <= ? ORDER BY next_resend_at LIMIT ?",
            (to_db(now), limit),
        )
        return [RollCall.from_row(row) for row in rows]

    async def resent(self, roll_call_id: int, next_at: datetime | None) -> None:
        await self._conn.execute(
            "UPDATE roll_calls SET resends_left = resends_left - 1, next_resend_at = ?"
            " WHERE id = ?",
            (to_db(next_at) if next_at else None, roll_call_id),
        )

    async def due_to_close(self, now: datetime) -> list[int]:
        rows = await self._conn.fetch_all(
            "SELECT id FROM roll_calls WHERE closed_at IS NULL AND close_at <= ?",
            (to_db(now),),
        )
        return [row[0] for row in rows]

    async def close(self, roll_call_id: int, at: datetime) -> None:
        await self._conn.execute(
            "UPDATE roll_calls SET closed_at = ?, next_resend_at = NULL"
            " WHERE id = ? AND closed_at IS NULL",
            (to_db(at), roll_call_id),
        )
        # A closed roll-call rings nobody again.
        await self._conn.execute(
            "UPDATE roll_call_people SET call_again_at = NULL"
            " WHERE roll_call_id = ? AND call_again_at IS NOT NULL",
            (roll_call_id,),
        )

    # --- calls (care.broadcasts.by_phone) ------------------------------------------------
    async def called(self, roll_call_id: int, member_id: int, again_at: datetime | None) -> None:
        """A call rang her for this roll-call; `again_at`: when it rings once more if she has
        not answered by then (None: no more)."""
        await self._conn.execute(
            "UPDATE roll_call_people SET asked_by = 'voice', calls = calls + 1,"
            " call_again_at = ? WHERE roll_call_id = ? AND member_id = ?",
            (to_db(again_at) if again_at else None, roll_call_id, member_id),
        )

    async def due_calls_again(
        self, now: datetime, limit: int
    ) -> list[tuple[int, int | None, Member]]:
        """(roll-call, area team, person) whose call again is due: asked by phone, silent,
        the roll-call open, and still a member."""
        rows = await self._conn.fetch_all(
            "SELECT p.roll_call_id AS rc_id, p.team_id AS rc_team, m.*"
            " FROM roll_call_people p JOIN roll_calls c ON c.id = p.roll_call_id"
            " JOIN members m ON m.id = p.member_id"
            " WHERE p.call_again_at IS NOT NULL AND p.call_again_at <= ?"
            " AND p.answer IS NULL AND c.closed_at IS NULL AND m.status = 'active'"
            " ORDER BY p.call_again_at LIMIT ?",
            (to_db(now), limit),
        )
        return [(row["rc_id"], row["rc_team"], Member.from_row(row)) for row in rows]

    async def no_call_again(self, roll_call_id: int, member_id: int) -> None:
        await self._conn.execute(
            "UPDATE roll_call_people SET call_again_at = NULL"
            " WHERE roll_call_id = ? AND member_id = ?",
            (roll_call_id, member_id),
        )

    async def earliest_due(self) -> datetime | None:
        row = await self._conn.fetch_one(
            "SELECT MIN(CASE WHEN resends_left > 0 THEN next_resend_at END), MIN(close_at),"
            " (SELECT MIN(p.call_again_at) FROM roll_call_people p"
            " WHERE p.call_again_at IS NOT NULL AND p.roll_call_id IN"
            " (SELECT id FROM roll_calls WHERE closed_at IS NULL))"
            " FROM roll_calls WHERE closed_at IS NULL",
        )
        found = [from_db(value) for value in (row or ()) if value]
        moments = [moment for moment in found if moment is not None]
        return min(moments) if moments else None
