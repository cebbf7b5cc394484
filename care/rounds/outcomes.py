"""What a case's outcome leads to next. 入院していた (closed by staff, or by a partner who found
it so): the desk is offered a pause of the person's check-ins until she is home (退院するまで, the
open-ended pause she could set herself), so that her daily check-ins do not alert her family
again while she is in hospital. Staff choose it; the managers hear it as they hear any pause,
and she hears who paused them and how to start them again."""

from __future__ import annotations

from datetime import datetime

from care.desk import cases as desk
from care.errors import Refusal, Refused
from care.members import schedules
from care.rounds.notify import push_to
from care.rounds.schedule import paused_on
from care.services import UnitOfWork
from ground.telling import Telling
from storage.desk import DeskCase
from storage.models import Member

PAUSE_OUTCOMES = ("hospital",)


async def _pausable(work: UnitOfWork, case: DeskCase) -> Member | None:
    """The case's person, where its outcome offers a pause she does not have yet."""
    if case.open or case.outcome not in PAUSE_OUTCOMES:
        return None
    member = await work.repos.members.get(case.member_id)
    if member is None or not member.active or member.interval_days is None:
        return None
    today = work.now.astimezone(work.services.timezone).date()
    return None if paused_on(member.paused_until, today) else member


async def pause_offered(work: UnitOfWork, case: DeskCase) -> bool:
    """The case page offers 退院するまでお休み: closed as 入院していた, and her check-ins run."""
    return await _pausable(work, case) is not None


async def pause_until_home(work: UnitOfWork, case_id: int | None, staff: str) -> datetime:
    """Her check-ins rest until she starts them again (or the longest pause ends), as staff
    chose on the case; the step and the audit name them. -> when they would come back."""
    case = await desk.case_of(work, case_id)
    member = await _pausable(work, case)
    if member is None:
        raise Refused(Refusal.NOT_ALLOWED)
    resume_at = await schedules.pause(work, member, None, open_ended=True)
    await work.repos.desk.add_step(case.id, staff, "paused", work.now)
    await work.repos.admin.audit(
        staff, "desk_paused", f"case {case.id} 会員ID {member.id}", work.now
    )
    locale = work.locale(member.language)
    # How she resumes, naming only what her kind of account shows her.
    back = locale.t(f"first_minute.back.{work.services.settings.menus}")
    text = locale.t("desk.paused_notice", back=back)
    await push_to(work, member, [Telling.sentence(locale.language, text)], "desk_paused")
    return resume_at
