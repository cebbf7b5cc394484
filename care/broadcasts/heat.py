"""熱中症警戒アラート days: the Ministry of the Environment's alerts (熱中症警戒アラート and
熱中症特別警戒アラート, announced for each 府県予報区 the day before at about 17:00 and on the day
at about 5:00) and its WBGT forecast, read as pure values; what an alert for the city's area
does (the day becomes an alert day); and the day's heat check.

A heat check is a check-in round of its own, opened at the city's hour for each resident who
asked for it or whom the desk marks at risk: the same protocol (`care.rounds.protocol.decide`,
the same answers, the same alert to her managers), with a shorter ladder (`heat_timings`: asked
again after an hour, her managers alerted an hour later). A person whose regular round is open
already (waiting or alerted) is not asked: that round's own ladder stands for the day, and the
day's tally names her among those not asked, with why. While the heat check waits, her regular
slot opens nothing (the protocol: no second round while one is open). Nobody hears she is safe
unless she says so (her 元気) or a manager or the desk does: silence is never read as safety.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from care.broadcasts.reach import UNREACHED, way_of
from care.rounds import calls, carry, checkins
from care.rounds.carry import Occasion
from care.rounds.ladder import Step, Timings, due_step, next_step
from care.rounds.notify import address_of
from care.rounds.protocol import Event, Stage, decide, stage_of
from care.services import Services, UnitOfWork
from ground.channels import VOICE
from ground.telling import Telling
from storage.models import Member

LEVELS = ("alert", "special")  # 熱中症警戒アラート, 熱中症特別警戒アラート
# What an alert list says of an area, as the Ministry words it.
_LEVEL_WORDS = {
    "熱中症特別警戒アラート": "special",
    "特別警戒": "special",
    "熱中症警戒アラート": "alert",
    "警戒": "alert",
    "": None,
    "なし": None,
    "発表なし": None,
}
# Like JMA's Control/Status: a real announcement (通常), a drill (訓練) or a test (試験). A list
# without one, or with another, is not read: nothing proves it real.
STATUSES = ("通常", "訓練", "試験")
_ALERT_COLUMNS = ("府県予報区コード", "対象日", "情報", "状態")
# The WBGT values of the forecast CSV are tenths of a degree (315: 31.5).
_WBGT_SCALE = 10


@dataclass(frozen=True)
class AreaAlert:
    area: str  # the 府県予報区 code
    day: date  # the day the alert is for
    level: str  # alert or special
    status: str  # 通常, 訓練, 試験


@dataclass(frozen=True)
class AlertList:
    """One alert list: every area's alert it names (areas without one are left out)."""

    alerts: tuple[AreaAlert, ...]

    def for_areas(self, areas: frozenset[str]) -> dict[date, tuple[str, str]]:
        """Each day an alert covers one of `areas`: (its highest level, its status)."""
        found: dict[date, tuple[str, str]] = {}
        for alert in self.alerts:
            if alert.area not in areas:
                continue
            level, status = found.get(alert.day, ("alert", alert.status))
            if alert.level == "special":
                level = "special"
            if alert.status != "通常":
                status = alert.status
            found[alert.day] = (level, status)
        return found


def parse_alerts(text: str) -> AlertList:
    """The alert list (CSV, UTF-8, a header row naming 府県予報区コード, 対象日, 情報, 状態;
    lines starting with # are comments). Raises ValueError for anything else: a missing
    column, an unknown 情報 or 状態, a date that is not one."""
    lines = [line for line in text.lstrip("\ufeff").splitlines() if not line.startswith("#")]
    rows = list(csv.reader(lines))
    if not rows:
        raise ValueError("empty")
    header = [cell.strip() for cell in rows[0]]
    missing = [c for c in _ALERT_COLUMNS if c not in header]
    if missing:
        raise ValueError(f"columns missing: {', '.join(missing)}")
    at = {name: header.index(name) for name in _ALERT_COLUMNS}
    alerts = []
    for row in rows[1:]:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < len(header):
            raise ValueError("a short line")
        words = row[at["情報"]].strip()
        if words not in _LEVEL_WORDS:
            raise ValueError(f"unknown 情報: {words!r}")
        status = row[at["状態"]].strip()
        if status not in STATUSES:
            raise ValueError(f"状態 missing or unknown: {status!r}")
        level = _LEVEL_WORDS[words]
        if level is None:
            continue
        area = row[at["府県予報区コード"]].strip()
        if not area.isdigit():
            raise ValueError(f"not an area code: {area!r}")
        day = date.fromisoformat(row[at["対象日"]].strip().replace("/", "-"))
        alerts.append(AreaAlert(area, day, level, status))
    return AlertList(tuple(alerts))


