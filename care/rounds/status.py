"""Where a person's check-ins stand (running, paused, stopped, blocked, and the open round's
state): what the chat, My page and the console all show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from care.rounds.schedule import paused_on
from care.services import UnitOfWork
from ground.i18n import Locale
from storage.models import CheckinRound, Member, RoundState


class CheckinStatus(StrEnum):
    RUNNING = "running"  # check-ins come at the schedule's hour
    PAUSED = "paused"  # none before `paused_until`
    STOPPED = "stopped"  # no schedule
    BLOCKED = "blocked"  # the person blocked the bot
    PAUSED_OPEN = "paused_open"  # 退院するまで: paused until the person resumes


@dataclass(frozen=True)
class CheckinState:
    """Where a person's check-ins stand: what the chat, My page and the console all show."""

    status: CheckinStatus
    next_at: datetime | None  # the next check-in, only while running or until a pause ends
    paused_until: date | None
    round: RoundState | None  # the open round's state, if one is open

    @property
    def alert_open(self) -> bool:
        return self.round is RoundState.ALERTED

    @property
    def paused(self) -> bool:
        """Resting, until a date or until the person resumes (退院するまで)."""
        return self.status in (CheckinStatus.PAUSED, CheckinStatus.PAUSED_OPEN)


def checkin_state(member: Member, open_round: CheckinRound | None, today: date) -> CheckinState:
    if not member.active:
        status = CheckinStatus.BLOCKED
    elif member.interval_days is None:
        status = CheckinStatus.STOPPED
    elif paused_on(member.paused_until, today):
        status = CheckinStatus.PAUSED_OPEN if member.open_pause else CheckinStatus.PAUSED
    else:
        status = CheckinStatus.RUNNING
    return CheckinState(
        status=status,
        next_at=member.next_due_at
        if status in (CheckinStatus.RUNNING, CheckinStatus.PAUSED)
        else None,
        paused_until=member.paused_until
        if status in (CheckinStatus.PAUSED, CheckinStatus.PAUSED_OPEN)
        else None,
        round=open_round.state if open_round is not None else None,
    )


def describe_checkins(locale: Locale, state: CheckinState) -> str:
    """The next check-in as every surface says it (running, paused until, stopped, blocked)."""
    return locale.t(
        f"checkins.{state.status.value}",
        next=locale.when(state.next_at),
        until=locale.day(state.paused_until) if state.paused_until else "",
    )


def next_sentence(locale: Locale, state: CheckinState) -> str:
    """The next check-in as a sentence of its own: a time when one is coming, and plainly
    that none is when check-ins are paused or stopped (never 「次のお知らせは なし」)."""
    return locale.t(
        f"first_minute.next.{state.status.value}",
        next=locale.when(state.next_at),
        until=locale.day(state.paused_until) if state.paused_until else "",
    )


async def state_of(work: UnitOfWork, member: Member) -> CheckinState:
    today = work.now.astimezone(work.services.timezone).date()
    return checkin_state(member, await work.repos.rounds.open_round(member.id), today)
