"""How a visit asked of a partner ends without their outcome: the case closed first (whoever
closed it: staff, another partner, the person's own OK, a manager's confirmation), or the
partner was removed. A partner asked on LINE hears it, in words that carry nothing of the
person (no name, no address: a partner removed by mistake, or a LINE account that changed
hands, learns nothing), and their request card's buttons are refused from then on."""

from __future__ import annotations

from care.rounds.notify import push_to
from care.services import UnitOfWork
from ground.telling import Telling
from storage.models import Member
from storage.partners import Partner, Visit

WITHDRAWN = "withdrawn"  # the partner was removed
NOT_NEEDED = "not_needed"  # the case closed before the partner reported


async def _partner_on_line(work: UnitOfWork, partner: Partner | None) -> Member | None:
    """The LINE account the partner linked with their code, while it is a member."""
    if partner is None or partner.member_id is None:
        return None
    member = await work.repos.members.get(partner.member_id)
    return member if member is not None and member.active else None


async def _call_off(work: UnitOfWork, visit: Visit) -> bool:
    """The visit is no longer needed; its partner on LINE hears so (once: the transaction
    that ended it tells). -> True when this call ended it."""
    if not await work.repos.partners.end(visit.id, NOT_NEEDED, work.now):
        return False
    partner = await work.repos.partners.get(visit.partner_id)
    member = await _partner_on_line(work, partner)
    if member is not None and partner is not None and partner.removed_at is None:
        locale = work.locale(member.language)
        text = locale.t("visit.not_needed_notice", at=locale.when(visit.asked_at))
        await push_to(work, member, [Telling.sentence(locale.language, text)], "visit")
    return True


async def call_off(work: UnitOfWork, case_id: int) -> int:
    """The case closed: every visit still asked for it ends. -> how many."""
    ended = 0
    for visit in await work.repos.partners.open_visits_of_case(case_id):
        ended += await _call_off(work, visit)
    return ended


async def call_off_after_closing(work: UnitOfWork, limit: int) -> int:
    """The sweep's step: visits still asked for a case that closed by any way (the person's
    OK and a manager's confirmation close a case where no visit is in sight). -> how many
    were looked at."""
    found = await work.repos.partners.open_visits_of_closed_cases(limit)
    for visit in found:
        await _call_off(work, visit)
    return len(found)


async def withdraw(work: UnitOfWork, partner: Partner, staff: str) -> int:
    """The partner was removed: each visit asked of them ends (the case shows it), and on
    LINE they hear that they are no longer asked. -> how many visits were withdrawn."""
    withdrawn = 0
    for visit in await work.repos.partners.open_visits_of_partner(partner.id):
        if await work.repos.partners.end(visit.id, WITHDRAWN, work.now):
            withdrawn += 1
            await work.repos.desk.add_step(
                visit.case_id, staff, "visit_withdrawn", work.now, note=partner.name
            )
    member = await _partner_on_line(work, partner)
    if member is not None:
        locale = work.locale(member.language)
        lines = [locale.t("visit.removed_notice")]
        if withdrawn:
            lines.append(locale.t("visit.withdrawn_notice", count=withdrawn))
        text = "\n".join(lines)
        await push_to(work, member, [Telling.sentence(locale.language, text)], "visit")
    return withdrawn
