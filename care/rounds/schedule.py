"""When check-ins are due: pure functions over a schedule, a moment and a time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

INTERVALS: tuple[int, ...] = (1, 2, 3, 5, 7, 14)
HOURS: tuple[int, ...] = tuple(range(24))


@dataclass(frozen=True)
class Schedule:
    """Every `interval_days` days at `hour`:00 local time (e.g. 3日毎 11時)."""

    interval_days: int
    hour: int

    def __post_init__(self) -> None:
        if self.interval_days not in INTERVALS:
            raise ValueError(f"interval must be one of {INTERVALS}, got {self.interval_days}")
        if self.hour not in HOURS:
            raise ValueError(f"hour must be 0-23, got {self.hour}")


def schedule_or_none(interval_days: int | None, hour: int | None) -> Schedule | None:
    """The schedule of a person or a group, or None while they have none."""
    if interval_days is None or hour is None:
        return None
    return Schedule(interval_days, hour)


def _at_hour(day: date, hour: int, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=tz).astimezone(UTC)


def first_due(schedule: Schedule, now: datetime, tz: ZoneInfo) -> datetime:
    """The next occurrence of the schedule's hour strictly after `now`."""
    today = now.astimezone(tz).date()
    candidate = _at_hour(today, schedule.hour, tz)
    if candidate <= now:
        candidate = _at_hour(today + timedelta(days=1), schedule.hour, tz)
    return candidate


def slots_passed(
    schedule: Schedule, due: datetime, now: datetime, tz: ZoneInfo
) -> tuple[datetime, datetime]:
    """For a due time at or before `now`: (the latest slot of the series that has come,
    the first slot after `now`). The series keeps the cadence of `due`'s local date, so
    3日毎 11時 stays at 11時 however late the OK or the server came."""
    start_day = due.astimezone(tz).date()
    elapsed_days = (now.astimezone(tz).date() - start_day).days
    steps = max(elapsed_days // schedule.interval_days, 0)
    latest = _at_hour(
        start_day + timedelta(days=steps * schedule.interval_days), schedule.hour, tz
    )
    if latest > now:
        steps -= 1
        latest = _at_hour(
            start_day + timedelta(days=steps * schedule.interval_days), schedule.hour, tz
        )
    if steps < 0:  # `due` itself carries an hour later than the schedule's on the same day
        latest = due
        steps = 0
    following = _at_hour(
        start_day + timedelta(days=(steps + 1) * schedule.interval_days), schedule.hour, tz
    )
    return latest, following


def paused_on(paused_until: date | None, today: date) -> bool:
    """A pause until a date holds every day before that date (入院・旅行 until 12月1日: the
    check-ins come back on 12月1日)."""
    return paused_until is not None and paused_until > today


def next_checkin(
    schedule: Schedule, paused_until: date | None, now: datetime, tz: ZoneInfo
) -> datetime:
    """The first check-in after `now` that a pause allows: the one answer whenever check-ins
    start again (a new schedule, the end of a pause, a block undone, a restart)."""
    if paused_on(paused_until, now.astimezone(tz).date()):
        assert paused_until is not None
        return max(first_due(schedule, now, tz), _at_hour(paused_until, schedule.hour, tz))
    return first_due(schedule, now, tz)
