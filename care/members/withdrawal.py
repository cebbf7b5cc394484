"""退会: everything that acted for a person ends, and what she entered is deleted."""

from __future__ import annotations

from care.members import teams
from care.roster import letters
from care.rounds import checkins
from care.services import UnitOfWork
from storage.models import Member, PersonalFields


async def withdraw(work: UnitOfWork, member: Member) -> None:
    """退会: check-ins stop, the person leaves every team, what they entered is deleted, and
    nothing is left to act for her: her call number and consent, her devices, the events of
    hers kept after they were forwarded."""
    await checkins.stop_checkins(work, member, "withdrawn")
    # Her managers' daily notes named her among the others they watch (rows not about her
    # alone): asked before she leaves the teams that made them hers.
    noted_by = [manager.id for manager in await work.repos.teams.managers_watching(member.id)]
    for team, role in await work.repos.teams.teams_of(member.id):
        await teams.leave_team(work, team, member, role)
    await work.repos.members.set_personal(member.id, PersonalFields())
    await work.repos.members.set_memo(member.id, "")
    await work.repos.desk.forget_person(member.id)
    await work.repos.on_behalf.forget_person(member.id)
    for case in await work.repos.desk.cases_of(member.id):
        if case.open:
            # The desk decides what her leaving means for a case it holds: it shows on it.
            await work.repos.desk.add_step(case.id, "", "stopped", work.now, result="withdrawn")
    await work.repos.members.clear_schedule(member.id)
    await work.repos.members.set_paused_until(member.id, None)
    # Nothing acts for her once she has left: no call number or consent, no device URL that
    # answers a check-in (were she to come back), no event of hers kept after forwarding.
    await work.repos.calls.set_consent(member.id, None, False, None)
    await work.repos.calls.forget_verifications(member.id)
    await work.repos.devices.revoke_all(member.id, work.now)
    await work.repos.heat.forget(member.id)  # no heat check for her, nor the desk's mark
    await work.repos.forwards.forget_chat(member.line_user_id)
    # On the city's roster she stays (the city keeps it by law): reached by phone again.
    await letters.unlink(work, member)
    await work.repos.members.withdraw(member.id, work.now)
    await work.repos.handled.scrub_words_of(member.line_user_id)
    addresses = [a for a in (member.line_user_id, member.channel_address, member.call_number) if a]
    await work.repos.outbox.scrub_about(member.id, addresses)
    await work.repos.outbox.scrub_sent_to("daily_note", noted_by)
    await work.repos.admin.audit("member", "member_withdrew", f"会員ID {member.id}", work.now)
