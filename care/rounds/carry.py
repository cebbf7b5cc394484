"""The protocol carried out: what `care.rounds.protocol.decide` says each audience is told, said by
one function for every event (a person's, a manager's, the desk's, a partner's, a phone key's, a
device's, or time's).

`tell` walks a decision's `tell` and hands each (audience, fact) to the teller registered for
it. The tellers live beside what they say (the alert card in care.rounds.alerts, the desk's case in
care.desk.cases, ...) and register themselves when their module is imported, so that this module
depends on none of them; `TELLERS` is the whole list, and tests/test_protocol_table.py checks
that every (audience, fact) the table can say has its teller. The stage change itself is the
caller's (one row's update, in the same unit of work).

What goes to the person herself is not sent here: a check-in, a re-send and a call are written
in bulk by the wave (care.rounds.checkins, care.rounds.calls), and a reply (the answer buttons
again, 「まだ助けが必要ですか？」) is the chat's: `Told.person` lists those facts for the caller.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from care.rounds.protocol import Audience, Decision, Event, Fact, Stage, Tell, stage_of
from care.services import UnitOfWork
from storage.models import CheckinRound, Member, RoundState


@dataclass(frozen=True)
class Occasion:
    """What happened, as the tellers need it: whose round, which event, who acted, and what
    came with it."""

    person: Member
    checkin: CheckinRound | None  # her round, as it stands after the stage change
    event: Event
    actor: Member | None = None  # the manager who acted (the others hear it; the taker)
    who: str = ""  # who acted, as the desk's case shows them
    words: str | None = None  # what she wrote (or the case's note of what she sent)
    kind: str = "text"  # what she sent, when it was not text (sticker, image)
    reason: str = ""  # a stop's reason: paused, paused_open, stopped, unfollow, withdrawn
    until: datetime | None = None  # a pause's end
    outcome: str | None = None  # what the desk or a partner found
    device: str = ""  # the device that saw her move
    only: tuple[int, ...] | None = None  # the managers of the turn being told
    notice: str = ""  # which words say the desk has it (at_desk_notice, watching_notice)
    lead: str | None = None  # the line heading an alert sent again (why it comes again)


@dataclass
class Told:
    """What was told: the managers reached (those a help alert or her words reached), the
    person's own facts left to the caller's reply, and how many messages went."""

    managers: list[Member] = field(default_factory=list)
    person: list[Fact] = field(default_factory=list)
    count: int = 0


Teller = Callable[[UnitOfWork, Occasion, Tell], Awaitable[list[Member] | int | None]]
TELLERS: dict[tuple[Audience, Fact], Teller] = {}
# Said to the person by the wave (in bulk) or by the chat's reply, never by a teller.
BY_THE_WAVE = (Fact.CHECKIN, Fact.RESEND, Fact.CALL)
BY_THE_REPLY = (Fact.ASK_AGAIN, Fact.STILL_HELP)


def teller(*pairs: tuple[Audience, Fact]) -> Callable[[Teller], Teller]:
    """Register a teller for each (audience, fact) it says."""

    def register(function: Teller) -> Teller:
        for pair in pairs:
            if pair in TELLERS:
                raise ValueError(f"two tellers for {pair}")
            TELLERS[pair] = function
        return function

    return register


async def tell(work: UnitOfWork, occasion: Occasion, decision: Decision | None) -> Told:
    """Everything the decision says, to everyone it says it to, in its order."""
    told = Told()
    for said in decision.tell if decision is not None else ():
        if said.audience is Audience.PERSON and said.fact in (*BY_THE_WAVE, *BY_THE_REPLY):
            told.person.append(said.fact)
            continue
        found = TELLERS.get((said.audience, said.fact))
        if found is None:
            raise LookupError(f"nobody tells {said.audience.value}: {said.fact.value}")
        reached = await found(work, occasion, said)
        if isinstance(reached, list):
            told.managers.extend(m for m in reached if m not in told.managers)
            told.count += len(reached)
        elif isinstance(reached, int):
            told.count += reached
    return told


@dataclass(frozen=True)
class Carried:
    """A decision carried out: her round as it stands after it, whether the stage change took
    (a second 対応します finds the alert taken already), and what was told."""

    checkin: CheckinRound | None
    changed: bool
    told: Told


# How each event that closes a round leaves it: (state, reason, answer).
_CLOSES: dict[Event, tuple[RoundState, str, str | None]] = {
    Event.OK: (RoundState.ANSWERED, "ok", "ok"),
    Event.RECOVERED: (RoundState.ANSWERED, "recovered", "ok"),
    Event.ACTIVITY: (RoundState.ANSWERED, "device", "ok"),
    Event.UNWELL: (RoundState.ANSWERED, "unwell", "unwell"),
    Event.DESK_SAFE: (RoundState.ANSWERED, "desk_confirmed", None),
    Event.DESK_CLOSE: (RoundState.CANCELLED, "desk_closed", None),
}


async def carry_out(work: UnitOfWork, occasion: Occasion, decision: Decision) -> Carried:
    """The one way the protocol acts: the decision's stage change on her round, then what it
    tells, in the caller's unit of work. What the wave writes in bulk (a check-in, its
    re-send's row, the call before the alert) and a turn's bookkeeping stay the callers'."""
    before = stage_of(occasion.checkin)
    checkin, changed = await _enter(work, occasion, decision)
    if not changed and decision.after is not before:
        # The change did not take (another's 対応します was first): nothing is told of it.
        return Carried(checkin, False, Told())
    told = await tell(work, replace(occasion, checkin=checkin), decision)
    return Carried(checkin, changed, told)


async def _enter(
    work: UnitOfWork, occasion: Occasion, decision: Decision
) -> tuple[CheckinRound | None, bool]:
    """The stage change `decision` makes on her round. -> (the round after, whether it took)."""
    rounds, now, event = work.repos.rounds, work.now, occasion.event
    checkin = occasion.checkin
    before = stage_of(checkin)
    if event in (Event.HELP, Event.DISTRESS):
        round_id = (
            checkin.id if checkin is not None else await rounds.open_alert(occasion.person.id, now)
        )
        await rounds.raise_urgent(round_id, now, occasion.words)
        return await rounds.get(round_id), True
    if checkin is None:
        return None, False
    if decision.closes:
        if event is Event.CONFIRM:
            assert occasion.actor is not None
            await rounds.confirm(checkin.id, occasion.actor.id, now)
        elif event is Event.STOP:
            await rounds.close(checkin.id, RoundState.CANCELLED, occasion.reason, now)
        else:
            state, reason, answer = _CLOSES[event]
            await rounds.close(checkin.id, state, reason, now, answer)
        return checkin, True
    if event is Event.NO_ANSWER:
        state = RoundState.RESENT if decision.after is Stage.ASKED_AGAIN else RoundState.ALERTED
        await rounds.set_state(checkin.id, state, now)
        return replace(checkin, state=state, alerted_at=checkin.alerted_at or now), True
    if event is Event.TAKE and decision.after is not before:
        assert occasion.actor is not None
        return checkin, await rounds.take_alert(checkin.id, occasion.actor.id, now)
    if event in (Event.NOT_FOUND, Event.TAKER_SILENT):
        await rounds.untake(checkin.id, now)
        return await rounds.get(checkin.id), True
    marks = {
        Event.NOBODY_TOOK: rounds.mark_realerted,
        Event.ESCALATE: rounds.mark_escalated,
        Event.TAKER_DUE: rounds.ask_taker,
        Event.REMIND: rounds.mark_reminded,
    }
    if event in marks:
        await marks[event](checkin.id, now)
        return checkin, True
    return checkin, decision.after is not before
