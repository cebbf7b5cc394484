"""Files of people's details that leave the console (members.csv, a roll-call's list): only
for 運用管理 (admin/access.py), each with a purpose stated and recorded in the audit row with
what was exported and how many rows, and each person's 「見せる」 honoured. What she shows to
none of her managers (care.members.sharing.shown_to_the_desk: the desk sees the same) is left
empty, and each row says which of her fields were withheld; the file may go to anyone, and she
never agreed to that."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from care.services import UnitOfWork
from storage.models import PERSONAL_FIELDS

# Why a file of people's details is taken out, as the form offers it; a free text that says
# for what in words is required beside it (その他 included).
PURPOSES = ("disaster", "visits", "city_report", "disclosure", "other")
PURPOSE_TEXT_MIN = 4
PURPOSE_TEXT_LIMIT = 200


@dataclass(frozen=True)
class Purpose:
    kind: str
    text: str

    def detail(self) -> str:
        return f"{self.kind}: {self.text}"


def purpose_of(kind: str, text: str) -> Purpose | None:
    """The purpose a form stated; None when it stated none that can be recorded (no kind from
    the list, or words too short, too long or with control characters)."""
    cleaned = " ".join(text.split())
    if kind not in PURPOSES:
        return None
    if not PURPOSE_TEXT_MIN <= len(cleaned) <= PURPOSE_TEXT_LIMIT:
        return None
    if any(ord(ch) < 32 for ch in cleaned):
        return None
    return Purpose(kind, cleaned)


@dataclass(frozen=True)
class Export:
    """Rows ready to write, and how many of the people's fields were left empty."""

    name: str
    header: list[str]
    rows: list[list[Any]]
    withheld: int

    def detail(self, purpose: Purpose) -> str:
        """The audit row: what, how many rows, how many fields withheld, and why."""
        return (
            f"{self.name}: {len(self.rows)} rows, {self.withheld} fields withheld;"
            f" purpose {purpose.detail()}"
        )


def _withhold(
    row: dict[str, Any], fields: Sequence[str], shown: bool
) -> tuple[list[Any], list[str]]:
    """The person's fields as the file may carry them, and the names of those left empty
    (only fields she filled in count: an empty one withholds nothing)."""
    if shown:
        return [row[f] for f in fields], []
    return ["" for _ in fields], [f for f in fields if row[f]]


MEMBER_COLUMNS = [
    "member_id",
    "nickname",
    "registered_at",
    "status",
    "interval_days",
    "hour",
    "last_ok_at",
    "paused_until",
    *PERSONAL_FIELDS,
    "withheld",
]


async def members(work: UnitOfWork) -> Export:
    """Every member (not withdrawn), their schedule and, where she shows them, her details."""
    found = await work.repos.stats.members_export()
    shown = await work.repos.teams.shown_to_a_manager()
    rows, withheld = [], 0
    for m in found:
        # Her LINE name is, for many, her own name: it goes with what she shows, or not at all.
        named = {**m, "nickname": m["display_name"]}
        personal, hidden = _withhold(named, ["nickname", *PERSONAL_FIELDS], m["id"] in shown)
        withheld += len(hidden)
        nickname, *personal = personal
        rows.append(
            [
                m["id"],
                nickname,
                m["registered_at"],
                m["status"],
                m["interval_days"],
                m["checkin_hour"],
                m["last_ok_at"],
                m["paused_until"],
                *personal,
                " ".join(hidden),
            ]
        )
    return Export("members.csv", MEMBER_COLUMNS, rows, withheld)


ROLL_CALL_COLUMNS = [
    "member_id",
    "nickname",
    "full_name",
    "phone",
    "team",
    "answer",
    "answered_at",
    "withheld",
    "not_asked",  # why the question never reached her (care.broadcasts.reach); blank: asked
]


async def roll_call(work: UnitOfWork, roll_call_id: int) -> Export:
    """Everyone a roll-call asked and their answer; 氏名 and 電話 where she shows them. (The
    live tally in the console still shows the number of one who asked for help: her life is
    at stake and it stays on the screen; a file that leaves it follows her choice.)"""
    people = await work.repos.rollcalls.people(roll_call_id)
    shown = await work.repos.teams.shown_to_a_manager()
    rows, withheld = [], 0
    for p in people:
        (full_name, phone), hidden = _withhold(p, ("full_name", "phone"), p["member_id"] in shown)
        withheld += len(hidden)
        rows.append(
            [
                p["member_id"],
                p["display_name"],
                full_name,
                phone,
                p["team_name"],
                p["answer"] or "",
                p["answered_at"] or "",
                " ".join(hidden),
                p["unasked"] or "",
            ]
        )
    return Export(f"rollcall-{roll_call_id}.csv", ROLL_CALL_COLUMNS, rows, withheld)


CASE_COLUMNS = [
    "case_id",
    "member_id",
    "nickname",
    "reason",
    "urgent",
    "opened_at",
    "taken_by",
    "taken_at",
    "closed_at",
    "closed_by",
    "outcome",
    "outcome_note",
    "withheld",
]


async def cases(work: UnitOfWork) -> Export:
    """Every desk case, from opened to closed: the city's record of what its desk did (a
    monthly report, a review of one case). Her LINE name goes only where she shows her
    details, as in members.csv; the rest is the desk's own record, by 会員ID."""
    found = await work.repos.desk.cases_export()
    shown = await work.repos.teams.shown_to_a_manager()
    rows, withheld = [], 0
    for c in found:
        named = {"nickname": c["display_name"]}
        (nickname,), hidden = _withhold(named, ["nickname"], c["member_id"] in shown)
        withheld += len(hidden)
        rows.append(
            [
                c["id"],
                c["member_id"],
                nickname,
                c["reason"],
                c["urgent"],
                c["opened_at"],
                c["taken_by"] or "",
                c["taken_at"] or "",
                c["closed_at"] or "",
                c["closed_by"] or "",
                c["outcome"] or "",
                c["outcome_note"] or "",
                " ".join(hidden),
            ]
        )
    return Export("cases.csv", CASE_COLUMNS, rows, withheld)


STEP_COLUMNS = ["case_id", "member_id", "at", "staff", "kind", "result", "note"]


async def case_steps(work: UnitOfWork) -> Export:
    """Every step of every case (taken, each call and its result, notes, visits, closed), in
    order: cases.csv's companion, by case and 会員ID, with no name."""
    found = await work.repos.desk.steps_export()
    rows = [
        [
            s["case_id"],
            s["member_id"],
            s["at"],
            s["staff"],
            s["kind"],
            s["result"] or "",
            s["note"] or "",
        ]
        for s in found
    ]
    return Export("case_steps.csv", STEP_COLUMNS, rows, 0)


TEAM_COLUMNS = ["id", "name", "members", "users", "managers", "interval_days", "hour"]


async def teams(work: UnitOfWork) -> Export:
    """Every team, its size and default schedule. A team's name is its founder's words (「母の
    見守り」, a family name): it leaves the console only with a purpose, like members.csv."""
    found = await work.repos.stats.teams()
    rows = [
        [
            t["id"],
            t["name"],
            t["members"],
            t["users"] or 0,
            t["managers"] or 0,
            t["default_interval_days"],
            t["default_hour"],
        ]
        for t in found
    ]
    return Export("teams.csv", TEAM_COLUMNS, rows, 0)
