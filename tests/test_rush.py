"""The 07:00 rush survives kill -9: every OK recorded, no event applied twice, no message sent
twice. A real `mimamori serve` process, killed in the middle of a burst of taps or of a wave,
restarted on the same database, with LINE redelivering what got no 200."""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from storage.arrivals import arrivals_path
from tests import line_webhook as hook
from tests.drivers import MULTICAST, REPLY, until
from tests.fake_line import FakeLine
from tests.rush import Burst, Server, fire, ok_tap, seed, stop_tap


def rows(database: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        return conn.execute(sql).fetchall()


def settled(database: Path, events: int) -> bool:
    """Every event stored and handled, and nothing left to send."""
    ((stored, unhandled),) = rows(
        database,
        "SELECT COUNT(*), COUNT(*) - COUNT(processed_at) FROM webhook_events",
    )
    ((pending,),) = rows(database, "SELECT COUNT(*) FROM outbox WHERE state = 'pending'")
    # Handled events leave the file where they landed.
    ((waiting,),) = rows(Path(arrivals_path(database)), "SELECT COUNT(*) FROM arrivals")
    return stored == events and unhandled == 0 and pending == 0 and waiting == 0


async def test_kill_9_in_a_burst_of_taps(tmp_path: Path, fake_line: FakeLine) -> None:
    database = tmp_path / "rush.db"
    now = datetime.now(UTC)
    residents = await seed(database, 300, now, state="alerted", managers=True)
    # Most tap OK (their alerted managers hear they are safe); every fifth stops check-ins,
    # which tells the managers each time it is applied: applied twice, it would show.
    stoppers = {r.uid for r in residents if r.number % 5 == 0}
    taps = [stop_tap(r, now) if r.uid in stoppers else ok_tap(r, now) for r in residents]

    server = Server(database, fake_line.url)
    await server.start()
    burst = Burst()
    firing = asyncio.create_task(fire(server.url, taps, 16, burst=burst))
    await until(lambda: len(burst.acknowledged) >= 100)
    server.kill()
    await firing
    assert burst.unanswered, "the kill came in the middle of the burst"

    server = Server(database, fake_line.url)
    await server.start()
    redelivered = [hook.redelivered(event) for event in burst.unanswered]
    retried = await fire(server.url, redelivered, 16)
    assert retried.unanswered == []
    await until(lambda: settled(database, len(taps)))
    await server.stop()

    by_state = dict(
        rows(
            database,
            "SELECT m.line_user_id, r.state FROM checkin_rounds r"
            " JOIN members m ON m.id = r.member_id",
        )
    )
    last_ok = dict(rows(database, "SELECT line_user_id, last_ok_at FROM members"))
    for resident in residents:
        if resident.uid in stoppers:
            # Only her later check-ins stop: the alert stays open for her manager to close.
            assert by_state[resident.uid] == "alerted"
        else:
            assert by_state[resident.uid] == "answered" and last_ok[resident.uid], resident
    # Each manager hears once: that the person is safe, or that check-ins stopped.
    told = Counter(call.body["to"] for call in fake_line.pushes)
    assert {r.manager_uid: 1 for r in residents} == dict(told)
    notices = rows(
        database,
        "SELECT recipient_member_id, COUNT(*) FROM outbox"
        " WHERE purpose IN ('safe', 'stopped') GROUP BY recipient_member_id",
    )
    assert len(notices) == len(residents) and {count for _, count in notices} == {1}
    # Every tap answered, once: the replies of the batch the crash caught between its commit
    # and LINE were kept and sent after the restart (one that had got through before the
    # crash is refused by LINE the second time, never shown twice).
    accepted = [c for c in fake_line.calls if c.path == REPLY and c.status == 200]
    tokens = Counter(c.body["replyToken"] for c in accepted)
    assert set(tokens) == {tap["replyToken"] for tap in taps} and max(tokens.values()) == 1


async def test_kill_9_in_the_middle_of_a_wave(tmp_path: Path, fake_line: FakeLine) -> None:
    database = tmp_path / "wave.db"
    now = datetime.now(UTC)
    residents = await seed(database, 6000, now, due=True)
    fake_line.send_delay = 0.3  # LINE takes its time: the kill lands while multicasts fly

    server = Server(database, fake_line.url)
    await server.start()  # the first sweep plans the wave at once
    await until(lambda: any(c.path == MULTICAST for c in fake_line.calls))
    server.kill()
    fake_line.send_delay = 0.0

    server = Server(database, fake_line.url)
    await server.start()
    await until(
        lambda: (
            rows(database, "SELECT COUNT(*) FROM checkin_rounds WHERE sent_at IS NULL") == [(0,)]
            and rows(database, "SELECT COUNT(*) FROM checkin_rounds") == [(len(residents),)]
            and rows(database, "SELECT COUNT(*) FROM outbox WHERE state = 'pending'") == [(0,)]
        )
    )
    await server.stop()
    got = Counter(uid for call in fake_line.multicasts for uid in call.body["to"])
    got.update(call.body["to"] for call in fake_line.pushes)
    assert {r.uid: 1 for r in residents} == dict(got), "each check-in exactly once"
