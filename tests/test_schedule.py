"""The schedule rule, exhaustively: every interval and hour, month and year ends."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from care.rounds.schedule import (
    HOURS,
    INTERVALS,
    Schedule,
    first_due,
    next_checkin,
    paused_on,
    slots_passed,
)

TOKYO = ZoneInfo("Asia/Tokyo")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TOKYO)


@pytest.mark.parametrize("hour", HOURS)
@pytest.mark.parametrize("interval", INTERVALS)
def test_first_due_is_the_next_occurrence_of_the_hour(interval: int, hour: int) -> None:
    schedule = Schedule(interval, hour)
    for now in (local(2026, 11, 23, 9, 0), local(2026, 12, 31, 23, 59), local(2027, 2, 28, 0, 0)):
        due = first_due(schedule, now, TOKYO)
        assert due > now
        assert due - now <= timedelta(days=1)
        assert due.astimezone(TOKYO).hour == hour
        assert due.astimezone(TOKYO).minute == 0
        assert due.tzinfo is not None


def test_first_due_at_exactly_the_hour_is_tomorrow() -> None:
    due = first_due(Schedule(3, 11), local(2026, 11, 23, 11, 0), TOKYO)
    assert due == local(2026, 11, 24, 11, 0)
    due = first_due(Schedule(3, 11), local(2026, 11, 23, 10, 59, 59), TOKYO)
    assert due == local(2026, 11, 23, 11, 0)


@pytest.mark.parametrize(
    ("start", "interval", "expected"),
    [
        (local(2026, 11, 30, 7), 1, local(2026, 12, 1, 7)),  # month end
        (local(2026, 12, 31, 23), 1, local(2027, 1, 1, 23)),  # year end, late hour
        (local(2026, 12, 31, 0), 3, local(2027, 1, 3, 0)),  # year end, midnight
        (local(2027, 2, 27, 6), 2, local(2027, 3, 1, 6)),  # February, not a leap year
        (local(2028, 2, 27, 6), 2, local(2028, 2, 29, 6)),  # leap year
        (local(2026, 12, 25, 17), 14, local(2027, 1, 8, 17)),
        (local(2026, 12, 28, 12), 7, local(2027, 1, 4, 12)),
        (local(2026, 1, 29, 8), 5, local(2026, 2, 3, 8)),
    ],
)
def test_next_slot_across_month_and_year_ends(
    start: datetime, interval: int, expected: datetime
) -> None:
    schedule = Schedule(interval, start.hour)
    latest, following = slots_passed(schedule, start, start + timedelta(minutes=1), TOKYO)
    assert latest == start
    assert following == expected


@pytest.mark.parametrize("interval", INTERVALS)
def test_cadence_holds_whenever_the_answer_or_the_sweep_comes(interval: int) -> None:
    """3日毎 11時 stays at 11時: the slot series depends only on the first slot."""
    schedule = Schedule(interval, 11)
    first = local(2026, 11, 23, 11)
    for late in (timedelta(0), timedelta(minutes=5), timedelta(hours=13), timedelta(days=3)):
        now = first + late
        latest, following = slots_passed(schedule, first, now, TOKYO)
        assert latest <= now < following
        assert following.astimezone(TOKYO).hour == 11
        assert (following.astimezone(TOKYO).date() - first.date()).days % interval == 0
        assert following - latest == timedelta(days=interval)


def test_downtime_yields_the_latest_missed_slot_only() -> None:
    schedule = Schedule(1, 9)
    latest, following = slots_passed(
        schedule, local(2026, 11, 24, 9), local(2026, 11, 27, 10), TOKYO
    )
    assert latest == local(2026, 11, 27, 9)
    assert following == local(2026, 11, 28, 9)
    latest, following = slots_passed(
        schedule, local(2026, 11, 24, 9), local(2026, 11, 27, 8), TOKYO
    )
    assert latest == local(2026, 11, 26, 9)
    assert following == local(2026, 11, 27, 9)


def test_schedules_outside_the_choices_are_refused() -> None:
    for interval, hour in ((4, 9), (0, 9), (1, 24), (1, -1), (30, 0)):
        with pytest.raises(ValueError):
            Schedule(interval, hour)


def test_times_are_utc_aware() -> None:
    due = first_due(Schedule(1, 9), datetime(2026, 11, 23, 0, 0, tzinfo=UTC), TOKYO)
    assert due.utcoffset() == timedelta(0)


@pytest.mark.parametrize("hour", HOURS)
def test_a_pause_holds_every_day_before_its_date(hour: int) -> None:
    schedule = Schedule(1, hour)
    until = date(2026, 12, 1)
    for now in (local(2026, 11, 23, 9, 0), local(2026, 11, 30, 23, 59), local(2026, 11, 30, 0)):
        back = next_checkin(schedule, until, now, TOKYO)
        assert back == local(2026, 12, 1, hour), "the check-in comes back on that date's hour"
        assert paused_on(until, now.astimezone(TOKYO).date())
    on_the_day = local(2026, 12, 1, 0, 30)
    assert not paused_on(until, on_the_day.date())
    assert next_checkin(schedule, until, on_the_day, TOKYO) == first_due(
        schedule, on_the_day, TOKYO
    )
    assert next_checkin(schedule, None, on_the_day, TOKYO) == first_due(
        schedule, on_the_day, TOKYO
    )
