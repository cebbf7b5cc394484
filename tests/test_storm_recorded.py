"""JMA's own documents (tests/jma/storm/recorded/): the 特別警報 of 2026-09-07 in 東京都
(伊豆諸島北部) reached the feed as the 気象特別警報報知 (VPNO50) and the legacy
summary (VPWW53) while the R06 documents of that moment carried none of it; the
危険警報 of 2026-09-14 in 兵庫県 is written in the summary's Body/Notice only, at a
different level in each municipality. Each must start exactly one roll-call where it
applies, and none where it does not."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from aiohttp.test_utils import TestServer

from care.broadcasts import rollcall, storm
from tests.conftest import Bot
from tests.drivers import (
    STORM_DOCUMENTS,
    asked,
    feed_and_bot,
    storm_questions,
    watched_resident,
)

RECORDED = STORM_DOCUMENTS / "recorded"
OSHIMA = frozenset({"1336100"})  # 大島町, under the 大雨特別警報 of 2026-09-07
HIMEJI, AIOI, NISHIWAKI = "2820100", "2820800", "2821300"


def read(file: str) -> storm.StormReport:
    report = storm.parse_report((RECORDED / file).read_text("utf-8"))
    assert report is not None
    return report


def test_the_bulletin_names_each_municipality_under_the_special_warning() -> None:
    bulletin = read("vpno50_tokyo_special_20260907.xml")
    assert bulletin.status == "通常" and not bulletin.cancelled
    # Stated, as a summary's are: JMA sends the bulletin again while the special warning
    # continues, so what it names is new only if its office's previous one did not name it.
    assert {(w.area, w.hazard, w.level, w.stated) for w in bulletin.warnings} == {
        (area, "rain", 5, True) for area in ("1336100", "1336200", "1336300")
    }
    # Its 解除 (the special warning switched back to a warning) names no level anywhere.
    assert read("vpno50_tokyo_cancel_20260907.xml").warnings == ()


def test_the_summary_states_the_special_warning_and_the_notice_the_danger_warning() -> None:
    tokyo = read("vpww53_tokyo_special_20260907.xml")
    assert {(w.area, w.level, w.rising, w.stated) for w in tokyo.warnings} == {
        (area, 5, False, True) for area in ("1336100", "1336200", "1336300")
    }, "継続 in the summary: stated, not a change; the unlevelled 大雨警報 of 神津島村 is not read"
    hyogo = read("vpww53_hyogo_danger_20260914_trimmed.xml")
    assert {(w.area, w.hazard, w.level) for w in hyogo.warnings} == {(HIMEJI, "rain", 4)}, (
        "the level is in Body/Notice only; 相生市's 大雨警報 and 西脇市's 注意報 carry none"
    )


async def test_the_special_warning_asks_once_though_three_documents_say_it(
    start_bot: Callable[..., Awaitable[Bot]], aiohttp_server: Callable[..., Awaitable[TestServer]]
) -> None:
    jma, bot, poller = await feed_and_bot(start_bot, aiohttp_server, storm_areas=OSHIMA)
    resident, _ = await watched_resident(bot, "resident", ["son"])

    jma.publish("recorded/vpno50_tokyo_special_20260907.xml", "vpno50_2257.xml")
    jma.publish("recorded/vpww53_tokyo_special_20260907.xml", "vpww53_2257.xml")
    assert await poller.poll() == ["started", "already"]
    await bot.settle()
    assert len(storm_questions(bot, resident, "rain", 5)) == 1 and asked(bot, resident) == 1

    # The next summary still states it: it continues, and asks nobody again, even once the
    # city has closed the roll-call.
    async with bot.services.unit_of_work() as work:
        for call in await work.repos.rollcalls.recent():
            await rollcall.close(work, call.id)
    jma.publish("recorded/vpww53_tokyo_special_20260907.xml", "vpww53_0100.xml")
    jma.publish("recorded/vpno50_tokyo_cancel_20260907.xml", "vpno50_0401.xml")
    assert await poller.poll() == ["below", "elsewhere"]
    await bot.settle()
    assert asked(bot, resident) == 1


async def test_the_summary_alone_starts_the_special_warnings_roll_call(
    start_bot: Callable[..., Awaitable[Bot]], aiohttp_server: Callable[..., Awaitable[TestServer]]
) -> None:
    """Had the bulletin been missed (the server down at 22:57), the first summary read states
    the 特別警報 in force: it is new to the city's server, and asks."""
    jma, bot, poller = await feed_and_bot(start_bot, aiohttp_server, storm_areas=OSHIMA)
    resident, _ = await watched_resident(bot, "resident", ["son"])
    jma.publish("recorded/vpww53_tokyo_special_20260907.xml", "vpww53_2257.xml")
    assert await poller.poll() == ["started"]
    await bot.settle()
    assert len(storm_questions(bot, resident, "rain", 5)) == 1


