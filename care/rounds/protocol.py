"""The safety protocol of 安否通知, whole: the stages a person's round goes through, the events
that move it, and who is told what at each step. Pure: no I/O, no clock, no LINE.

Every surface (the chat, My page, the console) and the scheduler ask `decide` before they change
a round or tell anyone anything, and `care.rounds.carry.carry_out` carries each decision out: the
stage change on her round, then each (audience, fact) it tells, by the one teller registered for
it. The table in docs/protocol.md is `table()` written out, and tests/test_protocol_*.py play
random lives through it.

The rule this module exists for: managers are told a person is safe only after the person's own
元気 (OK), a manager's 「無事を確認しました」, or the desk's staff finding them safe. A message or
a sticker is a sign of life, never a sign of safety: during an alert it reaches the managers as
the person's own words and the alert stays open; while a check-in waits it is answered with the
answer buttons again.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from storage.models import CheckinRound, RoundState


class Stage(StrEnum):
    IDLE = "idle"  # no round open: the next check-in comes at the schedule's hour
    ASKED = "asked"  # the check-in was sent; no answer yet
    ASKED_AGAIN = "asked_again"  # no answer for 24 h: the check-in was sent again
    # Still no answer 3 h later, for a person who asked for a call first: their phone rings
    # (its keys are the same answers); no answer, busy or a machine, and the managers are told.
    CALLED = "called"
    ALERTED = "alerted"  # still no answer 3 h later: the managers were alerted, turn by turn
    REALERTED = "realerted"  # nobody said 対応します an hour after the last turn: all again
    AT_DESK = "at_desk"  # nobody took it, even sent again: a case is open at the desk
    TAKEN = "taken"  # a manager said 対応します; the alert stays open until found safe
    # The one who took it was asked, after a while, whether they found the person; with no
    # answer (or まだ会えていない, or they left) every manager is alerted again.
    TAKEN_ASKED = "taken_asked"
    # 助けてほしい or words of distress: an urgent alert to every manager. A call for help
    # stays one through every later stage: an OK does not close it, only her fresh 「もう
    # 大丈夫」 to the question it brings, a manager's confirmation or the desk's outcome.
    HELP = "help"
    HELP_AT_DESK = "help_at_desk"  # a call for help the desk has a case of
    HELP_TAKEN = "help_taken"  # a call for help a manager said 対応します to
    HELP_TAKEN_ASKED = "help_taken_asked"  # ... and was asked whether they found her
    SAFE = "safe"  # closed: the person's own 元気
    CONFIRMED_SAFE = "confirmed_safe"  # closed: a manager's 無事を確認しました, or the desk's
    UNWELL = "unwell"  # closed before any alert: the person said 少し体調が悪い
    CLOSED = "closed"  # closed without an answer: paused, stopped, blocked or 退会


class Event(StrEnum):
    DUE = "due"  # the schedule's hour came
    NO_ANSWER = "no_answer"  # the wait of the ladder ran out (24 h, then 3 h; a call unanswered)
    CALL = "call"  # the re-send's wait ran out for a person who takes a call before the alert
    # A device of the person's (a plug, a door sensor) that they said counts as 元気: while a
    # check-in waits it answers it; during an alert it is a sign of life, never safety.
    ACTIVITY = "activity"
    NEXT_TURN = "next_turn"  # the managers told so far did not take it within their turn
    NOBODY_TOOK = "nobody_took"  # an hour after the last turn nobody said 対応します
    OK = "ok"  # 元気です / OK, by the person
    UNWELL = "unwell"  # 少し体調が悪い, by the person
    HELP = "help"  # 助けてほしい, by the person
    MESSAGE = "message"  # a text or sticker from the person, with no words of distress
    DISTRESS = "distress"  # a text with words of distress (locale: distress.words)
    TAKE = "take"  # 対応します, by a manager
    CONFIRM = "confirm"  # 無事を確認しました, by a manager
    STOP = "stop"  # paused, stopped, blocked the bot, or 退会
    ESCALATE = "escalate"  # the re-sent alert's wait ran out and nobody took it
    DESK_SAFE = "desk_safe"  # the desk's staff found the person safe (a call, a visit)
    DESK_CLOSE = "desk_close"  # the desk closed the case otherwise (救急搬送, 警察対応, ...)
    # まちがえて押しました, by the person after 助けてほしい: a word to the managers, never a
    # close (a hand that pressed help by mistake may be the hand of someone who needs it).
    MISTAKE = "mistake"
    # 「もう大丈夫」: the person's fresh answer to 「まだ助けが必要ですか？」, the question an OK
    # brings during a call for help (only the question asked since her latest call counts).
    RECOVERED = "recovered"
    TAKER_DUE = "taker_due"  # the one who took the alert has had it a while (2 h): ask them
    NOT_FOUND = "not_found"  # the taker: まだ会えていない; or they left, blocked, were removed
    TAKER_SILENT = "taker_silent"  # the taker did not answer whether they found her
    JOINED = "joined"  # a manager joined her team (or was added) while an alert is open
    REMIND = "remind"  # the alert has been open another day (MIMAMORI_ALERT_REMIND_EVERY)


class Audience(StrEnum):
    PERSON = "person"  # the person watched
    ALERTED = "alerted"  # the managers this round's alerts reached
    MANAGERS = "managers"  # every manager watching the person now
    FIRST_TURN = "first_turn"  # the managers told first (all of them, in a team without turns)
    NEXT_TURN = "next_turn"  # the managers whose turn comes next
    OTHERS = "others"  # every manager watching the person now, but the one who acted
    TAKER = "taker"  # the manager who said 対応します
    UNTOLD = "untold"  # managers watching her now whom the open alert has not reached yet
    # The 社協 or city desk, through the case it has (none: nobody to tell, but 体調 opens one
    # where the deployment asks for it).
    DESK = "desk"


class Fact(StrEnum):
    CHECKIN = "checkin"  # お元気ですか？ with the answer buttons
    RESEND = "resend"  # the same, asked again
    CALL = "call"  # the same, by a phone call with keys for the answers
    ASK_AGAIN = "ask_again"  # a message while a check-in waits: the buttons once more (reply)
    ALERT = "alert"  # no answer: call or visit
    ALERT_AGAIN = "alert_again"  # nobody took it yet
    HELP_ALERT = "help_alert"  # urgent: asking for help (with their words, if they wrote)
    WORDS = "words"  # 「○○さんからのメッセージ」: the person's words, quoted
    SAFE = "safe"  # the person answered 元気: safe
    UNWELL = "unwell"  # the person is not feeling well
    TAKEN = "taken"  # who takes it
    CONFIRMED = "confirmed"  # which manager found the person safe
    STOPPED = "stopped"  # check-ins stop (paused until, stopped, blocked, 退会)
    CASE = "case"  # a case opens at the desk
    AT_DESK = "at_desk"  # the desk has it now (the managers may still take it)
    DESK_CONFIRMED = "desk_confirmed"  # the desk found the person safe
    DESK_CLOSED = "desk_closed"  # the desk closed the case; it will tell the family how
    MISTAKE = "mistake"  # the person says help was pressed by mistake; the alert stays open
    ACTIVITY = "activity"  # 最後の動き: a device saw the person move; the alert stays open
    STILL_HELP = "still_help"  # まだ助けが必要ですか？ (もう大丈夫 / まだ助けてほしい)
    RECOVERED = "recovered"  # the person said 『もう大丈夫』 after asking for help
    FOUND_HER = (
        "found_her"  # to the taker: did you find her? (無事を確認しました / まだ会えていない)
    )
    STILL_OPEN = "still_open"  # a check-in came while the alert is open: it still is
    # Check-ins stop (paused, stopped, blocked) while an alert is open: the alert does not,
    # and the managers hear that it waits for one of them.
    STOPPED_OPEN = "stopped_open"
    NOT_FOUND = "not_found"  # the taker did not find her (or left): the alert is nobody's


@dataclass(frozen=True)
class Tell:
    audience: Audience
    fact: Fact


@dataclass(frozen=True)
class Decision:
    """What an event does to a stage: the stage after it, and who is told what."""

    after: Stage
    tell: tuple[Tell, ...] = ()

    @property
    def closes(self) -> bool:
        return self.after in CLOSED_STAGES

    @property
    def says_safe(self) -> bool:
        return any(t.fact in SAFE_FACTS for t in self.tell)


HELP_STAGES = (Stage.HELP, Stage.HELP_AT_DESK, Stage.HELP_TAKEN, Stage.HELP_TAKEN_ASKED)
ALERT_STAGES = (
    Stage.ALERTED,
    Stage.REALERTED,
    Stage.AT_DESK,
    Stage.TAKEN,
    Stage.TAKEN_ASKED,
    *HELP_STAGES,
)
TAKEN_STAGES = (Stage.TAKEN, Stage.TAKEN_ASKED, Stage.HELP_TAKEN, Stage.HELP_TAKEN_ASKED)
CLOSED_STAGES = (Stage.SAFE, Stage.CONFIRMED_SAFE, Stage.UNWELL, Stage.CLOSED)
WAITING_STAGES = (Stage.ASKED, Stage.ASKED_AGAIN, Stage.CALLED)
OPEN_STAGES = (*WAITING_STAGES, *ALERT_STAGES)
# The events time brings (the sweep), as opposed to what a person, a manager or staff do.
BY_TIME = (
    Event.DUE,
    Event.NO_ANSWER,
    Event.CALL,
    Event.NEXT_TURN,
    Event.NOBODY_TOOK,
    Event.ESCALATE,
    Event.TAKER_DUE,
    Event.TAKER_SILENT,
    Event.REMIND,
)
BY_MANAGER = (Event.TAKE, Event.CONFIRM)
BY_DESK = (Event.DESK_SAFE, Event.DESK_CLOSE)
# Who may say a person is safe: the person (OK; 「もう大丈夫」 after help), a manager, the desk.
SAFE_FACTS = (Fact.SAFE, Fact.RECOVERED, Fact.CONFIRMED, Fact.DESK_CONFIRMED)


def _tell(*pairs: tuple[Audience, Fact]) -> tuple[Tell, ...]:
    return tuple(Tell(audience, fact) for audience, fact in pairs)


# 少し体調が悪い: every manager hears it; the desk too, on the round's case or (where the
# deployment asks for it, MIMAMORI_DESK_UNWELL) as a case of its own.
_UNWELL = _tell((Audience.MANAGERS, Fact.UNWELL), (Audience.DESK, Fact.UNWELL))
_HELP = Decision(Stage.HELP, _tell((Audience.MANAGERS, Fact.HELP_ALERT)))
_HELP_AT_DESK = Decision(
    Stage.HELP_AT_DESK,
    _tell((Audience.MANAGERS, Fact.HELP_ALERT), (Audience.DESK, Fact.HELP_ALERT)),
)
_STOP = Decision(Stage.CLOSED, _tell((Audience.MANAGERS, Fact.STOPPED)))
# During an alert only her later check-ins stop: the alert stays open for a manager or the
# desk to close (a person who pauses, stops or blocks the bot is not safe for it), and the
# managers hear exactly that.
_STOP_ALERT = _tell((Audience.MANAGERS, Fact.STOPPED_OPEN), (Audience.DESK, Fact.STOPPED))
# The taker did not find her, said nothing, or is gone: the alert is nobody's again, every
# manager hears it again, and the desk's clock starts over (care.rounds.ladder: ESCALATE).
_UNTAKEN = _tell((Audience.MANAGERS, Fact.ALERT_AGAIN), (Audience.DESK, Fact.NOT_FOUND))
_HELP_OF = {
    Stage.ALERTED: Stage.HELP,
    Stage.REALERTED: Stage.HELP,
    Stage.AT_DESK: Stage.HELP_AT_DESK,
    Stage.TAKEN: Stage.HELP_TAKEN,
    Stage.TAKEN_ASKED: Stage.HELP_TAKEN_ASKED,
}


def _as_help(stage: Stage, help_: bool) -> Stage:
    return _HELP_OF.get(stage, stage) if help_ else stage


def decide(stage: Stage, event: Event) -> Decision | None:
    """The protocol: what `event` does in `stage`; None when it does not apply there (a
    manager's tap on an alert that has closed, a re-send with no check-in waiting)."""
    if stage in CLOSED_STAGES:
        stage = Stage.IDLE  # a closed round is behind the person: as if none were open
    if event is Event.HELP or event is Event.DISTRESS:
        # In every stage, at once; a help already open is raised again. The desk's case of an
        # alert it holds stays its, and hears the call for help on it.
        if stage in (Stage.AT_DESK, Stage.HELP_AT_DESK):
            return _HELP_AT_DESK
        return _HELP
    if event is Event.STOP:
        if stage in ALERT_STAGES:
            return Decision(stage, _STOP_ALERT)
        return _STOP if stage in OPEN_STAGES else Decision(Stage.IDLE, _STOP.tell)
    if stage is Stage.IDLE:
        return _idle(event)
    if stage in WAITING_STAGES:
        return _waiting(stage, event)
    return _alerted(stage, event)


def _idle(event: Event) -> Decision | None:
    return {
        Event.DUE: Decision(Stage.ASKED, _tell((Audience.PERSON, Fact.CHECKIN))),
        # 元気です from the rich menu with no check-in waiting: thanks, and nobody is told.
        Event.OK: Decision(Stage.IDLE),
        Event.UNWELL: Decision(Stage.IDLE, _UNWELL),
        Event.MESSAGE: Decision(Stage.IDLE),
        Event.ACTIVITY: Decision(Stage.IDLE),
        # A case with no open round (a roll-call's 助けが必要, 体調, a person who blocked the
        # bot): the managers hear what the desk found.
        Event.DESK_SAFE: Decision(Stage.IDLE, _tell((Audience.MANAGERS, Fact.DESK_CONFIRMED))),
        Event.DESK_CLOSE: Decision(Stage.IDLE, _tell((Audience.MANAGERS, Fact.DESK_CLOSED))),
    }.get(event)


def _waiting(stage: Stage, event: Event) -> Decision | None:
    if event is Event.NO_ANSWER:
        if stage is Stage.ASKED:
            return Decision(Stage.ASKED_AGAIN, _tell((Audience.PERSON, Fact.RESEND)))
        return Decision(Stage.ALERTED, _tell((Audience.FIRST_TURN, Fact.ALERT)))
    if event is Event.CALL:
        if stage is Stage.ASKED_AGAIN:
            return Decision(Stage.CALLED, _tell((Audience.PERSON, Fact.CALL)))
        return None
    return {
        # No new round while one is open: its re-send and alert stand for the slot.
        Event.DUE: Decision(stage),
        Event.OK: Decision(Stage.SAFE),  # nobody was alerted, so nobody needs telling
        Event.UNWELL: Decision(Stage.UNWELL, _UNWELL),
        Event.MESSAGE: Decision(stage, _tell((Audience.PERSON, Fact.ASK_AGAIN))),
        # The person chose that their device's sign of life stands for 元気; nobody was
        # alerted, so nobody needs telling.
        Event.ACTIVITY: Decision(Stage.SAFE),
        # The desk's case (体調, an earlier round) found her while a check-in waits: what the
        # desk found stands for the check-in too.
        Event.DESK_SAFE: Decision(
            Stage.CONFIRMED_SAFE, _tell((Audience.MANAGERS, Fact.DESK_CONFIRMED))
        ),
        Event.DESK_CLOSE: Decision(Stage.CLOSED, _tell((Audience.MANAGERS, Fact.DESK_CLOSED))),
    }.get(event)


def _alerted(stage: Stage, event: Event) -> Decision | None:
    help_ = stage in HELP_STAGES
    plain = {v: k for k, v in _HELP_OF.items() if k is not Stage.REALERTED}.get(stage, stage)
    found = _alerted_plain(plain, event, help_)
    if found is None:
        return None
    return Decision(_as_help(found.after, help_), found.tell)


def _alerted_plain(stage: Stage, event: Event, help_: bool) -> Decision | None:
    """An alert's rules, `stage` read without the call for help (`help_` says whether it is
    one): help changes only what an OK does, and what the stage is called."""
    if event is Event.NEXT_TURN:
        # A team's order: a neighbour or 民生委員 first, then the family; those told before
        # keep the alert (any of them may still take it).
        if stage is Stage.ALERTED and not help_:
            return Decision(Stage.ALERTED, _tell((Audience.NEXT_TURN, Fact.ALERT)))
        return None
    if event is Event.NOBODY_TOOK:
        if stage is Stage.ALERTED:  # the urgent alert goes again too, once (storage marks it)
            after = Stage.ALERTED if help_ else Stage.REALERTED
            return Decision(after, _tell((Audience.MANAGERS, Fact.ALERT_AGAIN)))
        return None
    if event is Event.ESCALATE:
        # After the managers' last turn (the alert sent again), or at once for a person the
        # desk watches itself or nobody watches, where the deployment has a desk: the desk
        # gets a case and the managers hear that it has it. The ladder says when.
        if stage in (Stage.ALERTED, Stage.REALERTED):
            return Decision(
                Stage.AT_DESK,
                _tell((Audience.DESK, Fact.CASE), (Audience.MANAGERS, Fact.AT_DESK)),
            )
        return None
    if event is Event.TAKER_DUE:
        if stage is Stage.TAKEN:
            return Decision(Stage.TAKEN_ASKED, _tell((Audience.TAKER, Fact.FOUND_HER)))
        return None
    if event is Event.TAKER_SILENT:
        return Decision(Stage.REALERTED, _UNTAKEN) if stage is Stage.TAKEN_ASKED else None
    if event is Event.NOT_FOUND:
        if stage in (Stage.TAKEN, Stage.TAKEN_ASKED):
            return Decision(Stage.REALERTED, _UNTAKEN)
        return None
    if event is Event.OK:
        if help_:
            # An OK (this card's, an older one's, the menu's) is not 「もう大丈夫」: she is
            # asked plainly, and only her answer to that closes the call for help.
            return Decision(stage, _tell((Audience.PERSON, Fact.STILL_HELP)))
        return Decision(
            Stage.SAFE, _tell((Audience.ALERTED, Fact.SAFE), (Audience.DESK, Fact.SAFE))
        )
    if event is Event.RECOVERED:
        if not help_:
            return None
        return Decision(
            Stage.SAFE, _tell((Audience.ALERTED, Fact.RECOVERED), (Audience.DESK, Fact.RECOVERED))
        )
    taken = stage in (Stage.TAKEN, Stage.TAKEN_ASKED)
    return {
        # No new round opens while the alert is open: its own reminders stand for the slot.
        Event.DUE: Decision(stage),
        # Each day it stays open, whatever her schedule (paused, stopped, blocked): the
        # managers it reached hear so, and one who came to watch her since gets the alert.
        Event.REMIND: Decision(
            stage, _tell((Audience.ALERTED, Fact.STILL_OPEN), (Audience.UNTOLD, Fact.ALERT))
        ),
        # A manager who joins while it is open gets it at once: an open alert is never left
        # with nobody it reached.
        Event.JOINED: Decision(stage, _tell((Audience.UNTOLD, Fact.ALERT))),
        # Not 元気: every manager hears it, and the alert stays open until someone is sure.
        Event.UNWELL: Decision(stage, _UNWELL),
        # Her words reach the managers the alert reached, and the desk's case where it has
        # one (a call for help nobody else watches goes to the desk alone).
        Event.MESSAGE: Decision(
            stage, _tell((Audience.ALERTED, Fact.WORDS), (Audience.DESK, Fact.WORDS))
        ),
        # A device is not the person: the managers alerted hear of the movement (once a
        # round: care.rounds.devices), and the alert stays theirs to close.
        Event.ACTIVITY: Decision(stage, _tell((Audience.ALERTED, Fact.ACTIVITY))),
        # The first 対応します has it; a later one hears who does, and nobody else is told.
        Event.TAKE: Decision(stage)
        if taken
        else Decision(
            Stage.TAKEN, _tell((Audience.OTHERS, Fact.TAKEN), (Audience.DESK, Fact.TAKEN))
        ),
        Event.CONFIRM: Decision(
            Stage.CONFIRMED_SAFE,
            _tell((Audience.OTHERS, Fact.CONFIRMED), (Audience.DESK, Fact.CONFIRMED)),
        ),
        Event.DESK_SAFE: Decision(
            Stage.CONFIRMED_SAFE, _tell((Audience.MANAGERS, Fact.DESK_CONFIRMED))
        ),
        Event.DESK_CLOSE: Decision(Stage.CLOSED, _tell((Audience.MANAGERS, Fact.DESK_CLOSED))),
        # The alert stays theirs to close: only an OK, a manager or the desk ends it.
        Event.MISTAKE: Decision(
            stage, _tell((Audience.MANAGERS, Fact.MISTAKE), (Audience.DESK, Fact.MISTAKE))
        )
        if help_
        else None,
    }.get(event)


@dataclass(frozen=True)
class Reading:
    """A round's columns, read in this one place: its stage, and what within an alert's stage
    the steps of time wait on (care.rounds.ladder)."""

    stage: Stage
    turns_left: bool = False  # a later turn of managers is still to be told
    sent_again: bool = False  # it went to every manager again (nobody took it in time)


def read_round(checkin: CheckinRound | None) -> Reading:
    """Where a round stands, read from its row."""
    if checkin is None:
        return Reading(Stage.IDLE)
    state = checkin.state
    if state is RoundState.OPEN:
        return Reading(Stage.ASKED)
    if state is RoundState.RESENT:
        return Reading(Stage.CALLED if checkin.called_at is not None else Stage.ASKED_AGAIN)
    if state is RoundState.ALERTED:
        sent_again = checkin.realerted_at is not None
        if checkin.taken_by is not None:
            stage = Stage.TAKEN if checkin.taker_asked_at is None else Stage.TAKEN_ASKED
        elif checkin.escalated_at is not None:
            stage = Stage.AT_DESK
        elif sent_again and not checkin.urgent:
            stage = Stage.REALERTED
        else:
            stage = Stage.ALERTED
        turns_left = checkin.next_turn_at is not None
        return Reading(_as_help(stage, checkin.urgent), turns_left, sent_again)
    if state is RoundState.CANCELLED:
        return Reading(Stage.CLOSED)
    if checkin.close_reason in ("confirmed", "desk_confirmed"):
        return Reading(Stage.CONFIRMED_SAFE)
    return Reading(Stage.UNWELL if checkin.answer == "unwell" else Stage.SAFE)


def stage_of(checkin: CheckinRound | None) -> Stage:
    """Where a round stands, read from its row (`read_round`'s stage)."""
    return read_round(checkin).stage


def table() -> list[tuple[Stage, Event, Decision]]:
    """Every (stage, event) the protocol acts on, in order: docs/protocol.md's table."""
    rows = []
    for stage in (Stage.IDLE, *OPEN_STAGES):
        for event in Event:
            decision = decide(stage, event)
            if decision is not None:
                rows.append((stage, event, decision))
    return rows


def table_markdown() -> str:
    """The protocol as docs/protocol.md shows it to a 社協: stage, event, after, who hears what."""
    lines = ["| stage | event | after | who is told what |", "|---|---|---|---|"]
    for stage, event, decision in table():
        told = ", ".join(f"{t.audience.value}: {t.fact.value}" for t in decision.tell) or "-"
        lines.append(f"| {stage.value} | {event.value} | {decision.after.value} | {told} |")
    return "\n".join(lines)


def mermaid() -> str:
    """The protocol as a state diagram (Mermaid), for docs/protocol.md: every change of stage and
    the events that make it; what an event does within a stage is the table's. A closed round
    is behind the person, so each closed stage leads back to idle."""
    edges: dict[tuple[Stage, Stage], list[str]] = {}
    for stage, event, decision in table():
        if decision.after is not stage:
            edges.setdefault((stage, decision.after), []).append(event.value)
    lines = ["```mermaid", "stateDiagram-v2", f"    [*] --> {Stage.IDLE.value}"]
    for (before, after), events in edges.items():
        lines.append(f"    {before.value} --> {after.value}: {', '.join(events)}")
    for closed in CLOSED_STAGES:
        lines.append(f"    {closed.value} --> {Stage.IDLE.value}")
    lines.append("```")
    return "\n".join(lines)
