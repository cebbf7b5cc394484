"""When her check-ins come: the schedule she sets (or asks her family to set,
家族に設定してもらう), a pause (入院・旅行, 退院するまで) and its weekly reminder, resuming,
and stopping."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from care.errors import Refusal, Refused
from care.rounds import checkins
from care.rounds.notify import display_name, push_to
from care.rounds.schedule import Schedule, next_checkin, paused_on
from care.services import UnitOfWork
from ground.i18n import Locale
from ground.telling import Choice, Telling
from storage.models import Member

PAUSE_MAX_DAYS = 365


PAUSE_REMINDER_EVERY = timedelta(days=7)  # 退院するまで: the gentle weekly word


# The schedules offered as one tap each: most people choose one of these.
USUAL_SCHEDULES = (Schedule(1, 9), Schedule(1, 7), Schedule(1, 18), Schedule(2, 9), Schedule(3, 9))


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
