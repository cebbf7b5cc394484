"""Alerts to the managers, and what comes after: who takes it (対応します), who finds the person
safe (無事を確認しました), the alert sent again when nobody took it, and 助けてほしい."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from care.members import sharing
from care.rounds import carry, devices
from care.rounds.carry import Occasion, teller
from care.rounds.due import rounds_due
from care.rounds.ladder import Step
from care.rounds.notify import (
    ALERT_BUTTONS,
    alert_choices,
    display_name,
    notify_managers,
    tell_managers_about,
)
from care.rounds.protocol import (
    ALERT_STAGES,
    Audience,
    Decision,
    Event,
    Fact,
    Tell,
    decide,
    stage_of,
)
from care.services import UnitOfWork
from ground.i18n import Locale
from ground.telling import Choice, Link, Telling
from storage.models import CheckinRound, Member

WORDS_QUOTED = 1000  # characters of a person's message quoted to the managers


@dataclass(frozen=True)
class Turns:
    """Who is told in which order: manager ids by turn, and how long each turn lasts."""

    order: list[list[int]]
    length: timedelta


async def turns_of(work: UnitOfWork, member: Member) -> Turns:
    """The turns of the person's managers, as their teams set them (all in one turn by
    default: everyone at once); each turn lasts the team's turn length, or `realert_after`."""
    order: dict[int, list[int]] = {}
    for manager_id, turn in sorted((await work.repos.teams.manager_turns(member.id)).items()):
        order.setdefault(turn, []).append(manager_id)
    minutes = await work.repos.teams.turn_minutes(member.id)
    length = timedelta(minutes=minutes) if minutes else work.services.timings.realert_after
    return Turns([order[turn] for turn in sorted(order)], length)


async def alert_first_turn(
    work: UnitOfWork, member: Member, checkin: CheckinRound, decision: Decision
) -> int:
    """No answer: the managers of the first turn are alerted (everyone, without turns); the
    next turn's moment is set. -> how many were told."""
    turns = await turns_of(work, member)
    first = turns.order[0] if turns.order else []
    later = len(turns.order) > 1
    await work.repos.rounds.told_turn(
        checkin.id, 1, work.now, work.now + turns.length if later else None
    )
    only = tuple(first) if later else None
    occasion = Occasion(member, checkin, Event.NO_ANSWER, only=only)
    return (await carry.carry_out(work, occasion, decision)).told.count


async def tell_next_turn(work: UnitOfWork, limit: int) -> int:
    """Alerts nobody took within a turn go to the managers of the next turn (those told
    before keep theirs). -> how many rounds were looked at."""
    rounds, read = await rounds_due(work, Step.NEXT_TURN, limit)
    members = await work.repos.members.get_many([r.member_id for r in rounds])
    for checkin in rounds:
        decision = decide(stage_of(checkin), Event.NEXT_TURN)
        if decision is None:
            continue
        member = members[checkin.member_id]
        turns = await turns_of(work, member)
        told = checkin.turn
        if told >= len(turns.order):  # managers left since: no turn is left
            await work.repos.rounds.told_turn(checkin.id, told, checkin.turn_at or work.now, None)
            continue
        after = work.now + turns.length if told + 1 < len(turns.order) else None
        await work.repos.rounds.told_turn(checkin.id, told + 1, work.now, after)
        occasion = Occasion(member, checkin, Event.NEXT_TURN, only=tuple(turns.order[told]))
        await carry.carry_out(work, occasion, decision)
    return read


@teller((Audience.FIRST_TURN, Fact.ALERT), (Audience.NEXT_TURN, Fact.ALERT))
async def _alert_a_turn(work: UnitOfWork, occasion: Occasion, _: Tell) -> int:
    assert occasion.checkin is not None
    only = list(occasion.only) if occasion.only is not None else None
    return await alert_managers(work, occasion.person, occasion.checkin, only=only)


@teller((Audience.MANAGERS, Fact.ALERT_AGAIN))
async def _alert_again(work: UnitOfWork, occasion: Occasion, _: Tell) -> int:
    assert occasion.checkin is not None
    return await alert_managers(
        work, occasion.person, occasion.checkin, again=True, lead=occasion.lead
    )


