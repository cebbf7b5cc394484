"""Figures for the admin console: closed rounds and messages from the counts migration 0060's
triggers keep as they change (they outlive the purge), the rounds still open from their own
rows (at most one a resident, by their partial index), people from `member_tally`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from storage.database import POSTGRESQL, Connection, fetch_in, from_db, to_db

DAILY_SERIES = ("checkins", "oks", "resends", "alerts")
ROUND_STATES = ("open", "resent", "alerted", "answered", "cancelled")
OPEN = "state IN ('open', 'resent', 'alerted')"  # as checkin_rounds_one_open's WHERE says it
# What round_tally keeps of the closed rounds, an hour of slots a row (migration 0060, whose
# triggers count by these very rules): each column, the rounds it counts.
# tests/test_round_tally.py holds the two together.
TALLY = {
    "opened": "1 = 1",
    "sent": "sent_at IS NOT NULL",
    "sent_urgent": "sent_at IS NOT NULL AND urgent = 1",
    "answered_plain": "sent_at IS NOT NULL AND answer IN ('ok', 'unwell') AND urgent = 0",
    "resent": "resent_at IS NOT NULL",
    "alerted": "alerted_at IS NOT NULL",
    "alerted_urgent": "alerted_at IS NOT NULL AND urgent = 1",
    "urgent": "urgent = 1",
    # A manager's 無事を確認しました is no answer of the person's.
    "oks": "state = 'answered' AND COALESCE(close_reason, '') != 'confirmed'",
    "state_answered": "state = 'answered'",
    "state_cancelled": "state = 'cancelled'",
}
# What only a round still open can be: counted from the open rounds' rows.
STILL_OPEN = {
    "waiting": "sent_at IS NOT NULL AND urgent = 0 AND state IN ('open', 'resent')",
    "state_open": "state = 'open'",
    "state_resent": "state = 'resent'",
    "state_alerted": "state = 'alerted'",
}
FIGURES = {**TALLY, **STILL_OPEN}
# The steps round_events_tally counts the hour of (a closed round's), and when each happened.
EVENT_MOMENTS = {
    "sent": "sent_at",
    "oks": "closed_at",
    "resent": "resent_at",
    "alerted": "alerted_at",
}


def tally_bucket(moment: datetime) -> str:
    """The tally's row of a moment: its hour in UTC, as the slot's stored text begins."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H")


def bucket_start(bucket: str) -> datetime:
    return datetime.strptime(bucket, "%Y-%m-%dT%H").replace(tzinfo=UTC)


