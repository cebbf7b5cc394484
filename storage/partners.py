"""見守り協定 partners, the teams (areas) they cover, and the visits the desk asks of them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.database import Connection, from_db, to_db
from storage.models import required_time


@dataclass(frozen=True)
class Partner:
    id: int
    name: str
    kind: str  # minsei, houkatsu, management, police, other
    phone: str
    area: str
    member_id: int | None  # a partner who uses LINE: their 会員ID
    removed_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> Partner:
        return cls(
            id=row["id"],
            name=row["name"],
            kind=row["kind"],
            phone=row["phone"],
            area=row["area"],
            member_id=row["member_id"],
            removed_at=from_db(row["removed_at"]),
        )


@dataclass(frozen=True)
class Visit:
    id: int
    case_id: int
    partner_id: int
    asked_by: str
    asked_at: datetime
    state: str  # asked, going, done
    going_at: datetime | None
    done_at: datetime | None
    outcome: str | None

    @classmethod
    def from_row(cls, row: Any) -> Visit:
        return cls(
            id=row["id"],
            case_id=row["case_id"],
            partner_id=row["partner_id"],
            asked_by=row["asked_by"],
            asked_at=required_time(row["asked_at"]),
            state=row["state"],
            going_at=from_db(row["going_at"]),
            done_at=from_db(row["done_at"]),
            outcome=row["outcome"],
        )


class PartnerRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def add(
        self,
        name: str,
        kind: str,
        phone: str,
        area: str,
        member_id: int | None,
        team_ids: Sequence[int],
        at: datetime,
    ) -> int:
        row = await self._conn.fetch_one(
            "INSERT INTO partners (name, kind, phone, area, member_id, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (name, kind, phone, area, member_id, to_db(at)),
        )
        assert row is not None
        for team_id in dict.fromkeys(team_ids):
            await self._conn.execute(
                "INSERT INTO partner_teams (partner_id, team_id) VALUES (?, ?)",
                (row[0], team_id),
            )
        return int(row[0])

    async def remove(self, partner_id: int, at: datetime) -> bool:
        cursor = await self._conn.execute(
            "UPDATE partners SET removed_at = ? WHERE id = ? AND removed_at IS NULL",
            (to_db(at), partner_id),
        )
        return cursor.rowcount == 1

    async def get(self, partner_id: int) -> Partner | None:
        row = await self._conn.fetch_one("SELECT * FROM partners WHERE id = ?", (partner_id,))
        return Partner.from_row(row) if row else None

    async def active(self) -> list[dict[str, Any]]:
        """Partners not removed, with the names of the teams they cover."""
        rows = await self._conn.fetch_all(
            "SELECT * FROM partners WHERE removed_at IS NULL ORDER BY kind, name, id", ()
        )
        found = []
        for row in rows:
            teams = await self._conn.fetch_all(
                "SELECT t.id, t.name FROM partner_teams pt JOIN teams t ON t.id = pt.team_id"
                " WHERE pt.partner_id = ? ORDER BY t.id",
                (row["id"],),
            )
            found.append({**dict(row), "teams": [dict(team) for team in teams]})
        return found

    async def covering(self, member_id: int) -> list[int]:
        """Partners whose teams include a team the person is a user of."""
        rows = await self._conn.fetch_all(
            "SELECT DISTINCT pt.partner_id FROM partner_teams pt"
            " JOIN team_members tm ON tm.team_id = pt.team_id AND tm.role = 'user'"
            " JOIN partners p ON p.id = pt.partner_id AND p.removed_at IS NULL"
            " WHERE tm.member_id = ? ORDER BY pt.partner_id",
            (member_id,),
        )
        return [row[0] for row in rows]

    async def ask(self, case_id: int, partner_id: int, staff: str, at: datetime) -> int:
        row = await self._conn.fetch_one(
            "INSERT INTO visits (case_id, partner_id, asked_by, asked_at) VALUES (?, ?, ?, ?)"
            " RETURNING id",
            (case_id, partner_id, staff, to_db(at)),
        )
        assert row is not None
        return int(row[0])

    async def visit(self, visit_id: int) -> Visit | None:
        row = await self._conn.fetch_one("SELECT * FROM visits WHERE id = ?", (visit_id,))
        return Visit.from_row(row) if row else None

    async def visits_of(self, case_id: int) -> list[dict[str, Any]]:
        rows = await self._conn.fetch_all(
            "SELECT v.*, p.name AS partner_name, p.kind AS partner_kind,"
            " p.member_id AS partner_member_id FROM visits v"
            " JOIN partners p ON p.id = v.partner_id WHERE v.case_id = ? ORDER BY v.id",
            (case_id,),
        )
        return [dict(row) for row in rows]

    async def going(self, visit_id: int, at: datetime) -> bool:
        cursor = await self._conn.execute(
            "UPDATE visits SET state = 'going', going_at = ? WHERE id = ? AND state = 'asked'",
            (to_db(at), visit_id),
        )
        return cursor.rowcount == 1

    async def done(self, visit_id: int, outcome: str, at: datetime) -> bool:
        cursor = await self._conn.execute(
            "UPDATE visits SET state = 'done', done_at = ?, outcome = ?"
            " WHERE id = ? AND state != 'done'",
            (to_db(at), outcome, visit_id),
        )
        return cursor.rowcount == 1
