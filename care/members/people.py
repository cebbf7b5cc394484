"""What a person does with their own check-ins and card, whichever surface they use: register,
come back after a block, set the schedule, pause until a date, resume, stop, withdraw, answer.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from care.desk import cases as desk
from care.errors import Refusal, Refused
from care.members import teams
from care.rounds import alerts, alone, answers, checkins
from care.rounds.answers import LAST_OK
from care.rounds.notify import display_name, phone_only, push_to
from care.rounds.protocol import Audience, Event, Fact
from care.rounds.schedule import Schedule, next_checkin, paused_on
from care.services import UnitOfWork
from ground.i18n import Locale
from ground.telling import Choice, Telling
from storage.models import PERSONAL_FIELDS, CheckinRound, Member, PersonalFields, RoundState

PAUSE_MAX_DAYS = 365
PAUSE_REMINDER_EVERY = timedelta(days=7)  # 退院するまで: the gentle weekly word
# The schedules offered as one tap each: most people choose one of these.
USUAL_SCHEDULES = (Schedule(1, 9), Schedule(1, 7), Schedule(1, 18), Schedule(2, 9), Schedule(3, 9))
FIELD_LIMITS = {"full_name": 50, "furigana": 50, "phone": 20, "address": 100}
GENDERS = ("", "female", "male", "other")
PHONE = re.compile(r"^\+?[0-9][0-9-]{8,18}[0-9]$")
ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def hidden_characters(text: str, allowed: str = "") -> bool:
    """Control and format characters (bidirectional overrides, zero-width spaces) that make
    text read other than it is, refused everywhere as team names refuse them."""
    return any(unicodedata.category(c).startswith("C") and c not in allowed for c in text)


class CheckinStatus(StrEnum):
    RUNNING = "running"  # check-ins come at the schedule's hour
    PAUSED = "paused"  # none before `paused_until`
    STOPPED = "stopped"  # no schedule
    BLOCKED = "blocked"  # the person blocked the bot
    PAUSED_OPEN = "paused_open"  # 退院するまで: paused until the person resumes


@dataclass(frozen=True)
class CheckinState:
    """Where a person's check-ins stand: what the chat, My page and the console all show."""

    status: CheckinStatus
    next_at: datetime | None  # the next check-in, only while running or until a pause ends
    paused_until: date | None
    round: RoundState | None  # the open round's state, if one is open

    @property
    def alert_open(self) -> bool:
        return self.round is RoundState.ALERTED

    @property
    def paused(self) -> bool:
        """Resting, until a date or until the person resumes (退院するまで)."""
        return self.status in (CheckinStatus.PAUSED, CheckinStatus.PAUSED_OPEN)


def checkin_state(member: Member, open_round: CheckinRound | None, today: date) -> CheckinState:
    if not member.active:
        status = CheckinStatus.BLOCKED
    elif member.interval_days is None:
        status = CheckinStatus.STOPPED
    elif paused_on(member.paused_until, today):
        status = CheckinStatus.PAUSED_OPEN if member.open_pause else CheckinStatus.PAUSED
    else:
        status = CheckinStatus.RUNNING
    return CheckinState(
        status=status,
        next_at=member.next_due_at
        if status in (CheckinStatus.RUNNING, CheckinStatus.PAUSED)
        else None,
        paused_until=member.paused_until
        if status in (CheckinStatus.PAUSED, CheckinStatus.PAUSED_OPEN)
        else None,
        round=open_round.state if open_round is not None else None,
    )


def describe_checkins(locale: Locale, state: CheckinState) -> str:
    """The next check-in as every surface says it (running, paused until, stopped, blocked)."""
    return locale.t(
        f"checkins.{state.status.value}",
        next=locale.when(state.next_at),
        until=locale.day(state.paused_until) if state.paused_until else "",
    )


async def state_of(work: UnitOfWork, member: Member) -> CheckinState:
    today = work.now.astimezone(work.services.timezone).date()
    return checkin_state(member, await work.repos.rounds.open_round(member.id), today)


async def register(work: UnitOfWork, line_user_id: str, name: str, language: str) -> Member:
    """A person the bot meets (a follow, a first message, My page): known from then on."""
    member, _ = await work.repos.members.register(line_user_id, name, language, work.now)
    return member


