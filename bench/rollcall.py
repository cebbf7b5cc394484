"""Does a roll-call to every group hold up the chat? A city's 200 groups, LINE answering each
member count in 200 ms: the console starts a roll-call to all of them while residents tap OK.

Each OK tap is timed from the webhook's POST to LINE taking its reply (the tap handled in a
batch's transaction, then answered): before the roll-call, and while it is being started. The
reference, printed beside: the same member counts asked one after another, as they were once
asked inside the transaction, would have held every batch for groups x LINE's latency.
Asserts nothing about time.

    .venv/bin/python -m bench.rollcall --groups 200 --count-latency 0.2
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import time

from aiohttp import ClientSession, CookieJar

from admin.passwords import hash_password
from bench.inprocess import InProcess, in_process, post_event, signed
from bench.standins import BenchGround, add_database_option, bench_ground
from care.rounds.checkins import ok_postback
from care.services import SERVICES
from storage.database import to_db
from tests import line_webhook as hook

ADMIN, PASSWORD = "bench-admin", "a long bench password, never a real one"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


async def main(groups: int, count_latency: float, taps: int, database: str | None) -> None:
    async with bench_ground("rollcall", database, count_latency=count_latency) as ground:
        await _rollcall(ground, groups, taps)


async def _rollcall(ground: BenchGround, groups: int, taps: int) -> None:
    async with in_process(ground) as bot:
        await _rollcall_in(bot, ground, groups, taps)


async def _rollcall_in(bot: InProcess, ground: BenchGround, groups: int, taps: int) -> None:
    app, clock, base = bot.app, bot.clock, bot.url
    services = app[SERVICES]
    residents = [hook.user_id(f"r{n}") for n in range(taps * 4)]
    async with services.repositories() as repos:
        await repos.admin.add(ADMIN, hash_password(PASSWORD), clock.now())
        for uid in residents:
            await repos.members.register(uid, "resident", "ja", clock.now())
        await repos.conn.executemany(
            "INSERT INTO chat_groups (line_chat_id, chat_type, name, joined_at)"
            " VALUES (?, 'group', ?, ?)",
            [(f"C{n:032x}", f"group {n}", to_db(clock.now())) for n in range(groups)],
        )
        group_ids = [group["id"] for group in await repos.stats.groups()]
    data = ok_postback(services, clock.now())
    line = ground.line

    async def tap(uid: str, session: ClientSession) -> float:
        """One OK, from the webhook's POST to LINE taking its reply; -> milliseconds."""
        event = hook.postback(uid, data, clock.now())
        body = signed(event)
        began = time.perf_counter()
        await post_event(session, base, body)
        return (await line.reply_taken(event["replyToken"]) - began) * 1000

    # unsafe: the console is on an IP address, whose cookies a jar refuses by default.
    async with (
        ClientSession() as session,
        ClientSession(cookie_jar=CookieJar(unsafe=True)) as console,
    ):
        quiet = [await tap(uid, session) for uid in residents[:taps]]

        token = CSRF.search(await (await console.get(f"{base}/admin/login")).text())
        assert token is not None
        form = {"name": ADMIN, "password": PASSWORD, "csrf_token": token.group(1)}
        assert (await console.post(f"{base}/admin/login", data=form)).status == 200
        token = CSRF.search(await (await console.get(f"{base}/admin/rollcalls")).text())
        assert token is not None
        body = [
            ("csrf_token", token.group(1)),
            ("audience", "groups"),
            ("resend_minutes", "0"),
            ("resends", "0"),
            ("close_hours", "24"),
            *(("group_id", str(group_id)) for group_id in group_ids),
        ]

        async def start_roll_call() -> float:
            began = time.perf_counter()
            response = await console.post(f"{base}/admin/rollcalls", data=body)
            assert response.status == 200, await response.text()
            return time.perf_counter() - began

        asked_before = line.counts_asked
        starting = asyncio.create_task(start_roll_call())
        during: list[float] = []
        remaining = iter(residents[taps:])
        while not starting.done():
            uid = next(remaining, None)
            if uid is None:
                break
            during.append(await tap(uid, session))
        started_in = await starting

    asked = line.counts_asked - asked_before
    serial = asked * line.count_latency
    engine = "PostgreSQL" if ground.database else "SQLite"
    print(
        f"groups                      {groups}, LINE answers a member count in "
        f"{line.count_latency * 1000:.0f} ms, {engine}"
    )
    print(
        f"roll-call started in        {started_in:.2f} s ({asked} member counts asked;"
        f" one after another they take {serial:.1f} s)"
    )
    print(f"OK taps, quiet              {_figures(quiet)}")
    print(f"OK taps, during it          {_figures(during)}")
    if during and quiet:
        ratio = statistics.median(during) / statistics.median(quiet)
        print(f"during / quiet (p50)        {ratio:.2f}")


def _figures(latencies: list[float]) -> str:
    if len(latencies) < 2:
        return f"{len(latencies)} taps"
    p95 = statistics.quantiles(latencies, n=20)[18]
    return (
        f"{len(latencies)} taps, tap to reply p50 {statistics.median(latencies):.1f} ms,"
        f" p95 {p95:.1f} ms, max {max(latencies):.1f} ms"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--groups", type=int, default=200)
    parser.add_argument("--count-latency", type=float, default=0.2)
    parser.add_argument("--taps", type=int, default=200)
    add_database_option(parser)
    args = parser.parse_args()
    asyncio.run(main(args.groups, args.count_latency, args.taps, args.database))
