"""Issue 42's second attack: the list of people's index and 窓口's reading rule as a stranger,
a resident who left and the desk would try them."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from aiohttp import web

from care.privacy import retention
from scheduler.documents import Unreadable, read_bounded
from storage.database import SQLITE
from tests.conftest import Bot

# Three letters a name could hold that no other test's name does (a trigram of its own).
LEFT_NAME = "Zqxjvkw"


async def _index_holds(bot: Bot, text: str) -> list[str]:
    """The trigrams of `text` still written in SQLite's index of names (its segments' bytes),
    whatever its delete markers hide from a search."""
    async with bot.repos() as repos:
        rows = await repos.conn.fetch_all("SELECT block FROM people_search_data", ())
    written = b"".join(bytes(row[0]) for row in rows if row[0] is not None)
    folded = text.lower()
    pieces = {folded[i : i + 3] for i in range(len(folded) - 2)}
    return sorted(piece for piece in pieces if piece.encode() in written)


async def test_a_withdrawn_name_leaves_the_index_of_names_by_the_next_purge(bot: Bot) -> None:
    if bot.services.db.dialect != SQLITE:
        pytest.skip("SQLite's own index of names (PostgreSQL's indexes are the members' own)")
    now = bot.clock.now()
    async with bot.repos() as repos:
        member, _ = await repos.members.register("U" + "7" * 32, LEFT_NAME, "ja", now)
    assert await _index_holds(bot, LEFT_NAME), "written while she is a member"
    async with bot.repos() as repos:
        await repos.members.withdraw(member.id, now)
    await retention.purge(bot.services)
    # A contentless FTS5 table marks a deletion and keeps what it deleted until its segments
    # merge: her name, three letters at a time, readable in the database file.
    assert await _index_holds(bot, LEFT_NAME) == []


HOSTILE = (
    '"',
    '""',
    "a\"b'c",
    "%%%",
    "___",
    "\\\\\\",
    "a%_\\b",
    "NEAR(ann yam)",
    "ann OR yam",
    "ann AND yam",
    "ann NOT yam",
    "(((",
    ")))",
    "ann*",
    "^ann",
    "display_name:ann",
    "{phone}: 123",
    "a\x00bc",
    "\x00\x00\x00",
    "見守\x00花子",
    "🙂🙂🙂",
    "か\u3099か\u3099",
    "０９０１２３",
    "０９０-１２３４",
    "-1",
    "9" * 40,
    "あ" * 600,  # past WORDS_LIMIT, within a URL aiohttp reads
)


@pytest.mark.parametrize("role", ["operator", "desk", "viewer"])
async def test_a_hostile_search_gets_a_page_and_changes_nothing(bot: Bot, role: str) -> None:
    from storage.models import StaffRole
    from tests.drivers import add_admin, login

    await add_admin(bot, "attacker", StaffRole(role))
    assert await login(bot.client, "attacker") == 200
    for query in HOSTILE:
        for page in ("", "-1", "0", "abc", "99999999999999999999", "1e9", "2"):
            response = await bot.client.get("/admin/people", params={"q": query, "page": page})
            assert response.status in (200, 403), (query, page, response.status)
            assert (response.status == 200) == (role != "viewer"), "閲覧 reads no names"
    async with bot.repos() as repos:
        row = await repos.conn.fetch_one("SELECT COUNT(*) FROM members", ())
    assert row is not None and row[0] == 0, "nothing changed"


async def _serving(aiohttp_server: Any, body: bytes, chunked: bool) -> str:
    """A publisher's server sending `body` whole (its length said) or in pieces (no length)."""

    async def document(request: web.Request) -> web.StreamResponse:
        if not chunked:
            return web.Response(body=body)
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for start in range(0, len(body), 50_000):
            await response.write(body[start : start + 50_000])
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/feed.xml", document)
    server = await aiohttp_server(app)
    return str(server.make_url("/feed.xml"))


@pytest.mark.parametrize("chunked", [False, True])
async def test_a_document_is_read_whole_up_to_its_limit_and_refused_past_it(
    aiohttp_server: Any, chunked: bool
) -> None:
    """A feed of 900 KB (JMA's long feed runs to hundreds) was read as its first 128 KB: the
    stream's read(n) gives what has arrived, not n bytes."""
    body = bytes(range(256)) * 3600
    url = await _serving(aiohttp_server, body, chunked)
    async with aiohttp.ClientSession() as session:
        read, _ = await read_bounded(session, url, len(body))
        assert read == body
        with pytest.raises(Unreadable):
            await read_bounded(session, url, len(body) - 1)


ODD_NAMES = (
    'say "hi" now',
    "100% sure_thing",
    "back\\slash\\name",
    "NEAR(one two)",
    "a OR b AND c",
    "{phone}: 0312",
    "^star*",
    "🙂🙂🙂smile",
    "が行ガ行",
    "o'neil",
)


async def test_odd_characters_find_by_the_index_whom_like_finds(bot: Bot) -> None:
    """Searches full of the index's syntax and LIKE's wildcards, over names that hold them:
    the index (FTS5's phrase, pg_trgm's LIKE) finds whom LIKE alone finds."""
    from multidict import MultiDict

    from admin.searching import asked as asking
    from care.desk.reading import CASE_KNOWN_FOR
    from storage.models import Role

    now = bot.clock.now()
    async with bot.repos() as repos:
        team = await repos.teams.create("odd", 3, 9, now)
        for i, name in enumerate(ODD_NAMES):
            member, _ = await repos.members.register(f"U{i:032x}", name, "ja", now)
            await repos.conn.execute(
                "UPDATE members SET full_name = ?, phone = ? WHERE id = ?",
                (name[::-1], f"03-{i:04d}-{i:04d}", member.id),
            )
            await repos.teams.add_member(team.id, member.id, Role.USER, now)
    queries = [
        *HOSTILE,
        *ODD_NAMES,
        *(n[1:6] for n in ODD_NAMES),
        *(n[::-1][:5] for n in ODD_NAMES),
    ]
    found = 0
    for query in queries:
        search = asking(MultiDict({"q": query}), now, "desk-a", ("member",)).search
        results = []
        for indexed in (True, False):
            async with bot.repos() as repos:
                rows, total = await repos.desk.people_page(
                    search, now - CASE_KNOWN_FOR, True, False, 10**6, indexed
                )
            results.append(([row["member_id"] for row in rows], total))
        assert results[0] == results[1], query
        found += bool(results[0][1])
    assert found > len(ODD_NAMES)


async def test_a_compressed_document_is_refused_by_what_it_inflates_to(
    aiohttp_server: Any,
) -> None:
    """60 KB of gzip that inflate to 64 MB: refused at the limit, not read whole."""
    import gzip

    packed = gzip.compress(b"\0" * (64 * 1024 * 1024))

    async def document(request: web.Request) -> web.Response:
        return web.Response(body=packed, headers={"Content-Encoding": "gzip"})

    app = web.Application()
    app.router.add_get("/feed.xml", document)
    server = await aiohttp_server(app)
    async with aiohttp.ClientSession() as session:
        with pytest.raises(Unreadable):
            await read_bounded(session, str(server.make_url("/feed.xml")), 1024 * 1024)