@teller((Audience.MANAGERS, Fact.HELP_ALERT))
async def _alert_help(work: UnitOfWork, occasion: Occasion, _: Tell) -> list[Member]:
    """The urgent alert (the round is urgent now), to every manager at once. -> them."""
    assert occasion.checkin is not None
    await alert_managers(work, occasion.person, occasion.checkin)
    return await work.repos.teams.managers_watching(occasion.person.id)


@teller((Audience.UNTOLD, Fact.ALERT))
async def _alert_the_untold(work: UnitOfWork, occasion: Occasion, _: Tell) -> int:
    assert occasion.checkin is not None
    return await alert_the_untold(work, occasion.person, occasion.checkin)


@teller((Audience.ALERTED, Fact.STILL_OPEN))
async def _still_open(work: UnitOfWork, occasion: Occasion, _: Tell) -> int:
    assert occasion.checkin is not None
    reached = await work.repos.outbox.alerted_members(occasion.checkin.id)
    person, checkin_id = occasion.person, occasion.checkin.id
    if sharing.in_chat(work.services) or work.services.my_page_url is None:
        return await tell_managers_about(
            work,
            person,
            "still_open",
            "alert.still_open",
            occasion.checkin.id,
            reached,
            buttons=ALERT_BUTTONS,
        )

    def build(locale: Locale, _: Member) -> list[Telling]:
        # The reminder, with the way to her details the alert had (her card).
        text = locale.t(
            "alert.still_open",
            name=display_name(locale, person),
            member_id=person.id,
            at=locale.when(work.now),
        )
        card = sharing.card_link(locale, work.services, person)
        links = [card] if card is not None else []
        choices = alert_choices(work.services, locale, checkin_id)
        title = locale.t("card.still_open_title")
        return [Telling.card(locale.language, title, text, choices, links)]

    return await notify_managers(
        work, person, "still_open", build, round_id=occasion.checkin.id, only=reached
    )


@teller((Audience.MANAGERS, Fact.MISTAKE))
async def _mistake(work: UnitOfWork, occasion: Occasion, _: Tell) -> int:
    round_id = occasion.checkin.id if occasion.checkin else None
    return await tell_managers_about(
        work, occasion.person, "mistake", "alert.mistake_notice", round_id, buttons=ALERT_BUTTONS
    )


async def alert_managers(
    work: UnitOfWork,
    member: Member,
    checkin: CheckinRound,
    *,
    again: bool = False,
    only: list[int] | None = None,
    lead: str | None = None,
) -> int:
    """Tell every manager watching the member (or those in `only`): no OK came, or they
    asked for help (urgent). `again`: it was sent before (`lead`: the line that says why).
    The alert carries the buttons to take it and to close it, and a button to her card on
    My page, where her phone number, address and 緊急時メモ are (or, where the deployment
    keeps them in the chat, those themselves). Returns how many managers were told."""
    services = work.services
    # The phone number and the 緊急時メモ go only to managers the person agreed to show them to
    # (the same 「見せる」 as the card); the alert itself goes to every manager: safety first.
    shown = await sharing.shown_to(work, member)
    in_chat = sharing.in_chat(services)

    def build(locale: Locale, manager: Member) -> list[Telling]:
        values = {
            "name": display_name(locale, member),
            "member_id": member.id,
            "slot": locale.when(checkin.slot_at),
            "at": locale.when(checkin.alerted_at or work.now),
            "last_ok": locale.when(member.last_ok_at),
        }
        prefix = "alert.help_" if checkin.urgent else "alert."
        lines = [locale.t(f"{prefix}body", **values)]
        if again:
            lines.insert(0, locale.t(lead or "alert.again"))
        if checkin.help_words:
            # Their own words, quoted as written: 「転んで動けません」 says more than a button.
            lines.append(locale.t("alert.words", words=checkin.help_words[:WORDS_QUOTED]))
        if in_chat and member.emergency_memo and manager.id in shown:
            lines.append(locale.t("alert.memo", memo=member.emergency_memo))
        if in_chat and member.personal.phone and manager.id in shown:
            lines.append(locale.t("alert.phone", phone=member.personal.phone))
        movement = devices.last_movement(locale, member)
        if movement:
            # A clue for whoever goes to look.
            lines.append(movement)
        choices = [
            Choice("take", locale.t("alert.take_button"), postbacks.encode("take", r=checkin.id)),
            Choice("safe", locale.t("alert.safe_button"), postbacks.encode("safe", r=checkin.id)),
        ]
        links = []
        call = sharing.chat_call_link(services, member, manager.id in shown)
        if call:
            # One tap to call, first among the links: the alert asks for a call or a visit.
            links.append(Link(locale.t("alert.call_button"), call))
        card = None if in_chat else sharing.card_link(locale, services, member)
        # One way to the person's details, not two: her card on My page (her phone number,
        # address and memo, off the chat), or her page on My page where they are in the chat,
        # else the card in the chat.
        if card is not None:
            lines.append(locale.t("card.where"))
            links.append(card)
        elif services.my_page_url:
            page = f"{services.my_page_url}/teams#member-{member.id}"
            links.append(Link(locale.t("alert.my_page_button"), page))
        else:
            details = postbacks.encode("member", m=member.id)
            choices.append(Choice("member", locale.t("alert.details_button"), details))
        title = locale.t(f"{prefix}title")
        return [Telling.card(locale.language, title, "\n\n".join(lines), choices, links)]

    postbacks = services.postbacks
    return await notify_managers(work, member, "alert", build, round_id=checkin.id, only=only)


