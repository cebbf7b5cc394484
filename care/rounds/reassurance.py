"""Quiet reassurance, on request: a manager who asked for it hears, once a day, how everyone
they watch answered (one push a day for all of them); everyone else hears only when something
is wrong (the default)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from care.rounds.notify import display_name, push_to
from care.services import UnitOfWork
from ground.i18n import Locale
from ground.telling import Telling
from storage.models import Member

NOTE_HOUR = 20  # local: the day's check-ins (at most 19:00 plus their ladder) have had time


def next_note_at(now: datetime, tz: object) -> datetime:
    """The next NOTE_HOUR after now (the sweep's wake-up, while anyone asked for notes)."""
    local = now.astimezone(tz)  # type: ignore[arg-type]
    at = datetime.combine(local.date(), time(NOTE_HOUR), tzinfo=tz)  # type: ignore[arg-type]
    return at if at > now else at + timedelta(days=1)


async def choose(work: UnitOfWork, manager: Member, every_day: bool) -> None:
    await work.repos.members.set_daily_note(manager.id, every_day)


async def send_daily_notes(work: UnitOfWork, limit: int) -> int:
    """Today's note to every manager who asked for one and has not had it; -> how many."""
    tz = work.services.timezone
    if work.now.astimezone(tz).hour < NOTE_HOUR:
        return 0
    today = work.now.astimezone(tz).date()
    managers = await work.repos.members.wanting_daily_note(today.isoformat(), limit)
    for manager in managers:
        watched = await work.repos.teams.users_watched_by(manager.id)
        await work.repos.members.daily_note_sent(manager.id, today.isoformat())
        if not watched:
            continue
        locale = work.locale(manager.language)
        lines = [await _line(work, locale, person, today) for person in watched]
        text = locale.t("note.body", day=locale.day(today), lines="\n".join(lines))
        telling = Telling.sentence(locale.language, text)
        await push_to(work, manager, [telling], "daily_note")
    return len(managers)


async def _line(work: UnitOfWork, locale: Locale, person: Member, today: object) -> str:
    name = display_name(locale, person)
    tz = work.services.timezone
    # An open round first: an OK this morning says nothing of a call for help this afternoon.
    current = await work.repos.rounds.open_round(person.id)
    if current is not None:
        state = locale.t(f"status.round.{current.state.value}")
        return locale.t("note.waiting", name=name, state=state)
    last = person.last_ok_at
    if last is not None and last.astimezone(tz).date() == today:
        return locale.t("note.answered", name=name, at=locale.when(last))
    return locale.t("note.no_checkin", name=name)
