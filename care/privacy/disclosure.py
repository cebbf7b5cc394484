"""「わたしの記録」: everything the service holds about one person, built once here and given
the same by every surface (My page shows it, the download writes it as JSON or CSV, the
console produces it for a paper disclosure request under 個人情報保護法 第76条).

The record is only ever built for the member it is given: My page passes the caller that
LINE's ID token named, the console a card it opened. Nothing in it is about anyone else
beyond what she is entitled to know: who watches her and what they see, and who was told
about her. Addresses of other people (their LINE ids, phone numbers) are never included; a
recipient is named as she sees them named on My page.

What is left out, and why:
- the desk's and partners' internal notes (desk_steps.note, person_notes, a case's
  outcome_note) and the staff's names: they record the staff's judgement and what third
  parties (a neighbour, a family member) said, which the law lets a city withhold
  (第78条1項2号 third-party information, 7号 事務事業情報) and which its officer must weigh
  case by case. The record says how many such notes exist, so she (or the officer answering a
  paper request) knows there is more to ask for; the officer decides on those by hand.
- secrets that are not information about her: a device's token hash, a verification code's
  hash, the outbox's message contents (what they said is what the chat showed her or them,
  and they hold other people's names and the city's wording).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from care.roster.letters import LETTER_LIFETIME
from care.rounds.notify import display_name
from care.services import UnitOfWork
from ground.i18n import Locale
from storage.models import PERSONAL_FIELDS, Member

FORMAT = "mimamori-my-records/1"

# The sections in the order the page shows them, each with its fields (columns).
SECTIONS: dict[str, tuple[str, ...]] = {
    "profile": ("field", "value"),
    "register": ("field", "value"),
    "teams": ("team", "role", "joined_at", "consented_at"),
    "watchers": ("name", "teams", "sees", "shown_since"),
    "schedule": ("field", "value"),
    "answers": ("slot_at", "state", "answer", "sent_at", "closed_at", "close_reason", "words"),
    "alerts": ("alerted_at", "taken_by", "confirmed_by", "closed_at", "close_reason"),
    "told": ("at", "purpose", "channel", "to", "state", "sent_at"),
    "calls": ("at", "kind", "outcome", "ended_at"),
    "devices": ("label", "counts_as_ok", "linked_at", "last_movement", "removed_at"),
    "roll_calls": ("started_at", "answer", "answered_at"),
    "cases": ("opened_at", "reason", "closed_at", "outcome"),
}

# What a watching manager sees of her, always; the personal fields and the 緊急時メモ only
# with her 「見せる」 (care.members.sharing), the memo only while an alert is open.
ALWAYS_SEEN = ("state", "history")


@dataclass(frozen=True)
class Record:
    member_id: int
    made_at: str
    sections: dict[str, list[list[str]]]  # section -> rows, each row in SECTIONS' order
    withheld_notes: int  # staff notes about her that the record does not carry

    def as_json(self) -> dict[str, Any]:
        """The record as the page and the JSON download carry it (one shape for both)."""
        return {
            "format": FORMAT,
            "member_id": self.member_id,
            "made_at": self.made_at,
            "withheld_notes": self.withheld_notes,
            "fields": {name: list(fields) for name, fields in SECTIONS.items()},
            "sections": {
                name: [dict(zip(SECTIONS[name], row, strict=True)) for row in rows]
                for name, rows in self.sections.items()
            },
        }

    def to_json(self) -> str:
        return json.dumps(self.as_json(), ensure_ascii=False, indent=2)

    def to_csv(self) -> str:
        """One line per value (section, row number, field, value): every section in one file
        a spreadsheet opens; the BOM tells Excel it is UTF-8, as Japanese offices need."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["section", "row", "field", "value"])
        writer.writerow(["record", 0, "member_id", self.member_id])
        writer.writerow(["record", 0, "made_at", self.made_at])
        writer.writerow(["record", 0, "withheld_notes", self.withheld_notes])
        for name, rows in self.sections.items():
            for number, row in enumerate(rows, start=1):
                for field, value in zip(SECTIONS[name], row, strict=True):
                    writer.writerow([name, number, field, _safe_cell(value)])
        return "\ufeff" + out.getvalue()


def _safe_cell(value: str) -> str:
    """A value a spreadsheet will not run as a formula (her LINE name is what she typed)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


class _Writer:
    """How the record writes what it holds: times in the deployment's zone, yes and no and
    people's names in her language, each name looked up once."""

    def __init__(self, work: UnitOfWork, locale: Locale, member: Member) -> None:
        self.work, self.locale, self.member = work, locale, member
        self._names: dict[int, str] = {}

    def at(self, moment: datetime | str | None) -> str:
        if moment is None or moment == "":
            return ""
        if isinstance(moment, str):
            moment = datetime.fromisoformat(moment)
        return moment.astimezone(self.work.services.timezone).strftime("%Y-%m-%d %H:%M")

    def day(self, value: date | None) -> str:
        return value.isoformat() if value else ""

    def yes(self, value: object) -> str:
        return self.locale.t("my_records.yes") if value else self.locale.t("my_records.no")

    async def name_of(self, member_id: int | None) -> str:
        if member_id is None:
            return ""
        if member_id == self.member.id:
            return self.locale.t("my_records.you")
        if member_id not in self._names:
            found = await self.work.repos.members.get(member_id)
            self._names[member_id] = display_name(self.locale, found) if found else ""
        return self._names[member_id]


