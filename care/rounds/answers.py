"""What the person says, carried through the protocol: 元気 (OK), 少し体調が悪い, 助けてほしい, and
any message or sticker (words of distress among them).

`care.rounds.protocol.decide` says what each one does; this module changes the round and writes,
into the caller's unit of work, what each audience is told.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from care.desk import cases as desk
from care.errors import Refusal, Refused
from care.rounds import alerts, carry
from care.rounds.carry import Occasion, teller
from care.rounds.notify import ALERT_BUTTONS, phone_only, push_to, tell_managers_about
from care.rounds.protocol import Audience, Decision, Event, Fact, Stage, Tell, decide, stage_of
from care.rounds.status import CheckinState, checkin_state
from care.services import UnitOfWork
from ground.i18n import I18n, Locale
from ground.telling import Choice, Telling
from storage.models import CheckinRound, Member

# The answers that are the person's last OK: to a check-in, and 「もう大丈夫」 after help.
LAST_OK = (Event.OK, Event.UNWELL, Event.RECOVERED)
_KATAKANA = {code: code - 0x60 for code in range(0x30A1, 0x30F7)}


def _folded(text: str) -> str:
    """Text as distress words are matched: full-width and half-width alike, katakana read as
    hiragana, case ignored (「タスケテ」「ﾀｽｹﾃ」「たすけて」 are one word)."""
    return unicodedata.normalize("NFKC", text).translate(_KATAKANA).casefold()


def distress_words(i18n: I18n, language: str | None) -> tuple[str, ...]:
    """The words that start the help path: the person's language's list and Japanese's (a
    deployment extends either in its locale override, key distress.words)."""
    return _folded_list(i18n.get(language).t("distress.words"), i18n.get(None).t("distress.words"))


@functools.lru_cache(maxsize=16)
def _folded_list(*lists: str) -> tuple[str, ...]:
    # Every message from a person is looked at (twice: the route and the observer): the lists
    # are split and folded once, not per message.
    words = [w.strip() for text in lists for w in text.split(",") if w.strip()]
    return tuple(dict.fromkeys(_folded(word) for word in words))


def is_distress(text: str, words: tuple[str, ...]) -> bool:
    """True when the text holds a word of distress. A number (119) counts only standing on
    its own, so a phone number or an invite code that contains it ("7119-ABCD", "K119X") does
    not raise an alert."""
    folded = _folded(text)
    for word in words:
        if word.isdigit():
            if re.search(rf"(?<![0-9a-z]){re.escape(word)}(?![0-9a-z])", folded):
                return True
        elif word in folded:
            return True
    return False


@dataclass(frozen=True)
class Answered:
    """An answer or a message after the protocol has acted on it."""

    before: Stage
    decision: Decision
    open_after: CheckinRound | None  # the person's open round after it (None: none is open)
    member: Member  # the person as she is after it
    state: CheckinState  # where her check-ins stand after it
    told: tuple[Member, ...] = ()  # the managers told (the help alert's, the words')
    at_desk: bool = False  # the call for help is a case at the desk too

    def tells(self, audience: Audience, fact: Fact) -> bool:
        return any(t.audience is audience and t.fact is fact for t in self.decision.tell)


async def answer(
    work: UnitOfWork,
    member: Member,
    event: Event,
    words: str | None = None,
    kind: str = "text",
    open_round: CheckinRound | None = None,
) -> Answered:
    """The person's OK, unwell, help, message or distress, on whichever round is open.
    Help with nobody watching changes no round (there is nobody to alert; the person is told
    to call 119), so a round left open by it never holds back their next check-ins.
    `words`: what they wrote; `kind`: what they sent when it was not text (sticker, image).
    `open_round`: the person's open round, as the caller read it in this unit of work, with
    nothing written since (read here otherwise)."""
    # Derived, not read back: an OK tap at the 07:00 rush costs no further queries.
    after = member.with_last_ok(work.now) if event in LAST_OK else member
    today = work.now.astimezone(work.services.timezone).date()

    def answered(
        decision: Decision,
        open_after: CheckinRound | None,
        told: tuple[Member, ...] = (),
        at_desk: bool = False,
    ) -> Answered:
        state = checkin_state(after, open_after, today)
        return Answered(stage, decision, open_after, after, state, told, at_desk)

    checkin = open_round or await work.repos.rounds.open_round(member.id)
    stage = stage_of(checkin)
    decision = decide(stage, event)
    if decision is None:
        # Not an answer in this stage (a stale 「もう大丈夫」): nothing changes, nobody is told.
        return answered(Decision(stage), checkin)
    if event in LAST_OK:
        # The person answered a check-in: their last OK (what an alert and the notes show).
        await work.repos.members.set_last_ok(member.id, work.now)
    raises_help = any(tell.fact is Fact.HELP_ALERT for tell in decision.tell)
    if raises_help and not (
        await work.repos.teams.managers_watching(member.id) or desk.exists(work)
    ):
        # Nobody to tell and no desk: no round is raised (she is told to call 119), so none
        # left open holds back her next check-ins.
        return answered(decision, checkin)
    occasion = Occasion(member, checkin, event, words=_quoted(work, event, words, kind), kind=kind)
    carried = await carry.carry_out(work, occasion, decision)
    checkin, told = carried.checkin, carried.told
    if raises_help and checkin is not None:
        # Nobody watching her, or the desk watches her itself: the desk has it at once.
        await desk.take_over_now(work, member, checkin)
    # Only the replies to help and to her words name the desk: an OK tap at the 07:00 rush
    # asks nothing more.
    at_desk = (
        (raises_help or event is Event.MESSAGE)
        and checkin is not None
        and await work.repos.desk.open_of_round(checkin.id) is not None
    )
    open_after = None if decision.closes else checkin
    return answered(decision, open_after, tuple(told.managers), at_desk)


def _quoted(work: UnitOfWork, event: Event, words: str | None, kind: str) -> str | None:
    """Her words as they are quoted (a sticker or a photo said so, for the desk's case)."""
    if event is Event.MESSAGE and words is None:
        key = "words.sticker_on_case" if kind == "sticker" else "words.media_on_case"
        return work.locale(None).t(key)
    return words[: alerts.WORDS_QUOTED] if words else None


@teller((Audience.ALERTED, Fact.SAFE), (Audience.ALERTED, Fact.RECOVERED))
async def _safe(work: UnitOfWork, occasion: Occasion, _: Tell) -> int:
    """The managers the alert reached hear she is safe (her OK), or her 「もう大丈夫」."""
    checkin = occasion.checkin
    reached = await work.repos.outbox.alerted_members(checkin.id) if checkin else []
    key = "alert.recovered_notice" if occasion.event is Event.RECOVERED else "safe.body"
    return await tell_managers_about(
        work, occasion.person, "safe", key, round_id=_id(checkin), only=reached
    )


@teller((Audience.MANAGERS, Fact.UNWELL))
async def _unwell(work: UnitOfWork, occasion: Occasion, _: Tell) -> int:
    return await tell_managers_about(
        work, occasion.person, "unwell", "unwell.body", round_id=_id(occasion.checkin)
    )


def _id(checkin: CheckinRound | None) -> int | None:
    return checkin.id if checkin is not None else None


@teller((Audience.ALERTED, Fact.WORDS))
async def pass_on_words(work: UnitOfWork, occasion: Occasion, _: Tell) -> list[Member]:
    """「○○さんからのメッセージ」: what the person wrote during an alert, quoted as written,
    to the managers the alert reached; the alert stays open. -> the managers told."""
    member, checkin = occasion.person, occasion.checkin
    assert checkin is not None
    alerted = set(await work.repos.outbox.alerted_members(checkin.id))
    watching = [m for m in await work.repos.teams.managers_watching(member.id) if m.id in alerted]
    if occasion.kind == "text":
        key = "words.body"
    else:
        key = "words.sticker" if occasion.kind == "sticker" else "words.media"
    only = [m.id for m in watching]
    words = occasion.words if occasion.kind == "text" else ""
    await tell_managers_about(
        work,
        member,
        "words",
        key,
        round_id=checkin.id,
        only=only,
        buttons=ALERT_BUTTONS,
        words=words or "",
    )
    return watching


async def take_back_help(work: UnitOfWork, member: Member, round_id: int | None) -> bool:
    """まちがえて押しました after 助けてほしい: every manager hears it was a mistake (and the
    desk, on its case), once; the alert stays open for a manager or an OK to close, since a
    person who cannot say what happened may still need someone. -> whether anyone was told
    now (False: that call for help is over, or they were told already)."""
    checkin = await work.repos.rounds.open_round(member.id)
    if checkin is None or checkin.id != round_id or not checkin.urgent:
        return False
    decision = decide(stage_of(checkin), Event.MISTAKE)
    if decision is None or await work.repos.outbox.told_about(checkin.id, "mistake"):
        return False
    await carry.carry_out(work, Occasion(member, checkin, Event.MISTAKE), decision)
    return True


def help_question(work: UnitOfWork, locale: Locale, checkin: CheckinRound) -> Telling:
    """まだ助けが必要ですか？: what an OK brings during a call for help. Its 「もう大丈夫」 names
    the call it answers (the round and the moment help was asked): a call for help raised
    again since makes it stale."""
    codec = work.services.postbacks
    asked = int((checkin.alerted_at or checkin.opened_at).timestamp())
    choices = [
        Choice(
            "recovered",
            locale.t("checkin.recovered_button"),
            codec.encode("recovered", r=checkin.id, a=asked),
        ),
        Choice(
            "help",
            locale.t("checkin.still_help_button"),
            codec.encode("ok", t=int(checkin.slot_at.timestamp()), v="help"),
        ),
    ]
    return Telling.card(
        locale.language,
        locale.t("checkin.still_help_title"),
        locale.t("checkin.still_help"),
        choices,
    )


async def recovered(
    work: UnitOfWork, member: Member, round_id: int | None, asked: int | None
) -> Answered | None:
    """「もう大丈夫」, the person's answer to the question her OK brought during a call for
    help: the alert closes, and the managers it reached hear her words as they are. Only the
    question asked since her latest call for help counts. -> None when it is stale."""
    checkin = await work.repos.rounds.open_round(member.id)
    if checkin is None or checkin.id != round_id or not checkin.urgent:
        return None
    if asked != int((checkin.alerted_at or checkin.opened_at).timestamp()):
        return None
    if decide(stage_of(checkin), Event.RECOVERED) is None:
        return None
    return await answer(work, member, Event.RECOVERED, open_round=checkin)


async def answer_on_call(
    work: UnitOfWork, member_id: int, value: str, round_id: int | None, slot: int | None
) -> tuple[Member, Answered | None]:
    """A key pressed on a call (care.rounds.calls): the same answer as the LINE button. Keys
    2 (体調) and 3 (助けて) count at any moment, as the LINE buttons do; key 1 (元気) only for
    the round the call was about (named, or its check-in's slot) while it is open (None: that
    round is over, and nothing is done). Key 1 during a call for help does not close it: she
    is asked in LINE, where she has it, whether she still needs help."""
    member = await work.repos.members.get(member_id)
    if member is None:
        raise Refused(Refusal.NOT_FOUND)
    checkin = await work.repos.rounds.open_round(member.id)
    event = Event(value)
    if event is Event.OK and (
        checkin is None or (checkin.id != round_id and int(checkin.slot_at.timestamp()) != slot)
    ):
        return member, None
    work.services.metrics.calls.labels(f"key_{value}").inc()
    answered = await answer(work, member, event, open_round=checkin)
    if answered.tells(Audience.PERSON, Fact.STILL_HELP) and not phone_only(member):
        question = help_question(work, work.locale(member.language), checkin)
        await push_to(work, member, [question], "still_help", round_id=checkin.id)
    return member, answered