async def come_back(work: UnitOfWork, member: Member) -> Member:
    """Unblocked: check-ins start again from the next hour the schedule and any pause allow,
    not from the slots missed while blocked."""
    schedule = checkins.schedule_of(member)
    if schedule is not None:
        tz = work.services.timezone
        next_at = next_checkin(schedule, member.paused_until, work.now, tz)
        await work.repos.members.set_next_due(member.id, next_at)
    return await work.repos.members.get(member.id) or member


async def block(work: UnitOfWork, member: Member) -> int:
    """Blocked the bot: no more check-ins, and the managers hear it; anyone they watched
    whom nobody watches now is told so (care.rounds.alone). -> managers told."""
    watched = await alone.watched_by(work, member)
    await work.repos.members.block(member.id)
    # A manager who blocks the bot can no longer be asked about an alert they took.
    await alerts.taker_gone(work, member)
    await alone.tell_the_alone(work, watched, member)
    return await checkins.stop_checkins(work, member, "unfollow")


async def heard_by_nobody(work: UnitOfWork, member: Member) -> bool:
    """Nobody would hear of a missed check-in or a call for help: no manager watches her and
    the deployment has no desk (she is told so plainly, and to call 119 herself)."""
    if desk.exists(work):
        return False
    return not await work.repos.teams.managers_watching(member.id)


async def set_schedule(work: UnitOfWork, member: Member, schedule: Schedule) -> datetime:
    """A new schedule starts at its next hour and ends any pause; an open round runs its ladder
    to the end. -> the next check-in."""
    return await checkins.start_schedule(work, member, schedule)


async def pause(
    work: UnitOfWork, member: Member, until: date | None, open_ended: bool = False
) -> datetime:
    """No check-ins before `until` (入院・旅行): the open round ends and the managers hear until
    when. -> the check-in that comes back on that date. `open_ended` (退院するまで): no date
    is given; the pause lasts the longest a pause may, and the person is reminded gently each
    week that one tap resumes it."""
    if open_ended:
        today = work.now.astimezone(work.services.timezone).date()
        until = today + timedelta(days=PAUSE_MAX_DAYS)
    if until is None:
        raise Refused(Refusal.OUT_OF_RANGE, max_days=PAUSE_MAX_DAYS)
    schedule = checkins.schedule_of(member)
    if schedule is None:
        raise Refused(Refusal.NO_CHECKINS)
    tz = work.services.timezone
    today = work.now.astimezone(tz).date()
    if not today < until <= today + timedelta(days=PAUSE_MAX_DAYS):
        raise Refused(Refusal.OUT_OF_RANGE, max_days=PAUSE_MAX_DAYS)
    resume_at = next_checkin(schedule, until, work.now, tz)
    await work.repos.members.set_paused_until(member.id, until)
    await work.repos.members.set_next_due(member.id, resume_at)
    if open_ended:
        await work.repos.members.set_pause_reminder(member.id, work.now + PAUSE_REMINDER_EVERY)
        await checkins.stop_checkins(work, member, "paused_open")
    else:
        await checkins.stop_checkins(work, member, "paused", until=resume_at)
    return resume_at


async def remind_open_pauses(work: UnitOfWork, limit: int) -> int:
    """退院するまで: once a week, a gentle word that check-ins are resting, with one tap to
    start them again. A pause that has run its longest ends as any pause does. -> how many."""
    due = await work.repos.members.pause_reminders_due(work.now, limit)
    today = work.now.astimezone(work.services.timezone).date()
    for member in due:
        if not paused_on(member.paused_until, today):
            await work.repos.members.set_pause_reminder(member.id, None)
            continue
        await work.repos.members.set_pause_reminder(member.id, work.now + PAUSE_REMINDER_EVERY)
        locale = work.locale(member.language)
        resume_data = work.services.postbacks.encode("resume")
        resume = Choice("resume", locale.t("pause.resume_button"), resume_data)
        telling = Telling.card(
            locale.language, locale.t("pause.reminder_title"), locale.t("pause.reminder"), [resume]
        )
        await push_to(work, member, [telling], "pause_reminder")
    return len(due)


