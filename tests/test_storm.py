"""JMA warnings (気象警報・注意報（Ｒ０６）, 指定河川洪水予報) start a roll-call for the city's
municipalities at the levels the city chose (レベル4 and 5 by default), named in its question;
one at the same level while a roll-call is open, a drill, a 取消, another municipality and a
broken document start none. The feed is a stand-in on loopback serving the fixtures of
tests/jma/storm/ (each says in its header how it was made)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace

import pytest
from aiohttp.test_utils import TestServer

from care.broadcasts import storm
from tests.conftest import Bot
from tests.drivers import (
    STORM_DOCUMENTS,
    add_admin,
    asked,
    feed_and_bot,
    login,
    started_by_a_feed,
    storm_questions,
    title_of,
    watched_resident,
)
from tests.wording import EN, JA, pattern, said, says, t


async def test_a_level_4_warning_starts_one_roll_call_naming_it_and_a_level_5_another(
    start_bot: Callable[..., Awaitable[Bot]], aiohttp_server: Callable[..., Awaitable[TestServer]]
) -> None:
    jma, bot, poller = await feed_and_bot(start_bot, aiohttp_server)
    resident, _ = await watched_resident(bot, "resident", ["son"])

    jma.publish("vpww55_chiyoda_level2.xml")  # レベル２大雨注意報
    jma.publish("vpww55_chiyoda_level3.xml")  # レベル３大雨警報: below 4 and 5
    jma.publish("vpww56_osaka_level5.xml")  # レベル５, but in 大阪市北区
    jma.publish("vpww54_chiyoda_legacy.xml")  # the legacy (Ｈ２７) 大雨特別警報: not fetched
    assert await poller.poll() == ["below", "below", "elsewhere"]
    assert "vpww54_chiyoda_legacy.xml" not in jma.fetched
    await bot.settle()
    assert asked(bot, resident) == 0

    jma.publish("vpww56_chiyoda_level4.xml")  # レベル４土砂災害危険警報 in 千代田区
    assert await poller.poll() == ["started"]
    await bot.settle()
    assert len(storm_questions(bot, resident, "landslide", 4)) == 1
    assert said(bot.line.texts_to(resident), "rollcall.body") == [], "it names the warning"
    assert await poller.poll() == [], "each document once"

    jma.publish("vpww56_chiyoda_level4_continued.xml")  # the same warning, 継続
    jma.publish("vpww57_chiyoda_level4.xml")  # レベル４高潮危険警報 while the roll-call is open
    assert await poller.poll() == ["below", "already"]
    await bot.settle()
    assert asked(bot, resident) == 1, "not asked again for the same level"

    jma.publish("vpww55_chiyoda_level5.xml")  # raised to レベル５大雨特別警報
    assert await poller.poll() == ["started"]
    await bot.settle()
    assert len(storm_questions(bot, resident, "rain", 5)) == 1
    async with bot.repos() as repos:
        calls = await repos.rollcalls.recent()
        actions = [entry["action"] for entry in await repos.admin.audit_log()]
    assert [c.occasion for c in calls] == ["rain:5", "landslide:4"]
    assert [c.open for c in calls] == [True, False], "the lesser roll-call is closed"
    assert actions.count("storm_started") == 2 and actions.count("storm_already") == 1

    await add_admin(bot)
    await login(bot.client)
    page = await (await bot.client.get("/admin/rollcalls")).text()
    landslide = t(
        "storm41.name", level=4, hazard=t("storm41.hazard.surge"), rank=t("storm41.rank.level4")
    )
    assert says(page, "admin.storm41.already", warning=landslide), "the admins are told"


async def test_the_silent_are_asked_again_with_the_warning_named(
    start_bot: Callable[..., Awaitable[Bot]], aiohttp_server: Callable[..., Awaitable[TestServer]]
) -> None:
    from datetime import timedelta

    jma, bot, poller = await feed_and_bot(start_bot, aiohttp_server)
    resident, _ = await watched_resident(bot, "resident", ["son"])
    jma.publish("vpww56_chiyoda_level4.xml")
    assert await poller.poll() == ["started"]
    bot.clock.advance(timedelta(hours=1, minutes=1))
    await bot.sweep()
    await bot.settle()
    assert len(said(bot.line.texts_to(resident), "rollcall.again_title")) == 1
    assert len(storm_questions(bot, resident, "landslide", 4)) == 2


async def test_a_warnings_roll_call_is_a_feeds_asking_as_many_as_the_quota_covers(
    start_bot: Callable[..., Awaitable[Bot]], aiohttp_server: Callable[..., Awaitable[TestServer]]
) -> None:
    jma, bot, poller = await feed_and_bot(start_bot, aiohttp_server)
    await watched_resident(bot, "resident", ["son"])
    bot.line.quota = {"type": "limited", "value": 100}
    bot.line.quota_used = 97  # one person asked, and asked again twice
    jma.publish("vpww56_chiyoda_level4.xml")
    assert await poller.poll() == ["started"], "started all the same, not refused"
    await bot.settle()
    call = await started_by_a_feed(bot)
    assert call.occasion == "landslide:4"
    assert call.started_by == f"気象庁 {title_of('vpww56_chiyoda_level4.xml')}"
    async with bot.repos() as repos:
        assert len(await repos.rollcalls.people(call.id)) == 1


async def test_the_levels_are_a_setting(
    start_bot: Callable[..., Awaitable[Bot]], aiohttp_server: Callable[..., Awaitable[TestServer]]
) -> None:
    jma, bot, poller = await feed_and_bot(
        start_bot, aiohttp_server, storm_levels=frozenset({3, 4, 5})
    )
    resident, _ = await watched_resident(bot, "resident", ["son"])
    jma.publish("vpww55_chiyoda_level3.xml")
    assert await poller.poll() == ["started"]
    await bot.settle()
    assert len(storm_questions(bot, resident, "rain", 3)) == 1


async def test_a_flood_warning_reaching_the_city_starts_one(
    start_bot: Callable[..., Awaitable[Bot]], aiohttp_server: Callable[..., Awaitable[TestServer]]
) -> None:
    jma, bot, poller = await feed_and_bot(start_bot, aiohttp_server)
    resident, _ = await watched_resident(bot, "resident", ["son"])
    jma.publish("vxko_chiyoda_level4_flood.xml")  # レベル４氾濫危険警報
    assert await poller.poll() == ["started"]
    await bot.settle()
    assert len(storm_questions(bot, resident, "flood", 4)) == 1


async def test_a_drill_starts_nothing_and_a_cancellation_flags_the_roll_call_it_started(
    start_bot: Callable[..., Awaitable[Bot]], aiohttp_server: Callable[..., Awaitable[TestServer]]
) -> None:
    jma, bot, poller = await feed_and_bot(start_bot, aiohttp_server)
    resident, _ = await watched_resident(bot, "resident", ["son"])
    jma.publish("vpww56_chiyoda_level4_drill.xml")
    test = (STORM_DOCUMENTS / "vpww56_chiyoda_level4.xml").read_text("utf-8")
    jma.publish_raw(
        "test.xml",
        test.replace("<Status>通常</Status>", "<Status>試験</Status>"),
        title=title_of("vpww56"),
    )
    assert await poller.poll() == ["drill", "drill"]
    await bot.settle()
    assert asked(bot, resident) == 0

    jma.publish("vpww56_chiyoda_cancel.xml")  # a 取消 with nothing started: nothing
    assert await poller.poll() == ["cancelled"]
    jma.publish("vpww56_chiyoda_level4.xml")
    jma.publish("vpww56_chiyoda_cancel.xml", name="cancel-2.xml")
    assert await poller.poll() == ["started", "cancelled"]
    await bot.settle()
    async with bot.repos() as repos:
        (call,) = await repos.rollcalls.recent()
        actions = [entry["action"] for entry in await repos.admin.audit_log()]
    assert call.open, "people may have answered: the admins decide"
    assert actions.count("storm_cancelled") == 1
    await add_admin(bot)
    await login(bot.client)
    page = await (await bot.client.get("/admin/rollcalls")).text()
    landslide = t(
        "storm41.name",
        level=4,
        hazard=t("storm41.hazard.landslide"),
        rank=t("storm41.rank.level4"),
    )
    assert says(page, "admin.storm41.cancelled", warning=landslide)


async def test_a_bad_document_is_skipped_and_recorded_and_the_next_is_read(
    start_bot: Callable[..., Awaitable[Bot]], aiohttp_server: Callable[..., Awaitable[TestServer]]
) -> None:
    jma, bot, poller = await feed_and_bot(start_bot, aiohttp_server)
    resident, _ = await watched_resident(bot, "resident", ["son"])
    title = title_of("vpww56")
    real = (STORM_DOCUMENTS / "vpww56_chiyoda_level4.xml").read_text("utf-8")
    jma.publish("vpww56_chiyoda_mismatch.xml")  # a Code that contradicts its Name
    jma.publish_raw("cut.xml", real[: len(real) // 2], title=title)
    jma.publish_raw("missing.xml", None, title=title)
    jma.publish_raw("huge.xml", "<Report>" + "x" * (1024 * 1024 + 10) + "</Report>", title=title)
    jma.publish_raw("away.xml", real, elsewhere=True, title=title)
    jma.publish_raw("no-status.xml", real.replace("<Status>通常</Status>", ""), title=title)
    jma.publish("vpww56_chiyoda_level4.xml")
    assert await poller.poll() == ["skipped"] * 6 + ["started"]
    assert "away.xml" not in jma.fetched, "only the feed's own host is fetched"
    assert await poller.poll() == [], "a skipped document is not read again"
    await bot.settle()
    assert asked(bot, resident) == 1
    async with bot.repos() as repos:
        actions = [entry["action"] for entry in await repos.admin.audit_log()]
    assert actions.count("storm_skipped") == 6
    await add_admin(bot)
    await login(bot.client)
    page = await (await bot.client.get("/admin/rollcalls")).text()
    assert len(pattern("admin.storm41.skipped", JA).findall(page)) == 6


def test_the_question_names_the_warning_in_each_language() -> None:
    from care.broadcasts.rollcall import warning_name

    assert warning_name(JA, "landslide:4") == t(
        "storm41.name",
        level=4,
        hazard=t("storm41.hazard.landslide"),
        rank=t("storm41.rank.level4"),
    )
    assert "4" in warning_name(EN, "surge:4")


def test_kinds_are_read_with_their_levels_and_checked_against_their_codes() -> None:
    report = storm.parse_report((STORM_DOCUMENTS / "vpww56_chiyoda_level4.xml").read_text("utf-8"))
    assert report is not None
    found = {(w.area, w.hazard, w.level, w.rising) for w in report.warnings}
    assert found == {("1310100", "landslide", 4, True), ("1310300", "landslide", 3, True)}
    raised = storm.parse_report((STORM_DOCUMENTS / "vpww55_chiyoda_level5.xml").read_text("utf-8"))
    assert raised is not None and [(w.level, w.rising) for w in raised.warnings] == [(5, True)]
    with pytest.raises(ValueError, match="Code"):
        storm.parse_report((STORM_DOCUMENTS / "vpww56_chiyoda_mismatch.xml").read_text("utf-8"))
    assert storm.level_of("レベル３大雨警報", "03", "rain") == ("rain", 3)
    assert storm.level_of("暴風警報", "05", None) is None
    with pytest.raises(ValueError):
        storm.level_of("レベル４大雨特別警報", None, None)  # a level and a rank that disagree


@pytest.mark.parametrize(
    ("name", "value", "says_what"),
    [
        ("MIMAMORI_STORM_AREAS", "131010", "seven digits"),
        ("MIMAMORI_STORM_AREAS", "1310100,千代田区", "seven digits"),
        ("MIMAMORI_STORM_LEVELS", "1,4", "levels 2 to 5"),
        ("MIMAMORI_STORM_LEVELS", "レベル6", "levels 2 to 5"),
        ("MIMAMORI_STORM_FEED", "http://www.data.jma.go.jp/developer/xml/feed/extra.xml", "https"),
    ],
)
def test_bad_codes_and_levels_are_refused_with_a_clear_message(
    name: str, value: str, says_what: str
) -> None:
    from ground.settings import Settings, SettingsError

    base = {"LINE_CHANNEL_SECRET": "s", "LINE_CHANNEL_ACCESS_TOKEN": "t"}
    with pytest.raises(SettingsError, match=says_what) as refused:
        Settings.from_env({**base, name: value})
    assert name in str(refused.value)


def test_the_settings_default_to_levels_4_and_5_and_read_the_codes() -> None:
    from ground.settings import Settings

    base = {"LINE_CHANNEL_SECRET": "s", "LINE_CHANNEL_ACCESS_TOKEN": "t"}
    plain = Settings.from_env(base)
    assert plain.storm_areas == frozenset() and plain.storm_levels == frozenset({4, 5})
    chosen = Settings.from_env(
        {**base, "MIMAMORI_STORM_AREAS": "1310100, 1310200", "MIMAMORI_STORM_LEVELS": "レベル５"}
    )
    assert chosen.storm_areas == {"1310100", "1310200"} and chosen.storm_levels == {5}
    assert replace(chosen, storm_levels=frozenset({3})).storm_levels == {3}
