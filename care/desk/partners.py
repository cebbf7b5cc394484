"""Partners who visit (見守り協定): the desk keeps them with the teams (areas) they cover, asks
one to go to the door from a case, and hears what they found.

A partner who uses LINE gets the request there with 「向かいます」 and 「確認しました」, then the
outcome choices; what they found goes on the case, and an outcome (無事, 救急搬送, ...) closes it
as the desk's own would. The request in LINE carries a button to the person's card on My page
(care.members.cards), where her name, address, phone and 緊急時メモ are while the visit is open:
never the details themselves, unless the deployment keeps them in the chat
(MIMAMORI_DETAILS_IN_CHAT). A partner without LINE gets the request printed from the console. The
request shows the person as they show themselves to their managers (the same 「見せる」): a partner
goes where the desk would.

A partner's LINE is the account that sent the one-time code the console showed for them, never
a 会員ID typed by staff: a request carries a stranger's name, address, phone and where the
spare key is, and a mistyped number sent all of it to the wrong person. Until their code comes,
a partner is one without LINE (a printed request). What a partner does is audited and kept on
the case as `partner:<id>`, never under the name staff typed for them (which could read as a
console account's); removing a partner withdraws their open visits and refuses their taps.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from care.desk import cases as desk
from care.desk import visits
from care.errors import Refusal, Refused
from care.members import sharing
from care.members.details import PHONE, hidden_characters
from care.rounds.notify import display_name, push_to
from care.services import UnitOfWork
from ground import link_codes
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
# A code shown in the console is sent from the partner's LINE the same day, or staff show a new
# one: an unused code lets its holder receive people's details.
LINK_CODE_LIFETIME = timedelta(hours=72)
ACTOR = "partner:"  # console accounts are named [A-Za-z0-9_.@-]: no colon, never this


def actor(partner_id: int) -> str:
    """Who a partner is in the audit log and on a case's steps."""
    return f"{ACTOR}{partner_id}"


def partner_of_actor(who: str | None) -> int | None:
    """The partner's id, where `who` names a partner."""
    if who and who.startswith(ACTOR) and who[len(ACTOR) :].isdigit():
        return int(who[len(ACTOR) :])
    return None


def _clean(text: str, limit: int, required: bool = False) -> str:
    cleaned = unicodedata.normalize("NFKC", text).strip()
    if len(cleaned) > limit or hidden_characters(cleaned) or (required and not cleaned):
        raise Refused(Refusal.INVALID_PARTNER)
    return cleaned


async def _checked(
    work: UnitOfWork, name: str, kind: str, phone: str, area: str, team_ids: list[int]
) -> tuple[str, str, str]:
    """The partner's name, phone and area as kept; refused as a whole where one is wrong."""
    name = _clean(name, NAME_LIMIT, required=True)
    area = _clean(area, AREA_LIMIT)
    phone = _clean(phone, 20)
    if kind not in KINDS or (phone and not PHONE.match(phone)):
        raise Refused(Refusal.INVALID_PARTNER)
    for team_id in team_ids:
        if await work.repos.teams.get(team_id) is None:
            raise Refused(Refusal.NO_SUCH_TEAM)
    return name, phone, area


async def edit(
    work: UnitOfWork,
    partner_id: int | None,
    name: str,
    kind: str,
    phone: str,
    area: str,
    team_ids: list[int],
    staff: str,
) -> None:
    """A partner's name, kind, phone, area and the teams they cover, changed (a new 民生委員
    for the same area keeps the agreement's row; their LINE and visits stay as they were)."""
    partner = await _present(work, partner_id)
    name, phone, area = await _checked(work, name, kind, phone, area, team_ids)
    await work.repos.partners.edit(partner.id, name, kind, phone, area, team_ids)
    await work.repos.admin.audit(staff, "partner_edited", f"partner {partner.id}", work.now)


async def add(
    work: UnitOfWork,
    name: str,
    kind: str,
    phone: str,
    area: str,
    team_ids: list[int],
    staff: str,
) -> int:
    """A partner and the teams they cover; on LINE once they send a code (`new_link_code`)."""
    name, phone, area = await _checked(work, name, kind, phone, area, team_ids)
    partner_id = await work.repos.partners.add(name, kind, phone, area, team_ids, work.now)
    await work.repos.admin.audit(staff, "partner_added", f"partner {partner_id}", work.now)
    return partner_id


async def _present(work: UnitOfWork, partner_id: int | None) -> Partner:
    partner = await work.repos.partners.get(partner_id) if partner_id else None
    if partner is None or partner.removed_at is not None:
        raise Refused(Refusal.NO_SUCH_PARTNER)
    return partner


async def new_link_code(work: UnitOfWork, partner_id: int | None, staff: str) -> str:
    """A one-time code for the partner to send from their own LINE (the code before stops
    working). Staff hand it to the partner (in person, on paper, by phone); whoever sends it
    first is that partner on LINE. A partner on LINE already moves to the account that sends
    it (a new phone). -> the code."""
    partner = await _present(work, partner_id)
    code = link_codes.new_code()
    await work.repos.partners.set_link_code(partner.id, code, work.now)
    await work.repos.admin.audit(staff, "partner_code", f"partner {partner.id}", work.now)
    return code


def code_expired(work: UnitOfWork, partner: Partner) -> bool:
    made = partner.link_code_at
    return made is None or made + LINK_CODE_LIFETIME <= work.now


