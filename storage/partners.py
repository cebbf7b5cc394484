"""見守り協定 partners, the teams (areas) they cover, and the visits the desk asks of them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.database import Connection, from_db, guarded, to_db
from storage.models import required_time


@dataclass(frozen=True)
class Partner:
    id: int
    name: str
    kind: str  # minsei, houkatsu, management, police, other
    phone: str
    area: str
    member_id: int | None  # a partner who uses LINE: the 会員ID that sent their code
    removed_at: datetime | None
    link_code: str | None  # the one-time code the console shows, until it is sent
    link_code_at: datetime | None
    linked_at: datetime | None  # when the partner's LINE sent the code

    @property
    def on_line(self) -> bool:
        """Requests go to their LINE: linked by their own code, and not removed."""
        return self.member_id is not None and self.removed_at is None

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
            link_code=row["link_code"],
            link_code_at=from_db(row["link_code_at"]),
            linked_at=from_db(row["linked_at"]),
        )


OPEN_VISIT = ("asked", "going")


@dataclass(frozen=True)
class Visit:
    id: int
    case_id: int
    partner_id: int
    asked_by: str
    asked_at: datetime
    state: str  # asked, going, done; withdrawn (partner removed), not_needed (case closed)
    going_at: datetime | None
    done_at: datetime | None
    outcome: str | None
    ended_at: datetime | None  # withdrawn or not needed, when

    @property
    def open(self) -> bool:
        return self.state in OPEN_VISIT

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
            ended_at=from_db(row["ended_at"]),
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
        team_ids: Sequence[int],
        at: datetime,
    ) -> int:
        """A partner, not on LINE until they send a code of theirs from it."""
        row = await self._conn.fetch_one(
            "INSERT INTO partners (name, kind, phone, area, created_at)"
            " VALUES (?, ?, ?, ?, ?) RETURNING id",
            (name, kind, phone, area, to_db(at)),
        )
        assert row is not None
        for team_id in dict.fromkeys(team_ids):
            await self._conn.execute(
                "INSERT INTO partner_teams (partner_id, team_id) VALUES (?, ?)",
                (row[0], team_id),
            )
        return int(row[0])

    async def edit(
        self, partner_id: int, name: str, kind: str, phone: str, area: str, team_ids: Sequence[int]
    ) -> None:
        await self._conn.execute(
            "UPDATE partners SET name = ?, kind = ?, phone = ?, area = ? WHERE id = ?",
            (name, kind, phone, area, partner_id),
        )
        await self._conn.execute("DELETE FROM partner_teams WHERE partner_id = ?", (partner_id,))
        for team_id in dict.fromkeys(team_ids):
            await self._conn.execute(
                "INSERT INTO partner_teams (partner_id, team_id) VALUES (?, ?)",
                (partner_id, team_id),
            )

    async def remove(self, partner_id: int, at: datetime) -> bool:
        """Removed: their code stops working (their 会員ID stays, for what they did)."""
        cursor = await self._conn.execute(
            "UPDATE partners SET removed_at = ?, link_code = NULL, link_code_at = NULL"
            " WHERE id = ? AND removed_at IS NULL",
            (to_db(at), partner_id),
        )
        return cursor.rowcount == 1

    async def set_link_code(self, partner_id: int, code: str, at: datetime) -> bool:
        """A new one-time code for the partner (the one before stops working)."""
        cursor = await self._conn.execute(
            "UPDATE partners SET link_code = ?, link_code_at = ?"
            " WHERE id = ? AND removed_at IS NULL",
            (code, to_db(at), partner_id),
        )
        return cursor.rowcount == 1

    async def by_link_code(self, code: str) -> Partner | None:
        row = await self._conn.fetch_one(
            "SELECT * FROM partners WHERE link_code = ? AND removed_at IS NULL", (code,)
        )
        return Partner.from_row(row) if row else None

    async def link(self, partner_id: int, code: str, member_id: int, at: datetime) -> bool:
        """The account that sent the code is the partner's; the code is spent. False when
        someone else spent it first."""
        cursor = await self._conn.execute(
            "UPDATE partners SET member_id = ?, linked_at = ?, link_code = NULL,"
            " link_code_at = NULL WHERE id = ? AND link_code = ? AND removed_at IS NULL",
            (member_id, to_db(at), partner_id, code),
        )
        return cursor.rowcount == 1

    async def linked_to(self, member_id: int) -> Partner | None:
        """The partner whose LINE this member is, if any (not removed)."""
        row = await self._conn.fetch_one(
            "SELECT * FROM partners WHERE member_id = ? AND removed_at IS NULL", (member_id,)
        )
        return Partner.from_row(row) if row else None

    async def names(self) -> dict[int, dict[str, Any]]:
        """Every partner's name and kind by id, the removed too (who did what on a case)."""
        rows = await self._conn.fetch_all("SELECT id, name, kind FROM partners", ())
        return {row["id"]: {"name": row["name"], "kind": row["kind"]} for row in rows}

    async def get(self, partner_id: int) -> Partner | None:
        row = await self._conn.fetch_one("SELECT * FROM partners WHERE id = ?", (partner_id,))
        return Partner.from_row(row) if row else None

    async def active(
        self,
        only: int | None = None,
        *,
        with_teams: bool = True,
        search: str = "",
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Partners not removed (`only`: that one, if it is; `search`: those whose name or area
        has it; `limit`: the first so many), with the names of the teams they cover (unless
        not `with_teams`: a case's list of whom to ask needs only names) and the LINE name of
        the account that sent their code (staff see it is who they meant)."""
        where, given = _partner_where(only, search)
        bounded = (" LIMIT ?", (limit,)) if limit is not None else ("", ())
        rows = await self._conn.fetch_all(
            "SELECT p.*, m.display_name AS line_name FROM partners p"
            " LEFT JOIN members m ON m.id = p.member_id"
            f" WHERE {where} ORDER BY p.kind, p.name, p.id{bounded[0]}",
            (*given, *bounded[1]),
        )
        if not with_teams:
            return [{**dict(row), "teams": [], "managed": []} for row in rows]
        # Their teams, and the teams their LINE accounts manage, for all of them at once (a
        # city's 500 partners were a thousand statements a page), and only theirs: 5,000
        # partners at a million residents cover a million teams.
        if limit is not None:
            ids = [int(row["id"]) for row in rows] or [0]
            where, given = f"p.id IN ({','.join('?' * len(ids))})", tuple(ids)
        covered: dict[int, list[dict[str, Any]]] = {}
        for partner_id, team_id, name in await self._conn.fetch_all(
            "SELECT pt.partner_id, t.id, t.name FROM partners p"
            " JOIN partner_teams pt ON pt.partner_id = p.id JOIN teams t ON t.id = pt.team_id"
            f" WHERE {where} ORDER BY pt.partner_id, t.id",
            given,
        ):
            covered.setdefault(partner_id, []).append({"id": team_id, "name": name})
        # A 民生委員 on LINE who manages a team (joined it with its manager code) covers it as
        # much as one the desk ticked: both are shown.
        managing: dict[int, list[dict[str, Any]]] = {}
        for member_id, team_id, name in await self._conn.fetch_all(
            "SELECT tm.member_id, t.id, t.name FROM partners p"
            " JOIN team_members tm ON tm.member_id = p.member_id AND tm.role = 'manager'"
            " JOIN teams t ON t.id = tm.team_id AND t.deleted_at IS NULL"
            f" WHERE {where} ORDER BY tm.member_id, t.id",
            given,
        ):
            managing.setdefault(member_id, []).append({"id": team_id, "name": name})
        found = []
        for row in rows:
            ticked = covered.get(row["id"], [])
            ticked_ids = {team["id"] for team in ticked}
            managed = managing.get(row["member_id"], []) if row["member_id"] else []
            found.append(
                {
                    **dict(row),
                    "teams": ticked,
                    "managed": [team for team in managed if team["id"] not in ticked_ids],
                }
            )
        return found

    async def active_count(self, search: str = "") -> int:
        where, given = _partner_where(None, search)
        row = await self._conn.fetch_one(f"SELECT COUNT(*) FROM partners p WHERE {where}", given)
        return int(row[0]) if row else 0

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

    async def open_visits_of_partner(self, partner_id: int) -> list[Visit]:
        rows = await self._conn.fetch_all(
            "SELECT * FROM visits WHERE partner_id = ? AND state IN ('asked', 'going')"
            " ORDER BY id",
            (partner_id,),
        )
        return [Visit.from_row(row) for row in rows]

    async def visiting(self, member_id: int, person_id: int) -> Partner | None:
        """The partner on LINE as `member_id` (not removed) whom the desk asked to go to
        `person_id`'s door, while that visit and its case are open (her card is theirs then)."""
        row = await self._conn.fetch_one(
            "SELECT p.* FROM partners p JOIN visits v ON v.partner_id = p.id"
            " JOIN desk_cases c ON c.id = v.case_id"
            " WHERE p.member_id = ? AND p.removed_at IS NULL AND c.member_id = ?"
            " AND v.state IN ('asked', 'going') AND c.closed_at IS NULL"
            " ORDER BY v.id LIMIT 1",
            (member_id, person_id),
        )
        return Partner.from_row(row) if row else None

    async def open_visits_of_case(self, case_id: int) -> list[Visit]:
        rows = await self._conn.fetch_all(
            "SELECT * FROM visits WHERE case_id = ? AND state IN ('asked', 'going') ORDER BY id",
            (case_id,),
        )
        return [Visit.from_row(row) for row in rows]

    async def open_visits_of_closed_cases(self, limit: int) -> list[Visit]:
        """Visits still asked of a partner whose case has closed (by whatever closed it)."""
        rows = await self._conn.fetch_all(
            "SELECT v.* FROM visits v JOIN desk_cases c ON c.id = v.case_id"
            " WHERE v.state IN ('asked', 'going') AND c.closed_at IS NOT NULL"
            " ORDER BY v.id LIMIT ?",
            (limit,),
        )
        return [Visit.from_row(row) for row in rows]

    async def end(self, visit_id: int, state: str, at: datetime) -> bool:
        """An open visit ends without an outcome (withdrawn, not_needed). True for the one
        transaction that ended it."""
        cursor = await self._conn.execute(
            "UPDATE visits SET state = ?, ended_at = ?"
            f" WHERE id = ? AND {guarded('state')} IN ('asked', 'going')",
            (state, to_db(at), visit_id),
        )
        return cursor.rowcount == 1

    async def going(self, visit_id: int, at: datetime) -> bool:
        cursor = await self._conn.execute(
            "UPDATE visits SET state = 'going', going_at = ?"
            f" WHERE id = ? AND {guarded('state')} = 'asked'",
            (to_db(at), visit_id),
        )
        return cursor.rowcount == 1

    async def done(self, visit_id: int, outcome: str, at: datetime) -> bool:
        cursor = await self._conn.execute(
            "UPDATE visits SET state = 'done', done_at = ?, outcome = ?"
            f" WHERE id = ? AND {guarded('state')} IN ('asked', 'going')",
            (to_db(at), outcome, visit_id),
        )
        return cursor.rowcount == 1


def _partner_where(only: int | None, search: str) -> tuple[str, tuple[Any, ...]]:
    """Partners not removed, `only` that one, whose name or area has `search` (LIKE's own
    characters taken as typed; a NUL, which PostgreSQL refuses in text, dropped)."""
    where, given = "p.removed_at IS NULL", ()
    if only is not None:
        where, given = f"{where} AND p.id = ?", (only,)
    pattern = search.replace("\x00", "")
    if pattern:
        pattern = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where += " AND (p.name LIKE ? ESCAPE '\\' OR COALESCE(p.area, '') LIKE ? ESCAPE '\\')"
        given = (*given, f"%{pattern}%", f"%{pattern}%")
    return where, given