async def choose_language(work: UnitOfWork, member: Member, language: str | None) -> Member:
    """日本語, やさしい日本語 or English, as the person chooses (LINE's own setting is only the
    first guess). -> the person, in their language from now on."""
    if language not in work.services.i18n.languages:
        raise Refused(Refusal.INVALID_LANGUAGE)
    await work.repos.members.set_language(member.id, language)
    return replace(member, language=language)


async def let_managers_schedule(work: UnitOfWork, member: Member) -> list[Member]:
    """家族に設定してもらう: the managers of the person's teams may set their check-in time
    (the person is told, and can change it). -> the managers who can now, told so."""
    await work.repos.members.set_schedule_by_managers(member.id, True, work.now)
    managers = await work.repos.teams.managers_watching(member.id)
    for manager in managers:
        await ask_manager_to_schedule(work, manager, member)
    return managers


SCHEDULE_ASK_LASTS = timedelta(days=7)


def schedule_asked(person: Member, now: datetime) -> bool:
    """She asked her managers to choose her time (家族に設定してもらう), lately and not yet
    answered: a request weeks old is no leave for a manager who joined since."""
    asked = person.schedule_asked_at
    return person.schedule_by_managers and asked is not None and now - asked <= SCHEDULE_ASK_LASTS


async def ask_manager_to_schedule(work: UnitOfWork, manager: Member, person: Member) -> None:
    """A manager hears the person asked them to choose the time, with the choices at hand."""
    locale = work.locale(manager.language)
    choices = schedule_choices(work, locale, person.id)
    text = locale.t("schedule.asked_of_manager", name=display_name(locale, person))
    telling = Telling.card(locale.language, locale.t("schedule.card_title"), text, choices)
    await push_to(work, manager, [telling], "schedule_asked", about=person)


def schedule_choices(
    work: UnitOfWork, locale: Locale, for_member: int | None = None
) -> list[Choice]:
    """The usual schedules as one tap each (毎日 朝9時 first); the rest is 「ほかの時間」."""
    encode = work.services.postbacks.encode
    extra = {"m": for_member} if for_member is not None else {}
    return [
        Choice(
            "schedule",
            locale.schedule(usual.interval_days, usual.hour),
            encode("sched_set", i=usual.interval_days, h=usual.hour, **extra),
        )
        for usual in USUAL_SCHEDULES
    ]


async def schedule_for(
    work: UnitOfWork, manager: Member, member_id: int | None, schedule: Schedule
) -> tuple[Member, datetime]:
    """A manager sets the time of a person who asked them to (家族に設定してもらう); the person
    hears it, with the way to change it. -> (the person, the next check-in)."""
    person = await work.repos.members.get(member_id) if member_id else None
    if (
        person is None
        or not schedule_asked(person, work.now)
        or not await work.repos.teams.is_manager_of(manager.id, person.id)
    ):
        raise Refused(Refusal.NOT_ALLOWED)
    next_at = await set_schedule(work, person, schedule)
    # Answered: one manager's choice, once (she changes it herself from then on).
    await work.repos.members.set_schedule_by_managers(person.id, False)
    locale = work.locale(person.language)
    text = locale.t(
        "schedule.set_by_manager",
        manager=display_name(locale, manager),
        schedule=locale.schedule(schedule.interval_days, schedule.hour),
        next=locale.when(next_at),
    )
    change = Choice(
        "sched", locale.t("schedule.change_button"), work.services.postbacks.encode("sched")
    )
    telling = Telling.card(locale.language, locale.t("schedule.card_title"), text, [change])
    await push_to(work, person, [telling], "schedule_set", about=manager)
    return person, next_at


async def resume(work: UnitOfWork, member: Member) -> datetime | None:
    """The pause ends now: the next check-in comes at the schedule's next hour. Refused when
    nothing is paused: the schedule's next check-in stays where it is."""
    today = work.now.astimezone(work.services.timezone).date()
    if not paused_on(member.paused_until, today):
        raise Refused(Refusal.NOT_PAUSED)
    await work.repos.members.set_paused_until(member.id, None)
    schedule = checkins.schedule_of(member)
    if schedule is None:
        return None
    next_at = next_checkin(schedule, None, work.now, work.services.timezone)
    await work.repos.members.set_next_due(member.id, next_at)
    return next_at


