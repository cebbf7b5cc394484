"""Nobody watches her now: the last manager watching a person goes (leaves the team, blocks
the bot, withdraws, is taken off the team by the staff, or is taken off watching by her).

Her check-ins go on, but a missed one reaches nobody: that must not happen in silence. She is
told plainly, once, that nobody watches her check-ins now, with a button that shows her the
invitation for a new manager; where the deployment has a desk, it gets a non-urgent case
about her (one open at a time), so that staff can call her or find her someone. A person the
desk itself watches (運営が見守る) is not alone, and hears nothing.

Carried out in two halves around the change: `watched_by` before it (who the manager watches
now), `tell_the_alone` after it (which of them nobody watches any more).
"""

from __future__ import annotations

from care.desk import cases as desk
from care.rounds.notify import display_name, push_to
from care.services import UnitOfWork
from ground.telling import Choice, Telling
from storage.models import Member, Role, RoundState

REASON = "unwatched"  # the desk case's reason


async def watched_by(work: UnitOfWork, manager: Member) -> list[Member]:
    """Before a manager goes: the people they watch now."""
    return await work.repos.teams.users_watched_by(manager.id)


async def tell_the_alone(work: UnitOfWork, watched: list[Member], gone: Member) -> int:
    """After `gone` went: each of `watched` whom nobody watches any more is told, and the
    desk hears of them. -> how many were left alone."""
    alone = 0
    for person in watched:
        if person.id == gone.id or not person.active:
            continue
        if await work.repos.teams.managers_watching(person.id):
            continue
        if await desk.watches(work, person):
            continue  # the desk watches her itself: her alerts are its cases
        alone += 1
        has_desk = desk.exists(work)
        await _tell_her(work, person, gone, has_desk)
        if has_desk and await work.repos.desk.open_of_member(person.id, REASON) is None:
            await desk.open_case(work, person, REASON)
        # An alert of hers still open (a call for help above all) has nobody to go to now:
        # the desk has it at once, as when nobody watched her from the start.
        checkin = await work.repos.rounds.open_round(person.id)
        if checkin is not None and checkin.state is RoundState.ALERTED:
            await desk.take_over_now(work, person, checkin)
    return alone


async def _tell_her(work: UnitOfWork, person: Member, gone: Member, has_desk: bool) -> None:
    locale = work.locale(person.language)
    text = locale.t("unwatch.alone_desk" if has_desk else "unwatch.alone")
    text = locale.t("unwatch.alone_lead", name=display_name(locale, gone)) + "\n" + text
    choices = []
    team = next(
        (t for t, role in await work.repos.teams.teams_of(person.id) if role is Role.USER), None
    )
    if team is not None:
        label = locale.t("unwatch.invite_button")
        data = work.services.postbacks.encode("team_invite_one", t=team.id, r=Role.MANAGER.value)
        choices.append(Choice("invite", label, data))
    telling = Telling.card(locale.language, locale.t("unwatch.alone_title"), text, choices)
    await push_to(work, person, [telling], "alone", about=gone)
