"""The desk's cases and every step taken on them (who, when, what came of it)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from storage.database import POSTGRESQL, Connection, from_db, guarded, to_db
from storage.models import required_time
from storage.people_search import candidates, digits_of, like


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
class Search:
    """What the desk looks for, as GET parameters say it: words (a name, ふりがな, a 会員ID
    or a phone number, each spelling of the kana and of the number), filters, an order and a
    page. Done in SQL: a coordinator with 300 people pages through 50, never all of them."""

    words: str = ""
    kana: tuple[str, ...] = ()  # the words in hiragana and in katakana
    digits: tuple[str, ...] = ()  # the words as a number, national and E.164 without '+'
    member_id: int | None = None
    urgent: bool = False
    untaken: bool = False
    mine: str | None = None  # the staff member's name: cases they have
    heat: bool = False  # only cases of an alert day's heat check left unanswered (issue 41)
    team_id: int | None = None
    opened_before: datetime | None = None  # waiting longer than the filter's hours
    sort: str = ""
    descending: bool = False
    limit: int = 50
    offset: int = 0


# What the desk may see of a person's details: what she shows to at least one manager who
# watches her now (storage.teams.shown_to_a_manager). Built once per query, as a set: a
# subquery per row and column took 0.7 s for 3,000 people (bench/desk.py).
SHOWN_SET = (
    # From what was shared (few rows) to the teams that make it count: a manager's team found
    # by its key (team_id, member_id), never every member of a team of 300.
    "WITH shown AS MATERIALIZED (SELECT DISTINCT ps.user_id AS shown_id FROM personal_shares ps"
    " JOIN team_members u ON u.member_id = ps.user_id AND u.role = 'user'"
    " JOIN team_members mg ON mg.team_id = u.team_id AND mg.member_id = ps.manager_id"
    " AND mg.role = 'manager'"
    " JOIN teams t ON t.id = u.team_id AND t.deleted_at IS NULL"
    " JOIN members w ON w.id = ps.manager_id AND w.status = 'active' AND w.id != ps.user_id"
    " WHERE NOT EXISTS (SELECT 1 FROM unwatched uw"
    " WHERE uw.user_id = ps.user_id AND uw.manager_id = ps.manager_id)) "
)
# Looked up in the set (a hashed subplan on PostgreSQL, an automatic index on SQLite): a join
# to it was planned as a loop over the whole set for each person.
_SHOWN = "m.id IN (SELECT shown_id FROM shown)"
# A person the desk registered from a paper form: her number is the one she is called on.
_PHONE_ONLY = "m.line_user_id LIKE 'tel:%'"
# The same rule for one person, where a query reads only a page of people (the list of
# people): the set was every share the city has, read for each page.
SHOWN_ROW = (
    "EXISTS (SELECT 1 FROM personal_shares ps"
    " JOIN team_members u ON u.member_id = ps.user_id AND u.role = 'user'"
    " JOIN team_members mg ON mg.team_id = u.team_id AND mg.member_id = ps.manager_id"
    " AND mg.role = 'manager'"
    " JOIN teams t ON t.id = u.team_id AND t.deleted_at IS NULL"
    " JOIN members w ON w.id = ps.manager_id AND w.status = 'active' AND w.id != ps.user_id"
    " WHERE ps.user_id = m.id AND NOT EXISTS (SELECT 1 FROM unwatched uw"
    " WHERE uw.user_id = ps.user_id AND uw.manager_id = ps.manager_id))"
)


def _person_columns(shown: str) -> str:
    return (
        "m.display_name, m.last_ok_at,"
        f" CASE WHEN {shown} THEN m.full_name ELSE '' END AS full_name,"
        f" CASE WHEN {shown} THEN m.furigana ELSE '' END AS furigana,"
        f" CASE WHEN {_PHONE_ONLY} THEN COALESCE(m.channel_address, '')"
        f" WHEN {shown} THEN m.phone ELSE '' END AS phone,"
        f" CASE WHEN {_PHONE_ONLY} THEN 1 ELSE 0 END AS phone_only,"
        " (SELECT MIN(t.name) FROM team_members tm JOIN teams t ON t.id = tm.team_id"
        " AND t.deleted_at IS NULL WHERE tm.member_id = m.id AND tm.role = 'user') AS team_name,"
        " (SELECT MIN(t.id) FROM team_members tm JOIN teams t ON t.id = tm.team_id"
        " AND t.deleted_at IS NULL WHERE tm.member_id = m.id AND tm.role = 'user') AS team_id"
    )


_PERSON_COLUMNS = _person_columns(_SHOWN)
_DIGITS = digits_of("phone")

# A number the desk registered (+81312345678) among numbers as people write them (03-…).
_PHONE_SORTED = "CASE WHEN phone LIKE '+81%' THEN '0' || SUBSTR(phone, 4) ELSE phone END"
# The queue's columns a header sorts by, each as SQL over the query's rows.
QUEUE_SORTS = {
    "opened": "opened_at",
    "member": "member_id",
    "name": "display_name",
    "reason": "reason",
    "taken": "taken_by",
    "team": "team_name",
    "phone": _PHONE_SORTED,
    "last_ok": "last_ok_at",
    "attempts": "attempts",
}
_NUMBERS = ("member_id", "attempts")
PEOPLE_SORTS = {
    "member": "member_id",
    "name": "display_name",
    "team": "team_name",
    "phone": _PHONE_SORTED,
    "last_ok": "last_ok_at",
}
# The desk reads a person for a case it had lately or a team it watches itself
# (care.desk.reading.known_person); `desk_watching` is 0 where the deployment has no desk.
_KNOWN = (
    "(EXISTS (SELECT 1 FROM desk_cases k WHERE k.member_id = m.id"
    " AND (k.closed_at IS NULL OR k.closed_at > ?))"
    " OR (? = 1 AND EXISTS (SELECT 1 FROM team_members dt JOIN teams d ON d.id = dt.team_id"
    " WHERE dt.member_id = m.id AND dt.role = 'user' AND d.desk_watched = 1"
    " AND d.deleted_at IS NULL)))"
)

# The same people as a set, from the few cases open or closed lately (by index) and the teams
# the desk watches: the 窓口 role's list reads these, not every member to test each.
_KNOWN_IDS = (
    "(SELECT k.member_id FROM desk_cases k WHERE k.closed_at IS NULL"
    " UNION SELECT k.member_id FROM desk_cases k WHERE k.closed_at > ?"
    " UNION SELECT dt.member_id FROM teams d JOIN team_members dt ON dt.team_id = d.id"
    " WHERE ? = 1 AND d.desk_watched = 1 AND d.deleted_at IS NULL AND dt.role = 'user')"
)

_KNOWN_CHUNK = 500  # people a statement (both engines limit a statement's parameters)


def _matching(search: Search) -> tuple[list[str], list[Any]]:
    """The words' and filters' conditions over a query's rows (its columns by name)."""
    where: list[str] = []
    params: list[Any] = []
    if search.words:
        said: list[str] = []
        # A number alone is a 会員ID or part of a phone number, not part of a name.
        names = search.kana if search.member_id is None else ()
        if names:
            said.append("LOWER(display_name) LIKE ? ESCAPE '\\'")
            params.append(like(search.words.lower()))
        for kana in names:
            said += ["full_name LIKE ? ESCAPE '\\'", "furigana LIKE ? ESCAPE '\\'"]
            params += [like(kana), like(kana)]
        for number in search.digits:
            said.append(f"{_DIGITS} LIKE ?")
            params.append(f"%{number}%")
        if search.member_id is not None:
            said.append("member_id = ?")
            params.append(search.member_id)
        where.append("(" + " OR ".join(said) + ")")
    if search.urgent:
        where.append("urgent = 1")
    if search.heat:
        where.append("EXISTS (SELECT 1 FROM heat_check_people h WHERE h.round_id = q.round_id)")
    if search.untaken:
        where.append("taken_by IS NULL")
    if search.mine is not None:
        where.append("taken_by = ?")
        params.append(search.mine)
    if search.team_id is not None:
        where.append(
            "EXISTS (SELECT 1 FROM team_members f WHERE f.member_id = q.member_id"
            " AND f.team_id = ? AND f.role = 'user')"
        )
        params.append(search.team_id)
    if search.opened_before is not None:
        where.append("opened_at <= ?")
        params.append(to_db(search.opened_before))
    return where, params


