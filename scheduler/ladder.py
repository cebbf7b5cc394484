"""The 安否通知 ladder as a pure rule: given a round, its timings and now, what is next."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from storage.models import CheckinRound, RoundState


class Step(StrEnum):
    RESEND = "resend"
    ALERT = "alert"


@dataclass(frozen=True)
class LadderTimings:
    resend_after: timedelta  # no OK this long after the check-in reached LINE -> 再送
    alert_after: timedelta  # no OK this long after the re-send -> alert the managers


def next_step(checkin: CheckinRound, timings: LadderTimings) -> tuple[Step, datetime] | None:
    """The next escalation of an open round and when it is due; None when nothing is to come.

    The clock of each step starts when LINE accepted the previous message, not when it was
    recorded: a person cannot answer a check-in that a LINE outage held back.
    """
    if checkin.state is RoundState.OPEN and checkin.sent_at is not None:
        return Step.RESEND, checkin.sent_at + timings.resend_after
    if checkin.state is RoundState.RESENT and checkin.resent_at is not None:
        return Step.ALERT, checkin.resent_at + timings.alert_after
    return None


def due_step(checkin: CheckinRound, timings: LadderTimings, now: datetime) -> Step | None:
    step = next_step(checkin, timings)
    if step is None or step[1] > now:
        return None
    return step[0]
