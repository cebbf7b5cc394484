"""What the person says, carried through the protocol: 元気 (OK), 少し体調が悪い, 助けてほしい, and
any message or sticker (words of distress among them).

`care.protocol.decide` says what each one does; this module changes the round and writes, into
the caller's unit of work, what each audience is told.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

from care import alerts, desk
from care.notify import tell_managers_about
from care.protocol import Audience, Decision, Event, Fact, Stage, decide, stage_of
from care.services import UnitOfWork
from ground.i18n import I18n, Locale
from ground.telling import Choice, Telling
from storage.models import CheckinRound, Member, RoundState

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
    its own, so a phone number that contains it does not raise an alert."""
    folded = _folded(text)
    for word in words:
        if word.isdigit():
            if re.search(rf"(?<![0-9]){re.escape(word)}(?![0-9])", folded):
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
    checkin = open_round or await work.repos.rounds.open_round(member.id)
    stage = stage_of(checkin)
    decision = decide(stage, event)
    assert decision is not None, f"{event} is an answer in every stage"
    if event in LAST_OK:
        # The person answered a check-in: their last OK (what an alert and the notes show).
        await work.repos.members.set_last_ok(member.id, work.now)
    told: list[Member] = []
    raises_help = any(tell.fact is Fact.HELP_ALERT for tell in decision.tell)
    at_desk = False
    if raises_help and (await work.repos.teams.managers_watching(member.id) or desk.exists(work)):
        # Nobody watching her, but a desk: the desk has her call for help at once.
        checkin, told = await alerts.ask_for_help(work, member, checkin, words)
        at_desk = await work.repos.desk.open_of_round(checkin.id) is not None
    elif decision.after is Stage.SAFE and checkin is not None:
        reason = "recovered" if event is Event.RECOVERED else "ok"
        await work.repos.rounds.close(checkin.id, RoundState.ANSWERED, reason, work.now, "ok")
    elif decision.after is Stage.UNWELL and checkin is not None:
        await work.repos.rounds.close(
            checkin.id, RoundState.ANSWERED, "unwell", work.now, "unwell"
        )
    for tell in decision.tell:
        if tell.audience is Audience.DESK:
            continue  # the desk's case hears it below
        if tell.fact in (Fact.SAFE, Fact.RECOVERED):
            alerted = await work.repos.outbox.alerted_members(checkin.id) if checkin else []
            key = "safe.body" if tell.fact is Fact.SAFE else "alert.recovered_notice"
            await tell_managers_about(
                work, member, "safe", key, round_id=_id(checkin), only=alerted
            )
        elif tell.fact is Fact.UNWELL:
            await tell_managers_about(work, member, "unwell", "unwell.body", round_id=_id(checkin))
        elif tell.fact is Fact.WORDS and checkin is not None:
            told = await pass_on_words(work, member, checkin, words, kind)
    if event is Event.MESSAGE and words is None:
        # A sticker or a photo: the case says what came, as the managers' message does.
        words = work.locale(None).t(
            "words.sticker_on_case" if kind == "sticker" else "words.media_on_case"
        )
    quoted = words[: alerts.WORDS_QUOTED] if words else None
    await desk.hear_all(work, checkin, decision, member=member, words=quoted)
    if event is Event.MESSAGE and checkin is not None:
        at_desk = await work.repos.desk.open_of_round(checkin.id) is not None
    open_after = None if decision.closes else checkin
    return Answered(stage, decision, open_after, tuple(told), at_desk)


def _id(checkin: CheckinRound | None) -> int | None:
    return checkin.id if checkin is not None else None


async def pass_on_words(
    work: UnitOfWork, member: Member, checkin: CheckinRound, words: str | None, kind: str
) -> list[Member]:
    """「○○さんからのメッセージ」: what the person wrote during an alert, quoted as written,
    to the managers the alert reached; the alert stays open. -> the managers told."""
    alerted = set(await work.repos.outbox.alerted_members(checkin.id))
    watching = [m for m in await work.repos.teams.managers_watching(member.id) if m.id in alerted]

    if words is not None:
        key = "words.body"
    else:
        key = "words.sticker" if kind == "sticker" else "words.media"

    only = [m.id for m in watching]
    words = (words or "")[: alerts.WORDS_QUOTED]
    await tell_managers_about(
        work, member, "words", key, round_id=checkin.id, only=only, words=words
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
    for tell in decision.tell:
        if tell.audience is Audience.MANAGERS:
            await tell_managers_about(work, member, "mistake", "alert.mistake_notice", checkin.id)
    await desk.hear_all(work, checkin, decision, member=member)
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
