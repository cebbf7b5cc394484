"""The open alerts' page says, for each alert, which managers were told and how their latest
alert about it stands: read for every alert at once, it must say what reading each alert alone
says (a storm's thousands of alerts are not a statement each)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from storage.database import database_for, to_db
from storage.stats import StatsRepository

AT = datetime(2026, 11, 24, 22, 0, tzinfo=UTC)


async def test_whom_each_alert_told_is_read_at_once_as_one_by_one(database: Path | str) -> None:
    rng = random.Random(42)
    db = database_for(database)
    await db.open()
    try:
        async with db.transaction() as conn:
            await conn.executemany(
                "INSERT INTO members (line_user_id, display_name, language, registered_at)"
                " VALUES (?, ?, 'ja', ?)",
                [(f"U{n:032x}", f"person {n}", to_db(AT)) for n in range(1, 41)],
            )
            for resident in range(1, 21):  # members 21-40 are the managers
                state = "alerted" if resident % 4 else "answered"
                (round_id,) = await conn.fetch_one(
                    "INSERT INTO checkin_rounds (member_id, slot_at, state, opened_at,"
                    " alerted_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
                    (resident, to_db(AT), state, to_db(AT), to_db(AT)),
                )
                for number in range(rng.randrange(0, 6)):
                    await conn.execute(
                        "INSERT INTO outbox (kind, recipients, messages, retry_key, purpose,"
                        " round_id, recipient_member_id, state, attempts, next_attempt_at,"
                        " created_at, sent_at) VALUES ('push', '[]', '[]', ?, ?, ?, ?, ?, 1,"
                        " ?, ?, ?)",
                        (
                            f"{round_id}-{number}",
                            rng.choice(["alert", "alert", "checkin"]),
                            round_id,
                            rng.choice([None, *range(21, 26)]),
                            rng.choice(["sent", "failed", "pending"]),
                            to_db(AT),
                            to_db(AT + timedelta(minutes=number)),
                            to_db(AT + timedelta(minutes=number)),
                        ),
                    )
        async with db.reading() as conn:
            stats = StatsRepository(conn)
            alerts = await stats.open_alerts()
            one_by_one = {a["round_id"]: await stats.told_about(a["round_id"]) for a in alerts}
    finally:
        await db.close()
    assert len(alerts) == 15
    assert any(alert["told"] for alert in alerts) and not all(alert["told"] for alert in alerts)
    assert {a["round_id"]: a["told"] for a in alerts} == one_by_one