def _order(search: Search, sorts: dict[str, str], default: str) -> str:
    column = sorts.get(search.sort)
    if column is None:
        return default
    # Empty last whichever way (SQLite and PostgreSQL place NULL differently).
    way = "DESC" if search.descending else "ASC"
    empty = f"{column} IS NULL" if column in _NUMBERS else f"({column} IS NULL OR {column} = '')"
    if column == _PHONE_SORTED:
        empty = "phone = ''"
    return f"CASE WHEN {empty} THEN 1 ELSE 0 END, {column} {way}, {default}"


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
            f"SELECT * FROM desk_cases WHERE round_id = ? AND {guarded('closed_at')} IS NULL",
            (round_id,),
        )
        return DeskCase.from_row(row) if row else None

    async def open_of_member(self, member_id: int, reason: str) -> DeskCase | None:
        row = await self._conn.fetch_one(
            "SELECT * FROM desk_cases WHERE member_id = ? AND reason = ?"
            f" AND {guarded('closed_at')} IS NULL"
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

    async def queue_page(self, search: Search) -> tuple[list[dict[str, Any]], int]:
        """The open cases the search finds, a page of them in its order (the most urgent,
        then the oldest, unless it says otherwise), and how many it finds in all. Each row
        has the person's team, the phone the desk may see, her last OK and the calls logged."""
        inner = (
            "SELECT c.*, r.id AS alert_round_id,"
            f" r.urgent AS alert_urgent, {_PERSON_COLUMNS},"
            " (SELECT COUNT(*) FROM desk_steps s WHERE s.case_id = c.id AND s.kind = 'call')"
            " AS attempts"
            " FROM desk_cases c JOIN members m ON m.id = c.member_id"
            " LEFT JOIN checkin_rounds r ON r.member_id = c.member_id AND r.state = 'alerted'"
            " WHERE c.closed_at IS NULL"
        )
        where, params = _matching(search)
        condition = (" WHERE " + " AND ".join(where)) if where else ""
        total = await self._conn.fetch_one(
            f"{SHOWN_SET}SELECT COUNT(*) FROM ({inner}) q{condition}", tuple(params)
        )
        order = _order(search, QUEUE_SORTS, "urgent DESC, opened_at, id")
        if search.sort == "waiting":  # waiting longest is opened first
            way = "ASC" if search.descending else "DESC"
            order = f"opened_at {way}, id"
        rows = await self._conn.fetch_all(
            f"{SHOWN_SET}SELECT * FROM ({inner}) q{condition} ORDER BY {order} LIMIT ? OFFSET ?",
            (*params, search.limit, search.offset),
        )
        return [dict(row) for row in rows], int(total[0]) if total else 0

    async def people_page(
        self,
        search: Search,
        known_since: datetime,
        desk_watching: bool,
        only_known: bool,
        counted_to: int,
        indexed: bool = True,
    ) -> tuple[list[dict[str, Any]], int]:
        """People the desk looks after (a user of a team, or one it had a case for), not
        withdrawn: a page of those the search finds, and how many up to `counted_to` (the
        pages the list shows: it never counts a city to show a page). The desk reads a person
        for a case open or closed since `known_since`, or a team it watches (`desk_watching`:
        the deployment has a desk); `only_known` lists only those (the 窓口 role's), else
        everyone (運用管理's). Each row says whether her card opens to 運用管理 (`known`:
        those, and the people it registered by phone) and her open case. Words of three
        characters or more are looked up in the index of names and numbers first
        (storage.people_search); `indexed=False` reads every member as LIKE did before
        (tests/test_people_bounded.py holds the two to the same people)."""
        known_params = [to_db(known_since), int(desk_watching)]
        where: list[str] = []
        inner_params = list(known_params)
        if only_known:
            where.append(f"m.id IN {_KNOWN_IDS}")
            inner_params += known_params
        found = None
        if search.words and indexed:
            names = (search.words.lower(), *search.kana) if search.member_id is None else ()
            found = candidates(self._conn.dialect, names, search.digits, search.member_id)
        if found is not None:
            where.append(found[0])
            inner_params += found[1]
        # What she shows, read for each person (an index's look-up on SQLite, even for every
        # member LIKE reads); on PostgreSQL, where LIKE reads every member, against the set
        # as the queue does (a subquery for each of a city's members took minutes there).
        scanning = bool(search.words) and found is None and self._conn.dialect == POSTGRESQL
        shown, shown_set = (_SHOWN, SHOWN_SET) if scanning else (SHOWN_ROW, "")
        inner = (
            f"SELECT m.id AS member_id, {_person_columns(shown)},"
            f" CASE WHEN {_KNOWN} OR {_PHONE_ONLY} THEN 1 ELSE 0 END AS known,"
            " (SELECT MIN(o.id) FROM desk_cases o WHERE o.member_id = m.id"
            " AND o.closed_at IS NULL) AS open_case"
            " FROM members m WHERE m.withdrawn_at IS NULL AND (EXISTS (SELECT 1 FROM"
            " team_members p JOIN teams pt ON pt.id = p.team_id AND pt.deleted_at IS NULL"
            " WHERE p.member_id = m.id AND p.role = 'user')"
            " OR EXISTS (SELECT 1 FROM desk_cases pc WHERE pc.member_id = m.id))"
            + "".join(f" AND {condition}" for condition in where)
        )
        matching, params = _matching(search)
        condition = (" WHERE " + " AND ".join(matching)) if matching else ""
        order = _order(search, PEOPLE_SORTS, "member_id")
        rows = await self._conn.fetch_all(
            f"{shown_set}SELECT * FROM ({inner}) q{condition} ORDER BY {order} LIMIT ? OFFSET ?",
            (*inner_params, *params, search.limit, search.offset),
        )
        if (rows and len(rows) < search.limit) or (not rows and not search.offset):
            # The last page: the count is in it (a search few match read once, not twice).
            return [dict(row) for row in rows], search.offset + len(rows)
        total = await self._conn.fetch_one(
            f"{shown_set}SELECT COUNT(*) FROM (SELECT 1 FROM ({inner}) q{condition} LIMIT ?) c",
            (*inner_params, *params, counted_to),
        )
        return [dict(row) for row in rows], int(total[0]) if total else 0

    async def known_among(
        self, member_ids: Iterable[int], known_since: datetime, desk_watching: bool
    ) -> set[int]:
        """Of these people, those the desk reads for its own reasons (a case open or closed
        since `known_since`, a team it watches where the deployment has a desk): the 窓口
        role's rule as the people list applies it (_KNOWN), a chunk of people a statement
        where it was a few statements a person."""
        ids = sorted(set(member_ids))
        known: set[int] = set()
        for start in range(0, len(ids), _KNOWN_CHUNK):
            part = ids[start : start + _KNOWN_CHUNK]
            rows = await self._conn.fetch_all(
                f"SELECT m.id FROM members m WHERE m.id IN ({','.join('?' * len(part))})"
                f" AND {_KNOWN}",
                (*part, to_db(known_since), int(desk_watching)),
            )
            known.update(int(row[0]) for row in rows)
        return known

    async def steps_export(self) -> list[dict[str, Any]]:
        """Every step of every case, in order (cases.csv's companion)."""
        rows = await self._conn.fetch_all(
            "SELECT s.case_id, c.member_id, s.at, s.staff, s.kind, s.result, s.note"
            " FROM desk_steps s JOIN desk_cases c ON c.id = s.case_id ORDER BY s.case_id, s.id",
            (),
        )
        return [dict(row) for row in rows]

    async def cases_export(self) -> list[dict[str, Any]]:
        """Every case, the oldest first, with the person's LINE name (withheld by the
        export where she shows nothing)."""
        rows = await self._conn.fetch_all(
            "SELECT c.*, m.display_name FROM desk_cases c JOIN members m ON m.id = c.member_id"
            " ORDER BY c.id",
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
            f" WHERE id = ? AND taken_by IS NULL AND {guarded('closed_at')} IS NULL",
            (staff, to_db(at), case_id),
        )
        return cursor.rowcount == 1

    async def close(
        self, case_id: int, staff: str, outcome: str, note: str | None, at: datetime
    ) -> bool:
        cursor = await self._conn.execute(
            "UPDATE desk_cases SET closed_at = ?, closed_by = ?, outcome = ?, outcome_note = ?"
            f" WHERE id = ? AND {guarded('closed_at')} IS NULL",
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
