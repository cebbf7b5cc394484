"""Kept only as long as needed: each kind of record has its retention (Settings.keep_*), and
a daily purge deletes what is past its time, a bounded batch per statement, each batch its own
short transaction (the webhook's events and the sweep get their turn between two). Before any
row a monthly report counts can go, the month's figures are stored (counts only, no names), and
the report reads them from then on.

What is not here: stored webhook events and forwarded events are already kept 7 days after
they were handled (scheduler/engine.py HANDLED_KEPT), a group's rows 30 days after the bot left
it (MIMAMORI_GROUP_RETENTION)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from care.desk import report
from care.services import Services
from ground.settings import RETENTION
from storage.database import to_db
from storage.roster import PENDING_KEPT

log = logging.getLogger("mimamori.retention")

# Who the audit log names for the purge's own entries (no staff member moves the line).
AUDIT_ACTOR = "retention"


@dataclass(frozen=True)
class Kind:
    name: str  # the metric's label and the log's
    setting: str  # the Settings field: how long it is kept
    variable: str  # the environment variable that sets it
    purge: str  # the RetentionRepository method
    counted: bool = False  # the monthly report counts these rows: figures stored first


KINDS = (
    Kind("words", "keep_words", "MIMAMORI_KEEP_WORDS", "purge_words"),
    Kind(
        "message_bodies",
        "keep_message_bodies",
        "MIMAMORI_KEEP_MESSAGE_BODIES",
        "purge_message_bodies",
    ),
    Kind("rounds", "keep_rounds", "MIMAMORI_KEEP_ROUNDS", "purge_rounds", counted=True),
    Kind("roll_calls", "keep_rounds", "MIMAMORI_KEEP_ROUNDS", "purge_roll_calls", counted=True),
    Kind("group_rounds", "keep_rounds", "MIMAMORI_KEEP_ROUNDS", "purge_group_rounds"),
    Kind("heat_days", "keep_rounds", "MIMAMORI_KEEP_ROUNDS", "purge_heat_days"),
    Kind("calls", "keep_calls", "MIMAMORI_KEEP_CALLS", "purge_calls"),
    Kind("cases", "keep_cases", "MIMAMORI_KEEP_CASES", "purge_cases", counted=True),
    Kind("person_notes", "keep_cases", "MIMAMORI_KEEP_CASES", "purge_person_notes"),
    Kind("audit", "keep_audit", "MIMAMORI_KEEP_AUDIT", "purge_audit"),
)


# Each keep_* setting's floor, as the settings refuse less.
LEAST = {field: least for field, _, _, least in RETENTION}


def kept(services: Services, kind: Kind) -> timedelta:
    """How long the kind is kept: its setting, never under the floor the settings hold it to
    (ground/settings.py), so Settings made in code cannot purge a counted row before its
    month is stored, nor the audit log's last year."""
    kept_for: timedelta = getattr(services.settings, kind.setting)
    return max(kept_for, LEAST[kind.setting])


def _months(first: date, last: date) -> list[date]:
    """The first days of every month from `first`'s to `last`'s, both included."""
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


async def store_figures(services: Services, now: datetime) -> int:
    """Store the report of every finished month the purge may reach into today (its start
    before the earliest line of a counted kind) and not stored yet. -> months stored."""
    line = now - min(kept(services, kind) for kind in KINDS if kind.counted)
    tz = services.timezone
    async with services.reading() as work:
        earliest = await work.repos.retention.earliest()
        stored = await work.repos.retention.stored_months()
    if earliest is None:
        return 0
    this_month = now.astimezone(tz).date().replace(day=1)
    reached = line.astimezone(tz).date()
    done = 0
    for month in _months(earliest.astimezone(tz).date(), reached):
        if month >= this_month or month.strftime("%Y-%m") in stored:
            continue  # a month still running is counted live; a stored one stays as stored
        async with services.unit_of_work() as work:
            found = await report.counted(work, month)
            await work.repos.retention.store_month(
                month.strftime("%Y-%m"), report.figures_of(found), work.now
            )
        done += 1
    return done


async def purge(services: Services) -> dict[str, int]:
    """Delete what is past its time, kind by kind, a batch (Settings.purge_batch) per
    transaction. Safe to stop anywhere: every batch committed is done, and the next run starts
    from what is left. -> rows deleted (or emptied) per kind."""
    now = services.clock.now()
    batch = services.settings.purge_batch
    months = await store_figures(services, now)
    counts: dict[str, int] = {}
    for kind in KINDS:
        before = now - kept(services, kind)
        total = 0
        if kind.name == "audit":
            line = await _draw_audit_line(services, before)
            if line is None:
                counts[kind.name] = 0
                continue
            before = line
        while True:
            async with services.unit_of_work() as work:
                done: int = await getattr(work.repos.retention, kind.purge)(before, batch)
            total += done
            if done < batch:
                break
        counts[kind.name] = total
        if total:
            services.metrics.purged.labels(kind.name).inc(total)
    counts["roster_removed"] = await _purge_roster(services, now, batch)
    async with services.unit_of_work() as work:
        # A roster file between its preview and its commit is kept an hour at most.
        counts["roster_imports"] = await work.repos.roster_imports.forget_before(
            now - PENDING_KEPT
        )
        # Last: what 退会 and this purge emptied leaves SQLite's index of names as well.
        await work.repos.retention.compact_people_search()
        await work.repos.retention.finished(now)
    log.info(
        "purge done: %s; %d month(s) of report figures stored",
        ", ".join(f"{name} {count}" for name, count in counts.items()),
        months,
    )
    return counts


async def _purge_roster(services: Services, now: datetime, batch: int) -> int:
    """People the city's roster no longer lists (care.roster.importing), kept as long as the
    desk's cases once removed: what was done for them in a disaster stays explainable."""
    before = now - max(services.settings.keep_cases, LEAST["keep_cases"])
    total = 0
    while True:
        async with services.unit_of_work() as work:
            done = await work.repos.retention.purge_roster_removed(before, batch)
        total += done
        if done < batch:
            return total


async def _draw_audit_line(services: Services, before: datetime) -> datetime | None:
    """Move the audit log's line to `before`, and say so in the log itself: the line is what
    lets audit rows be deleted, so each move is accounted for where the staff and the officer
    read. The database refuses a line less than a year behind its own clock (migration 0043):
    then the line stays, the log says why, and only rows past the old line go. -> the line in
    force (None: none yet, nothing of the audit log may go)."""
    async with services.unit_of_work() as work:
        line, moved = await work.repos.retention.draw_audit_line(before)
        if moved:
            await work.repos.admin.audit(AUDIT_ACTOR, "audit_line_moved", to_db(before), work.now)
    if not moved and (line is None or line < before):
        log.warning(
            "audit log line not moved to %s: later than the database allows (a year before"
            " its clock); is the service's clock ahead?",
            to_db(before),
        )
    return line


async def due(services: Services) -> bool:
    """Whether a purge is owed: none finished in the last day (a restart after a night the
    server was down, or a purge cut off, runs one at once)."""
    async with services.reading() as work:
        last = await work.repos.retention.purged_at()
    return last is None or work.now - last >= timedelta(hours=23)
