"""熱中症警戒アラート days: the Ministry of the Environment's alerts (熱中症警戒アラート and
熱中症特別警戒アラート, issued for each 府県予報区 the day before at about 17:00 and on the day
at about 5:00; the special one per 都道府県 the day before at about 14:00), as its alert file
says them (alert_{YYYYMMDD}_{HH}.csv, published at 05, 10, 14 and 17 JST on
www.wbgt.env.go.jp), and its WBGT forecast, read as pure values; what an alert for the
city's area does (the day becomes an alert day); and the day's heat check.

A heat check is a check-in round of its own, opened at the city's hour for each resident who
asked for it or whom the desk marks at risk: the same protocol (`care.rounds.protocol.decide`,
the same answers, the same alert to her managers), on the same ladder with the heat day's
shorter waits (`care.rounds.due.heat_timings`: asked again after an hour, her managers alerted
an hour later). A person whose regular check-in still waits for her answer is silent since it,
the one most at risk that day: the check names that round, which then climbs with the heat
day's waits too (asked again with the heat check's advice, her managers alerted an hour later)
and the tally counts her silent. The ladder (`care.rounds.due`) steps every round, these
included; this module gives the heat rounds their words. One whose alert is open already is
not asked (that alert stands), and the tally names her among those not asked, with why.
While the heat check waits, her regular slot opens nothing (the protocol: no second round
while one is open).
Nobody hears she is safe unless she says so (her 元気) or a manager or the desk does: silence
is never read as safety.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from care.broadcasts.reach import UNREACHED, way_of
from care.rounds import calls, checkins
from care.rounds.notify import address_of
from care.services import Services, UnitOfWork
from ground.channels import VOICE
from ground.telling import Telling
from storage.models import Member, RoundState

LEVELS = ("alert", "special")  # 熱中症警戒アラート, 熱中症特別警戒アラート
# The Ministry publishes its alert file four times a day (JST), each named by its hour
# (alert_{YYYYMMDD}_{HH}.csv); a later one replaces what an earlier one said.
ISSUING_HOURS = (5, 10, 14, 17)
JST = ZoneInfo("Asia/Tokyo")
# A flag (FlagExplanation): 0 none, 1 熱中症警戒情報 (熱中症警戒アラート) issued, 2 特別警戒情報
# judged (NOT issued: never read as one), 3 熱中症特別警戒情報 (特別警戒アラート) issued, 9 outside
# the issuing hours (the file says nothing of that day).
ISSUED = {"1": "alert", "3": "special"}
FLAGS = ("0", "1", "2", "3", "9")
SILENT = "9"
# How a recorded document names each flag (the console shows it as read).
_FLAG_WORDS = {"0": "none", "1": "alert", "2": "special judged, not issued", "3": "special"}
# Among several areas of the city, the flag that says most: issued above judged above none.
_WEIGHT = {"0": 0, "2": 1, "1": 2, "3": 3}
REAL = "通常"  # the file's Status; anything else (the sample file says 試験) is a test
_HEADER_KEYS = ("ReportDate", "ReportTime", "Status", "TargetDate1", "TargetDate2")
_TABLE = "府県予報区"  # the first cell of the table's header row
# The table's columns (0-based): the area's name, its code (the JMA 府県予報区 code, 130000),
# the flags for TargetDate1 and TargetDate2.
_NAME, _CODE, _FLAG1, _FLAG2 = 0, 3, 6, 7
# The WBGT values of the forecast CSV are tenths of a degree (315: 31.5).
_WBGT_SCALE = 10


@dataclass(frozen=True)
class AreaFlags:
    area: str  # the 府県予報区 code
    name: str
    flags: tuple[str, str]  # for the file's TargetDate1 and TargetDate2


@dataclass(frozen=True)
class AlertFile:
    """One of the Ministry's alert files: its header and each 府県予報区's flags."""

    reported_at: datetime
    status: str  # 通常, or a test (試験)
    days: tuple[date, date]  # TargetDate1 (the day it is issued), TargetDate2 (the next)
    areas: tuple[AreaFlags, ...]

    @property
    def real(self) -> bool:
        return self.status == REAL

    def flags_for(self, areas: frozenset[str]) -> dict[date, str]:
        """What the file says of `areas` for each of its days: the flag that says most among
        them. A day it says nothing of (9 for every one of them) is left out, so that an
        earlier file's word for that day stands."""
        found: dict[date, str] = {}
        for row in self.areas:
            if row.area not in areas:
                continue
            for day, flag in zip(self.days, row.flags, strict=True):
                if flag == SILENT:
                    continue
                if _WEIGHT[flag] >= _WEIGHT[found.get(day, "0")]:
                    found[day] = flag
        return found


