"""What the desk reads, and whom: a case's file, a person's card and notes, each look audited,
and which people a desk account may read at all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from care.desk import cases as desk
from care.errors import Refusal, Refused
from care.members import sharing
from care.rounds.notify import phone_only
from care.services import UnitOfWork
from storage.desk import DeskCase, DeskStep, PersonNote
from storage.models import OPEN_STATES, CheckinRound, Member, RoundState

RECENT = timedelta(days=14)  # the answers a case's file shows
# A page or card with people's details is audited once this long per staff member and page.
VIEW_AUDIT_EVERY = timedelta(hours=1)
CARD_RECENT = timedelta(days=60)  # the answers a person's card shows

# A case the desk closed is a reason to read her card for a while (its follow-up, a call
# back), not for good: past this, only an open case or a watch of her team is.
CASE_KNOWN_FOR = timedelta(days=30)


@dataclass(frozen=True)
class CaseFile:
    """What the desk sees of a case: the person as they agreed to show themselves to those
    who watch over them (the same 「見せる」 as their managers'), who was told when, their
    recent answers, and every step taken."""

    case: DeskCase
    member: Member
    shown: bool  # the person shows 氏名, 電話番号 and 緊急時メモ to at least one manager
    tel: str | None
    told: list[dict[str, Any]]
    managers: list[Member]
    rounds: list[CheckinRound]
    steps: list[DeskStep]
    alert_open: bool
    notes: list[PersonNote]  # the desk's notes on the person, from every case
    # The person's open alert now, whichever case or round it came from: what an outcome acts on.
    open_alert: CheckinRound | None = None
    # Her number where the desk registered her by phone (registered_number), as written.
    registered: str | None = None


def as_written(number: str) -> str:
    """A number the desk registered (kept as E.164, +81312345678) as people write it in Japan
    (03-1234-5678; a mobile's 090-1234-5678); any other number as it is."""
    if not number.startswith("+81") or not number[3:].isdigit():
        return number
    national = "0" + number[3:]
    if len(national) == 11:  # 090, 080, 070, 050
        return f"{national[:3]}-{national[3:7]}-{national[7:]}"
    if len(national) == 10 and national[:2] in ("03", "06"):
        return f"{national[:2]}-{national[2:6]}-{national[6:]}"
    if len(national) == 10:
        return f"{national[:4]}-{national[4:6]}-{national[6:]}"
    return national


def registered_number(member: Member) -> str | None:
    """The number of a person the desk registered from a paper form: the desk typed it from
    the form she signed, so staff who may read her card see it (and call it)."""
    if not phone_only(member):
        return None
    return member.channel_address or member.call_number or None


async def _audit_view(work: UnitOfWork, staff: str, scope: str, what: str) -> None:
    """Reading a person's details is audited, once an hour per staff member and case or card."""
    await work.repos.admin.audit_view(
        staff, "desk_viewed", what, work.now, VIEW_AUDIT_EVERY, scope
    )


async def case_file(work: UnitOfWork, case_id: int | None, staff: str) -> CaseFile:
    """The case as the desk reads it; reading a person's details is audited (once an hour
    per staff member and case)."""
    case = await desk.case_of(work, case_id)
    member = await work.repos.members.get(case.member_id)
    if member is None:
        raise Refused(Refusal.NO_SUCH_CASE)
    managers = await work.repos.teams.managers_watching(member.id)
    shown = await sharing.shown_to_the_desk(work, member, managers)
    checkin = await work.repos.rounds.get(case.round_id) if case.round_id else None
    current = await work.repos.rounds.open_round(member.id)
    await _audit_view(work, staff, f"desk:{case.id}:{staff}", f"case {case.id}")
    number = registered_number(member)
    return CaseFile(
        case=case,
        member=member,
        shown=shown,
        tel=sharing.tel_uri(number) if number else sharing.call_link(member, shown),
        registered=as_written(number) if number else None,
        told=await work.repos.stats.told_about(case.round_id) if case.round_id else [],
        managers=managers,
        rounds=await work.repos.rounds.of_member_since(member.id, work.now - RECENT),
        steps=await work.repos.desk.steps(case.id),
        alert_open=checkin is not None and checkin.state in OPEN_STATES,
        notes=await work.repos.desk.person_notes(member.id),
        open_alert=current
        if current is not None and current.state is RoundState.ALERTED
        else None,
    )


@dataclass(frozen=True)
class PersonCard:
    """The person as the desk keeps them between cases: what they show (as on a case), who
    watches them, their answers, every case they had and the notes staff left on them."""

    member: Member
    shown: bool
    tel: str | None
    managers: list[Member]
    rounds: list[CheckinRound]
    cases: list[DeskCase]
    notes: list[PersonNote]
    registered: str | None = None  # as on a case (CaseFile.registered)


async def known_person(
    work: UnitOfWork, member_id: int | None, registered_too: bool = True
) -> tuple[Member, list[DeskCase]]:
    """The person, if the desk has a reason to know them: a case of theirs, a team it
    watches, or (`registered_too`) its own registration of them (watched by phone alone).
    Everyone else stays their managers' alone. The console's 窓口 role reads a person only for
    the desk's own reasons (registered_too=False): registering by phone is 運用管理's, on a
    team's page, and 運用管理 decides which teams the desk watches."""
    member = await work.repos.members.get(member_id) if member_id else None
    if member is None:
        raise Refused(Refusal.NO_SUCH_PERSON)
    cases = await work.repos.desk.cases_of(member.id)
    registered = registered_too and phone_only(member)
    if not _recent(work, cases) and not registered and not await desk.watches(work, member):
        raise Refused(Refusal.NO_SUCH_PERSON)
    return member, cases


def _recent(work: UnitOfWork, cases: list[DeskCase]) -> bool:
    return any(
        case.closed_at is None or work.now - case.closed_at < CASE_KNOWN_FOR for case in cases
    )


async def known_to_the_desk(work: UnitOfWork, member_ids: list[int]) -> set[int]:
    """Of these people, those the desk has a case for or watches (the 窓口 role's reasons to
    read them: care.desk.reading.known_person without the registration), found for all of
    them at once."""
    return await work.repos.desk.known_among(
        member_ids, work.now - CASE_KNOWN_FOR, work.services.timings.desk_after is not None
    )


async def person_card(
    work: UnitOfWork, member_id: int | None, staff: str, registered_too: bool = True
) -> PersonCard:
    member, cases = await known_person(work, member_id, registered_too)
    await _audit_view(work, staff, f"person:{member.id}:{staff}", f"会員ID {member.id}")
    managers = await work.repos.teams.managers_watching(member.id)
    shown = await sharing.shown_to_the_desk(work, member, managers)
    number = registered_number(member)
    return PersonCard(
        member=member,
        shown=shown,
        tel=sharing.tel_uri(number) if number else sharing.call_link(member, shown),
        registered=as_written(number) if number else None,
        managers=managers,
        rounds=await work.repos.rounds.of_member_since(member.id, work.now - CARD_RECENT),
        cases=cases,
        notes=await work.repos.desk.person_notes(member.id),
    )


async def note_person(
    work: UnitOfWork, member_id: int | None, staff: str, note: str, registered_too: bool = True
) -> None:
    """A note on the person that outlasts the case (how to speak with them, who holds a key)."""
    member, _ = await known_person(work, member_id, registered_too)
    if await work.repos.members.has_withdrawn(member.id):
        raise Refused(Refusal.NO_SUCH_PERSON)  # 退会 deleted what was kept on them
    text = desk.required_note(note)
    await work.repos.desk.add_person_note(member.id, staff, text, work.now)
    await work.repos.admin.audit(staff, "desk_person_note", f"会員ID {member.id}", work.now)
