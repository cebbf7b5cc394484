"""A roll-call's tally of the roster's people, by 担当 (民生委員 or 町会): who asked for help, who
is silent, who was never asked and why, each with how to find them where the viewer may see it
(care.roster.visibility); and the file for the 被災者支援 systems."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from care.broadcasts.rollcall import STANDINGS, standing
from care.privacy.exports import Export
from care.roster import visibility
from care.roster.visibility import Moment
from care.services import UnitOfWork
from storage.models import StaffRole
from storage.rollcalls import RollCall
from storage.roster import RosterPerson

DETAILS = ("name", "furigana", "address", "phone")


@dataclass(frozen=True)
class Entry:
    person: RosterPerson
    standing: str  # safe, help, shelter, silent, unasked
    answered_at: str | None
    unasked: str | None  # why she was not asked (care.broadcasts.reach)
    shown: bool  # the viewer may see her details


@dataclass
class Carer:
    name: str  # as the roster names the 担当 ("" for none)
    counts: Counter[str] = field(default_factory=Counter)
    help: list[Entry] = field(default_factory=list)
    silent: list[Entry] = field(default_factory=list)
    unasked: list[Entry] = field(default_factory=list)

    @property
    def hidden(self) -> int:
        return sum(not e.shown for e in self.help + self.silent + self.unasked)


@dataclass(frozen=True)
class RosterTally:
    roll_call: RollCall
    moment: Moment
    carers: list[Carer]
    counts: dict[str, int]


async def _entries(work: UnitOfWork, roll_call_id: int) -> list[tuple[RosterPerson, Any]]:
    return [
        (RosterPerson.from_row(row), row)
        for row in await work.repos.roster.in_roll_call(roll_call_id)
    ]


async def by_carer(work: UnitOfWork, roll_call: RollCall, role: StaffRole | None) -> RosterTally:
    moment = await visibility.now(work)
    carers: dict[str, Carer] = {}
    total: Counter[str] = Counter()
    for person, row in await _entries(work, roll_call.id):
        where = standing(row)
        entry = Entry(
            person,
            where,
            row["answered_at"],
            row["unasked"],
            visibility.staff_sees(role, person, moment),
        )
        carer = carers.setdefault(person.carer, Carer(person.carer))
        carer.counts[where] += 1
        total[where] += 1
        if where == "help":
            carer.help.append(entry)
        elif where == "silent":
            carer.silent.append(entry)
        elif where == "unasked":
            carer.unasked.append(entry)
    ordered = sorted(carers.values(), key=lambda c: (c.name == "", c.name))
    return RosterTally(roll_call, moment, ordered, {s: total.get(s, 0) for s in STANDINGS})


EXPORT_COLUMNS = [
    "roster_id",
    "name",
    "furigana",
    "address",
    "phone",
    "carer",
    "consent",
    "standing",
    "answered_at",
    "unasked",
    "withheld",
]


async def export(work: UnitOfWork, roll_call: RollCall) -> Export:
    """Every roster person the roll-call named, with where she stands, for the city's
    被災者支援 systems (matched by the roster's ID). After a declared disaster's roll-call the
    details go out for all (49条の11 第3項); after another, only with 平常時同意, the ID and the
    answer kept for the others."""
    rows, withheld = [], 0
    for person, row in await _entries(work, roll_call.id):
        shown = person.consent or roll_call.disaster
        details = [getattr(person, f) if shown else "" for f in DETAILS]
        withheld += 0 if shown else len(DETAILS)
        rows.append(
            [
                person.roster_id,
                *details,
                person.carer,
                "1" if person.consent else "0",
                standing(row),
                row["answered_at"] or "",
                row["unasked"] or "",
                "" if shown else " ".join(DETAILS),
            ]
        )
    return Export(f"rollcall-{roll_call.id}-roster.csv", EXPORT_COLUMNS, rows, withheld)