def alert_file_url(base: str, day: date, hour: int) -> str:
    """Where the file of `day`'s issuing `hour` is: {base}{YYYY}/alert_{YYYYMMDD}_{HH}.csv."""
    return f"{base.rstrip('/')}/{day:%Y}/alert_{day:%Y%m%d}_{hour:02d}.csv"


def alert_files_due(now: datetime) -> list[tuple[date, int]]:
    """The files that speak of today, oldest first: yesterday's 17:00 (its second day is
    today) and each of today's issuing hours that has passed (JST)."""
    local = now.astimezone(JST)
    today = local.date()
    due = [(today - timedelta(days=1), ISSUING_HOURS[-1])]
    due += [(today, hour) for hour in ISSUING_HOURS if local.hour >= hour]
    return due


def _day(text: str, what: str) -> date:
    try:
        return datetime.strptime(text.strip(), "%Y/%m/%d").replace(tzinfo=JST).date()
    except ValueError:
        raise ValueError(f"{what}: not a date: {text!r}") from None


def parse_alert_file(text: str) -> AlertFile:
    """The alert file (UTF-8 CSV): header lines of "key,value" (ReportDate, ReportTime,
    Status, TargetDate1, TargetDate2, FlagExplanation, …), then the table whose header row
    starts with 府県予報区, one row per 府県予報区. Raises ValueError for anything else: a
    header missing, no table or an empty one, a short row, a code or a flag that is not one."""
    rows = list(csv.reader(text.lstrip("\ufeff").splitlines()))
    header: dict[str, str] = {}
    at = 0
    while at < len(rows) and (not rows[at] or rows[at][0].strip() != _TABLE):
        row = rows[at]
        if len(row) >= 2 and row[0].strip():
            header.setdefault(row[0].strip(), row[1].strip())
        at += 1
    if at == len(rows):
        raise ValueError(f"no {_TABLE} table")
    missing = [key for key in _HEADER_KEYS if not header.get(key)]
    if missing:
        raise ValueError(f"header missing: {', '.join(missing)}")
    try:
        reported_at = datetime.strptime(
            f"{header['ReportDate']} {header['ReportTime']}", "%Y/%m/%d %H:%M:%S"
        ).replace(tzinfo=JST)
    except ValueError:
        raise ValueError("ReportDate/ReportTime: not a date and time") from None
    days = (_day(header["TargetDate1"], "TargetDate1"), _day(header["TargetDate2"], "TargetDate2"))
    areas = []
    for row in rows[at + 1 :]:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= _FLAG2:
            raise ValueError(f"a short row: {row[:1]}")
        code = row[_CODE].strip()
        if len(code) != 6 or not code.isdigit():
            raise ValueError(f"not a 府県予報区 code: {code!r}")
        flags = (row[_FLAG1].strip(), row[_FLAG2].strip())
        if any(flag not in FLAGS for flag in flags):
            raise ValueError(f"{code}: unknown flag {flags!r}")
        areas.append(AreaFlags(code, row[_NAME].strip(), flags))
    if not areas:
        raise ValueError(f"an empty {_TABLE} table")
    return AlertFile(reported_at, header["Status"], days, tuple(areas))


@dataclass(frozen=True)
class WbgtForecast:
    point: str
    highest: dict[date, float]  # each day's highest forecast WBGT at the point


def parse_wbgt(text: str) -> WbgtForecast:
    """The 暑さ指数(WBGT)予測値 CSV of one point (yohou_{point}.csv): a first row of two blank
    cells and the forecast's times (YYYYMMDDHH, 3-hourly; hour 24 is the next day's 00:00),
    a second of the point's number, when the forecast was made (YYYY/MM/DD HH:MM), and the
    values in tenths. Raises ValueError for anything else."""
    rows = [row for row in csv.reader(text.lstrip("\ufeff").splitlines()) if row]
    if len(rows) < 2:
        raise ValueError("no forecast line")
    times, values = rows[0][2:], rows[1]
    point = values[0].strip()
    if not point.isdigit():
        raise ValueError(f"not a point number: {point!r}")
    try:
        datetime.strptime(values[1].strip(), "%Y/%m/%d %H:%M").replace(tzinfo=JST)
    except (IndexError, ValueError):
        raise ValueError("not when the forecast was made") from None
    highest: dict[date, float] = {}
    for stamp, value in zip(times, values[2:], strict=False):
        stamp, value = stamp.strip(), value.strip()
        if not value:
            continue  # a time the forecast leaves blank
        if len(stamp) != 10 or not stamp.isdigit() or not value.lstrip("-").isdigit():
            raise ValueError(f"not a forecast time and value: {stamp!r} {value!r}")
        midnight = datetime(int(stamp[:4]), int(stamp[4:6]), int(stamp[6:8]), tzinfo=JST)
        moment = midnight + timedelta(hours=int(stamp[8:]))
        wbgt = int(value) / _WBGT_SCALE
        if not 0 <= wbgt < 60:
            raise ValueError(f"not a WBGT: {value!r}")
        day = moment.date()
        highest[day] = max(highest.get(day, wbgt), wbgt)
    if not highest:
        raise ValueError("no values")
    return WbgtForecast(point, highest)


