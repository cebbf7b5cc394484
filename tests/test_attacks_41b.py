"""Issue 41, attacked again after the storm reader learnt the 特別警報 bulletin and the legacy
summary, and the gaps were closed: what a resident, the city's staff and JMA's feed could make
go wrong, each shown failing before its fix."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestServer

from care.broadcasts import rollcall, storm
from storage.rollcalls import RollCall
from tests.conftest import Bot
from tests.drivers import (
    STORM_DOCUMENTS,
    add_admin,
    commit,
    csrf,
    feed_and_bot,
    imported,
    login,
    roster,
    upload,
    watched_resident,
)

RECORDED = STORM_DOCUMENTS / "recorded"
OSHIMA = frozenset({"1336100"})  # 大島町, under the 大雨特別警報 of 2026-09-07
HIMEJI = frozenset({"2820100"})  # 姫路市, under the レベル４大雨危険警報 of 2026-09-14
SUMMARY = storm.SUMMARY


def recorded(file: str) -> str:
    return (RECORDED / file).read_text("utf-8")


def hyogo(reported_at: str, notice: str) -> str:
    """Hyōgo's summary of 2026-09-14 as if issued at `reported_at`, its Notice `notice`."""
    text = recorded("vpww53_hyogo_danger_20260914_trimmed.xml")
    text = text.replace("2026-09-14T20:31:00+09:00", reported_at)
    old = "〈レベル４大雨危険警報〉姫路市　たつの市　多可町＊"
    assert old in text
    return text.replace(old, notice)


# 1. The register's import: a character a spreadsheet shows as nothing.


@pytest.mark.parametrize(
    "hidden",
    [
        "\u00ad",  # SOFT HYPHEN: shown nowhere but at a line's end
        "\u2062",  # INVISIBLE TIMES
        "\u180e",  # MONGOLIAN VOWEL SEPARATOR
        "\U000e0041",  # TAG LATIN CAPITAL LETTER A
        "\u3164",  # HANGUL FILLER: a letter, drawn blank
    ],
)
async def test_every_invisible_character_in_a_register_line_is_refused(
    bot: Bot, hidden: str
) -> None:
    """An ID with a soft hyphen looks like R001 and is another ID: the update by ID would take
    the person off the register (missing from the file) and add a stranger in her name."""
    await add_admin(bot)
    await login(bot.client)
    lines = [
        "ID,氏名,ふりがな,住所,電話,担当,平常時同意",
        "B001,名簿の方A,めいぼのかたえー,本町1丁目1-1,,民生委員 東地区,同意",
        f"B0{hidden}02,名簿の方B,めいぼのかたびー,本町1丁目1-2,,民生委員 東地区,同意",
        f"B003,名簿の{hidden}方C,めいぼのかたしー,本町1丁目1-3,,民生委員 東地区,同意",
    ]
    preview = await upload(bot.client, "hidden.csv", "\n".join(lines).encode())
    found: dict[int, list[str]] = {}
    for line, cell in re.findall(r'<tr data-line="(\d+)">(.*?)</tr>', preview, re.S):
        found[int(line)] = re.findall(r'data-reason="(\w+)"', cell)
    assert found == {3: ["invisible"], 4: ["invisible"]}
    status, page = await commit(bot.client, preview)
    assert status == 200, page
    assert set(await roster(bot)) == {"B001"}


# 2. JMA's summary (VPWW53): its free-text Notice cannot silence its structured Body.


def test_a_notice_line_that_contradicts_itself_does_not_drop_the_special_warning() -> None:
    """Tokyo's summary of 2026-09-07 states the 大雨特別警報 in force in its Body. Were its
    Notice to carry one odd line (a level that is not its rank's), that line is passed over:
    the document is not skipped, and the レベル5 it states still asks."""
    text = recorded("vpww53_tokyo_special_20260907.xml").replace(
        "［危険警報・氾濫特別警報の発表状況］\nなし",
        "［危険警報・氾濫特別警報の発表状況］\n〈レベル５大雨危険警報〉大島町",
    )
    report = storm.parse_report(text)
    assert report is not None
    assert {(w.area, w.level) for w in report.warnings if w.area in OSHIMA} == {("1336100", 5)}


# 3. Summaries arriving out of order: one superseded by a later one asks nobody again.


async def roll_calls(bot: Bot) -> int:
    async with bot.repos() as repos:
        return len(await repos.rollcalls.recent())


async def latest_roll_call(bot: Bot) -> RollCall:
    async with bot.repos() as repos:
        return (await repos.rollcalls.recent(1))[0]


async def close_them(bot: Bot) -> None:
    async with bot.services.unit_of_work() as work:
        for call in await work.repos.rollcalls.recent():
            await rollcall.close(work, call.id)