def _hour_of(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _hour_after(moment: datetime) -> datetime:
    hour = _hour_of(moment)
    return hour if hour == moment else hour + timedelta(hours=1)


def _team_where(search: str) -> tuple[str, tuple[Any, ...]]:
    """Teams not deleted whose name has `search` (LIKE's own characters taken as typed)."""
    # A NUL is in no name, and PostgreSQL refuses it in text (a 500 for a typed %00).
    pattern = search.replace("\x00", "")
    pattern = pattern.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return "t.deleted_at IS NULL AND t.name LIKE ? ESCAPE '\\'", (f"%{pattern}%",)


def _added(one: dict[str, int], other: dict[str, int]) -> dict[str, int]:
    return {name: one[name] + other[name] for name in FIGURES}


def median_of_counts(counts: dict[int, int]) -> float | None:
    """The median of values given as {value: how many times}, as statistics.median would
    give it over the values written out."""
    total = sum(counts.values())
    if total <= 0:
        return None
    middle = [(total - 1) // 2, total // 2]
    found: list[int] = []
    seen = 0
    for value in sorted(counts):
        seen += counts[value]
        while middle and middle[0] < seen:
            found.append(value)
            middle.pop(0)
    return sum(found) / 2


class StatsRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def counts(self) -> dict[str, int]:
        people = await self._people()
        queries = {
            "managers": "SELECT COUNT(DISTINCT tm.member_id) FROM team_members tm"
            " JOIN teams t ON t.id = tm.team_id AND t.deleted_at IS NULL"
            " WHERE tm.role = 'manager'",
            "teams": "SELECT COUNT(*) FROM teams WHERE deleted_at IS NULL",
            "groups": "SELECT COUNT(*) FROM chat_groups WHERE status = 'active'",
            "open_alerts": "SELECT COUNT(*) FROM checkin_rounds WHERE state = 'alerted'",
        }
        # LINE's friends: a person watched by phone alone is none (issue 40).
        found = {name: people[name] for name in ("friends", "phone_only", "users")}
        for name, sql in queries.items():
            row = await self._conn.fetch_one(sql)
            found[name] = row[0] if row else 0
        return found

    async def everyone(self) -> dict[str, int]:
        """Who a message to everyone names: LINE's friends, those watched by phone alone,
        those who blocked the account (none of them withdrawn)."""
        people = await self._people()
        return {"line": people["friends"], "phone_only": people["phone_only"],
                "blocked": people["blocked"]}  # fmt: skip

    async def _people(self) -> dict[str, int]:
        """member_tally's counts (migration 0060), kept as members join, block, leave."""
        row = await self._conn.fetch_one(
            "SELECT SUM(friends), SUM(phone_only), SUM(users), SUM(blocked) FROM member_tally"
        )
        keys = ("friends", "phone_only", "users", "blocked")
        return {key: int(value or 0) for key, value in zip(keys, row or (), strict=False)}

    async def service_health(self, month_start: datetime) -> dict[str, Any]:
        """What /metrics reads at each scrape: the outbox, the rounds, the open alerts."""
        # Each from the rows in that state alone (partial indexes), not the whole outbox.
        pending = await self._conn.fetch_one(
            "SELECT COUNT(*), MIN(created_at) FROM outbox WHERE state = 'pending'"
        )
        failed = await self._conn.fetch_one("SELECT COUNT(*) FROM outbox WHERE state = 'failed'")
        alerts = await self._conn.fetch_one(
            "SELECT COUNT(*), MIN(alerted_at) FROM checkin_rounds WHERE state = 'alerted'",
        )
        # The closed rounds' counts an hour a row (a few on PostgreSQL), and the open rounds.
        tally = _added(await self._tally_sums("", ()), await self._open_counts(None, None))
        # What LINE counts against the month: a multicast per recipient, a push as one, kept
        # an hour a row as LINE accepts them (migration 0060).
        used = await self._conn.fetch_one(
            "SELECT COALESCE(SUM(messages), 0) FROM line_messages_tally WHERE bucket >= ?",
            (tally_bucket(month_start),),
        )
        return {
            "outbox_pending": pending[0] if pending else 0,
            "outbox_oldest": from_db(pending[1]) if pending and pending[1] else None,
            "outbox_failed": failed[0] if failed else 0,
            "rounds": {state: tally[f"state_{state}"] for state in ROUND_STATES},
            "open_alerts": alerts[0] if alerts else 0,
            "oldest_alert": from_db(alerts[1]) if alerts and alerts[1] else None,
            "quota_used": int(used[0]) if used else 0,
            "steps": {
                "opened": tally["opened"],
                "resent": tally["resent"],
                "alerted": tally["alerted"],
                "answered": tally["state_answered"],
            },
        }

    async def daily(self, first: date, last: date, utc_offset: timedelta) -> list[dict[str, Any]]:
        """Per local day: check-ins sent, OKs (and other signs of life), re-sends, alerts,
        each on the day it happened (round_events_tally: an hour a row)."""
        days: dict[date, dict[str, Any]] = {}
        for offset in range((last - first).days + 1):
            day = first + timedelta(days=offset)
            days[day] = {"date": day.isoformat(), **dict.fromkeys(DAILY_SERIES, 0)}
        start = datetime.combine(first, time(0), tzinfo=UTC) - utc_offset
        end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=UTC) - utc_offset
        rows = await self._conn.fetch_all(
            "SELECT bucket, SUM(sent), SUM(oks), SUM(resent), SUM(alerted)"
            " FROM round_events_tally"
            " WHERE bucket >= ? AND bucket < ? GROUP BY bucket",
            (tally_bucket(start), tally_bucket(end)),
        )
        rows = [*rows, *await self._open_events(tally_bucket(start), tally_bucket(end))]
        for bucket, *counts in rows:
            # The service's zone is on whole hours (Japan's): an hour lies in one local day.
            day = (bucket_start(bucket) + utc_offset).date()
            if day in days:
                for series, count in zip(DAILY_SERIES, counts, strict=True):
                    days[day][series] += int(count or 0)
        return list(days.values())

    async def answers(self, start: datetime, end: datetime) -> dict[str, Any]:
        """Median minutes to OK (from the check-in reaching LINE, to the minute) and the rounds
        not cancelled, of the slots in [start, end), from whole hours of the tally: the
        console gives day-long periods. (お返事の割合 is care.desk.report.answer_rate's, over
        rounds_between: one definition.)"""
        window = (tally_bucket(start), tally_bucket(end))
        tally = _added(
            await self._tally_sums(" WHERE bucket >= ? AND bucket < ?", window),
            await self._open_counts(_hour_of(start), _hour_of(end)),
        )
        spread = await self._conn.fetch_all(
            "SELECT minutes, SUM(rounds) FROM round_ok_minutes WHERE bucket >= ? AND bucket < ?"
            " GROUP BY minutes",
            window,
        )
        return {
            "median_minutes": median_of_counts({row[0]: int(row[1]) for row in spread}),
            "rounds": tally["opened"] - tally["state_cancelled"],
        }

    async def _tally_sums(self, where: str, params: tuple[Any, ...]) -> dict[str, int]:
        """The closed rounds' counts summed over the tally's rows `where` says."""
        sums = ", ".join(f"SUM({name})" for name in TALLY)
        row = await self._conn.fetch_one(f"SELECT {sums} FROM round_tally{where}", params)
        found = {name: int(value or 0) for name, value in zip(TALLY, row or (), strict=False)}
        return {**dict.fromkeys(STILL_OPEN, 0), **found}

    def _open_rounds(self) -> str:
        # At most a round a resident is open, however long the history: read by the index
        # that holds just those (SQLite's planner would rather take the slot's, a year long).
        if self._conn.dialect == POSTGRESQL:
            return "checkin_rounds"
        return "checkin_rounds INDEXED BY checkin_rounds_one_open"

    async def _open_counts(self, start: datetime | None, end: datetime | None) -> dict[str, int]:
        """The figures of the rounds still open whose slot is in [start, end) (all of them
        without a period)."""
        period, params = "", ()
        if start is not None and end is not None:
            period, params = " AND slot_at >= ? AND slot_at < ?", (to_db(start), to_db(end))
        return await self._figures(f"{self._open_rounds()} WHERE {OPEN}{period}", params)

    async def _figures(self, rounds: str, params: tuple[Any, ...]) -> dict[str, int]:
        """Each of FIGURES counted over `rounds` (a FROM … WHERE of checkin_rounds)."""
        sums = ", ".join(f"SUM(CASE WHEN {rule} THEN 1 ELSE 0 END)" for rule in FIGURES.values())
        row = await self._conn.fetch_one(f"SELECT {sums} FROM {rounds}", params)
        return {name: int(value or 0) for name, value in zip(FIGURES, row or (), strict=False)}

    async def _open_events(self, first: str, last: str) -> list[tuple[Any, ...]]:
        """(hour, sent, oks, re-sent, alerted) of the steps of the rounds still open that
        happened in the hours [first, last), a statement for them all."""
        steps = []
        for position, (name, moment) in enumerate(EVENT_MOMENTS.items()):
            if name == "oks":
                continue  # an OK closes its round
            hour = f"substr({moment}, 1, 13)"
            counts = ", ".join(
                "COUNT(*)" if column == position else "0" for column in range(len(EVENT_MOMENTS))
            )
            steps.append(
                f"SELECT {hour}, {counts} FROM {self._open_rounds()} WHERE {OPEN}"
                f" AND {moment} IS NOT NULL AND {hour} >= ? AND {hour} < ? GROUP BY {hour}"
            )
        rows = await self._conn.fetch_all(" UNION ALL ".join(steps), (first, last) * len(steps))
        return [tuple(row) for row in rows]

    async def open_alerts(self) -> list[dict[str, Any]]:
        alerts = [
            dict(row)
            for row in await self._conn.fetch_all(
                "SELECT r.id AS round_id, r.slot_at, r.alerted_at, r.urgent, r.taken_at,"
                " r.realerted_at, m.id AS member_id, m.display_name, m.last_ok_at,"
                " c.display_name AS taken_by_name, c.id AS taken_by"
                " FROM checkin_rounds r JOIN members m ON m.id = r.member_id"
                " LEFT JOIN members c ON c.id = r.taken_by WHERE r.state = 'alerted'"
                " ORDER BY r.urgent DESC, r.alerted_at",
            )
        ]
        told = await self._told_about_each([alert["round_id"] for alert in alerts])
        for alert in alerts:
            alert["told"] = told.get(alert["round_id"], [])
        return alerts

    async def answered_after_alert_count(self, since: datetime) -> int:
        row = await self._conn.fetch_one(
            "SELECT COUNT(*) FROM checkin_rounds WHERE state = 'answered'"
            " AND alerted_at IS NOT NULL AND closed_at >= ?",
            (to_db(since),),
        )
        return int(row[0]) if row else 0

    async def answered_after_alert(self, since: datetime, limit: int) -> list[dict[str, Any]]:
        """The latest `limit` alerts answered since a moment, latest first."""
        return [
            dict(row)
            for row in await self._conn.fetch_all(
                "SELECT r.id AS round_id, r.alerted_at, r.closed_at, r.close_reason,"
                " m.id AS member_id, m.display_name, c.display_name AS confirmed_by_name,"
                " k.display_name AS taken_by_name"
                " FROM checkin_rounds r JOIN members m ON m.id = r.member_id"
                " LEFT JOIN members c ON c.id = r.confirmed_by"
                " LEFT JOIN members k ON k.id = r.taken_by"
                " WHERE r.state = 'answered' AND r.alerted_at IS NOT NULL AND r.closed_at >= ?"
                " ORDER BY r.closed_at DESC, r.id DESC LIMIT ?",
                (to_db(since), limit),
            )
        ]

    async def _told_about_each(self, round_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
        """`told_about` for many rounds, a statement for 500 of them (a storm's alerts are
        thousands: not a statement each)."""
        told: dict[int, list[dict[str, Any]]] = {}
        for row in await fetch_in(
            self._conn,
            "SELECT o.round_id, m.id, m.display_name, o.state, o.sent_at FROM outbox o"
            " JOIN members m ON m.id = o.recipient_member_id"
            " WHERE o.id IN (SELECT MAX(id) FROM outbox WHERE round_id IN ({marks})"
            " AND purpose = 'alert' AND recipient_member_id IS NOT NULL"
            " GROUP BY round_id, recipient_member_id) ORDER BY o.round_id, m.id",
            round_ids,
        ):
            told.setdefault(row[0], []).append(
                {"id": row[1], "display_name": row[2], "state": row[3], "sent_at": row[4]}
            )
        return told

    async def told_about(self, round_id: int) -> list[dict[str, Any]]:
        # Each manager once, as their latest alert about this round stands.
        return (await self._told_about_each([round_id])).get(round_id, [])

    async def group_reports(self, since: datetime) -> list[dict[str, Any]]:
        return [
            dict(row)
            for row in await self._conn.fetch_all(
                "SELECT g.id AS group_id, g.name, r.slot_at, r.reported_at,"
                " (SELECT COUNT(*) FROM group_answers a WHERE a.round_id = r.id) AS answered,"
                " (SELECT COUNT(*) FROM group_members gm WHERE gm.group_id = g.id) AS members"
                " FROM group_rounds r JOIN chat_groups g ON g.id = r.group_id"
                " WHERE r.state = 'reported' AND r.reported_at >= ? ORDER BY r.reported_at DESC",
                (to_db(since),),
            )
        ]

    async def teams(
        self, search: str = "", limit: int | None = None, including: Iterable[int] = ()
    ) -> list[dict[str, Any]]:
        """Teams whose name has `search`, by id: the first `limit` of them (all without one),
        and the teams of `including` whatever the search (a form's ticked ones)."""
        where, params = _team_where(search)
        if limit is not None:
            # The first teams by id found before anyone's members are counted.
            where = f"t.id IN (SELECT t.id FROM teams t WHERE {where} ORDER BY t.id LIMIT ?)"
            params = (*params, limit)
        ids = [int(team_id) for team_id in including]
        if ids:
            where += f" OR (t.deleted_at IS NULL AND t.id IN ({','.join('?' * len(ids))}))"
            params = (*params, *ids)
        return [
            dict(row)
            for row in await self._conn.fetch_all(
                "SELECT t.id, t.name, t.default_interval_days, t.default_hour, t.created_at,"
                " COUNT(tm.member_id) AS members,"
                " SUM(CASE WHEN tm.role = 'user' THEN 1 ELSE 0 END) AS users,"
                " SUM(CASE WHEN tm.role = 'manager' THEN 1 ELSE 0 END) AS managers"
                f" FROM teams t LEFT JOIN team_members tm ON tm.team_id = t.id WHERE {where}"
                " GROUP BY t.id ORDER BY t.id",
                params,
            )
        ]

    async def team_count(self, search: str = "") -> int:
        where, params = _team_where(search)
        row = await self._conn.fetch_one(f"SELECT COUNT(*) FROM teams t WHERE {where}", params)
        return int(row[0]) if row else 0

    async def groups(self) -> list[dict[str, Any]]:
        groups = [
            dict(row)
            for row in await self._conn.fetch_all(
                "SELECT g.*, (SELECT COUNT(*) FROM group_members gm WHERE gm.group_id = g.id)"
                " AS known_members,"
                " (SELECT r.id FROM group_rounds r"
                "  WHERE r.group_id = g.id AND r.state = 'reported'"
                "  ORDER BY r.slot_at DESC LIMIT 1) AS last_round"
                " FROM chat_groups g WHERE g.status = 'active' ORDER BY g.id",
            )
        ]
        for group in groups:
            group["last_answered"] = None
            if group["last_round"]:
                row = await self._conn.fetch_one(
                    "SELECT COUNT(*) FROM group_answers WHERE round_id = ?",
                    (group["last_round"],),
                )
                group["last_answered"] = row[0] if row else 0
        return groups

    async def members_export(self) -> list[dict[str, Any]]:
        return [
            dict(row)
            for row in await self._conn.fetch_all(
                "SELECT id, display_name, registered_at, status, interval_days, checkin_hour,"
                " last_ok_at, paused_until, full_name, furigana, gender, birth_date, phone,"
                " address"
                " FROM members WHERE withdrawn_at IS NULL ORDER BY id",
            )
        ]

    async def scheduled(self) -> list[tuple[int, str | None, int]]:
        """(interval, next due, how many) of the active members with check-ins: for the quota
        forecast. A schedule's people share their next check-in, so these are few rows."""
        return [
            (row[0], row[1], int(row[2]))
            for row in await self._conn.fetch_all(
                "SELECT interval_days, next_due_at, COUNT(*) FROM members"
                " WHERE status = 'active' AND interval_days IS NOT NULL"
                " GROUP BY interval_days, next_due_at",
            )
        ]

    async def group_schedules(self) -> list[tuple[int, str | None, int]]:
        return [
            (row[0], row[1], row[2])
            for row in await self._conn.fetch_all(
                "SELECT g.interval_days, g.next_due_at,"
                " (SELECT COUNT(*) FROM group_members gm WHERE gm.group_id = g.id)"
                " FROM chat_groups g WHERE g.status = 'active' AND g.paused = 0"
                " AND g.interval_days IS NOT NULL",
            )
        ]

    async def rounds_between(self, start: datetime, end: datetime) -> dict[str, int]:
        """Check-ins whose slot fell in [start, end): how many were sent, answered (OK or 体調,
        or a device's sign of life), alerted, urgent (助けてほしい), and those sent that still
        wait for her (neither answered nor gone to an alert yet). Whole hours from the tally;
        the parts of an hour at either end (a period not on the hour) from the rounds."""
        first, last = _hour_after(start), _hour_of(end)
        if first >= last:
            tally = await self._counted(start, end)
        else:
            tally = _added(
                await self._tally_sums(
                    " WHERE bucket >= ? AND bucket < ?", (tally_bucket(first), tally_bucket(last))
                ),
                await self._open_counts(first, last),
            )
            for part in ((start, first), (last, end)):
                if part[0] < part[1]:
                    tally = _added(tally, await self._counted(*part))
        return {
            "checkins": tally["sent"] - tally["sent_urgent"],
            "answered": tally["answered_plain"],
            "alerts": tally["alerted"] - tally["alerted_urgent"],
            "calls_for_help": tally["urgent"],
            "waiting": tally["waiting"],
        }

    async def _counted(self, start: datetime, end: datetime) -> dict[str, int]:
        """The figures of the slots in [start, end), counted from the rounds."""
        return await self._figures(
            "checkin_rounds WHERE slot_at >= ? AND slot_at < ?", (to_db(start), to_db(end))
        )

    async def heat_rounds_between(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """The rounds a heat check asked (care.broadcasts.heat) whose slot fell in [start,
        end): each with its day's check time, to tell a round the heat check opened from a
        regular one its shorter ladder took over."""
        rows = await self._conn.fetch_all(
            "SELECT r.slot_at, d.check_at, r.sent_at, r.answer, r.urgent, r.alerted_at,"
            " r.state FROM heat_check_people p JOIN heat_days d ON d.day = p.day"
            " JOIN checkin_rounds r ON r.id = p.round_id"
            " WHERE p.unasked IS NULL AND r.slot_at >= ? AND r.slot_at < ?",
            (to_db(start), to_db(end)),
        )
        return [dict(row) for row in rows]

    async def alert_resolutions(self, start: datetime, end: datetime) -> list[tuple[Any, Any]]:
        """(alerted_at, closed_at) of the alerts raised in [start, end) that have closed."""
        rows = await self._conn.fetch_all(
            "SELECT alerted_at, closed_at FROM checkin_rounds WHERE alerted_at >= ?"
            " AND alerted_at < ? AND closed_at IS NOT NULL",
            (to_db(start), to_db(end)),
        )
        return [(from_db(row[0]), from_db(row[1])) for row in rows]

    async def cases_between(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """The desk's cases opened in [start, end): reason, outcome, opened and closed."""
        rows = await self._conn.fetch_all(
            "SELECT reason, outcome, opened_at, closed_at FROM desk_cases"
            " WHERE opened_at >= ? AND opened_at < ?",
            (to_db(start), to_db(end)),
        )
        return [dict(row) for row in rows]

    async def watched_count(self) -> int:
        """People watched now: users of a team, still members, with check-ins set."""
        row = await self._conn.fetch_one(
            "SELECT COUNT(DISTINCT m.id) FROM members m JOIN team_members tm"
            " ON tm.member_id = m.id AND tm.role = 'user' WHERE m.status = 'active'"
            " AND m.interval_days IS NOT NULL",
        )
        return int(row[0]) if row else 0

    async def roll_calls_between(self, start: datetime, end: datetime) -> dict[str, int]:
        row = await self._conn.fetch_one(
            # Asked: those the question reached (not those it named and could not reach).
            "SELECT COUNT(DISTINCT c.id), COUNT(p.member_id) FILTER (WHERE p.unasked IS NULL),"
            " COUNT(p.member_id) FILTER (WHERE p.answer IS NOT NULL),"
            " COUNT(p.member_id) FILTER (WHERE p.answer = 'help')"
            " FROM roll_calls c LEFT JOIN roll_call_people p ON p.roll_call_id = c.id"
            " WHERE c.started_at >= ? AND c.started_at < ?",
            (to_db(start), to_db(end)),
        )
        keys = ("roll_calls", "asked", "answered", "needed_help")
        return dict(zip(keys, row or (0, 0, 0, 0), strict=True))

    async def false_alarms(self, since: datetime, limit: int = 20) -> list[dict[str, Any]]:
        """People whose alerts since a moment ended safe (their own OK, a manager's or the
        desk's confirmation), most first, with their schedule: staff may suggest another
        hour or interval to someone often asleep at 7:00."""
        # Counted by the safe alerts' index (migration 0064), then the few people read: not a
        # member's row for each alert. `+member_id`: SQLite would otherwise group by walking
        # the (member_id, slot_at) index, every round kept (89 s at 100,000 × 400).
        grouped = "member_id" if self._conn.dialect == POSTGRESQL else "+member_id"
        rows = await self._conn.fetch_all(
            "SELECT m.id AS member_id, m.display_name, m.interval_days, m.checkin_hour,"
            " a.alerts FROM (SELECT member_id, COUNT(*) AS alerts FROM checkin_rounds"
            " WHERE alerted_at >= ? AND urgent = 0 AND state = 'answered'"
            f" GROUP BY {grouped} ORDER BY alerts DESC, member_id LIMIT ?) a"
            " JOIN members m ON m.id = a.member_id ORDER BY a.alerts DESC, m.id",
            (to_db(since), limit),
        )
        return [dict(row) for row in rows]
