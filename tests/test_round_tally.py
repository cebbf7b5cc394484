"""The counts kept as rounds and messages change (migration 0060's triggers) against the rows
they count: whatever order of writes reached the tables, every hour's tally is what counting
the rows themselves gives, and the console's periods read from it (rounds_between, answers,
daily) say what counting the rows over the same period says."""

from __future__ import annotations

import json
import random
import statistics
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ground.channels import NOT_ON_LINE
from storage.database import Connection, database_for, to_db
from storage.stats import TALLY, StatsRepository, median_of_counts

HOUR = timedelta(hours=1)
START = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)  # 06:00 in Tokyo
STATES = ("open", "resent", "alerted", "answered", "cancelled")
OPEN = ("open", "resent", "alerted")
EVENTS = {
    "sent": ("sent_at", "sent_at IS NOT NULL"),
    "oks": (
        "closed_at",
        "state = 'answered' AND COALESCE(close_reason, '') != 'confirmed'"
        " AND closed_at IS NOT NULL",
    ),
    "resent": ("resent_at", "resent_at IS NOT NULL"),
    "alerted": ("alerted_at", "alerted_at IS NOT NULL"),
}
MEMBERS = 40
SERIES = ("checkins", "oks", "resends", "alerts")  # the chart's, in EVENTS' order


def _moment(rng: random.Random) -> str | None:
    if rng.random() < 0.2:
        return None
    return to_db(START + timedelta(minutes=rng.randrange(0, 72 * 60)))


def _round_values(rng: random.Random, state: str) -> dict[str, Any]:
    return {
        "state": state,
        "sent_at": _moment(rng),
        "resent_at": _moment(rng) if rng.random() < 0.4 else None,
        "alerted_at": _moment(rng) if rng.random() < 0.3 else None,
        "closed_at": _moment(rng) if state in ("answered", "cancelled") else None,
        "close_reason": rng.choice(["ok", "confirmed", "stopped", None]),
        "answer": rng.choice(["ok", "unwell", "help", None]),
        "urgent": rng.choice([0, 0, 0, 1]),
    }


async def _play(conn: Connection, rng: random.Random, writes: int) -> None:
    """Random rounds written and rewritten (one open round a member at most, as the schema
    holds), and outbox rows sent, refused and narrowed."""
    for member in range(1, MEMBERS + 1):
        await conn.execute(
            "INSERT INTO members (id, line_user_id, display_name, registered_at, status)"
            " VALUES (?, ?, 'someone', ?, 'active')",
            (member, f"U{member:032x}", to_db(START)),
        )
    rounds: dict[int, int] = {}  # round id -> member
    open_of: dict[int, int] = {}  # member -> their open round
    slots: set[tuple[int, str]] = set()
    outbox: list[int] = []
    for _ in range(writes):
        roll = rng.random()
        member = rng.randrange(1, MEMBERS + 1)
        if roll < 0.35:
            slot = to_db(START + rng.randrange(0, 60) * HOUR + rng.choice([0, 30]) * MINUTE)
            state = rng.choice(STATES)
            if (member, slot) in slots or (state in OPEN and member in open_of):
                continue
            values = _round_values(rng, state)
            row = await conn.fetch_one(
                "INSERT INTO checkin_rounds (member_id, slot_at, opened_at, state, sent_at,"
                " resent_at, alerted_at, closed_at, close_reason, answer, urgent)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (member, slot, slot, *values.values()),
            )
            assert row is not None
            rounds[row[0]], slots = member, slots | {(member, slot)}
            if state in OPEN:
                open_of[member] = row[0]
        elif roll < 0.8 and rounds:
            round_id = rng.choice(sorted(rounds))
            owner = rounds[round_id]
            values = _round_values(rng, rng.choice(STATES))
            if values["state"] in OPEN and open_of.get(owner, round_id) != round_id:
                values["state"] = "answered"
            changed = dict(rng.sample(sorted(values.items()), rng.randrange(1, len(values))))
            await conn.execute(
                f"UPDATE checkin_rounds SET {', '.join(f'{c} = ?' for c in changed)} WHERE id = ?",
                (*changed.values(), round_id),
            )
            state = (
                await conn.fetch_one("SELECT state FROM checkin_rounds WHERE id = ?", (round_id,))
            )[0]
            if state in OPEN:
                open_of[owner] = round_id
            elif open_of.get(owner) == round_id:
                del open_of[owner]
        elif roll < 0.9:
            recipients = [f"U{n:032x}" for n in range(rng.randrange(1, 6))]
            row = await conn.fetch_one(
                "INSERT INTO outbox (kind, channel, recipients, messages, retry_key, purpose,"
                " state, next_attempt_at, created_at, sent_at)"
                " VALUES (?, ?, ?, '[]', ?, 'checkin', ?, ?, ?, ?) RETURNING id",
                (
                    rng.choice(["push", "multicast"]),
                    rng.choice(["line", "line", "voice"]),
                    json.dumps(recipients),
                    f"key-{rng.random()}",
                    rng.choice(["pending", "sent", "failed"]),
                    to_db(START),
                    to_db(START),
                    _moment(rng),
                ),
            )
            assert row is not None
            outbox.append(row[0])
        elif outbox:
            # A sent row's recipients change only by 退会's scrub, which leaves LINE's count
            # as it was (migration 0062, tests/test_attacks_42.py): the rows count it here.
            await conn.execute(
                "UPDATE outbox SET state = ?, sent_at = ? WHERE id = ?",
                (rng.choice(["pending", "sent", "failed"]), _moment(rng), rng.choice(outbox)),
            )