async def record_of(work: UnitOfWork, locale: Locale, member: Member) -> Record:
    """Everything held about `member` (and only her), in her language's wording of times."""
    repos = work.repos.disclosure
    write = _Writer(work, locale, member)
    memberships = await repos.memberships(member.id)
    rounds = await repos.rounds(member.id)
    told, calls = await _told_and_calls(write)
    sections = {
        "profile": _profile(write),
        "register": await _register(write),
        "teams": [
            [row["name"], row["role"], write.at(row["joined_at"]), write.at(row["consented_at"])]
            for row in memberships
        ],
        "watchers": await _watchers(write, memberships),
        "schedule": [*_schedule(write), *await _heat(write)],
        "answers": _answers(write, rounds),
        "alerts": [
            [
                write.at(r["alerted_at"]),
                await write.name_of(r["taken_by"]),
                await write.name_of(r["confirmed_by"]),
                write.at(r["closed_at"]),
                r["close_reason"] or "",
            ]
            for r in rounds
            if r["alerted_at"]
        ],
        "told": told,
        "calls": calls,
        "devices": [
            [
                d["label"],
                write.yes(d["counts_as_ok"]),
                write.at(d["created_at"]),
                write.at(d["last_ping_at"]),
                write.at(d["revoked_at"]),
            ]
            for d in await repos.devices(member.id)
        ],
        "roll_calls": [
            [write.at(r["started_at"]), _roll_call_answer(write, r), write.at(r["answered_at"])]
            for r in await repos.roll_calls(member.id)
        ],
        "cases": [
            [write.at(case.opened_at), case.reason, write.at(case.closed_at), case.outcome or ""]
            for case in await work.repos.desk.cases_of(member.id)
        ],
    }
    return Record(
        member_id=member.id,
        made_at=write.at(work.now),
        sections=sections,
        withheld_notes=await repos.withheld_notes(member.id),
    )


def _profile(write: _Writer) -> list[list[str]]:
    member, at, yes = write.member, write.at, write.yes
    profile: list[tuple[str, str]] = [
        ("member_id", str(member.id)),
        ("line_name", member.display_name),
        ("line_user_id", member.line_user_id),
        ("language", member.language),
        ("registered_at", at(member.registered_at)),
        ("terms_accepted_at", at(member.terms_accepted_at)),
        ("status", member.status),
        ("channel", member.channel),
        *((name, getattr(member.personal, name)) for name in PERSONAL_FIELDS),
        ("emergency_memo", member.emergency_memo),
        ("call_number", member.call_number or ""),
        ("call_before_alert", yes(member.call_before_alert)),
        ("call_verified_at", at(member.call_verified_at)),
        ("daily_note", yes(member.daily_note)),
        ("last_activity", _activity(member, at)),
    ]
    return [[field, value] for field, value in profile]


async def _watchers(write: _Writer, memberships: list[Any]) -> list[list[str]]:
    """Who watches her and what each sees, every 「見せる」 she gave, and the desk."""
    work, locale, member, at = write.work, write.locale, write.member, write.at
    managers = await work.repos.teams.managers_watching(member.id)
    shares = await work.repos.disclosure.shares(member.id)
    watchers = []
    for manager in managers:
        their_teams = [
            team.name
            for team, _role in await work.repos.teams.teams_of(manager.id)
            if any(row["team_id"] == team.id and row["role"] == "user" for row in memberships)
        ]
        shown = shares.get(manager.id)
        sees = [*ALWAYS_SEEN, *(PERSONAL_FIELDS if shown else ()), *(("memo",) if shown else ())]
        watchers.append(
            [display_name(locale, manager), " / ".join(their_teams), " ".join(sees), at(shown)]
        )
    # Every 「見せる」 she has given, also to someone who does not watch her now (a manager who
    # blocked the bot keeps his memberships, and her share, until he is back): she sees it all.
    watching = {manager.id for manager in managers}
    for manager_id, since in sorted(shares.items()):
        other = None if manager_id in watching else await work.repos.members.get(manager_id)
        if other is not None:  # he sees nothing while he does not watch her: no teams
            watchers.append([display_name(locale, other), "", "", at(since)])
    if await work.repos.teams.desk_watches(member.id):
        # The city's desk sees what she shows to at least one manager (care.members.sharing).
        shown_any = bool(shares.keys() & {m.id for m in managers})
        sees = [*ALWAYS_SEEN, *((*PERSONAL_FIELDS, "memo") if shown_any else ())]
        watchers.append([locale.t("my_records.desk"), "", " ".join(sees), ""])
    return watchers