async def test_a_summary_older_than_one_already_read_does_not_ask_everyone_again(
    start_bot: Callable[..., Awaitable[Bot]], aiohttp_server: Callable[..., Awaitable[TestServer]]
) -> None:
    """06:31 states the 危険警報 (a roll-call); 07:31 no longer does (lowered), and the city
    closes the roll-call. The 07:01 summary, whose fetch failed at its poll (JMA answered
    5xx), is read only now: superseded by 07:31, it must not ask everyone a second time about
    a warning already lowered."""
    jma, bot, poller = await feed_and_bot(start_bot, aiohttp_server, storm_areas=HIMEJI)
    await watched_resident(bot, "resident", ["son"])
    danger = "〈レベル４大雨危険警報〉姫路市　たつの市"
    jma.publish_raw("s0631.xml", hyogo("2026-11-23T06:31:00+09:00", danger), title=SUMMARY)
    assert await poller.poll() == ["started"]
    jma.publish_raw("s0731.xml", hyogo("2026-11-23T07:31:00+09:00", "なし"), title=SUMMARY)
    assert await poller.poll() == ["elsewhere"]
    await close_them(bot)
    jma.publish_raw("s0701.xml", hyogo("2026-11-23T07:01:00+09:00", danger), title=SUMMARY)
    assert await poller.poll() == ["below"]
    assert await roll_calls(bot) == 1


async def test_a_summary_dated_in_the_future_does_not_hide_the_next_danger_warning(
    start_bot: Callable[..., Awaitable[Bot]], aiohttp_server: Callable[..., Awaitable[TestServer]]
) -> None:
    """A summary whose ReportDateTime is wrong (a year ahead) is taken as of when it was read:
    it does not stand, for a year, as the office's latest word on what is in force, so that
    every 危険警報 stated after it would seem to continue and ask nobody."""
    jma, bot, poller = await feed_and_bot(start_bot, aiohttp_server, storm_areas=HIMEJI)
    await watched_resident(bot, "resident", ["son"])
    danger = "〈レベル４大雨危険警報〉姫路市"
    jma.publish_raw("odd.xml", hyogo("2027-11-23T08:31:00+09:00", danger), title=SUMMARY)
    assert await poller.poll() == ["started"]  # read at 09:00
    bot.clock.advance(timedelta(minutes=15))
    jma.publish_raw("s0910.xml", hyogo("2026-11-23T09:10:00+09:00", "なし"), title=SUMMARY)
    assert await poller.poll() == ["elsewhere"]
    await close_them(bot)
    bot.clock.advance(timedelta(minutes=25))
    jma.publish_raw("s0931.xml", hyogo("2026-11-23T09:31:00+09:00", danger), title=SUMMARY)
    assert await poller.poll() == ["started"], "raised again after it was lowered: it asks"
    assert await roll_calls(bot) == 2


async def test_a_late_summary_stating_a_warning_nobody_was_asked_about_still_asks(
    start_bot: Callable[..., Awaitable[Bot]], aiohttp_server: Callable[..., Awaitable[TestServer]]
) -> None:
    """The other way round: 06:31 stated nothing, 07:01 (read late) the 危険警報, 07:31 the
    same still. Read against the summary before it (06:31), and with 07:31 read since
    having started the roll-call, 07:01 asks nobody twice; had 07:31 stated nothing, the
    city would still be asked once, late (the worst failure is nobody asked at all)."""
    jma, bot, poller = await feed_and_bot(start_bot, aiohttp_server, storm_areas=HIMEJI)
    await watched_resident(bot, "resident", ["son"])
    danger = "〈レベル４大雨危険警報〉姫路市"
    jma.publish_raw("s0631.xml", hyogo("2026-11-23T06:31:00+09:00", "なし"), title=SUMMARY)
    jma.publish_raw("s0731.xml", hyogo("2026-11-23T07:31:00+09:00", danger), title=SUMMARY)
    assert await poller.poll() == ["elsewhere", "started"]
    await close_them(bot)
    jma.publish_raw("s0701.xml", hyogo("2026-11-23T07:01:00+09:00", danger), title=SUMMARY)
    assert await poller.poll() == ["below"], "07:31, read since, stated it: asked then"
    assert await roll_calls(bot) == 1

    # Another office's night (its own summaries): nothing, then nothing (lowered); the
    # 07:01 between them, read late, is the only one that stated it.
    def other(reported_at: str, notice: str) -> str:
        return hyogo(reported_at, notice).replace("神戸地方気象台", "another office")

    jma.publish_raw("t0631.xml", other("2026-11-23T06:31:00+09:00", "なし"), title=SUMMARY)
    jma.publish_raw("t0731.xml", other("2026-11-23T07:31:00+09:00", "なし"), title=SUMMARY)
    assert await poller.poll() == ["elsewhere", "elsewhere"]
    jma.publish_raw("t0701.xml", other("2026-11-23T07:01:00+09:00", danger), title=SUMMARY)
    assert await poller.poll() == ["started"], "stated by no summary read: asked, late"
    assert await roll_calls(bot) == 2


