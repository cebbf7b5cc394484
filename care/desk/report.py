"""What the alerts came to: the desk's outcomes, how long an alert took to resolve, who is
often alerted though safe, and the monthly report a municipality shows its 議会 (counts
only, no names)."""

from __future__ import annotations

import dataclasses
import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from care.broadcasts.heat import heat_slot
from care.desk.cases import CONTINUING, OUTCOMES
from care.services import UnitOfWork
from storage.database import from_db

OPEN = "open"  # a case still open at the end of the period


def median_minutes(spans: list[tuple[datetime | None, datetime | None]]) -> int | None:
    """The median of (start, end) spans in whole minutes; None when there is none."""
    minutes = [(end - start).total_seconds() / 60 for start, end in spans if start and end]
    return round(statistics.median(minutes)) if minutes else None


def outcome_counts(cases: list[dict[str, Any]]) -> dict[str, int]:
    """Cases by outcome, every outcome named (0 when none), open ones as `open`; the
    automatic closes (the person's OK, a manager's confirmation) under their own names."""
    counts = Counter(case["outcome"] or OPEN for case in cases)
    named = {outcome: counts.pop(outcome, 0) for outcome in (*OUTCOMES, CONTINUING)}
    return {**named, **dict(sorted(counts.items()))}


def answer_rate(checkins: int, answered: int, waiting: int) -> float | None:
    """お返事の割合, one definition for the dashboard and the monthly report: of the check-ins
    sent (a call for help apart), the share she answered (OK or 体調, or a device's sign of
    life), out of those no longer waiting for her. One still waiting has not gone unanswered;
    one that went to an alert, or was set aside unanswered, has. None: nothing to count yet."""
    settled = checkins - waiting
    return answered / settled if settled > 0 else None


def percent(rate: float | None) -> str:
    """The rate as both pages print it."""
    return "" if rate is None else f"{rate * 100:.0f}%"


@dataclass(frozen=True)
class MonthlyReport:
    month: date  # its first day
    watched: int  # people watched at the time of the report
    checkins: int
    answered: int
    answer_rate: float | None  # answer_rate(): answered / the check-ins no longer waiting
    alerts: int
    calls_for_help: int
    median_resolution_minutes: int | None
    cases: int
    cases_by_outcome: dict[str, int]
    median_case_minutes: int | None
    roll_calls: int
    roll_call_asked: int
    roll_call_answered: int
    roll_call_needed_help: int
    # Check-ins of the month still waiting for her when counted (none once the month is past;
    # stored figures from before it was kept say 0).
    waiting: int = 0
    # 熱中症警戒アラート days' checks (care.broadcasts.heat), counted apart: the check-ins above
    # are the regular ones, as they were before heat checks existed. Asked: those the heat
    # check asked (a round of its own, or her regular one left unanswered that its shorter
    # ladder took over); answered: OK or 体調 on it; alerts: her managers alerted from it.
    # Stored figures from before they were kept say 0.
    heat_checks: int = 0
    heat_answered: int = 0
    heat_alerts: int = 0

    def rows(self) -> list[tuple[str, str]]:
        """(what, how many) in order: the CSV and the printed page."""
        rate = percent(self.answer_rate)
        head = [
            ("month", self.month.strftime("%Y-%m")),
            ("watched", str(self.watched)),
            ("checkins", str(self.checkins)),
            ("answered", str(self.answered)),
            ("waiting", str(self.waiting)),
            ("answer_rate", rate),
            ("alerts", str(self.alerts)),
            ("calls_for_help", str(self.calls_for_help)),
            ("median_resolution_minutes", _blank(self.median_resolution_minutes)),
            ("cases", str(self.cases)),
        ]
        outcomes = [(f"cases_{k}", str(v)) for k, v in self.cases_by_outcome.items()]
        tail = [
            ("median_case_minutes", _blank(self.median_case_minutes)),
            ("roll_calls", str(self.roll_calls)),
            ("roll_call_asked", str(self.roll_call_asked)),
            ("roll_call_answered", str(self.roll_call_answered)),
            ("roll_call_needed_help", str(self.roll_call_needed_help)),
            ("heat_checks", str(self.heat_checks)),
            ("heat_answered", str(self.heat_answered)),
            ("heat_alerts", str(self.heat_alerts)),
        ]
        return head + outcomes + tail


def _blank(value: int | None) -> str:
    return "" if value is None else str(value)


def month_bounds(month: date, work: UnitOfWork) -> tuple[datetime, datetime]:
    """The month's first and the next month's first moment, in the service's time zone."""
    tz = work.services.timezone
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return datetime.combine(first, time(), tz), datetime.combine(following, time(), tz)