async def test_the_rest_of_tokyo_is_not_asked(
    start_bot: Callable[..., Awaitable[Bot]], aiohttp_server: Callable[..., Awaitable[TestServer]]
) -> None:
    jma, bot, poller = await feed_and_bot(start_bot, aiohttp_server)  # 千代田区
    resident, _ = await watched_resident(bot, "resident", ["son"])
    jma.publish("recorded/vpno50_tokyo_special_20260907.xml", "vpno50_2257.xml")
    jma.publish("recorded/vpww53_tokyo_special_20260907.xml", "vpww53_2257.xml")
    assert await poller.poll() == ["elsewhere", "elsewhere"]
    await bot.settle()
    assert asked(bot, resident) == 0


@pytest.mark.parametrize(
    ("city", "expected"), [(HIMEJI, "started"), (AIOI, "elsewhere"), (NISHIWAKI, "elsewhere")]
)
async def test_a_danger_warning_written_only_in_the_notice_asks_where_it_applies(
    start_bot: Callable[..., Awaitable[Bot]],
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    city: str,
    expected: str,
) -> None:
    jma, bot, poller = await feed_and_bot(start_bot, aiohttp_server, storm_areas=frozenset({city}))
    resident, _ = await watched_resident(bot, "resident", ["son"])
    jma.publish("recorded/vpww53_hyogo_danger_20260914_trimmed.xml", "vpww53_2031.xml")
    assert await poller.poll() == [expected]
    await bot.settle()
    assert len(storm_questions(bot, resident, "rain", 4)) == (1 if city == HIMEJI else 0)


FUKUI, ECHIZEN_CHO = "1820100", "1842300"


def test_an_r06_document_as_jma_sends_it_is_read_per_municipality() -> None:
    """福井県, 2026-08-30 06:51: the R06 document, with its LastKind and Significancy parts."""
    fukui = read("vpww55_fukui_level5_20260830.xml")
    levels = {w.area: (w.level, w.rising) for w in fukui.warnings}
    assert levels[FUKUI] == (5, False), "継続: in force, not new"
    assert levels["1821000"] == (4, False)  # 坂井市, レベル４大雨危険警報 継続
    assert levels[ECHIZEN_CHO] == (3, True), "raised from レベル２ (LastKind) to レベル３"
    assert "1820200" not in levels, "敦賀市: 発表警報・注意報はなし"
    assert len(fukui.warnings) == len(levels), "LastKind is not read as a kind in force"


async def test_fukuis_special_warning_asks_when_its_bulletin_arrives(
    start_bot: Callable[..., Awaitable[Bot]], aiohttp_server: Callable[..., Awaitable[TestServer]]
) -> None:
    jma, bot, poller = await feed_and_bot(
        start_bot, aiohttp_server, storm_areas=frozenset({FUKUI})
    )
    resident, _ = await watched_resident(bot, "resident", ["son"])
    jma.publish("recorded/vpww55_fukui_level5_20260830.xml", "vpww55_0651.xml")
    assert await poller.poll() == ["below"], "already in force (継続) when first read"
    jma.publish("recorded/vpno50_fukui_special_20260830.xml", "vpno50_1057.xml")
    assert await poller.poll() == ["started"]
    await bot.settle()
    assert len(storm_questions(bot, resident, "rain", 5)) == 1


async def test_a_warning_raised_to_a_chosen_level_asks(
    start_bot: Callable[..., Awaitable[Bot]], aiohttp_server: Callable[..., Awaitable[TestServer]]
) -> None:
    jma, bot, poller = await feed_and_bot(
        start_bot,
        aiohttp_server,
        storm_areas=frozenset({ECHIZEN_CHO}),
        storm_levels=frozenset({3, 4, 5}),
    )
    resident, _ = await watched_resident(bot, "resident", ["son"])
    jma.publish("recorded/vpww55_fukui_level5_20260830.xml", "vpww55_0651.xml")
    assert await poller.poll() == ["started"]
    await bot.settle()
    assert len(storm_questions(bot, resident, "rain", 3)) == 1