async def realert_untaken(work: UnitOfWork, limit: int) -> int:
    """Alerts nobody took within `realert_after` of the last turn go to every manager again,
    once."""
    rounds, read = await rounds_due(work, Step.REALERT, limit)
    members = await work.repos.members.get_many([r.member_id for r in rounds])
    for checkin in rounds:
        decision = decide(stage_of(checkin), Event.NOBODY_TOOK)
        if decision is None:
            continue
        occasion = Occasion(members[checkin.member_id], checkin, Event.NOBODY_TOOK)
        await carry.carry_out(work, occasion, decision)
    return read


async def alert_the_untold(work: UnitOfWork, person: Member, checkin: CheckinRound) -> int:
    """The open alert, to each manager watching her now whom it has not reached (one who
    joined since): an open alert is never left with nobody it reached. -> how many."""
    reached = set(await work.repos.outbox.alerted_members(checkin.id))
    watching = await work.repos.teams.managers_watching(person.id)
    untold = [m.id for m in watching if m.id not in reached]
    if not untold:
        return 0
    return await alert_managers(work, person, checkin, only=untold)


async def tell_newcomer(work: UnitOfWork, manager: Member) -> int:
    """A manager joined a team, or was added to one: each person they watch now whose alert
    is open gets to them at once, as the protocol says (`joined`). -> alerts sent."""
    sent = 0
    for person in await work.repos.teams.users_watched_by(manager.id):
        checkin = await work.repos.rounds.open_round(person.id)
        decision = decide(stage_of(checkin), Event.JOINED)
        if checkin is None or decision is None:
            continue
        occasion = Occasion(person, checkin, Event.JOINED, actor=manager)
        sent += (await carry.carry_out(work, occasion, decision)).told.count
    return sent


async def remind_open(work: UnitOfWork, limit: int) -> int:
    """Alerts open another `remind_every`: the managers each reached hear it is still open,
    and a manager who came to watch her since gets the alert itself, whatever her schedule
    (a paused, stopped or blocked person's alert goes on being said). -> rounds looked at."""
    rounds, read = await rounds_due(work, Step.REMIND, limit)
    people = await work.repos.members.get_many([r.member_id for r in rounds])
    for checkin in rounds:
        decision = decide(stage_of(checkin), Event.REMIND)
        person = people.get(checkin.member_id)
        if decision is None or person is None:
            await work.repos.rounds.mark_reminded(checkin.id, work.now)  # not read again
            continue
        await carry.carry_out(work, Occasion(person, checkin, Event.REMIND), decision)
    return read


async def alert_open(work: UnitOfWork, member: Member) -> bool:
    """An alert about her is open now (a missed check-in told, or her call for help)."""
    return stage_of(await work.repos.rounds.open_round(member.id)) in ALERT_STAGES
