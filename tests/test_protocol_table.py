"""The protocol, cell by cell: every (stage, event) of `care.rounds.protocol.decide`,
exhaustively, with nothing but the table; and docs/protocol.md's copy of it, equal to what the
module states."""

from __future__ import annotations

from pathlib import Path

import pytest

from care.rounds.protocol import (
    ALERT_STAGES,
    BY_TIME,
    CLOSED_STAGES,
    HELP_STAGES,
    OPEN_STAGES,
    TAKEN_STAGES,
    Audience,
    Decision,
    Event,
    Fact,
    Stage,
    decide,
    mermaid,
    table_markdown,
)

PROTOCOL_DOC = Path(__file__).resolve().parents[1] / "docs" / "protocol.md"
# What a person does applies in every stage: the protocol never drops her word.
ALWAYS = (
    Event.OK,
    Event.UNWELL,
    Event.HELP,
    Event.MESSAGE,
    Event.DISTRESS,
    Event.STOP,
    Event.ACTIVITY,
)
SAYS_SAFE_ONLY_ON = (Event.OK, Event.RECOVERED, Event.CONFIRM, Event.DESK_SAFE)
CELLS = [(stage, event) for stage in Stage for event in Event]


def _tells(decision: Decision, audience: Audience, fact: Fact) -> bool:
    return any(t.audience is audience and t.fact is fact for t in decision.tell)


@pytest.mark.parametrize(("stage", "event"), CELLS, ids=[f"{s}-{e}" for s, e in CELLS])
def test_every_cell_keeps_the_rules(stage: Stage, event: Event) -> None:
    decision = decide(stage, event)
    if decision is None:
        assert event not in ALWAYS, "a person's own word applies in every stage"
        return
    if decision.says_safe:
        assert event in SAYS_SAFE_ONLY_ON, "only the person, a manager or the desk say safe"
    if event in (Event.HELP, Event.DISTRESS):
        assert _tells(decision, Audience.MANAGERS, Fact.HELP_ALERT)
        at_desk = stage in (Stage.AT_DESK, Stage.HELP_AT_DESK)
        assert decision.after is (Stage.HELP_AT_DESK if at_desk else Stage.HELP)
    if event is Event.RECOVERED:
        assert stage in HELP_STAGES, "「もう大丈夫」 answers a call for help, nothing else"
        assert decision.after is Stage.SAFE
    if stage in ALERT_STAGES and decision.closes:
        allowed = (Event.RECOVERED, Event.CONFIRM, Event.DESK_SAFE, Event.DESK_CLOSE)
        if stage not in HELP_STAGES:
            allowed += (Event.OK,)
        assert event in allowed, "an alert closes only by an answer that says so"
    if stage in HELP_STAGES and event is Event.OK:
        assert decision.after is stage and not decision.says_safe
        assert _tells(decision, Audience.PERSON, Fact.STILL_HELP)
    if stage in HELP_STAGES and not decision.closes and event not in (Event.HELP, Event.DISTRESS):
        assert decision.after in HELP_STAGES, "a call for help stays one until it closes"
    if stage in ALERT_STAGES and event is Event.STOP:
        assert decision.after is stage, "a pause, a stop or a block never ends an alert"
        assert _tells(decision, Audience.MANAGERS, Fact.STOPPED_OPEN)
    if stage in ALERT_STAGES and event in (Event.MESSAGE, Event.UNWELL, Event.MISTAKE):
        assert decision.after is stage
    if event is Event.ACTIVITY:
        assert not decision.says_safe, "a device is never the person saying they are safe"
    if event is Event.DESK_CLOSE:
        assert not decision.says_safe
    if event is Event.CALL:
        assert decision.after is Stage.CALLED and stage is Stage.ASKED_AGAIN
    if stage in ALERT_STAGES and event is Event.REMIND:
        assert decision.after is stage and _tells(decision, Audience.ALERTED, Fact.STILL_OPEN)
        assert _tells(decision, Audience.UNTOLD, Fact.ALERT)
    if stage in ALERT_STAGES and event is Event.DUE:
        assert decision.after is stage, "no new round while an alert is open"
    if event in (Event.NOT_FOUND, Event.TAKER_SILENT):
        assert stage in TAKEN_STAGES and decision.after not in TAKEN_STAGES
        assert _tells(decision, Audience.MANAGERS, Fact.ALERT_AGAIN)


@pytest.mark.parametrize("stage", OPEN_STAGES)
def test_every_open_stage_has_a_deadline_that_reaches_someone(stage: Stage) -> None:
    """Nothing open waits on nobody: time itself moves every open stage, or tells someone."""
    moves = [
        decision
        for event in BY_TIME
        if (decision := decide(stage, event)) is not None
        and (decision.after is not stage or decision.tell)
    ]
    assert moves, f"{stage} waits with no deadline"


@pytest.mark.parametrize("stage", CLOSED_STAGES)
def test_a_closed_round_is_behind_her(stage: Stage) -> None:
    for event in Event:
        assert decide(stage, event) == decide(Stage.IDLE, event)


def test_the_protocol_doc_shows_the_protocol_as_the_module_states_it() -> None:
    text = PROTOCOL_DOC.read_text("utf-8")
    for mark, written in (("protocol-table", table_markdown()), ("protocol-diagram", mermaid())):
        start = text.index(f"<!-- {mark} -->") + len(f"<!-- {mark} -->")
        end = text.index(f"<!-- /{mark} -->")
        assert text[start:end].strip() == written


def test_every_telling_of_the_table_has_its_one_teller() -> None:
    """Who is told what is carried out in one place (care.rounds.carry): each (audience, fact) the
    table can say has exactly one teller, but what the wave or the chat's reply says to her."""
    import server.app  # noqa: F401  (every module that registers a teller)
    from care.rounds.carry import BY_THE_REPLY, BY_THE_WAVE, TELLERS
    from care.rounds.protocol import table

    said = {(t.audience, t.fact) for _, _, decision in table() for t in decision.tell}
    to_her = {(Audience.PERSON, fact) for fact in (*BY_THE_WAVE, *BY_THE_REPLY)}
    assert said - to_her <= set(TELLERS), sorted(said - to_her - set(TELLERS))