async def monthly(work: UnitOfWork, month: date) -> MonthlyReport:
    """The month's report: its stored figures once the purge has stored them (the rows they
    counted may be gone, care/privacy/retention.py), else counted from the rows now."""
    stored = await work.repos.retention.month_figures(month.strftime("%Y-%m"))
    if stored is not None:
        return from_figures(stored)
    return await counted(work, month)


def figures_of(found: MonthlyReport) -> dict[str, Any]:
    """What the monthly_figures table keeps of a report: its counts, as JSON."""
    return {**dataclasses.asdict(found), "month": found.month.isoformat()}


def from_figures(figures: dict[str, Any]) -> MonthlyReport:
    return MonthlyReport(**{**figures, "month": date.fromisoformat(figures["month"])})


async def counted(work: UnitOfWork, month: date) -> MonthlyReport:
    """The month's report from the rows of the service as they are now."""
    start, end = month_bounds(month, work)
    stats = work.repos.stats
    heat_rows = await stats.heat_rounds_between(start, end)
    rounds = _regular(await stats.rounds_between(start, end), heat_rows)
    cases = await stats.cases_between(start, end)
    calls = await stats.roll_calls_between(start, end)
    return MonthlyReport(
        month=month.replace(day=1),
        watched=await stats.watched_count(),
        checkins=rounds["checkins"],
        answered=rounds["answered"],
        answer_rate=answer_rate(rounds["checkins"], rounds["answered"], rounds["waiting"]),
        alerts=rounds["alerts"],
        calls_for_help=rounds["calls_for_help"],
        median_resolution_minutes=median_minutes(await stats.alert_resolutions(start, end)),
        cases=len(cases),
        cases_by_outcome=outcome_counts(cases),
        median_case_minutes=median_minutes(
            [(_moment(c["opened_at"]), _moment(c["closed_at"])) for c in cases]
        ),
        roll_calls=calls["roll_calls"],
        roll_call_asked=calls["asked"],
        roll_call_answered=calls["answered"],
        roll_call_needed_help=calls["needed_help"],
        waiting=rounds["waiting"],
        heat_checks=sum(1 for r in heat_rows if r["sent_at"]),
        heat_answered=sum(1 for r in heat_rows if r["sent_at"] and _answered(r)),
        heat_alerts=sum(1 for r in heat_rows if r["alerted_at"] and not r["urgent"]),
    )


def _answered(row: dict[str, Any]) -> bool:
    return row["answer"] in ("ok", "unwell") and not row["urgent"]


def _opened_by_heat(row: dict[str, Any]) -> bool:
    """A round the heat check opened has its day's heat slot (care.broadcasts.heat)."""
    check_at = from_db(row["check_at"])
    return check_at is not None and from_db(row["slot_at"]) == heat_slot(check_at)


def _regular(rounds: dict[str, int], heat_rows: list[dict[str, Any]]) -> dict[str, int]:
    """The month's check-in figures without the rounds a heat check opened (each counted
    as rounds_between counts it): what they were before heat checks existed. A regular round
    whose ladder the heat check took over stays a regular check-in."""
    opened = [r for r in heat_rows if _opened_by_heat(r)]
    sent = [r for r in opened if r["sent_at"] and not r["urgent"]]
    heat = {
        "checkins": len(sent),
        "answered": sum(1 for r in sent if _answered(r)),
        "alerts": sum(1 for r in opened if r["alerted_at"] and not r["urgent"]),
        "calls_for_help": sum(1 for r in opened if r["urgent"]),
        "waiting": sum(1 for r in sent if r["state"] in ("open", "resent")),
    }
    return {key: count - heat.get(key, 0) for key, count in rounds.items()}


def _moment(text: Any) -> datetime | None:
    return from_db(text) if text else None


@dataclass(frozen=True)
class Outcomes:
    """The last `days` days at the desk, for staff: what cases came to, how long alerts and
    cases took, and who is often alerted though safe."""

    days: int
    cases_by_outcome: dict[str, int]
    median_resolution_minutes: int | None
    median_case_minutes: int | None
    often_safe: list[dict[str, Any]]


async def outcomes(work: UnitOfWork, days: int = 90) -> Outcomes:
    since, now = work.now - timedelta(days=days), work.now
    stats = work.repos.stats
    cases = await stats.cases_between(since, now + timedelta(seconds=1))
    return Outcomes(
        days=days,
        cases_by_outcome=outcome_counts(cases),
        median_resolution_minutes=median_minutes(await stats.alert_resolutions(since, now)),
        median_case_minutes=median_minutes(
            [(_moment(c["opened_at"]), _moment(c["closed_at"])) for c in cases]
        ),
        often_safe=[row for row in await stats.false_alarms(since) if row["alerts"] > 1],
    )