MINUTE = timedelta(minutes=1)


def _nonzero(rows: Any) -> dict[tuple[Any, ...], int]:
    found: dict[tuple[Any, ...], int] = {}
    for *key, count in rows:
        if count:
            found[tuple(key)] = found.get(tuple(key), 0) + int(count)
    return {key: count for key, count in found.items() if count}


CLOSED = "state IN ('answered', 'cancelled')"


async def _assert_tallies_hold(conn: Connection) -> None:
    """Each tally against its own rows: the closed rounds' (those still open are counted from
    their rows when read), the sent messages'."""
    bucket = "substr({c}, 1, 13)"
    for name, rule in TALLY.items():
        kept = await conn.fetch_all(f"SELECT bucket, SUM({name}) FROM round_tally GROUP BY bucket")
        counted = await conn.fetch_all(
            f"SELECT {bucket.format(c='slot_at')}, COUNT(*) FROM checkin_rounds"
            f" WHERE {CLOSED} AND {rule} GROUP BY {bucket.format(c='slot_at')}"
        )
        assert _nonzero(kept) == _nonzero(counted), name
    for name, (column, rule) in EVENTS.items():
        kept = await conn.fetch_all(
            f"SELECT bucket, SUM({name}) FROM round_events_tally GROUP BY bucket"
        )
        counted = await conn.fetch_all(
            f"SELECT {bucket.format(c=column)}, COUNT(*) FROM checkin_rounds"
            f" WHERE {CLOSED} AND {rule} GROUP BY {bucket.format(c=column)}"
        )
        assert _nonzero(kept) == _nonzero(counted), name
    kept = await conn.fetch_all(
        "SELECT bucket, minutes, SUM(rounds) FROM round_ok_minutes GROUP BY bucket, minutes"
    )
    counted: dict[tuple[Any, ...], int] = {}
    for slot, sent, closed in await conn.fetch_all(
        f"SELECT slot_at, sent_at, closed_at FROM checkin_rounds WHERE {EVENTS['oks'][1]}"
        " AND sent_at IS NOT NULL"
    ):
        span = datetime.fromisoformat(closed) - datetime.fromisoformat(sent)
        key = (slot[:13], round(span.total_seconds() / 60))
        counted[key] = counted.get(key, 0) + 1
    assert _nonzero(kept) == counted
    kept = await conn.fetch_all(
        "SELECT bucket, SUM(messages) FROM line_messages_tally GROUP BY bucket"
    )
    sent: dict[tuple[Any, ...], int] = {}
    for kind, recipients, at in await conn.fetch_all(
        "SELECT kind, recipients, sent_at FROM outbox WHERE state = 'sent'"
        " AND channel = 'line' AND sent_at IS NOT NULL"
    ):
        count = len(json.loads(recipients)) if kind == "multicast" else 1
        sent[(at[:13],)] = sent.get((at[:13],), 0) + count
    assert _nonzero(kept) == sent


