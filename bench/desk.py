"""How long the desk's queue and list of people take to read for a 社協 with many people: a
page of the queue (search, filters, a sort) and of the people, each query timed as the console
runs it (storage.desk's SQL, in a read-only transaction). Asserts nothing about time.

    .venv/bin/python -m bench.desk --people 3000 --cases 400
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from dataclasses import replace
from datetime import timedelta

from bench.inprocess import in_process
from bench.standins import add_database_option, bench_ground
from care.services import SERVICES
from storage.database import to_db
from storage.desk import Search
from storage.models import Role

REPEATS = 20
SEARCHES = {
    "first page": Search(),
    "a name": Search(words="resident 7", kana=("resident 7",)),
    # (those who show it: half)
    "a phone": Search(words="090-0000-01", digits=("090000001",)),
    "untaken, team 1": Search(untaken=True, team_id=1),
    "by phone, page 2": Search(sort="phone", offset=50),
    "by calls made": Search(sort="attempts", descending=True),
}


async def main(people: int, cases: int, database: str | None) -> None:
    async with bench_ground("desk", database) as ground, in_process(ground) as bot:
        services = bot.app[SERVICES]
        now = bot.clock.now()
        async with services.repositories() as repos:
            teams = [await repos.teams.create(f"地区 {n}", 1, 9, now) for n in range(10)]
            watchers = []
            for team in teams:  # a 民生委員 a team, whom half the people show their details
                watcher, _ = await repos.members.register(f"W{team.id:031x}", "見守り", "ja", now)
                await repos.teams.add_member(team.id, watcher.id, Role.MANAGER, now)
                watchers.append(watcher.id)
            for n in range(people):
                member, _ = await repos.members.register(f"U{n:032x}", f"resident {n}", "ja", now)
                await repos.conn.execute(
                    "UPDATE members SET furigana = ?, phone = ? WHERE id = ?",
                    (f"ジュウミン {n}", f"090-0000-{n:04d}", member.id),
                )
                await repos.teams.add_member(teams[n % 10].id, member.id, Role.USER, now)
                if n % 2 == 0:
                    await repos.conn.execute(
                        "INSERT INTO personal_shares (user_id, manager_id, granted_at)"
                        " VALUES (?, ?, ?)",
                        (member.id, watchers[n % 10], to_db(now)),
                    )
                if n < cases:
                    case = await repos.desk.open_case(
                        member.id, "untaken", n % 7 == 0, now - timedelta(minutes=n)
                    )
                    assert case is not None
                    for _ in range(n % 3):
                        await repos.desk.add_step(case, "desk-a", "call", now, "no_answer")
        if repos.conn.dialect == "postgresql":
            async with services.repositories() as repos:
                # What autovacuum does within a minute of a bulk load: the planner's figures.
                await repos.conn.execute("ANALYZE", ())
        where = services.settings.database
        print(
            f"{people} people in 10 teams (half show their details), {cases} open cases, {where}"
        )
        for name, search in SEARCHES.items():
            timed = await _timed(services, lambda r, s=search: r.desk.queue_page(s))
            print(f"queue  {name:18} {timed}")
        for name in ("first page", "a name", "a phone"):
            search = replace(SEARCHES[name], sort="")
            timed = await _timed(
                services, lambda r, s=search: r.desk.people_page(s, now, True, False)
            )
            print(f"people {name:18} {timed}")


async def _timed(services, read) -> str:  # type: ignore[no-untyped-def]
    took = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        async with services.reading_repositories() as repos:
            rows, total = await read(repos)
        took.append((time.perf_counter() - started) * 1000)
    p50, most = statistics.median(took), max(took)
    return f"{len(rows):3} of {total:5}: p50 {p50:6.1f} ms, max {most:6.1f} ms"


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--cases", type=int, default=40)
    add_database_option(parser)
    args = parser.parse_args()
    asyncio.run(main(args.people, args.cases, args.database))