async def link_by_code(work: UnitOfWork, member: Member, code: str | None) -> Partner:
    """The partner whose code `member` sent: their LINE from now on, and the code is spent.
    An unknown, spent or expired code is refused alike (nothing tells a guesser which)."""
    partner = await work.repos.partners.by_link_code(code) if code else None
    if partner is None or code is None or code_expired(work, partner):
        raise Refused(Refusal.PARTNER_CODE)
    if await work.repos.roster.of_member(member.id) is not None:
        # A LINE that is a register person's (a 民生委員 who scanned her letter on their own
        # phone): one account answers one person's roll-calls, not hers and a partner's.
        raise Refused(Refusal.PARTNER_ON_ROSTER)
    if not await work.repos.partners.link(partner.id, code, member.id, work.now):
        raise Refused(Refusal.PARTNER_CODE)
    await work.repos.admin.audit(
        actor(partner.id), "partner_linked", f"partner {partner.id} 会員ID {member.id}", work.now
    )
    return partner


async def remove(work: UnitOfWork, partner_id: int | None, staff: str) -> int:
    """The partner is no longer asked: their open visits are withdrawn (each case shows it),
    their later taps are refused, and on LINE they hear it. -> visits withdrawn."""
    partner = await _present(work, partner_id)
    if not await work.repos.partners.remove(partner.id, work.now):
        raise Refused(Refusal.NO_SUCH_PARTNER)
    withdrawn = await visits.withdraw(work, partner, staff)
    detail = f"partner {partner.id}" + (f" visits withdrawn {withdrawn}" if withdrawn else "")
    await work.repos.admin.audit(staff, "partner_removed", detail, work.now)
    return withdrawn


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
    partner = await _present(work, partner_id)
    visit_id = await work.repos.partners.ask(case.id, partner.id, staff, work.now)
    await work.repos.desk.add_step(case.id, staff, "visit_asked", work.now, note=partner.name)
    await work.repos.admin.audit(
        staff, "visit_asked", f"case {case.id} partner {partner.id}", work.now
    )
    if partner.on_line and partner.member_id is not None:
        on_line = await work.repos.members.get(partner.member_id)
        if on_line is not None and on_line.active:
            request = await request_of(work, visit_id)
            telling = _request_telling(work, request, on_line)
            # About her: 退会 empties it as it does every message about her.
            await push_to(work, on_line, [telling], "visit", about=request.person)
    return visit_id


def request_lines(locale: Locale, request: Request, card: str | None = None) -> list[str]:
    """The request's lines, for the printed page, and for LINE where the deployment keeps her
    details in the chat. `card`: her card's URL, where they stay off the chat (the request
    says where to read them, and carries the button)."""
    person = request.person
    lines = [locale.t("visit.who", name=display_name(locale, person), member_id=person.id)]
    if request.shown and card is not None:
        lines.append(locale.t("card.visit_where"))
    elif request.shown:
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
    services = work.services
    tel = sharing.chat_call_link(services, request.person, request.shown)
    links = [Link(locale.t("alert.call_button"), tel)] if tel else []
    if sharing.in_chat(services):
        lines = request_lines(locale, request)
    else:
        # Off the chat: her card, where the partner reads what the printed request says.
        card = sharing.card_link(locale, services, request.person)
        if card is not None and request.shown:
            links.append(card)
            lines = request_lines(locale, request, card.url)
        else:
            lines = _without_details(locale, request)
    title = locale.t("visit.title")
    return Telling.card(locale.language, title, "\n".join(lines), choices, links)


def _without_details(locale: Locale, request: Request) -> list[str]:
    """The request in LINE where her details stay off the chat and no card can show them (no
    My page, or she shows them to nobody): who, why, and to ask the desk."""
    person = request.person
    return [
        locale.t("visit.who", name=display_name(locale, person), member_id=person.id),
        locale.t("card.visit_ask_desk" if request.shown else "visit.not_shown"),
        locale.t(f"visit.reason.{request.case.reason}"),
        locale.t("visit.call_back"),
    ]


async def _partners_visit(work: UnitOfWork, partner: Member, visit_id: int | None) -> Request:
    """The visit, only for the partner it was asked of (the LINE account linked by their
    code), while they are a partner, and while it and its case are open."""
    request = await request_of(work, visit_id)
    if request.partner.member_id != partner.id:
        raise Refused(Refusal.NOT_ALLOWED)
    if request.partner.removed_at is not None or request.visit.state == visits.WITHDRAWN:
        raise Refused(Refusal.VISIT_WITHDRAWN)
    if not request.visit.open or not request.case.open:
        raise Refused(Refusal.CASE_CLOSED)
    return request


async def going(work: UnitOfWork, partner: Member, visit_id: int | None) -> Request:
    """向かいます: the desk sees the partner is on the way."""
    request = await _partners_visit(work, partner, visit_id)
    if await work.repos.partners.going(request.visit.id, work.now):
        who = actor(request.partner.id)
        await work.repos.desk.add_step(request.case.id, who, "visit_going", work.now)
        await work.repos.admin.audit(
            who, "visit_going", f"case {request.case.id} visit {request.visit.id}", work.now
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
    alert, and what the managers hear), as the partner (`partner:<id>`); 会えなかった keeps it
    open for the desk."""
    request = await _partners_visit(work, partner, visit_id)
    if outcome not in VISIT_OUTCOMES:
        raise Refused(Refusal.NOT_ALLOWED)
    await work.repos.partners.done(request.visit.id, outcome, work.now)
    who = actor(request.partner.id)
    await work.repos.desk.add_step(request.case.id, who, "visit_done", work.now, outcome)
    await work.repos.admin.audit(
        who, "visit_done", f"case {request.case.id} visit {request.visit.id}: {outcome}", work.now
    )
    if outcome != NOT_HOME:
        await desk.close(work, request.case.id, who, outcome)
    return request
