"""Issue 42's console pages that grew with the residents, bounded: whom 窓口 may read on the
alerts page found for all the week's alerts at once, by the rule a person's card applies
(never one person more); the list of people counted only as far as its pages reach."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest

from care.desk.reading import CASE_KNOWN_FOR, known_person, known_to_the_desk
from care.errors import Refused
from storage.database import to_db
from storage.models import Role
from tests.conftest import Bot

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