# 4. The pages of letters: whose codes a member of staff looked at is on the audit log.


async def test_the_pages_of_letters_audit_whose_codes_were_shown(bot: Bot) -> None:
    """Each letter carries a live code that makes a LINE account the person. Opening the
    printed page for one set of people and then another within the hour was one line,
    "letters 1", naming nobody: whose codes were read could not be told."""
    await imported(bot)
    people = await roster(bot)
    token = await csrf(bot.client, "/admin/roster/letters")
    response = await bot.client.post(
        "/admin/roster/letters", data={"csrf_token": token, "scope": "needing"}
    )
    assert response.status == 200
    first, second = int(str(people["R002"]["id"])), int(str(people["R003"]["id"]))
    for person_id in (first, second):
        page = await (await bot.client.get(f"/admin/roster/letters/print?ids={person_id}")).text()
        assert page.count('class="roster-letter"') == 1
    async with bot.repos() as repos:
        views = [
            e["detail"]
            for e in await repos.admin.audit_log()
            if e["action"] == "roster_letters_viewed"
        ]
    named = [v.rsplit(" ", 1)[-1].split(",") for v in views]
    assert [str(first)] in named and [str(second)] in named, views


# 5. The 特別警報 bulletin (VPNO50) is sent again while the special warning continues.


def bulletin(reported_at: str) -> str:
    text = recorded("vpno50_tokyo_special_20260907.xml")
    return text.replace("2026-09-07T22:57:00+09:00", reported_at)


async def test_a_bulletin_sent_again_for_a_continuing_special_warning_asks_nobody_twice(
    start_bot: Callable[..., Awaitable[Bot]], aiohttp_server: Callable[..., Awaitable[TestServer]]
) -> None:
    """JMA sends the bulletin again, listing every municipality still under a 特別警報 (福井県,
    2026-08-30: the R06 document of 06:51 states レベル５ 継続 in 福井市, and the bulletin of
    10:57 lists 福井市 again). Once the city has asked about it and closed the roll-call, the
    next bulletin naming the same special warning asks nobody again; after its 解除, a new
    special warning asks."""
    jma, bot, poller = await feed_and_bot(start_bot, aiohttp_server, storm_areas=OSHIMA)
    await watched_resident(bot, "resident", ["son"])
    bulletin_title = storm.BULLETIN
    jma.publish_raw("b1.xml", bulletin("2026-11-22T22:57:00+09:00"), title=bulletin_title)
    assert await poller.poll() == ["started"]
    await close_them(bot)
    jma.publish_raw("b2.xml", bulletin("2026-11-23T02:57:00+09:00"), title=bulletin_title)
    assert await poller.poll() == ["below"], "the same special warning, continuing"
    assert await roll_calls(bot) == 1

    ended = recorded("vpno50_tokyo_cancel_20260907.xml").replace(
        "2026-09-08T04:01:00+09:00", "2026-11-23T04:01:00+09:00"
    )
    jma.publish_raw("b3.xml", ended, title=bulletin_title)
    assert await poller.poll() == ["elsewhere"]
    jma.publish_raw("b4.xml", bulletin("2026-11-23T06:57:00+09:00"), title=bulletin_title)
    assert await poller.poll() == ["started"], "issued again after its 解除: a new roll-call"
    assert await roll_calls(bot) == 2


async def test_a_bulletin_naming_another_hazards_special_warning_asks(
    start_bot: Callable[..., Awaitable[Bot]], aiohttp_server: Callable[..., Awaitable[TestServer]]
) -> None:
    """The city asked about its 大雨特別警報 and closed the roll-call; the next bulletin names
    a 高潮特別警報 newly issued there beside it. Same level, another special warning: it asks
    (the R06 documents may carry none of it, as on 2026-09-07)."""
    jma, bot, poller = await feed_and_bot(start_bot, aiohttp_server, storm_areas=OSHIMA)
    await watched_resident(bot, "resident", ["son"])
    jma.publish_raw("b1.xml", bulletin("2026-11-22T22:57:00+09:00"), title=storm.BULLETIN)
    assert await poller.poll() == ["started"]
    await close_them(bot)
    both = bulletin("2026-11-23T02:57:00+09:00")
    rain = "<Kind>\n<Name>大雨特別警報</Name>\n<Code>33</Code>\n</Kind>"
    surge = "<Kind>\n<Name>高潮特別警報</Name>\n<Code>38</Code>\n</Kind>"
    assert rain in both
    both = both.replace(rain, rain + "\n" + surge)
    jma.publish_raw("b2.xml", both, title=storm.BULLETIN)
    assert await poller.poll() == ["started"]
    call = await latest_roll_call(bot)
    assert call.occasion == "surge:5"
    await close_them(bot)
    jma.publish_raw("b4.xml", both.replace("02:57", "04:57"), title=storm.BULLETIN)
    assert await poller.poll() == ["below"], "both continue: nobody asked again"
    assert await roll_calls(bot) == 2
