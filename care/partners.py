"""Partners who visit (見守り協定): the desk keeps them with the teams (areas) they cover, asks
one to go to the door from a case, and hears what they found.

A partner who uses LINE (a member, linked by 会員ID) gets the request there with 「向かいます」
and 「確認しました」, then the outcome choices; what they found goes on the case, and an outcome
(無事, 救急搬送, ...) closes it as the desk's own would. A partner without LINE gets the request
printed from the console. The request shows the person as they show themselves to their
managers (the same 「見せる」): a partner goes where the desk would.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from care import desk, sharing
from care.errors import Refusal, Refused
from care.notify import display_name, push_to
from care.people import PHONE, hidden_characters
from care.services import UnitOfWork
from ground.i18n import Locale
from ground.telling import Choice, Link, Telling
from storage.desk import DeskCase
from storage.models import Member
from storage.partners import Partner, Visit

KINDS = ("minsei", "houkatsu", "management", "police", "other")
NAME_LIMIT = 50
AREA_LIMIT = 100
NOT_HOME = "not_home"  # 会えなかった: the visit is done, the case stays open
VISIT_OUTCOMES = (*desk.OUTCOMES, NOT_HOME)


def _clean(text: str, limit: int, required: bool = False) -> str:
    cleaned = unicodedata.normalize("NFKC", text).strip()
    if len(cleaned) > limit or hidden_characters(cleaned) or (required and not cleaned):
        raise Refused(Refusal.INVALID_PARTNER)
    return cleaned


async def add(
    work: UnitOfWork,
    name: str,
    kind: str,
    phone: str,
    area: str,
    member_id: int | None,
    team_ids: list[int],
    staff: str,
) -> int:
    """A partner, the teams they cover, and (for one who uses LINE) their 会員ID."""
    name = _clean(name, NAME_LIMIT, required=True)
    area = _clean(area, AREA_LIMIT)
    phone = _clean(phone, 20)
    if kind not in KINDS or (phone and not PHONE.match(phone)):
        raise Refused(Refusal.INVALID_PARTNER)
    if member_id is not None:
        member = await work.repos.members.get(member_id)
        if member is None or not member.active:
            raise Refused(Refusal.NO_SUCH_MEMBER)
    for team_id in team_ids:
        if await work.repos.teams.get(team_id) is None:
            raise Refused(Refusal.NO_SUCH_TEAM)
    partner_id = await work.repos.partners.add(
        name, kind, phone, area, member_id, team_ids, work.now
    )
    await work.repos.admin.audit(staff, "partner_added", f"partner {partner_id}", work.now)
    return partner_id


async def remove(work: UnitOfWork, partner_id: int | None, staff: str) -> None:
    if partner_id is None or not await work.repos.partners.remove(partner_id, work.now):
        raise Refused(Refusal.NO_SUCH_PARTNER)
    await work.repos.admin.audit(staff, "partner_removed", f"partner {partner_id}", work.now)


@dataclass(frozen=True)
class Request:
    """What a visit request says: who, where, how to reach them, whom to call back."""

    visit: Visit
    partner: Partner
    case: DeskCase
    person: Member
    shown: bool  # the person shows 氏名, 住所, 電話 and 緊急時メモ to their managers


async def request_of(work: UnitOfWork, visit_id: int | None) -> Request:
    visit = await work.repos.partners.visit(visit_id) if visit_id else None
    if visit is None:
        raise Refused(Refusal.NO_SUCH_VISIT)
    partner = await work.repos.partners.get(visit.partner_id)
    case = await work.repos.desk.get(visit.case_id)
    person = await work.repos.members.get(case.member_id) if case else None
    if partner is None or case is None or person is None:
        raise Refused(Refusal.NO_SUCH_VISIT)
    shown = await sharing.shown_to_the_desk(work, person)
    return Request(visit, partner, case, person, shown)


async def ask_visit(
    work: UnitOfWork, case_id: int | None, partner_id: int | None, staff: str
) -> int:
    """The desk asks a partner to go to the door. A partner on LINE gets the request there at
    once; for the others the console prints it. -> the visit's id."""
    case = await desk.case_of(work, case_id)
    if not case.open:
        raise Refused(Refusal.CASE_CLOSED)
    partner = await work.repos.partners.get(partner_id) if partner_id else None
    if partner is None or partner.removed_at is not None:
        raise Refused(Refusal.NO_SUCH_PARTNER)
    visit_id = await work.repos.partners.ask(case.id, partner.id, staff, work.now)
    await work.repos.desk.add_step(case.id, staff, "visit_asked", work.now, note=partner.name)
    await work.repos.admin.audit(
        staff, "visit_asked", f"case {case.id} partner {partner.id}", work.now
    )
    if partner.member_id is not None:
        on_line = await work.repos.members.get(partner.member_id)
        if on_line is not None and on_line.active:
            request = await request_of(work, visit_id)
            await push_to(work, on_line, [_request_telling(work, request, on_line)], "visit")
    return visit_id