def check_moment(services: Services, day: date) -> datetime:
    """When the day's heat check goes out: the city's hour, that day, its time zone."""
    hour = services.settings.heat_check_hour
    return datetime.combine(day, time(hour), services.timezone)


async def on_alert_file(work: UnitOfWork, document: str, file: AlertFile) -> str:
    """What an alert file does: each day from today on for which it says the city's areas are
    under an alert (flag 1, or 3 for the special one) becomes an alert day (its heat check at
    the city's hour, or at once when that hour has passed), or its level rises.
    -> special, alert, none or drill. Each document once (the caller records it).

    Nothing here takes an alert day back: the Ministry never withdraws an alert once issued,
    so a later file's 0 for that day (or its 9, which says nothing) leaves the day's check
    as it was; a 2 (特別警戒 judged, not issued) starts nothing."""
    settings = work.services.settings
    today = work.now.astimezone(work.services.timezone).date()
    said = {d: flag for d, flag in file.flags_for(settings.heat_areas).items() if d >= today}
    issued = {d: ISSUED[flag] for d, flag in said.items() if flag in ISSUED}
    if not file.real and not settings.heat_drills:
        action = "drill"  # a test file (Status 試験, not 通常): recorded, starts nothing
    elif not issued:
        action = "none"
    else:
        action = "special" if "special" in issued.values() else "alert"
        for day, level in sorted(issued.items()):
            check_at = max(check_moment(work.services, day), work.now)
            if await work.repos.heat.announce(day, level, check_at, work.now):
                what = "heat_special" if level == "special" else "heat_alert"
                await work.repos.admin.audit(
                    "環境省", what, f"{day.isoformat()} {document}", work.now
                )
    words = ", ".join(f"{d.isoformat()} {_FLAG_WORDS[flag]}" for d, flag in sorted(said.items()))
    detail = f"{file.reported_at:%Y-%m-%d %H:%M} {file.status}" + (f": {words}" if words else "")
    await work.repos.heat.record(
        document, "alert", action, min(said) if said else None, detail, work.now
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

# A regular round still waiting for her answer: named by the day's check, it climbs with the
# heat day's waits (care.rounds.due).
_WAITING = (RoundState.OPEN, RoundState.RESENT)


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
                await calls.heat_call(work, chunk[0].id, slot_at, again)
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
        waiting: list[tuple[int, int | None, str | None]] = []
        for person in await work.repos.heat.watched():
            way = way_of(work.services, person, (heat_message(work, "ja", slot_at, False),))
            open_round = await work.repos.rounds.open_round(person.id)
            if way in UNREACHED:
                unasked.append((person.id, None, way))
            elif open_round is not None and open_round.state in _WAITING:
                # Silent since her regular check-in: the one most at risk today. Named here,
                # that round climbs with the heat day's waits (not 24 h + 3 h), and the
                # tally counts her silent.
                waiting.append((person.id, open_round.id, None))
            elif open_round is not None:
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
        people = list(unasked) + waiting
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


async def ask_again(work: UnitOfWork, limit: int) -> int:
    """The heat check's words for the heat rounds the ladder (care.rounds.due, with the heat
    day's waits) has just moved to asked again: its advice, again, with the same answers.
    Written in the ladder's own unit of work, before the regular re-sends are (which would
    otherwise carry them in the usual words). -> the rounds given their words."""
    waiting = await work.repos.rounds.awaiting_message(resend=True, limit=limit, heat=True)
    members = await work.repos.members.get_many([w.member_id for w in waiting])
    by_slot: dict[datetime, list[tuple[int, Member]]] = defaultdict(list)
    for found in waiting:
        person = members.get(found.member_id)
        if person is not None:
            by_slot[found.slot_at].append((found.round_id, person))
    for slot_at, rounds in by_slot.items():
        round_of = {person.id: round_id for round_id, person in rounds}
        people = [person for _, person in rounds]
        for outbox_id, chunk in await _write(work, people, slot_at, again=True):
            ids = [round_of[m.id] for m in chunk]
            await work.repos.rounds.attach_outbox(ids, outbox_id, resend=True)
    return len(waiting)


async def next_check_at(work: UnitOfWork) -> datetime | None:
    """When the next alert day's heat check goes out (the heat rounds' rungs are the ladder's:
    care.rounds.due.next_due_at)."""
    return await work.repos.heat.earliest_due()


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