async def test_every_hour_tallied_is_what_its_rows_count(database: Path | str) -> None:
    db = database_for(database)
    await db.open()
    try:
        rng = random.Random(42)
        async with db.transaction() as conn:
            await _play(conn, rng, 600)
        async with db.transaction() as conn:
            await _play_more(conn, rng)
            await _assert_tallies_hold(conn)
            stats = StatsRepository(conn)
            for _ in range(30):
                start = START + timedelta(minutes=rng.randrange(-120, 70 * 60))
                end = start + timedelta(minutes=rng.randrange(0, 40 * 60))
                assert await stats.rounds_between(start, end) == await _between(conn, start, end)
            assert await _health_of(stats) == await _health_counted(conn)
            first = START.date() - timedelta(days=1)
            daily = await stats.daily(first, first + timedelta(days=5), timedelta(hours=9))
            assert daily == await _daily_counted(conn, first, 6)
            # The purge deletes rows; the figures stay.
            before = await stats.service_health(START)
            assert all(before["steps"].values()) and before["quota_used"], "a history was played"
            await conn.execute("UPDATE outbox SET round_id = NULL")
            await conn.execute(
                "DELETE FROM checkin_rounds WHERE state IN ('answered', 'cancelled')"
            )
            assert await stats.service_health(START) == before
    finally:
        await db.close()


async def _play_more(conn: Connection, rng: random.Random) -> None:
    """A second transaction's writes over the first's rows."""
    ids = [row[0] for row in await conn.fetch_all("SELECT id FROM checkin_rounds")]
    for round_id in rng.sample(ids, min(20, len(ids))):
        await conn.execute(
            "UPDATE checkin_rounds SET state = 'cancelled', closed_at = ? WHERE id = ?",
            (to_db(START), round_id),
        )


async def _between(conn: Connection, start: datetime, end: datetime) -> dict[str, int]:
    """rounds_between's figures as it counted them before the tally: from the rows."""
    row = await conn.fetch_one(
        "SELECT COUNT(*) FILTER (WHERE sent_at IS NOT NULL AND urgent = 0),"
        " COUNT(*) FILTER (WHERE sent_at IS NOT NULL AND answer IN ('ok', 'unwell')"
        " AND urgent = 0),"
        " COUNT(*) FILTER (WHERE alerted_at IS NOT NULL AND urgent = 0),"
        " COUNT(*) FILTER (WHERE urgent = 1),"
        " COUNT(*) FILTER (WHERE sent_at IS NOT NULL AND urgent = 0"
        " AND state IN ('open', 'resent'))"
        " FROM checkin_rounds WHERE slot_at >= ? AND slot_at < ?",
        (to_db(start), to_db(end)),
    )
    keys = ("checkins", "answered", "alerts", "calls_for_help", "waiting")
    return dict(zip(keys, row or (), strict=True))


def test_the_median_of_counts_is_the_median_of_the_values() -> None:
    rng = random.Random(7)
    assert median_of_counts({}) is None
    for _ in range(300):
        values = [rng.randrange(0, 50) for _ in range(rng.randrange(1, 30))]
        counts: dict[int, int] = {}
        for value in values:
            counts[value] = counts.get(value, 0) + 1
        assert median_of_counts(counts) == statistics.median(values)


async def _health_of(stats: StatsRepository) -> tuple[Any, Any]:
    health = await stats.service_health(START)
    return health["rounds"], health["steps"]


