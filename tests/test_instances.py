"""Two `mimamori serve` processes on one PostgreSQL database behave as one server: a burst of
taps spread across both, LINE redelivering a share to the other instance, a wave, and one of
them killed with kill -9 in the middle. Counted at the fake LINE: every OK recorded once, every
check-in sent once, no message sent twice, and the ladder goes on on the survivor."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests import line_webhook as hook
from tests.drivers import MULTICAST, REPLY, until
from tests.fake_line import FakeLine
from tests.postgres import PostgresServer
from tests.rush import Burst, Server, fire, ok_tap, seed

# Short enough that a test sees a dead instance's work taken over; the sweep runs each second.
FAST = {"MIMAMORI_SWEEP_INTERVAL": "1s", "MIMAMORI_CLAIM_LEASE": "3s", "MIMAMORI_INSTANCES": "2"}
# As deployed: the claim lease at its default (20 s), renewed by the heartbeat.
AS_DEPLOYED = {"MIMAMORI_SWEEP_INTERVAL": "1s", "MIMAMORI_INSTANCES": "2"}
# LINE's reply token is good for about a minute from the webhook.
TOKEN_LIFE_SECONDS = 60


@pytest.fixture
def shared_database(postgres_server: PostgresServer) -> str:
    return postgres_server.fresh_database("shared")


def rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def settled(url: str, events: int) -> bool:
    ((stored, unhandled),) = rows(
        url, "SELECT COUNT(*), COUNT(*) - COUNT(processed_at) FROM webhook_events"
    )
    ((pending,),) = rows(url, "SELECT COUNT(*) FROM outbox WHERE state = 'pending'")
    return stored == events and unhandled == 0 and pending == 0


async def test_two_instances_share_a_burst_of_taps_and_one_dies(
    shared_database: str, fake_line: FakeLine, tmp_path: Path
) -> None:
    """kill -9 in the middle of a burst, the lease at its default: every tap is answered,
    once, while its reply token is good, whether the dead instance had not yet handled it,
    had handled it and not replied, or LINE has to redeliver it."""
    now = datetime.now(UTC)
    residents = await seed(shared_database, 5000, now, state="open")
    taps = [ok_tap(r, now) for r in residents]
    first = Server(shared_database, fake_line.url, extra_env=AS_DEPLOYED, folder=tmp_path)
    second = Server(
        shared_database,
        fake_line.url,
        extra_env=AS_DEPLOYED,
        folder=tmp_path,
        log_file=tmp_path / "second.log",
    )
    await first.start()
    await second.start()

    to_first, to_second = taps[::2], taps[1::2]
    burst, at_second = Burst(), Burst()
    firing = asyncio.create_task(fire(first.url, to_first, 16, burst=burst))
    seconding = asyncio.create_task(fire(second.url, to_second, 16, burst=at_second))
    # While both live, LINE redelivers a share of the second's events to the first.
    crossed = [hook.redelivered(event) for event in to_second[:500]]
    crossing = asyncio.create_task(fire(first.url, crossed, 4))
    await until(lambda: len(burst.acknowledged) >= 800)
    first.kill()
    await asyncio.gather(firing, crossing, seconding)
    assert at_second.unanswered == []
    assert burst.unanswered, "the kill came in the middle of the burst"

    # LINE redelivers to the survivor what got no 200, and a share of what did.
    answered = [e for e in to_first if e["webhookEventId"] in burst.acknowledged]
    again = [hook.redelivered(e) for e in burst.unanswered + answered[::10]]
    assert (await fire(second.url, again, 16)).unanswered == []

    def every_tap_answered() -> bool:
        taken = {
            c.body["replyToken"] for c in fake_line.calls if c.path == REPLY and c.status == 200
        }
        return all(tap["replyToken"] in taken for tap in taps)

    # What the dead instance had claimed, handled or not, is taken over once its lease runs out.
    await until(every_tap_answered, seconds=TOKEN_LIFE_SECONDS + 30)
    await until(lambda: settled(shared_database, len(taps)), seconds=30)
    await second.stop()

    states = rows(shared_database, "SELECT state, COUNT(*) FROM checkin_rounds GROUP BY state")
    assert states == [("answered", len(residents))], "every OK recorded"
    assert rows(shared_database, "SELECT COUNT(*) FROM members WHERE last_ok_at IS NULL") == [(0,)]
    # Each tap answered once (a second try with a spent token LINE refuses, never shows), and
    # within the token's minute of its first delivery.
    accepted = [c for c in fake_line.calls if c.path == REPLY and c.status == 200]
    tokens = Counter(c.body["replyToken"] for c in accepted)
    assert set(tokens) == {tap["replyToken"] for tap in taps}
    assert max(tokens.values()) == 1
    sent = {**at_second.first_sent, **burst.first_sent}
    first_sent = {tap["replyToken"]: sent[tap["webhookEventId"]] for tap in taps}
    late = sorted(c.at - first_sent[c.body["replyToken"]] for c in accepted)
    survivor_said = (tmp_path / "second.log").read_text()[-2000:]
    assert late[-1] < TOKEN_LIFE_SECONDS, (
        f"slowest {late[-1]:.1f} s after the tap\n{survivor_said}"
    )
    assert not fake_line.pushes and not fake_line.multicasts, "nothing else was sent"


async def test_a_wave_goes_on_when_the_planning_instance_dies(
    shared_database: str, fake_line: FakeLine, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    residents = await seed(shared_database, 10_000, now, due=True)
    fake_line.send_delay = 0.3  # LINE takes its time: the kill lands while multicasts fly
    # The ladder's next step comes soon, so that the survivor is seen to take it.
    ladder = {**FAST, "MIMAMORI_RESEND_AFTER": "8s", "MIMAMORI_ALERT_AFTER": "1h"}
    planner = Server(shared_database, fake_line.url, extra_env=ladder, folder=tmp_path)
    await planner.start()  # its first sweep takes the planner's lock and plans the wave
    survivor = Server(shared_database, fake_line.url, extra_env=ladder, folder=tmp_path)
    await survivor.start()
    await until(lambda: any(c.path == MULTICAST for c in fake_line.calls))
    planner.kill()
    fake_line.send_delay = 0.0

    def checkins_sent() -> bool:
        return rows(
            shared_database,
            "SELECT COUNT(*), COUNT(sent_at) FROM checkin_rounds",
        ) == [(len(residents), len(residents))]

    await until(checkins_sent, seconds=90)
    # Then the re-send of everyone who has not answered, from the survivor alone.
    await until(
        lambda: (
            rows(shared_database, "SELECT COUNT(resent_at) FROM checkin_rounds")
            == [(len(residents),)]
            and rows(shared_database, "SELECT COUNT(*) FROM outbox WHERE state = 'pending'")
            == [(0,)]
        ),
        seconds=90,
    )
    await survivor.stop()

    got = Counter(uid for call in fake_line.multicasts for uid in call.body["to"])
    got.update(call.body["to"] for call in fake_line.pushes)
    assert {r.uid: 2 for r in residents} == dict(got), "a check-in and a re-send, once each"
    keys = Counter(c.retry_key for c in fake_line.calls if c.path == MULTICAST and c.status == 200)
    assert max(keys.values()) == 1, "no retry key accepted twice"
