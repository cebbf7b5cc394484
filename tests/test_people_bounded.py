"""Issue 42's console pages that grew with the residents, bounded: whom 窓口 may read on the
alerts page found for all the week's alerts at once, by the rule a person's card applies
(never one person more); the list of people counted only as far as its pages reach."""

from __future__ import annotations

import random
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from multidict import MultiDict

from admin.searching import asked as asking
from care.desk.reading import CASE_KNOWN_FOR, known_person, known_to_the_desk
from care.errors import Refused
from storage.database import SQLITE, to_db
from storage.desk import SHOWN_ROW, SHOWN_SET
from storage.models import Role
from tests.conftest import Bot
from tests.drivers import staff_signed_in
from tests.wording import t

HOUR = timedelta(hours=1)
# Pieces of names that share substrings, so that searches find some and miss others.
NAME_PIECES = ("見守", "花子", "山田", "やまだ", "ヤマダ", "はなこ", "Ann", "ann", "%", "_")
KANA_PIECES = ("ミマモリ", "みまもり", "ハナコ", "ヤマ", "ダ", " ")


@dataclass(frozen=True)
class World:
    people: list[int]
    teams: list[int]


def _name(rng: random.Random, pieces: tuple[str, ...]) -> str:
    return "".join(rng.choice(pieces) for _ in range(rng.randint(1, 3)))


def _phone(rng: random.Random) -> str:
    digits = "".join(rng.choice("0123456789") for _ in range(8))
    return rng.choice((f"090-{digits[:4]}-{digits[4:]}", f"03{digits}", f"+81 3 {digits}"))


async def _world(bot: Bot, seed: int, people: int = 120) -> World:
    """People in teams (one the desk watches, one it watched before it was deleted), some
    showing their details to a manager, some registered by phone, some withdrawn; cases open,
    closed lately, closed long ago and closed just at the edge of CASE_KNOWN_FOR."""
    rng = random.Random(seed)
    now = bot.clock.now()
    async with bot.repos() as repos:
        teams = [(await repos.teams.create(f"team{i}", 3, 9, now)).id for i in range(4)]
        await repos.teams.set_desk_watched(teams[0], True)
        await repos.teams.set_desk_watched(teams[1], True)
        await repos.conn.execute(
            "UPDATE teams SET deleted_at = ? WHERE id = ?", (to_db(now), teams[1])
        )
        managers = []
        for i in range(6):
            manager, _ = await repos.members.register(f"M{seed}-{i:031x}", f"m{i}", "ja", now)
            await repos.teams.add_member(teams[i % 4], manager.id, Role.MANAGER, now)
            managers.append((manager.id, teams[i % 4]))
        ids = []
        for i in range(people):
            by_phone = rng.random() < 0.15
            line_id = f"tel:+8190{seed:04d}{i:04d}" if by_phone else f"U{seed}-{i:031x}"
            member, _ = await repos.members.register(line_id, _name(rng, NAME_PIECES), "ja", now)
            ids.append(member.id)
            await repos.conn.execute(
                "UPDATE members SET full_name = ?, furigana = ?, phone = ?,"
                " channel_address = ? WHERE id = ?",
                (
                    _name(rng, NAME_PIECES) if rng.random() < 0.8 else "",
                    _name(rng, KANA_PIECES) if rng.random() < 0.7 else "",
                    _phone(rng) if rng.random() < 0.7 else "",
                    line_id[4:] if by_phone else None,
                    member.id,
                ),
            )
            team = rng.choice([*teams, None])
            if team is not None:
                await repos.teams.add_member(team, member.id, Role.USER, now)
                for manager, managed in managers:
                    if managed == team and rng.random() < 0.5:
                        await repos.conn.execute(
                            "INSERT INTO personal_shares (user_id, manager_id, granted_at)"
                            " VALUES (?, ?, ?)",
                            (member.id, manager, to_db(now)),
                        )
            case = rng.random()
            if case < 0.5:
                opened = await repos.desk.open_case(member.id, "untaken", False, now - 99 * HOUR)
                assert opened is not None
                closed = rng.choice(
                    (None, now - HOUR, now - CASE_KNOWN_FOR, now - CASE_KNOWN_FOR - HOUR)
                )
                if closed is not None:
                    await repos.desk.close(opened, "desk-a", "safe", None, closed)
            if rng.random() < 0.1:
                await repos.conn.execute(
                    "UPDATE members SET withdrawn_at = ? WHERE id = ?", (to_db(now), member.id)
                )
    return World(ids, teams)


@pytest.mark.parametrize("desk_after", [HOUR, None])
async def test_the_desk_reads_on_the_alerts_page_whom_it_reads_on_a_card(
    start_bot: Callable[..., Awaitable[Bot]], desk_after: timedelta | None
) -> None:
    bot = await start_bot(desk_after=desk_after)
    world = await _world(bot, 42)
    asked = [*world.people, *world.people[:10], 10**9]  # twice, and nobody's
    async with bot.services.unit_of_work() as work:
        known = await known_to_the_desk(work, asked)
        one_by_one = set()
        for member_id in world.people:
            try:
                await known_person(work, member_id, registered_too=False)
            except Refused:
                continue
            one_by_one.add(member_id)
    assert known == one_by_one
    assert 0 < len(known) < len(world.people)


def _queries(rng: random.Random, names: list[str], phones: list[str]) -> list[str]:
    """Searches as a desk types them: pieces of names (short and long, any case), numbers as
    written and their pieces, a 会員ID, and words nobody has."""
    found = ["ANN", "an", "ヤマダ", "やまだ", "見守花子", "%", "_", "a_", "zzz", "1", "12"]
    for _ in range(40):
        name = rng.choice(names)
        start = rng.randrange(len(name))
        found.append(name[start : start + rng.randint(1, 6)])
    for _ in range(25):
        phone = rng.choice(phones)
        start = rng.randrange(len(phone))
        found.append(phone[start : start + rng.randint(3, 12)])
    return [query for query in found if query.strip()]


