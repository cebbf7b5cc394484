"""The month's message quota: what LINE says is used, and what the schedule will still use."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from care.rounds.reassurance import NOTE_HOUR
from storage.database import from_db
from storage.repositories import Repositories

WARN_SHARE = 0.9


@dataclass(frozen=True)
class Forecast:
    limit: int | None
    used: int
    checkins: int  # check-ins still due this month
    follow_ups: int  # re-sends and alerts expected at the last 30 days' rate
    groups: int  # group posts and reports, per member
    month_end: datetime
    notes: int = 0  # daily notes to the managers who asked for them

    @property
    def left(self) -> int | None:
        """What the month's quota leaves (None: no limit)."""
        return None if self.limit is None else self.limit - self.used

    @property
    def projected(self) -> int:
        return self.used + self.checkins + self.follow_ups + self.groups + self.notes

    @property
    def warning(self) -> bool:
        """Check-ins must not silently stop at month end: warn before the quota runs out."""
        if self.limit is None:
            return False
        return self.projected > self.limit or self.used >= self.limit * WARN_SHARE


def month_end(now: datetime, tz: ZoneInfo) -> datetime:
    local = now.astimezone(tz)
    last_day = calendar.monthrange(local.year, local.month)[1]
    return datetime.combine(local.date().replace(day=last_day), time(23, 59, 59), tzinfo=tz)


def slots_until(next_due: datetime | None, interval_days: int, until: datetime) -> int:
    if next_due is None or next_due > until:
        return 0
    return int((until - next_due) / timedelta(days=interval_days)) + 1


async def forecast(
    repos: Repositories, limit: int | None, used: int, now: datetime, tz: ZoneInfo
) -> Forecast:
    end = month_end(now, tz)
    checkins = sum(
        people * slots_until(from_db(due), interval, end)
        for interval, due, people in await repos.stats.scheduled()
    )
    recent = await repos.stats.daily(
        (now - timedelta(days=30)).astimezone(tz).date(),
        now.astimezone(tz).date(),
        tz.utcoffset(now) or timedelta(0),
    )
    sent = sum(day["checkins"] for day in recent)
    extra = sum(day["resends"] + day["alerts"] for day in recent)
    follow_ups = round(checkins * extra / sent) if sent else 0
    groups = sum(
        2 * members * slots_until(from_db(due), interval, end)
        for interval, due, members in await repos.stats.group_schedules()
    )
    local = now.astimezone(tz)
    evenings = (end.date() - local.date()).days + (1 if local.hour < NOTE_HOUR else 0)
    notes = evenings * await repos.members.daily_note_count()
    return Forecast(limit, used, checkins, follow_ups, groups, end, notes)