async def stop(work: UnitOfWork, member: Member) -> int:
    """No more check-ins (安否確認を止める); the managers hear it. -> managers told."""
    told = await checkins.stop_checkins(work, member, "stopped")
    await work.repos.members.clear_schedule(member.id)
    await work.repos.members.set_paused_until(member.id, None)
    return told


async def withdraw(work: UnitOfWork, member: Member) -> None:
    """退会: check-ins stop, the person leaves every team, what they entered is deleted, and
    nothing is left to act for her: her call number and consent, her devices, the events of
    hers kept after they were forwarded."""
    await checkins.stop_checkins(work, member, "withdrawn")
    # Her managers' daily notes named her among the others they watch (rows not about her
    # alone): asked before she leaves the teams that made them hers.
    noted_by = [manager.id for manager in await work.repos.teams.managers_watching(member.id)]
    for team, role in await work.repos.teams.teams_of(member.id):
        await teams.leave_team(work, team, member, role)
    await work.repos.members.set_personal(member.id, PersonalFields())
    await work.repos.members.set_memo(member.id, "")
    await work.repos.desk.forget_person(member.id)
    await work.repos.on_behalf.forget_person(member.id)
    for case in await work.repos.desk.cases_of(member.id):
        if case.open:
            # The desk decides what her leaving means for a case it holds: it shows on it.
            await work.repos.desk.add_step(case.id, "", "stopped", work.now, result="withdrawn")
    await work.repos.members.clear_schedule(member.id)
    await work.repos.members.set_paused_until(member.id, None)
    # Nothing acts for her once she has left: no call number or consent, no device URL that
    # answers a check-in (were she to come back), no event of hers kept after forwarding.
    await work.repos.calls.set_consent(member.id, None, False, None)
    await work.repos.calls.forget_verifications(member.id)
    await work.repos.devices.revoke_all(member.id, work.now)
    await work.repos.forwards.forget_chat(member.line_user_id)
    await work.repos.members.withdraw(member.id, work.now)
    await work.repos.handled.scrub_words_of(member.line_user_id)
    addresses = [a for a in (member.line_user_id, member.channel_address, member.call_number) if a]
    await work.repos.outbox.scrub_about(member.id, addresses)
    await work.repos.outbox.scrub_sent_to("daily_note", noted_by)
    await work.repos.admin.audit("member", "member_withdrew", f"会員ID {member.id}", work.now)


@dataclass(frozen=True)
class Answer:
    answered: answers.Answered  # what the protocol did with it
    member: Member  # as it is after the answer
    state: CheckinState  # where the check-ins stand after it


async def answer(
    work: UnitOfWork,
    member: Member,
    event: Event,
    words: str | None = None,
    kind: str = "text",
    open_round: CheckinRound | None = None,
) -> Answer:
    """The person's 元気, 少し体調が悪い, 助けてほしい or message, on whichever round is open;
    `care.rounds.protocol` says what each does and who hears it. `open_round`: as
    `answers.answer`."""
    answered = await answers.answer(work, member, event, words, kind, open_round)
    # Derived, not read back: an OK tap at the 07:00 rush costs no further queries.
    after = member.with_last_ok(work.now) if event in LAST_OK else member
    today = work.now.astimezone(work.services.timezone).date()
    return Answer(answered, after, checkin_state(after, answered.open_after, today))


async def answer_on_call(
    work: UnitOfWork, member_id: int, value: str, round_id: int | None, slot: int | None
) -> tuple[Member, Answer | None]:
    """A key pressed on a call (care.rounds.calls): the same answer as the LINE button. Keys 2
    (体調)
    and 3 (助けて) count at any moment, as the LINE buttons do; key 1 (元気) only for the round
    the call was about (named, or its check-in's slot) while it is open (None: that round is
    over, and nothing is done). Key 1 during a call for help does not close it: she is asked in
    LINE, where she has it, whether she still needs help."""
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
    if answered.answered.tells(Audience.PERSON, Fact.STILL_HELP) and not phone_only(member):
        question = answers.help_question(work, work.locale(member.language), checkin)
        await push_to(work, member, [question], "still_help", round_id=checkin.id)
    return member, answered


