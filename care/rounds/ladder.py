"""The protocol's escalations as pure rules: the 再送 after 24 h, the alert 3 h later (to the
managers of the first turn, then of each next turn when its team's turn is up), the alert
sent again to all when no manager took it within an hour of the last turn, the case at the
desk when nobody took it after that either (where the deployment has a desk), and the つながり
report 23 h after a group's post.

Each step waits for a round to sit in one state since one moment (LINE accepting the message
before it). `WAITS` states that once; the repositories build their SQL filters from it, the
engine's wake-up asks `Protocol.due_at`, and the sweep asks `due_step`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from care.rounds.protocol import ALERT_STAGES, Stage, read_round
from storage.models import CheckinRound, GroupRound


class Step(StrEnum):
    RESEND = "resend"  # 安否通知: the check-in is sent again
    ALERT = "alert"  # 安否通知: every manager watching the person is alerted
    NEXT_TURN = "next_turn"  # 安否通知: the managers of one turn did not take it; the next told
    REALERT = "realert"  # 安否通知: nobody said 対応します; every manager is alerted again
    ESCALATE = "escalate"  # 安否通知: still nobody took it; a case opens at the desk
    REPORT = "report"  # つながり: the group hears who has not tapped OK
    # 安否通知: the call before the alert (care.rounds.calls) went unanswered, busy, to a machine,
    # or was not reported on within its patience: the managers are alerted.
    CALL_ENDED = "call_ended"
    # 安否通知: the manager who said 対応します has had it `taken_check_after`: they are asked
    # whether they found the person.
    TAKER_CHECK = "taker_check"
    # 安否通知: the taker did not answer within `realert_after`: every manager is alerted again.
    TAKER_SILENT = "taker_silent"
    # 安否通知: the alert has been open another `remind_every`: the managers it reached hear it
    # still is (and one who came to watch her since gets it), whatever her schedule.
    REMIND = "remind"


class Untaken(StrEnum):
    """Which alerts nobody has taken a step waits on."""

    TURNS_LEFT = "turns_left"  # not taken, and managers of a later turn not told yet
    NOT_REALERTED = "not_realerted"  # not taken, every turn told, not yet sent again
    REALERTED = "realerted"  # not taken though sent again, and not yet at the desk
    TAKEN = "taken"  # taken, and the taker not yet asked whether they found the person
    TAKER_ASKED = "taker_asked"  # taken, and the taker asked


@dataclass(frozen=True)
class Wait:
    """A round in `state` since the moment in its `since` column is waiting for the step."""

    table: str
    state: str
    since: str
    untaken: Untaken | None = None  # only alerts nobody has taken, at this point
    called: bool | None = None  # only rounds whose person was called (True) or not (False)
    # What the step waits in, as `care.rounds.protocol.read_round` reads a round (the columns above
    # are the same wait in SQL, for the sweep's read): the stages, and the alert's facets.
    stages: tuple[Stage, ...] = ()
    turns_left: bool | None = None
    sent_again: bool | None = None

    def holds_for(self, round_: CheckinRound | GroupRound) -> bool:
        """The round is where this wait begins."""
        if isinstance(round_, GroupRound):
            return str(round_.state) == self.state
        reading = read_round(round_)
        return (
            reading.stage in self.stages
            and self.turns_left in (None, reading.turns_left)
            and self.sent_again in (None, reading.sent_again)
        )


_ROUNDS = "checkin_rounds"
WAITS: dict[Step, Wait] = {
    Step.RESEND: Wait(_ROUNDS, "open", "sent_at", stages=(Stage.ASKED,)),
    # After the re-send's wait: the alert, or first a call (care.rounds.calls decides which).
    Step.ALERT: Wait(_ROUNDS, "resent", "resent_at", called=False, stages=(Stage.ASKED_AGAIN,)),
    Step.CALL_ENDED: Wait(_ROUNDS, "resent", "call_until", called=True, stages=(Stage.CALLED,)),
    # The next turn's moment is set on the round (each team has its own turn length).
    Step.NEXT_TURN: Wait(
        _ROUNDS,
        "alerted",
        "next_turn_at",
        Untaken.TURNS_LEFT,
        stages=(Stage.ALERTED,),
        turns_left=True,
    ),
    Step.REALERT: Wait(
        _ROUNDS,
        "alerted",
        "turn_at",
        Untaken.NOT_REALERTED,
        stages=(Stage.ALERTED, Stage.HELP),
        turns_left=False,
        sent_again=False,
    ),
    Step.ESCALATE: Wait(
        _ROUNDS,
        "alerted",
        "realerted_at",
        Untaken.REALERTED,
        stages=(Stage.REALERTED, Stage.HELP),
        sent_again=True,
    ),
    Step.TAKER_CHECK: Wait(
        _ROUNDS, "alerted", "taken_at", Untaken.TAKEN, stages=(Stage.TAKEN, Stage.HELP_TAKEN)
    ),
    Step.TAKER_SILENT: Wait(
        _ROUNDS,
        "alerted",
        "taker_asked_at",
        Untaken.TAKER_ASKED,
        stages=(Stage.TAKEN_ASKED, Stage.HELP_TAKEN_ASKED),
    ),
    Step.REMIND: Wait(_ROUNDS, "alerted", "reminded_at", stages=ALERT_STAGES),
    Step.REPORT: Wait("group_rounds", "open", "posted_at"),
}
LADDER = (Step.RESEND, Step.ALERT)


@dataclass(frozen=True)
class Timings:
    """The timings of the protocol (settings: MIMAMORI_RESEND_AFTER, _ALERT_AFTER,
    _GROUP_REPORT_AFTER, _REALERT_AFTER, _DESK_AFTER, _DESK_UNWELL, _TAKEN_CHECK_AFTER,
    _ALERT_REMIND_EVERY). An open alert is said to be still open every `remind_every`. An
    alert a manager took is theirs for `taken_check_after`, then they are asked whether they
    found the person (and have `realert_after` to answer). Without `desk_after` the
    deployment has no desk, and an alert nobody takes stays with the managers; `desk_unwell`
    makes 「少し体調が悪い」 a case at the desk too."""

    resend_after: timedelta = timedelta(hours=24)
    alert_after: timedelta = timedelta(hours=3)
    report_after: timedelta = timedelta(hours=23)
    realert_after: timedelta = timedelta(hours=1)
    desk_after: timedelta | None = None
    desk_unwell: bool = False
    taken_check_after: timedelta = timedelta(hours=2)
    remind_every: timedelta = timedelta(hours=24)

    @property
    def steps(self) -> tuple[Step, ...]:
        """The steps this deployment takes."""
        return tuple(s for s in Step if s is not Step.ESCALATE or self.desk_after is not None)

    def wait(self, step: Step) -> timedelta:
        waits = {
            Step.RESEND: self.resend_after,
            Step.ALERT: self.alert_after,
            Step.NEXT_TURN: timedelta(0),
            Step.REALERT: self.realert_after,
            Step.ESCALATE: self.desk_after,
            Step.REPORT: self.report_after,
            # The call's own patience is set on the round (care.rounds.calls), then cut short by
            # Twilio's report that nobody answered.
            Step.CALL_ENDED: timedelta(0),
            Step.TAKER_CHECK: self.taken_check_after,
            Step.TAKER_SILENT: self.realert_after,
            Step.REMIND: self.remind_every,
        }
        found = waits[step]
        if found is None:
            raise ValueError(f"this deployment has no {step} step")
        return found

    def due_at(self, step: Step, since: datetime) -> datetime:
        """When a round waiting for `step` since `since` gets it."""
        return since + self.wait(step)

    def waiting_since_at_most(self, step: Step, now: datetime) -> datetime:
        """The SQL side of `due_at`: rounds waiting since this moment or earlier are due."""
        return now - self.wait(step)


def waiting_for(
    round_: CheckinRound | GroupRound, steps: tuple[Step, ...] = tuple(Step)
) -> tuple[Step, datetime] | None:
    """The step (of `steps`) a round waits for and since when; None when nothing is to come.

    The clock of each step starts when LINE accepted the previous message, not when it was
    recorded: a person cannot answer a check-in that a LINE outage held back.
    """
    table = "group_rounds" if isinstance(round_, GroupRound) else "checkin_rounds"
    for step in steps:
        wait = WAITS[step]
        if wait.table == table and wait.holds_for(round_):
            since = getattr(round_, wait.since)
            return (step, since) if since is not None else None
    return None


def next_step(round_: CheckinRound | GroupRound, timings: Timings) -> tuple[Step, datetime] | None:
    """The next escalation of an open round and when it is due."""
    waiting = waiting_for(round_, timings.steps)
    if waiting is None:
        return None
    step, since = waiting
    return step, timings.due_at(step, since)


def due_step(round_: CheckinRound | GroupRound, timings: Timings, now: datetime) -> Step | None:
    found = next_step(round_, timings)
    if found is None or found[1] > now:
        return None
    return found[0]