async def _health_counted(conn: Connection) -> tuple[Any, Any]:
    """/metrics' rounds by state and steps, as it counted them from the rows before."""
    rounds = {state: 0 for state in ("open", "resent", "alerted", "answered", "cancelled")}
    for state, count in await conn.fetch_all(
        "SELECT state, COUNT(*) FROM checkin_rounds GROUP BY state"
    ):
        rounds[state] = count
    steps = await conn.fetch_one(
        "SELECT COUNT(*), COUNT(resent_at), COUNT(alerted_at),"
        " COUNT(*) FILTER (WHERE state = 'answered') FROM checkin_rounds"
    )
    return rounds, dict(zip(("opened", "resent", "alerted", "answered"), steps, strict=True))


async def _daily_counted(conn: Connection, first: Any, days: int) -> list[dict[str, Any]]:
    """The overview's chart as counted from the rows: each step on its day in Tokyo."""
    found = [
        {"date": (first + timedelta(days=n)).isoformat(), **dict.fromkeys(SERIES, 0)}
        for n in range(days)
    ]
    by_day = {day["date"]: day for day in found}
    for series, (column, rule) in zip(SERIES, EVENTS.values(), strict=True):
        for (moment,) in await conn.fetch_all(f"SELECT {column} FROM checkin_rounds WHERE {rule}"):
            day = (datetime.fromisoformat(moment) + timedelta(hours=9)).date().isoformat()
            if day in by_day:
                by_day[day][series] += 1
    return found


async def test_the_people_tallied_are_the_people_counted(database: Path | str) -> None:
    """member_tally against counting the members, after random joins, blocks, withdrawals,
    schedules set and stopped, and rows deleted; the wave's and an OK's columns move nothing."""
    on_line = f"substr(line_user_id, 1, {len(NOT_ON_LINE)}) != '{NOT_ON_LINE}'"
    rules = {
        "friends": f"status = 'active' AND withdrawn_at IS NULL AND {on_line}",
        "phone_only": f"status = 'active' AND withdrawn_at IS NULL AND NOT {on_line}",
        "users": "status = 'active' AND interval_days IS NOT NULL",
        "blocked": "status != 'active' AND withdrawn_at IS NULL",
    }
    db = database_for(database)
    await db.open()
    rng = random.Random(3)
    try:
        async with db.transaction() as conn:
            for member in range(1, 200):
                address = f"{NOT_ON_LINE}+8190{member:08d}" if member % 5 == 0 else f"U{member}"
                await conn.execute(
                    "INSERT INTO members (id, line_user_id, display_name, registered_at, status)"
                    " VALUES (?, ?, 'someone', ?, ?)",
                    (member, address, to_db(START), rng.choice(["active", "blocked"])),
                )
            for _ in range(600):
                member = rng.randrange(1, 200)
                change = rng.choice(["status", "withdrawn", "schedule", "due", "gone"])
                if change == "status":
                    sql, params = "status = ?", (rng.choice(["active", "blocked"]),)
                elif change == "withdrawn":
                    sql, params = "withdrawn_at = ?", (rng.choice([None, to_db(START)]),)
                elif change == "schedule":
                    hour = rng.choice([None, 7])
                    sql, params = "interval_days = ?, checkin_hour = ?", (hour and 1, hour)
                elif change == "due":
                    sql, params = "next_due_at = ?, last_ok_at = ?", (to_db(START),) * 2
                else:
                    await conn.execute("DELETE FROM members WHERE id = ?", (member,))
                    continue
                await conn.execute(f"UPDATE members SET {sql} WHERE id = ?", (*params, member))
            counted = {}
            for name, rule in rules.items():
                row = await conn.fetch_one(f"SELECT COUNT(*) FROM members WHERE {rule}")
                counted[name] = row[0] if row else 0
            stats = StatsRepository(conn)
            found = await stats.counts()
            assert {k: found[k] for k in ("friends", "phone_only", "users")} == {
                k: counted[k] for k in ("friends", "phone_only", "users")
            }
            assert await stats.everyone() == {
                "line": counted["friends"],
                "phone_only": counted["phone_only"],
                "blocked": counted["blocked"],
            }
            assert all(counted.values()), "every count was played"
    finally:
        await db.close()