async def viewable(work: UnitOfWork, viewer: Member, member_id: int | None) -> Member:
    """A card the viewer may read: their own, or a user of a team they manage. Nobody else's."""
    member = await work.repos.members.get(member_id) if member_id else None
    if member is None or not (
        member.id == viewer.id or await work.repos.teams.is_manager_of(viewer.id, member.id)
    ):
        raise Refused(Refusal.NOT_ALLOWED)
    return member


async def accept_terms(work: UnitOfWork, member: Member) -> None:
    await work.repos.members.accept_terms(member.id, work.now)


def validate_personal(body: dict[str, Any], today: date) -> tuple[PersonalFields, dict[str, str]]:
    """The optional card fields from a form, and what is wrong with them (field -> problem)."""
    values = {
        name: unicodedata.normalize("NFKC", str(body.get(name) or "")).strip()
        for name in PERSONAL_FIELDS
    }
    problems = {}
    for name, limit in FIELD_LIMITS.items():
        if len(values[name]) > limit:
            problems[name] = "too_long"
        elif hidden_characters(values[name]):
            problems[name] = "hidden_characters"
    if values["gender"] not in GENDERS:
        problems["gender"] = "unknown"
    if values["phone"] and not PHONE.match(values["phone"]):
        problems["phone"] = "not_a_phone_number"
    if values["birth_date"]:
        try:
            # Only YYYY-MM-DD: Python also reads 19400203 and 2020-W01-1, stored as typed.
            if not ISO_DATE.match(values["birth_date"]):
                raise ValueError(values["birth_date"])
            born = date.fromisoformat(values["birth_date"])
        except ValueError:
            problems["birth_date"] = "not_a_date"
        else:
            if not date(1900, 1, 1) <= born <= today:
                problems["birth_date"] = "out_of_range"
    return PersonalFields(**values), problems


HISTORY_DAYS = 30


@dataclass(frozen=True)
class HistoryEntry:
    """One check-in of the last weeks: how the person answered, and how long it took."""

    slot_at: datetime
    answer: str  # ok, unwell, help, message, none (no answer), confirmed (by a manager), open
    minutes: int | None  # from the check-in reaching LINE to the answer


def history_entry(checkin: CheckinRound) -> HistoryEntry:
    minutes = None
    if checkin.state is RoundState.ANSWERED and checkin.close_reason == "confirmed":
        answer = "confirmed"
    elif checkin.state is RoundState.ANSWERED:
        answer = checkin.answer or ("message" if checkin.close_reason == "message" else "ok")
        if checkin.sent_at and checkin.closed_at:
            minutes = max(0, int((checkin.closed_at - checkin.sent_at).total_seconds() // 60))
    elif checkin.answer == "help":
        answer = "help"
    elif checkin.state is RoundState.ALERTED:
        answer = "none"
    else:
        answer = "open"
    return HistoryEntry(checkin.slot_at, answer, minutes)


async def history(work: UnitOfWork, member: Member) -> list[HistoryEntry]:
    """The last 30 days of check-ins: a lengthening delay is a signal families want to see."""
    since = work.now - timedelta(days=HISTORY_DAYS)
    rounds = await work.repos.rounds.of_member_since(member.id, since)
    return [history_entry(r) for r in rounds if r.state is not RoundState.CANCELLED]


MEMO_LIMIT = 1000


async def save_memo(work: UnitOfWork, member: Member, memo: str) -> None:
    """緊急時メモ: what a responder needs (spare key, doctor, medicines, pets, whom to call).
    It reaches the managers only inside an alert."""
    text = unicodedata.normalize("NFKC", memo).strip()
    if len(text) > MEMO_LIMIT or hidden_characters(text, allowed="\n"):
        raise Refused(Refusal.INVALID_MEMO, max=MEMO_LIMIT)
    await work.repos.members.set_memo(member.id, text)


async def save_personal(work: UnitOfWork, member: Member, fields: PersonalFields) -> None:
    await work.repos.members.set_personal(member.id, fields)
