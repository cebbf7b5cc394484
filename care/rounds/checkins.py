"""安否通知 rounds: opening them when due, the re-send, the alert, the answer, and stopping.

Each function runs inside the caller's unit of work: the state change and the messages it
causes (recorded in the outbox) commit together or not at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo

from care.desk import cases as desk
from care.errors import Refusal, Refused
from care.rounds import alerts, calls, carry
from care.rounds.carry import Occasion, teller
from care.rounds.due import rounds_due
from care.rounds.ladder import Step
from care.rounds.notify import ALERT_BUTTONS, Reachable, address_of, tell_managers_about
from care.rounds.protocol import Audience, Event, Fact, Stage, Tell, decide, stage_of
from care.rounds.schedule import Schedule, next_checkin, paused_on, schedule_or_none, slots_passed
from care.services import Services, UnitOfWork
from ground.channels import VOICE
from ground.i18n import Locale
from ground.telling import Choice, Telling
from storage.models import CheckinRound, DueMember, Member, RoundState


def schedule_of(member: Member) -> Schedule | None:
    return schedule_or_none(member.interval_days, member.checkin_hour)


ANSWERS = ("ok", "unwell", "help")  # 元気です / 少し体調が悪い / 助けてほしい


def ok_postback(services: Services, slot_at: datetime) -> str:
    # Identifies the slot, not the person: one multicast carries the same button to everyone
    # due at that moment, and the server resolves the round of whoever taps.
    return services.postbacks.encode("ok", t=int(slot_at.timestamp()))


def answer_choices(
    services: Services, locale: Locale, slot_at: datetime, action: str = "ok"
) -> list[Choice]:
    """OK, then 少し体調が悪い and 助けてほしい, for the same slot."""
    slot = int(slot_at.timestamp())
    ok = Choice("ok", locale.t("checkin.ok_button"), services.postbacks.encode(action, t=slot))
    return [ok] + [
        Choice(
            answer,
            locale.t(f"checkin.{answer}_button"),
            services.postbacks.encode(action, t=slot, v=answer),
        )
        for answer in ANSWERS[1:]
    ]


async def open_due_rounds(work: UnitOfWork, limit: int) -> int:
    """Open a round for every member whose check-in is due; returns how many members were due.

    After downtime a member gets one check-in for the latest missed slot, not one per slot.
    A slot that comes while the member's previous round is still open is skipped: the open
    round's re-send and alert already stand for it. A paused member gets none before the
    pause ends, whatever their next due time says.
    """
    tz, now = work.services.timezone, work.now
    due = await work.repos.members.due(now, limit)
    next_due: list[tuple[int, datetime]] = []
    openings: list[tuple[datetime, DueMember]] = []
    # A wave is thousands of people on a few schedules: each schedule's slots are worked out
    # once, not once a person.
    plans: dict[tuple[object, ...], tuple[datetime | None, datetime | None]] = {}
    for member in due:
        key = (member.interval_days, member.checkin_hour, member.next_due_at, member.paused_until)
        if key not in plans:
            plans[key] = _plan(member.interval_days, member.checkin_hour, member, now, tz)
        opening, following = plans[key]
        if following is not None:
            next_due.append((member.id, following))
        if opening is not None:
            openings.append((opening, member))
    await work.repos.members.set_next_due_many(next_due)
    # Each round opens with its check-in already in the outbox (nothing is sent before this
    # transaction commits), so no second pass has to find and attach it.
    written = await _write_checkins(work, openings, resend=False)
    rounds = [(m.id, slot_at, outbox_id) for outbox_id, slot_at, chunk in written for m in chunk]
    # The constraints skip a member whose round is still open, or whose slot already has one:
    # their check-in is taken back out before anything is sent.
    opened = await work.repos.rounds.open_unless_open(rounds, now)
    for outbox_id, _, chunk in written:
        if any(member.id not in opened for member in chunk):
            services = work.services
            kept = [address_of(services, m)[1] for m in chunk if m.id in opened]
            await work.repos.outbox.narrow(outbox_id, kept)
    return len(due)


def _plan(
    interval_days: int | None, hour: int | None, member: DueMember, now: datetime, tz: ZoneInfo
) -> tuple[datetime | None, datetime | None]:
    """(the slot to open a round for, the next check-in after it) of a due member; no slot
    while a pause holds, and neither without a schedule."""
    schedule = schedule_or_none(interval_days, hour)
    if schedule is None:
        return None, None
    latest, following = slots_passed(schedule, member.next_due_at, now, tz)
    if paused_on(member.paused_until, latest.astimezone(tz).date()):
        return None, next_checkin(schedule, member.paused_until, now, tz)
    return latest, following


async def start_schedule(work: UnitOfWork, member: Member, schedule: Schedule) -> datetime:
    """Check-ins on `schedule` from its next hour, any pause ended. -> the next check-in."""
    next_at = next_checkin(schedule, None, work.now, work.services.timezone)
    await work.repos.members.set_schedule(
        member.id, schedule.interval_days, schedule.hour, next_at
    )
    await work.repos.members.set_paused_until(member.id, None)
    return next_at


async def resend_unanswered(work: UnitOfWork, limit: int) -> int:
    """Rounds with no OK `resend_after` since their check-in reached LINE get it again."""
    rounds, _ = await rounds_due(work, Step.RESEND, limit)
    members = await work.repos.members.get_many([r.member_id for r in rounds])
    for checkin in rounds:
        # The protocol, not an assert, decides (nothing about safety may hang on `python -O`):
        # the round moves to re-sent, and the re-send itself is the wave's to write.
        decision = decide(stage_of(checkin), Event.NO_ANSWER)
        person = members.get(checkin.member_id)
        if decision is not None and decision.after is Stage.ASKED_AGAIN and person is not None:
            await carry.carry_out(work, Occasion(person, checkin, Event.NO_ANSWER), decision)
    return len(rounds)


async def alert_unanswered(work: UnitOfWork, limit: int) -> int:
    """Rounds with no OK `alert_after` since the re-send reached LINE alert the managers, or
    first ring the person who asked for a call (care.rounds.calls); a call that settled nothing
    alerts them too."""
    due, _ = await rounds_due(work, Step.ALERT, limit)
    ended, _ = await rounds_due(work, Step.CALL_ENDED, limit)
    rounds = due + ended
    members = await work.repos.members.get_many([r.member_id for r in rounds])
    await alert_rounds(work, rounds, members)
    return len(rounds)


async def alert_rounds(
    work: UnitOfWork, rounds: list[CheckinRound], members: dict[int, Member]
) -> None:
    """Each round's alert (or first its call), as the protocol decides: the regular
    ladder's and a heat check's (care.broadcasts.heat) alike."""
    for checkin in rounds:
        decision = decide(stage_of(checkin), Event.NO_ANSWER)
        if decision is None or decision.after is not Stage.ALERTED:
            continue
        if checkin.called_at is None and await calls.call_first(
            work, members[checkin.member_id], checkin
        ):
            continue
        member = members[checkin.member_id]
        await alerts.alert_first_turn(work, member, checkin, decision)
        alerted = replace(checkin, state=RoundState.ALERTED, alerted_at=work.now)
        await desk.take_over_now(work, member, alerted)


async def stop_checkins(
    work: UnitOfWork, member: Member, reason: str, until: datetime | None = None
) -> int:
    """Check-ins end, for good or `until` a moment (blocked, stopped, paused, withdrawn): a
    check-in waiting is cancelled and every manager watching hears it, so silence is never
    mistaken for safety. An open alert stays open (only later check-ins stop): the managers
    hear that it still waits for one of them, and 退会 is refused until one has closed it.
    Returns how many managers were told."""
    checkin = await work.repos.rounds.open_round(member.id)
    decision = decide(stage_of(checkin), Event.STOP)
    alert_open = decision is not None and any(t.fact is Fact.STOPPED_OPEN for t in decision.tell)
    if alert_open and reason == "withdrawn":
        raise Refused(Refusal.ALERT_OPEN)
    if decision is None:
        return 0
    occasion = Occasion(member, checkin, Event.STOP, who=reason, reason=reason, until=until)
    return (await carry.carry_out(work, occasion, decision)).told.count


@teller((Audience.MANAGERS, Fact.STOPPED), (Audience.MANAGERS, Fact.STOPPED_OPEN))
async def _stopped(work: UnitOfWork, occasion: Occasion, said: Tell) -> int:
    """Every manager hears her check-ins stop (paused until, stopped, blocked, 退会), and,
    during an alert, that the alert still waits for one of them."""
    prefix = "stopped_open" if said.fact is Fact.STOPPED_OPEN else "stopped"
    key = f"{prefix}.{occasion.reason}"
    if said.fact is Fact.STOPPED_OPEN and occasion.checkin is not None:
        # The alert waits for one of them: its buttons come with the notice.
        return await tell_managers_about(
            work,
            occasion.person,
            occasion.reason,
            key,
            round_id=occasion.checkin.id,
            until=occasion.until,
            buttons=ALERT_BUTTONS,
        )
    return await tell_managers_about(
        work, occasion.person, occasion.reason, key, until=occasion.until
    )


async def message_accepted(work: UnitOfWork, outbox_id: int) -> None:
    """LINE accepted (or refused for good) an outbox row. If it carried a check-in, a re-send
    or a group's post, that round's clock starts now: a refused check-in still starts the
    ladder, so the managers hear of it in time."""
    await work.repos.rounds.mark_delivered(outbox_id, work.now)
    await work.repos.groups.mark_posted(outbox_id, work.now)


class _Addressee(Reachable, Protocol):
    @property
    def language(self) -> str: ...

    @property
    def member_id(self) -> int: ...


Addressee = TypeVar("Addressee", bound=_Addressee)


async def _write_checkins(
    work: UnitOfWork, due: Iterable[tuple[datetime, Addressee]], resend: bool
) -> list[tuple[int, datetime, list[Addressee]]]:
    """Write the check-in (or re-send) of each (slot, person) into the outbox. Same slot,
    same language, same channel -> same telling: one row per as many people as the channel
    takes at once (LINE's multicast: 500; a push for one).
    -> each row written, with its slot and whom it goes to."""
    services = work.services
    groups: dict[tuple[datetime, str, str], list[tuple[Addressee, str]]] = defaultdict(list)
    languages: dict[str, str] = {}
    for slot_at, person in due:
        if person.language not in languages:
            languages[person.language] = work.locale(person.language).language
        channel, address = address_of(services, person)
        groups[(slot_at, languages[person.language], channel)].append((person, address))
    written = []
    purpose = "resend" if resend else "checkin"
    for (slot_at, language, channel), people in groups.items():
        # A call says the person's name and its keys name them (the voice channel takes one
        # address a row); every other channel gets the slot's one telling.
        shared = None if channel == VOICE else checkin_message(work, slot_at, language, resend)
        batch = services.channels[channel].batch_limit
        for start in range(0, len(people), batch):
            chunk = people[start : start + batch]
            telling = shared or await calls.checkin_call(
                work, chunk[0][0].member_id, slot_at, resend
            )
            outbox_id = await work.repos.outbox.add(
                kind="multicast" if len(chunk) > 1 else "push",
                channel=channel,
                recipients=[address for _, address in chunk],
                tellings=[telling],
                purpose=purpose,
                now=work.now,
            )
            written.append((outbox_id, slot_at, [person for person, _ in chunk]))
    return written


def checkin_message(work: UnitOfWork, slot_at: datetime, language: str, resend: bool) -> Telling:
    """The check-in (or its re-send) of one slot in one language: the same for everyone."""
    services = work.services
    locale = work.locale(language)
    quote = locale.quote_of_the_day(slot_at.astimezone(services.timezone).date())
    return Telling.checkin(
        locale.language,
        locale.t("checkin.resend_title" if resend else "checkin.title"),
        quote,
        locale.t("checkin.instruction"),
        answer_choices(services, locale, slot_at),
    )


async def record_checkin_messages(work: UnitOfWork, resend: bool, limit: int) -> int:
    """Write the check-in (or re-send) of rounds that have none yet into the outbox.

    Same slot, same language -> same message: one multicast per 500 recipients, across
    however many batches opened the rounds. Returns how many rounds got their message.
    """
    rounds = await work.repos.rounds.awaiting_message(resend, limit)
    due = [(awaiting.slot_at, awaiting) for awaiting in rounds]
    for outbox_id, _, chunk in await _write_checkins(work, due, resend):
        await work.repos.rounds.attach_outbox([a.round_id for a in chunk], outbox_id, resend)
    return len(rounds)