@dataclass(frozen=True)
class WbgtForecast:
    point: str
    highest: dict[date, float]  # each day's highest forecast WBGT at the point


def parse_wbgt(text: str) -> WbgtForecast:
    """The 暑さ指数(WBGT)予測値 CSV of one point (yohou_{point}.csv): a first line of the
    forecast's times (YYYYMMDDHH, hour 24 being the day's last), and a line of the point's
    number, when the forecast was made, and the values in tenths. Raises ValueError for
    anything else."""
    lines = [line for line in text.lstrip("\ufeff").splitlines() if not line.startswith("#")]
    rows = [row for row in csv.reader(lines) if row]
    if len(rows) < 2:
        raise ValueError("no forecast line")
    times, values = rows[0][2:], rows[1]
    point = values[0].strip()
    if not point.isdigit():
        raise ValueError(f"not a point number: {point!r}")
    highest: dict[date, float] = {}
    for stamp, value in zip(times, values[2:], strict=False):
        stamp, value = stamp.strip(), value.strip()
        if not value:
            continue  # a time the forecast leaves blank
        if len(stamp) != 10 or not stamp.isdigit() or not value.lstrip("-").isdigit():
            raise ValueError(f"not a forecast time and value: {stamp!r} {value!r}")
        day = date(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:8]))
        wbgt = int(value) / _WBGT_SCALE
        if not 0 <= wbgt < 60:
            raise ValueError(f"not a WBGT: {value!r}")
        highest[day] = max(highest.get(day, wbgt), wbgt)
    if not highest:
        raise ValueError("no values")
    return WbgtForecast(point, highest)


def heat_timings(services: Services) -> Timings:
    """The heat check's ladder: the deployment's, with the heat day's shorter waits."""
    settings = services.settings
    return replace(
        services.timings,
        resend_after=settings.heat_resend_after,
        alert_after=settings.heat_alert_after,
    )


def check_moment(services: Services, day: date) -> datetime:
    """When the day's heat check goes out: the city's hour, that day, its time zone."""
    hour = services.settings.heat_check_hour
    return datetime.combine(day, time(hour), services.timezone)


async def on_alerts(work: UnitOfWork, document: str, alerts: AlertList) -> str:
    """What an alert list does: each day it puts the city's areas under an alert becomes an
    alert day (its heat check at the city's hour, or at once when that hour has passed).
    -> special, alert, none or drill. Each document once (the caller records it)."""
    settings = work.services.settings
    days = alerts.for_areas(settings.heat_areas)
    today = work.now.astimezone(work.services.timezone).date()
    days = {day: found for day, found in days.items() if day >= today}
    if not days:
        action = "none"
    elif any(status != "通常" for _, status in days.values()) and not settings.heat_drills:
        action = "drill"  # a 訓練 or 試験 list: recorded, starts nothing
    else:
        action = "special" if any(level == "special" for level, _ in days.values()) else "alert"
        for day, (level, _) in sorted(days.items()):
            check_at = max(check_moment(work.services, day), work.now)
            if await work.repos.heat.announce(day, level, check_at, work.now):
                what = "heat_special" if level == "special" else "heat_alert"
                await work.repos.admin.audit(
                    "環境省", what, f"{day.isoformat()} {document}", work.now
                )
    detail = ", ".join(f"{d.isoformat()} {lv}" for d, (lv, _) in sorted(days.items()))
    await work.repos.heat.record(
        document, "alert", action, min(days) if days else None, detail, work.now
    )
    return action


async def on_forecast(work: UnitOfWork, document: str, forecast: WbgtForecast) -> str:
    for day, highest in forecast.highest.items():
        await work.repos.heat.forecast(forecast.point, day, highest, work.now)
    top = max(forecast.highest.values())
    await work.repos.heat.record(
        document, "wbgt", "forecast", min(forecast.highest), f"{forecast.point} {top}", work.now
    )
    return "forecast"