def request_lines(locale: Locale, request: Request) -> list[str]:
    """The request's lines, for LINE and for the printed page alike."""
    person = request.person
    lines = [locale.t("visit.who", name=display_name(locale, person), member_id=person.id)]
    if request.shown:
        personal = person.personal
        for key, value in (
            ("visit.full_name", personal.full_name),
            ("visit.address", personal.address),
            ("visit.phone", personal.phone),
            ("visit.memo", person.emergency_memo),
        ):
            if value:
                lines.append(locale.t(key, value=value))
    else:
        lines.append(locale.t("visit.not_shown"))
    lines.append(locale.t(f"visit.reason.{request.case.reason}"))
    lines.append(locale.t("visit.call_back"))
    return lines


def _request_telling(work: UnitOfWork, request: Request, partner: Member) -> Telling:
    locale = work.locale(partner.language)
    codec = work.services.postbacks
    visit_id = request.visit.id
    choices = [
        Choice("going", locale.t("visit.going_button"), codec.encode("visit_go", v=visit_id)),
        Choice("seen", locale.t("visit.seen_button"), codec.encode("visit_seen", v=visit_id)),
    ]
    tel = sharing.call_link(request.person, request.shown)
    links = [Link(locale.t("alert.call_button"), tel)] if tel else []
    title = locale.t("visit.title")
    return Telling.card(
        locale.language, title, "\n".join(request_lines(locale, request)), choices, links
    )


async def _partners_visit(work: UnitOfWork, partner: Member, visit_id: int | None) -> Request:
    """The visit, only for the partner it was asked of, and only while it and its case are
    open."""
    request = await request_of(work, visit_id)
    if request.partner.member_id != partner.id:
        raise Refused(Refusal.NOT_ALLOWED)
    if request.visit.state == "done" or not request.case.open:
        raise Refused(Refusal.CASE_CLOSED)
    return request


async def going(work: UnitOfWork, partner: Member, visit_id: int | None) -> Request:
    """向かいます: the desk sees the partner is on the way."""
    request = await _partners_visit(work, partner, visit_id)
    if await work.repos.partners.going(request.visit.id, work.now):
        await work.repos.desk.add_step(
            request.case.id, request.partner.name, "visit_going", work.now
        )
    return request


def outcome_choices(work: UnitOfWork, locale: Locale, visit_id: int) -> list[Choice]:
    """確認しました: what the partner found, to choose from."""
    codec = work.services.postbacks
    return [
        Choice(
            outcome,
            locale.t(f"visit.outcome.{outcome}"),
            codec.encode("visit_out", v=visit_id, o=outcome),
        )
        for outcome in VISIT_OUTCOMES
    ]


async def seen(work: UnitOfWork, partner: Member, visit_id: int | None) -> Request:
    """確認しました: the visit, still open, whose outcome the partner is about to choose."""
    return await _partners_visit(work, partner, visit_id)


async def found(
    work: UnitOfWork, partner: Member, visit_id: int | None, outcome: str | None
) -> Request:
    """What the partner found. An outcome closes the case as the desk's own would (the
    alert, and what the managers hear); 会えなかった keeps it open for the desk."""
    request = await _partners_visit(work, partner, visit_id)
    if outcome not in VISIT_OUTCOMES:
        raise Refused(Refusal.NOT_ALLOWED)
    await work.repos.partners.done(request.visit.id, outcome, work.now)
    name = request.partner.name
    await work.repos.desk.add_step(request.case.id, name, "visit_done", work.now, outcome)
    if outcome != NOT_HOME:
        await desk.close(work, request.case.id, name, outcome)
    return request
