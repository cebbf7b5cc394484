"""After the alert: a manager takes it (対応します) or finds her safe (無事を確認しました), the
taker is asked later whether they found her, and a taker who goes silent, leaves or blocks the
bot gives the alert back to the others."""

from __future__ import annotations

from dataclasses import dataclass

from care.errors import Refusal, Refused
from care.members import sharing
from care.rounds import carry
from care.rounds.carry import Occasion, teller
from care.rounds.due import rounds_due
from care.rounds.ladder import Step
from care.rounds.notify import alert_choices, display_name, notify_managers, push_to
from care.rounds.protocol import Audience, Decision, Event, Fact, Tell, decide, stage_of
from care.services import UnitOfWork
from ground.i18n import Locale
from ground.telling import Choice, Link, Telling
from storage.models import CheckinRound, Member


@dataclass(frozen=True)
class Taken:
    person: Member
    taker: Member  # who has it: the caller, or whoever was first
    first: bool  # the caller took it now
    round_id: int = 0
    call: str | None = None  # tel: the person's phone, where they show it to the caller
    card: str | None = None  # her card on My page, where her details stay off the chat


async def _alert_of(
    work: UnitOfWork, manager: Member, round_id: int | None
) -> tuple[CheckinRound, Member]:
    checkin = await work.repos.rounds.get(round_id) if round_id else None
    person = await work.repos.members.get(checkin.member_id) if checkin else None
    # Watching as the protocol counts it (_still_watching): a manager who blocked the account
    # hears nothing of the alert, yet My page opens for him (LIFF needs no friendship).
    if checkin is None or person is None or not await _still_watching(work, manager, person):
        raise Refused(Refusal.NOT_ALLOWED)
    return checkin, person


async def take(work: UnitOfWork, manager: Member, round_id: int | None) -> Taken:
    """対応します: the first manager to tap it has the alert; the others hear who does, so
    that nobody assumes someone else will go (nor do five relatives all drive over)."""
    checkin, person = await _alert_of(work, manager, round_id)
    decision = _decided(checkin, person, Event.TAKE)
    who = _staff_name(work, manager)
    occasion = Occasion(person, checkin, Event.TAKE, actor=manager, who=who)
    if (await carry.carry_out(work, occasion, decision)).changed:
        shown = manager.id in await sharing.shown_to(work, person)
        call = sharing.chat_call_link(work.services, person, shown)
        card = None if sharing.in_chat(work.services) else sharing.card_url(work.services, person)
        return Taken(person, manager, first=True, round_id=checkin.id, call=call, card=card)
    # Someone was first (the transactions of two taps never overlap: this one sees theirs).
    holder = await work.repos.members.get(checkin.taken_by or 0)
    return Taken(person, holder or manager, first=False)


async def confirm_safe(work: UnitOfWork, manager: Member, round_id: int | None) -> Member:
    """無事を確認しました: the alert closes with who confirmed it, and the team hears it."""
    checkin, person = await _alert_of(work, manager, round_id)
    decision = _decided(checkin, person, Event.CONFIRM)
    who = _staff_name(work, manager)
    occasion = Occasion(person, checkin, Event.CONFIRM, actor=manager, who=who)
    await carry.carry_out(work, occasion, decision)
    return person


def _staff_name(work: UnitOfWork, manager: Member) -> str:
    """A manager as the desk's case shows them: name and 会員ID, in the service's language."""
    locale = work.locale(None)
    return locale.t("desk.manager", name=display_name(locale, manager), member_id=manager.id)


def _decided(checkin: CheckinRound, person: Member, event: Event) -> Decision:
    """A manager's tap, as the protocol takes it: refused once the alert has closed."""
    decision = decide(stage_of(checkin), event)
    if decision is None:
        raise Refused(Refusal.ALERT_CLOSED, name=person.display_name)
    return decision


async def _tell_others(
    work: UnitOfWork, person: Member, manager: Member, key: str, still_open: int | None = None
) -> int:
    """Every manager watching the person but the one who acted hears who it was; while the
    alert of round `still_open` stays open (taken, not closed), with its 無事を確認しました."""

    def build(locale: Locale, _: Member) -> list[Telling]:
        text = locale.t(
            key, name=display_name(locale, person), taker=display_name(locale, manager)
        )
        if still_open is not None:
            choices = alert_choices(work.services, locale, still_open, ("safe",))
            title = locale.t("first_minute.alert_title")
            return [Telling.card(locale.language, title, text, choices)]
        return [Telling.sentence(locale.language, text)]

    watching = await work.repos.teams.managers_watching(person.id)
    others = [m.id for m in watching if m.id != manager.id]
    return await notify_managers(work, person, key, build, only=others)