# The heat check itself.


def heat_message(work: UnitOfWork, language: str, slot_at: datetime, again: bool) -> Telling:
    """The heat check in one language: advice (cool the room, drink water) and the same
    answers as a check-in, for the heat round's slot."""
    locale = work.locale(language)
    return Telling.checkin(
        locale.language,
        locale.t("heat41.again_title" if again else "heat41.title"),
        locale.t("heat41.advice"),
        locale.t("heat41.instruction"),
        checkins.answer_choices(work.services, locale, slot_at),
    )


def heat_slot(check_at: datetime) -> datetime:
    # A second past the hour: a regular slot at the same hour (already answered that day) is
    # never the heat check's, whose (person, slot) must be a round of its own.
    return check_at + timedelta(seconds=1)


async def _write(
    work: UnitOfWork, people: list[Member], slot_at: datetime, again: bool
) -> list[tuple[int, list[Member]]]:
    """The heat check (or its re-send) into the outbox: one row per language and channel
    (LINE's multicast of 500), a call of its own for each person reached by phone."""
    services = work.services
    by_row: dict[tuple[str, str], list[Member]] = defaultdict(list)
    for person in people:
        channel, _ = address_of(services, person)
        by_row[(work.locale(person.language).language, channel)].append(person)
    written = []
    for (language, channel), group in by_row.items():
        batch = services.channels[channel].batch_limit
        for start in range(0, len(group), batch):
            chunk = group[start : start + batch]
            telling = (
                await calls.checkin_call(work, chunk[0].id, slot_at, again)
                if channel == VOICE
                else heat_message(work, language, slot_at, again)
            )
            outbox_id = await work.repos.outbox.add(
                kind="multicast" if len(chunk) > 1 else "push",
                channel=channel,
                recipients=[address_of(services, m)[1] for m in chunk],
                tellings=[telling],
                purpose="resend" if again else "checkin",
                now=work.now,
            )
            written.append((outbox_id, chunk))
    return written


async def open_heat_checks(work: UnitOfWork, limit: int) -> int:
    """At an alert day's hour, a heat round for each person who asked for it or is marked at
    risk, unless a round of hers is open already. -> the days handled."""
    days = await work.repos.heat.days_due(work.now)
    for found in days[:limit]:
        day = date.fromisoformat(found["day"])
        slot_at = heat_slot(datetime.fromisoformat(found["check_at"]))
        asked: list[Member] = []
        unasked: list[tuple[int, int | None, str | None]] = []
        for person in await work.repos.heat.watched():
            way = way_of(work.services, person, (heat_message(work, "ja", slot_at, False),))
            if way in UNREACHED:
                unasked.append((person.id, None, way))
            elif await work.repos.rounds.open_round(person.id) is not None:
                unasked.append((person.id, None, "round_open"))
            else:
                asked.append(person)
        written = await _write(work, asked, slot_at, again=False)
        openings = [(m.id, slot_at, outbox_id) for outbox_id, chunk in written for m in chunk]
        opened = await work.repos.rounds.open_unless_open(openings, work.now)
        for outbox_id, chunk in written:
            if any(m.id not in opened for m in chunk):
                kept = [address_of(work.services, m)[1] for m in chunk if m.id in opened]
                await work.repos.outbox.narrow(outbox_id, kept)
        people = list(unasked)
        for person in asked:
            if person.id in opened:
                round_ = await work.repos.rounds.open_round(person.id)
                people.append((person.id, round_.id if round_ else None, None))
            else:
                people.append((person.id, None, "round_open"))
        await work.repos.heat.add_people(day, people)
        await work.repos.heat.asked(day, work.now)
        await work.repos.admin.audit(
            "環境省",
            "heat_check",
            f"{day.isoformat()} {found['level']}: {len(opened)} asked, {len(unasked)} not",
            work.now,
        )
    return min(len(days), limit)


