"""What a person does with their own check-ins and card, whichever surface they use: register,
come back after a block, set the schedule, pause until a date, resume, stop, withdraw, answer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from care.desk import cases as desk
from care.errors import Refusal, Refused
from care.rounds import alone, checkins, taking
from care.rounds.schedule import next_checkin
from care.services import UnitOfWork
from storage.models import CheckinRound, Member, RoundState


async def register(work: UnitOfWork, line_user_id: str, name: str, language: str) -> Member:
    """A person the bot meets (a follow, a first message, My page): known from then on."""
    member, _ = await work.repos.members.register(line_user_id, name, language, work.now)
    return member


async def come_back(work: UnitOfWork, member: Member) -> Member:
    """Unblocked: check-ins start again from the next hour the schedule and any pause allow,
    not from the slots missed while blocked."""
    schedule = checkins.schedule_of(member)
    if schedule is not None:
        tz = work.services.timezone
        next_at = next_checkin(schedule, member.paused_until, work.now, tz)
        await work.repos.members.set_next_due(member.id, next_at)
    return await work.repos.members.get(member.id) or member


async def block(work: UnitOfWork, member: Member) -> int:
    """Blocked the bot: no more check-ins, and the managers hear it; anyone they watched
    whom nobody watches now is told so (care.rounds.alone). -> managers told."""
    watched = await alone.watched_by(work, member)
    await work.repos.members.block(member.id)
    # A manager who blocks the bot can no longer be asked about an alert they took.
    await taking.taker_gone(work, member)
    await alone.tell_the_alone(work, watched, member)
    return await checkins.stop_checkins(work, member, "unfollow")


async def heard_by_nobody(work: UnitOfWork, member: Member) -> bool:
    """Nobody would hear of a missed check-in or a call for help: no manager watches her and
    the deployment has no desk (she is told so plainly, and to call 119 herself)."""
    if desk.exists(work):
        return False
    return not await work.repos.teams.managers_watching(member.id)


async def choose_language(work: UnitOfWork, member: Member, language: str | None) -> Member:
    """日本語, やさしい日本語 or English, as the person chooses (LINE's own setting is only the
    first guess). -> the person, in their language from now on."""
    if language not in work.services.i18n.languages:
        raise Refused(Refusal.INVALID_LANGUAGE)
    await work.repos.members.set_language(member.id, language)
    return replace(member, language=language)


async def viewable(work: UnitOfWork, viewer: Member, member_id: int | None) -> Member:
    """A card the viewer may read: their own, or a user of a team they manage. Nobody else's."""
    member = await work.repos.members.get(member_id) if member_id else None
    if member is None or not (
        member.id == viewer.id or await work.repos.teams.is_manager_of(viewer.id, member.id)
    ):
        raise Refused(Refusal.NOT_ALLOWED)
    return member


async def accept_terms(work: UnitOfWork, member: Member) -> None:
    await work.repos.members.accept_terms(member.id, work.now)


HISTORY_DAYS = 30


@dataclass(frozen=True)
class HistoryEntry:
    """One check-in of the last weeks: how the person answered, and how long it took."""

    slot_at: datetime
    answer: str  # ok, unwell, help, message, none (no answer), confirmed (by a manager), open
    minutes: int | None  # from the check-in reaching LINE to the answer


def history_entry(checkin: CheckinRound) -> HistoryEntry:
    minutes = None
    if checkin.state is RoundState.ANSWERED and checkin.close_reason == "confirmed":
        answer = "confirmed"
    elif checkin.state is RoundState.ANSWERED:
        answer = checkin.answer or ("message" if checkin.close_reason == "message" else "ok")
        if checkin.sent_at and checkin.closed_at:
            minutes = max(0, int((checkin.closed_at - checkin.sent_at).total_seconds() // 60))
    elif checkin.answer == "help":
        answer = "help"
    elif checkin.state is RoundState.ALERTED:
        answer = "none"
    else:
        answer = "open"
    return HistoryEntry(checkin.slot_at, answer, minutes)


async def history(work: UnitOfWork, member: Member) -> list[HistoryEntry]:
    """The last 30 days of check-ins: a lengthening delay is a signal families want to see."""
    since = work.now - timedelta(days=HISTORY_DAYS)
    rounds = await work.repos.rounds.of_member_since(member.id, since)
    return [history_entry(r) for r in rounds if r.state is not RoundState.CANCELLED]