async def _register(write: _Writer) -> list[list[str]]:
    """Her line on the city's 避難行動要支援者名簿, as the city holds it (the file's fields,
    her 平常時同意, when it listed her, her LINE joined or the city took her off). The
    letter's code is left out: a credential, not information about her (as a verification
    code's hash is), and a new letter is the city's to print."""
    found = await write.work.repos.roster.of_member(write.member.id)
    if found is None:
        return []
    at = write.at
    expires = found.letter_code_at + LETTER_LIFETIME if found.letter_code_at else None
    register: list[tuple[str, str]] = [
        ("roster_id", found.roster_id),
        ("roster_name", found.name),
        ("roster_furigana", found.furigana),
        ("roster_address", found.address),
        ("roster_phone", found.phone),
        ("roster_carer", found.carer),
        ("roster_consent", write.yes(found.consent)),
        ("roster_added_at", at(found.added_at)),
        ("roster_updated_at", at(found.updated_at)),
        ("roster_letter_until", at(expires) if found.letter_code else ""),
        ("roster_linked_at", at(found.linked_at)),
        ("roster_removed_at", at(found.removed_at)),
    ]
    return [[field, value] for field, value in register]


async def _heat(write: _Writer) -> list[list[str]]:
    """The hot days' check: her own choice, and the desk's mark that she is at risk (a mark
    the desk sets about her, which changes what she is sent)."""
    opted_in, at_risk = await write.work.repos.heat.watch_of(write.member.id)
    return [["heat_opted_in", write.yes(opted_in)], ["heat_at_risk", write.yes(at_risk)]]


def _roll_call_answer(write: _Writer, row: dict[str, Any]) -> str:
    """Her answer; for a roll-call that named her but never reached her (no way to ask her,
    the call budget spent...), that it did not reach her, rather than a blank she would read
    as a question she left unanswered."""
    if row.get("unasked"):
        return write.locale.t("gaps41.my_records.not_reached")
    return str(row["answer"] or "")


def _schedule(write: _Writer) -> list[list[str]]:
    member, at, yes = write.member, write.at, write.yes
    schedule: list[tuple[str, str]] = [
        ("interval_days", str(member.interval_days or "")),
        ("checkin_hour", "" if member.checkin_hour is None else str(member.checkin_hour)),
        ("next_due_at", at(member.next_due_at)),
        ("last_ok_at", at(member.last_ok_at)),
        ("paused_until", write.day(member.paused_until)),
        ("paused_until_home", yes(member.open_pause)),
        ("schedule_by_managers", yes(member.schedule_by_managers)),
    ]
    return [[field, value] for field, value in schedule]


def _answers(write: _Writer, rounds: list[Any]) -> list[list[str]]:
    at = write.at
    return [
        [
            at(r["slot_at"]),
            r["state"],
            r["answer"] or "",
            at(r["sent_at"]),
            at(r["closed_at"]),
            r["close_reason"] or "",
            r["help_words"] or "",
        ]
        for r in rounds
    ]


async def _told_and_calls(write: _Writer) -> tuple[list[list[str]], list[list[str]]]:
    """Who was told about her (named as she sees them named), and the calls to her: those
    before an alert, and those that checked her number."""
    work, locale, member, at = write.work, write.locale, write.member, write.at
    told = await work.repos.disclosure.told(member.id)
    addresses = {a for row in told for a in row.recipients if row.channel != "voice"}
    known = await work.repos.members.by_line_ids(sorted(addresses)) if addresses else {}
    told_rows = []
    calls_rows = []
    for row in told:
        if row.channel == "voice" and row.recipient_member_id == member.id:
            calls_rows.append([at(row.at), row.purpose, row.state, at(row.sent_at)])
            continue
        to = []
        for address in row.recipients:
            found = known.get(address)
            if found is not None and found.id == member.id:
                to.append(locale.t("my_records.you"))
            elif found is not None:
                to.append(display_name(locale, found))
            elif row.recipient_member_id is not None:
                to.append(await write.name_of(row.recipient_member_id))
            else:
                to.append(locale.t("my_records.someone"))
        told_rows.append(
            [at(row.at), row.purpose, row.channel, " / ".join(to), row.state, at(row.sent_at)]
        )
    for check in await work.repos.disclosure.verifications(member.id):
        calls_rows.append(
            [at(check["created_at"]), "verify", check["outcome"] or "", at(check["ended_at"])]
        )
    return told_rows, sorted(calls_rows, key=lambda row: row[0])


def _activity(member: Member, at: Any) -> str:
    if member.last_activity_at is None:
        return ""
    return f"{at(member.last_activity_at)} {member.last_activity_label or ''}".strip()