async def climb_heat_ladder(work: UnitOfWork, limit: int) -> int:
    """The heat rounds' shorter ladder: asked again after `heat_resend_after`, her managers
    alerted `heat_alert_after` later (or first her phone rung, as she chose), each step as
    the protocol decides it."""
    timings = heat_timings(work.services)
    rounds = (await work.repos.heat.waiting_rounds())[:limit]
    members = await work.repos.members.get_many([r.member_id for r in rounds])
    alerting = []
    for checkin in rounds:
        step = due_step(checkin, timings, work.now)
        person = members.get(checkin.member_id)
        if person is None:
            continue
        if step is Step.RESEND:
            decision = decide(stage_of(checkin), Event.NO_ANSWER)
            if decision is None or decision.after is not Stage.ASKED_AGAIN:
                continue
            await carry.carry_out(work, Occasion(person, checkin, Event.NO_ANSWER), decision)
            for outbox_id, _ in await _write(work, [person], checkin.slot_at, again=True):
                await work.repos.rounds.attach_outbox([checkin.id], outbox_id, resend=True)
        elif step in (Step.ALERT, Step.CALL_ENDED):
            alerting.append(checkin)
    await checkins.alert_rounds(work, alerting, members)
    return len(rounds)


async def next_heat_step(work: UnitOfWork) -> datetime | None:
    """When the next heat step falls due: a day's check, or a heat round's rung."""
    timings = heat_timings(work.services)
    moments = [await work.repos.heat.earliest_due()]
    for checkin in await work.repos.heat.waiting_rounds():
        found = next_step(checkin, timings)
        moments.append(found[1] if found else None)
    present = [m for m in moments if m is not None]
    return min(present) if present else None


# Who is asked: her own choice, and the desk's mark.


async def set_opted_in(work: UnitOfWork, member: Member, on: bool) -> None:
    await work.repos.heat.set_watch(member.id, work.now, opted_in=on)


async def set_at_risk(work: UnitOfWork, member: Member, on: bool, staff: str) -> None:
    """The desk marks her at risk on hot days (or no longer): audited with who did."""
    await work.repos.heat.set_watch(member.id, work.now, at_risk=on)
    what = "heat_at_risk" if on else "heat_not_at_risk"
    await work.repos.admin.audit(staff, what, f"会員ID {member.id}", work.now)


# The day's tally, as a roll-call's.

STANDINGS = ("alerted", "silent", "unwell", "help", "answered", "confirmed", "closed", "unasked")
# The order the page lists people in: the silent and alerted first.
_ORDER = {standing: index for index, standing in enumerate(STANDINGS)}


def standing(person: dict[str, Any]) -> str:
    """Where a person the day's check named stands: never asked (and why), waiting for her
    answer (silent), her managers alerted, or answered (by her, a manager or the desk)."""
    if person["unasked"]:
        return "unasked"
    state = person["state"]
    if state in ("open", "resent"):
        return "silent"
    if state == "alerted":
        return "alerted"
    if state == "answered":
        if person["close_reason"] in ("confirmed", "desk_confirmed"):
            return "confirmed"
        if person["answer"] in ("unwell", "help"):
            return str(person["answer"])
        return "answered"
    return "closed"  # cancelled (paused, stopped, blocked), or purged


@dataclass(frozen=True)
class HeatTally:
    day: date
    level: str | None
    asked_at: datetime | None
    counts: dict[str, int]
    people: list[dict[str, Any]]  # each with its standing, the silent and alerted first
    forecasts: list[dict[str, Any]] = field(default_factory=list)
    unasked_why: dict[str, int] = field(default_factory=dict)

    @property
    def asked(self) -> int:
        return sum(n for s, n in self.counts.items() if s != "unasked")


async def tally(work: UnitOfWork, day: date) -> HeatTally:
    found = await work.repos.heat.day(day)
    people = [
        {**person, "standing": standing(person)} for person in await work.repos.heat.people(day)
    ]
    people.sort(key=lambda p: (_ORDER[p["standing"]], p["member_id"]))
    counts = Counter(p["standing"] for p in people)
    return HeatTally(
        day=day,
        level=found["level"] if found else None,
        asked_at=datetime.fromisoformat(found["asked_at"])
        if found and found["asked_at"]
        else None,
        counts={s: counts.get(s, 0) for s in STANDINGS},
        people=people,
        forecasts=await work.repos.heat.forecasts_of(day),
        unasked_why=dict(Counter(p["unasked"] for p in people if p["unasked"])),
    )