async def ask_takers(work: UnitOfWork, limit: int) -> int:
    """Alerts a manager took `taken_check_after` ago and are still open: the one who took it is
    asked whether they found the person; a taker who can no longer act (blocked the bot, no
    longer watching her) is not waited for. -> how many rounds were looked at."""
    rounds, read = await rounds_due(work, Step.TAKER_CHECK, limit)
    ids = {r.member_id for r in rounds} | {r.taken_by or 0 for r in rounds}
    people = await work.repos.members.get_many(list(ids))
    for checkin in rounds:
        person, taker = people[checkin.member_id], people.get(checkin.taken_by or 0)
        if taker is None or not await _still_watching(work, taker, person):
            await _untake_if_decided(work, person, checkin, Event.NOT_FOUND)
            continue
        decision = decide(stage_of(checkin), Event.TAKER_DUE)
        if decision is None:
            # Not a stage that waits on its taker: marked, so that no sweep reads it again.
            await work.repos.rounds.ask_taker(checkin.id, work.now)
            continue
        occasion = Occasion(person, checkin, Event.TAKER_DUE, actor=taker)
        await carry.carry_out(work, occasion, decision)
    return read


async def _still_watching(work: UnitOfWork, taker: Member, person: Member) -> bool:
    return taker.active and await work.repos.teams.is_manager_of(taker.id, person.id)


async def _ask_taker(
    work: UnitOfWork, person: Member, taker: Member, checkin: CheckinRound
) -> None:
    locale = work.locale(taker.language)
    codec = work.services.postbacks
    choices = [
        Choice("safe", locale.t("alert.safe_button"), codec.encode("safe", r=checkin.id)),
        Choice(
            "not_found", locale.t("alert.not_found_button"), codec.encode("notfound", r=checkin.id)
        ),
    ]
    shown = taker.id in await sharing.shown_to(work, person)
    call = sharing.chat_call_link(work.services, person, shown)
    links = [Link(locale.t("alert.call_button"), call)] if call else []
    card = (
        None
        if sharing.in_chat(work.services)
        else sharing.card_link(locale, work.services, person)
    )
    if card is not None:
        links.append(card)
    text = locale.t(
        "alert.found_her",
        name=display_name(locale, person),
        since=locale.when(checkin.taken_at),
    )
    telling = Telling.card(
        locale.language, locale.t("alert.found_her_title"), text, choices, links
    )
    await push_to(work, taker, [telling], "found_her", round_id=checkin.id, about=person)


async def untake_silent(work: UnitOfWork, limit: int) -> int:
    """Takers who did not say whether they found the person within `realert_after` of being
    asked: the alert is nobody's again and every manager hears it. -> rounds looked at."""
    rounds, read = await rounds_due(work, Step.TAKER_SILENT, limit)
    people = await work.repos.members.get_many([r.member_id for r in rounds])
    for checkin in rounds:
        # Only rounds in a stage the protocol gives back are due (care.rounds.ladder.WAITS).
        await _untake_if_decided(work, people[checkin.member_id], checkin, Event.TAKER_SILENT)
    return read


async def not_found(work: UnitOfWork, manager: Member, round_id: int | None) -> Member:
    """まだ会えていない, by the manager who took the alert: every manager hears it again, and
    the alert is anyone's to take. -> the person."""
    checkin, person = await _alert_of(work, manager, round_id)
    if checkin.taken_by is not None and checkin.taken_by != manager.id:
        raise Refused(Refusal.NOT_ALLOWED)
    _decided(checkin, person, Event.NOT_FOUND)
    await _untake_if_decided(work, person, checkin, Event.NOT_FOUND)
    return person


async def taker_gone(work: UnitOfWork, manager: Member) -> int:
    """The manager left a team, blocked the bot, withdrew or was taken off watching: every
    alert they had taken and can no longer act on is nobody's again, at once. -> how many."""
    count = 0
    for checkin in await work.repos.rounds.taken_by_manager(manager.id):
        person = await work.repos.members.get(checkin.member_id)
        if person is None:
            continue
        fresh = await work.repos.members.get(manager.id)
        if fresh is not None and await _still_watching(work, fresh, person):
            continue
        count += await _untake_if_decided(work, person, checkin, Event.NOT_FOUND)
    return count


async def _untake_if_decided(
    work: UnitOfWork, person: Member, checkin: CheckinRound, event: Event
) -> bool:
    """The taker is out of it (`event`: NOT_FOUND or TAKER_SILENT): carried out as the
    protocol says. -> whether it applied."""
    decision = decide(stage_of(checkin), event)
    if decision is None:
        return False
    taker = await work.repos.members.get(checkin.taken_by or 0)
    who = _staff_name(work, taker) if taker is not None else ""
    occasion = Occasion(person, checkin, event, who=who, lead="alert.not_found_lead")
    await carry.carry_out(work, occasion, decision)
    return True


@teller((Audience.OTHERS, Fact.TAKEN))
async def _taken(work: UnitOfWork, occasion: Occasion, _: Tell) -> int:
    assert occasion.actor is not None
    checkin_id = occasion.checkin.id if occasion.checkin is not None else None
    return await _tell_others(
        work, occasion.person, occasion.actor, "alert.taken_notice", still_open=checkin_id
    )


@teller((Audience.OTHERS, Fact.CONFIRMED))
async def _confirmed(work: UnitOfWork, occasion: Occasion, _: Tell) -> int:
    assert occasion.actor is not None
    return await _tell_others(work, occasion.person, occasion.actor, "alert.confirmed_notice")


@teller((Audience.TAKER, Fact.FOUND_HER))
async def _found_her(work: UnitOfWork, occasion: Occasion, _: Tell) -> int:
    assert occasion.checkin is not None and occasion.actor is not None
    await _ask_taker(work, occasion.person, occasion.actor, occasion.checkin)
    return 1