async def _people(bot: Bot, query: str, only_known: bool, indexed: bool) -> tuple[list, int]:
    now = bot.clock.now()
    search = asking(MultiDict({"q": query}), now, "desk-a", ("member",)).search
    async with bot.repos() as repos:
        rows, total = await repos.desk.people_page(
            search, now - CASE_KNOWN_FOR, True, only_known, 10**6, indexed
        )
    return [row["member_id"] for row in rows], total


async def test_a_search_by_index_finds_whom_like_found(bot: Bot) -> None:
    rng = random.Random(7)
    world = await _world(bot, 7, people=150)
    async with bot.repos() as repos:
        rows = await repos.conn.fetch_all(
            "SELECT display_name, full_name, furigana, phone, channel_address FROM members"
        )
    names = [str(v) for row in rows for v in row[:3] if v]
    phones = [str(v) for row in rows for v in row[3:] if v]
    matched = 0
    for query in [*_queries(rng, names, phones), str(world.people[3])]:
        for only_known in (False, True):
            indexed = await _people(bot, query, only_known, indexed=True)
            scanned = await _people(bot, query, only_known, indexed=False)
            assert indexed == scanned, (query, only_known)
            matched += bool(scanned[1])
    assert matched > 40, "the searches find people"


async def test_the_index_forgets_her_with_her_row(bot: Bot) -> None:
    """退会 empties her LINE name and her details on the row; the index of them follows, in the
    same transaction (SQLite's FTS5 table; PostgreSQL's people_search, kept by its trigger)."""
    sqlite = bot.services.db.dialect == SQLITE
    now = bot.clock.now()
    async with bot.repos() as repos:
        member, _ = await repos.members.register("U" + "a" * 32, "Ann見守", "ja", now)
        other, _ = await repos.members.register("U" + "b" * 32, "Ann見守", "ja", now)
        await repos.conn.execute(
            "UPDATE members SET full_name = '山田花子', phone = '090-1234-5678' WHERE id = ?",
            (member.id,),
        )

    async def found(words: str) -> set[int]:
        async with bot.repos() as repos:
            if sqlite:
                rows = await repos.conn.fetch_all(
                    "SELECT rowid FROM people_search WHERE people_search MATCH ?", (f'"{words}"',)
                )
            else:
                rows = await repos.conn.fetch_all(
                    "SELECT id FROM people_search WHERE display_name LIKE ? OR full_name LIKE ?"
                    " OR furigana LIKE ? OR phone LIKE ? OR channel_address LIKE ?",
                    (f"%{words}%",) * 5,
                )
        return {row[0] for row in rows}

    assert await found("ann見") == {member.id, other.id}
    assert await found("田花子") == {member.id}
    assert await found("12345678") == {member.id}
    async with bot.repos() as repos:
        await repos.members.withdraw(member.id, now)
        await repos.conn.execute(
            "UPDATE members SET full_name = '', phone = '' WHERE id = ?", (member.id,)
        )
    assert await found("ann見") == {other.id}
    assert await found("田花子") == await found("12345678") == set()
    async with bot.repos() as repos:
        await repos.conn.execute("DELETE FROM members WHERE id = ?", (other.id,))
    assert await found("ann見") == set()


PAGE_LINK = re.compile(r'href="\?page=(\d+)"')


async def test_the_list_counts_as_far_as_its_pages_reach(bot: Bot) -> None:
    """600 people: the first page counts eleven pages and says there are more; from the third
    page on it counts them all (600 is within its reach)."""
    await staff_signed_in(bot)
    now = to_db(bot.clock.now())
    async with bot.repos() as repos:
        team = await repos.teams.create("many", 3, 9, bot.clock.now())
        await repos.conn.execute(
            "WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 600)"
            " INSERT INTO members (line_user_id, display_name, language, registered_at)"
            " SELECT 'Ubulk' || i, 'resident', 'ja', ? FROM n",
            (now,),
        )
        await repos.conn.execute(
            "INSERT INTO team_members (team_id, member_id, role, joined_at, consented_at)"
            " SELECT ?, id, 'user', ?, ? FROM members WHERE line_user_id LIKE 'Ubulk%'",
            (team.id, now, now),
        )
    first = await (await bot.client.get("/admin/people")).text()
    assert t("admin.people42.count_more", total=550, first=1, last=50) in first
    assert max(int(page) for page in PAGE_LINK.findall(first)) == 11
    third = await (await bot.client.get("/admin/people?page=3")).text()
    assert t("admin.people_list.count", total=600, first=101, last=150) in third
    assert max(int(page) for page in PAGE_LINK.findall(third)) == 12
    last = await (await bot.client.get("/admin/people?page=99")).text()
    assert t("admin.people_list.count", total=600, first=551, last=600) in last


async def test_what_she_shows_read_for_her_alone_is_what_the_set_says(bot: Bot) -> None:
    """The list reads 「見せる」 person by person, the queue as a set: one rule."""
    await _world(bot, 11)
    async with bot.repos() as repos:
        alone = await repos.conn.fetch_all(f"SELECT m.id FROM members m WHERE {SHOWN_ROW}")
        as_set = await repos.conn.fetch_all(f"{SHOWN_SET}SELECT shown_id FROM shown")
    assert {row[0] for row in alone} == {row[0] for row in as_set}
    assert alone
