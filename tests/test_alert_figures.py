"""Figures about alerts read by sets, held to what reading them one by one says: whom each open
alert told (a storm's thousands of alerts are not a statement each), and the people whose
alerts most often ended safe (counted by their index, then the few people read)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from storage.database import Connection, database_for, to_db
from storage.stats import StatsRepository

AT = datetime(2026, 11, 24, 22, 0, tzinfo=UTC)
SCHEDULES = [(1, 7), (2, 8), (None, None)]  # (interval_days, checkin_hour), or none


async def test_whom_each_alert_told_is_read_at_once_as_one_by_one(database: Path | str) -> None:
    rng = random.Random(42)
    db = database_for(database)
    await db.open()
    try:
        async with db.transaction() as conn:
            await _people(conn, [(None, None)] * 40)
            sent: list[tuple[int, int, str | None, int | None, str]] = []
            for resident in range(1, 21):  # members 21-40 are the managers
                state = "alerted" if resident % 4 else "answered"
                (round_id,) = await conn.fetch_one(
                    "INSERT INTO checkin_rounds (member_id, slot_at, state, opened_at,"
                    " alerted_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
                    (resident, to_db(AT), state, to_db(AT), to_db(AT)),
                )
                for number in range(rng.randrange(0, 6)):
                    purpose = rng.choice(["alert", "alert", "checkin"])
                    manager = rng.choice([None, *range(21, 26)])
                    state = rng.choice(["sent", "failed", "pending"])
                    (outbox_id,) = await conn.fetch_one(
                        "INSERT INTO outbox (kind, recipients, messages, retry_key, purpose,"
                        " round_id, recipient_member_id, state, attempts, next_attempt_at,"
                        " created_at, sent_at) VALUES ('push', '[]', '[]', ?, ?, ?, ?, ?, 1,"
                        " ?, ?, ?) RETURNING id",
                        (
                            f"{round_id}-{number}",
                            purpose,
                            round_id,
                            manager,
                            state,
                            to_db(AT),
                            to_db(AT + timedelta(minutes=number)),
                            to_db(AT + timedelta(minutes=number)),
                        ),
                    )
                    sent.append((outbox_id, round_id, purpose, manager, state))
        async with db.reading() as conn:
            stats = StatsRepository(conn)
            alerts = await stats.open_alerts()
            one_by_one = {a["round_id"]: await stats.told_about(a["round_id"]) for a in alerts}
    finally:
        await db.close()
    # What the rows say: each manager alerted about the round once, as the latest stands.
    latest: dict[tuple[int, int], tuple[int, str]] = {}
    for outbox_id, round_id, purpose, manager, state in sorted(sent):
        if purpose == "alert" and manager is not None:
            latest[(round_id, manager)] = (outbox_id, state)
    expected = {
        alert["round_id"]: [
            (manager, f"person {manager}", state)
            for (round_id, manager), (_, state) in sorted(latest.items())
            if round_id == alert["round_id"]
        ]
        for alert in alerts
    }
    assert len(alerts) == 15
    assert any(alert["told"] for alert in alerts) and not all(alert["told"] for alert in alerts)
    told = {a["round_id"]: a["told"] for a in alerts}
    assert told == one_by_one
    assert {
        round_id: [(row["id"], row["display_name"], row["state"]) for row in rows]
        for round_id, rows in told.items()
    } == expected


async def test_whose_alerts_ended_safe_most_are_counted_as_the_rounds_say(
    database: Path | str,
) -> None:
    rng = random.Random(7)
    since = AT - timedelta(days=90)
    db = database_for(database)
    await db.open()
    try:
        async with db.transaction() as conn:
            await _people(conn, [rng.choice(SCHEDULES) for _ in range(30)])
            rounds = []
            for day in range(120):
                slot = AT - timedelta(days=day)
                for member in rng.sample(range(1, 31), 8):
                    alerted = slot + timedelta(hours=3) if rng.random() < 0.7 else None
                    rounds.append(
                        (member, to_db(slot), rng.choice(["answered", "answered", "cancelled"]),
                         to_db(slot), to_db(alerted) if alerted else None,
                         rng.choice([0, 0, 0, 1]))
                    )  # fmt: skip
            await conn.executemany(
                "INSERT INTO checkin_rounds (member_id, slot_at, state, opened_at, alerted_at,"
                " urgent) VALUES (?, ?, ?, ?, ?, ?)",
                rounds,
            )
        async with db.reading() as conn:
            often = await StatsRepository(conn).false_alarms(since, limit=5)
    finally:
        await db.close()
    counted: dict[int, int] = {}
    for member, _, state, _, alerted, urgent in rounds:
        if alerted is not None and alerted >= to_db(since) and not urgent and state == "answered":
            counted[member] = counted.get(member, 0) + 1
    expected = sorted(counted.items(), key=lambda item: (-item[1], item[0]))[:5]
    assert [(row["member_id"], row["alerts"]) for row in often] == expected
    assert all(row["display_name"] == f"person {row['member_id']}" for row in often)


async def _people(conn: Connection, schedules: list[tuple[int | None, int | None]]) -> None:
    """Members 1, 2, … named "person 1", …, each with her (interval_days, checkin_hour)."""
    await conn.executemany(
        "INSERT INTO members (line_user_id, display_name, language, registered_at,"
        " interval_days, checkin_hour) VALUES (?, ?, 'ja', ?, ?, ?)",
        [
            (f"U{n:032x}", f"person {n}", to_db(AT), *schedule)
            for n, schedule in enumerate(schedules, 1)
        ],
    )
