"""The JMA earthquake feed starts a roll-call for a strong enough quake in the city's areas,
none for a weaker one or another area, and only tells the admins of a second within 6 hours.
The feed is a stand-in on loopback serving recorded 気象庁防災情報XML documents (tests/jma/)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from scheduler.quakes import QuakePoller
from tests.conftest import Bot
from tests.drivers import JmaFeed, add_admin, login, started_by_a_feed, watched_resident
from tests.wording import said, says, t

DOCUMENTS = Path(__file__).resolve().parent / "jma"


def quake_questions(bot: Bot, uid: str, scale: str | None = None) -> list[str]:
    """The roll-call's questions she was sent, naming the quake (its strongest intensity in the
    city, when given)."""
    if scale is None:
        return said(bot.line.texts_to(uid), "storm41.body")
    name = t("quake41.name", scale=t(f"quake41.scale.{scale}"))
    return said(bot.line.texts_to(uid), "storm41.body", warning=name)


def quake_title(file: str) -> str:
    return "震源・震度に関する情報" if "vxse53" in file else "震度速報"


async def test_the_jma_feed_starts_one_roll_call_for_a_strong_quake_in_the_city(
    start_bot: Callable[..., Awaitable[Bot]], aiohttp_server: Callable[..., Awaitable[TestServer]]
) -> None:
    jma = JmaFeed(DOCUMENTS, quake_title)
    server = await aiohttp_server(jma.app())
    jma.url = str(server.make_url("")).rstrip("/")
    bot = await start_bot(jma_areas=frozenset({"350"}), jma_feed_url=f"{jma.url}/eqvol.xml")
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    poller = QuakePoller(bot.services)

    jma.publish("vxse51_23ku_3.xml")  # 震度3 in 東京都２３区: below the threshold
    jma.publish("vxse53_osaka_5plus.xml")  # 震度5強, but in 大阪
    assert await poller.poll() == ["below", "elsewhere"]
    await bot.settle()
    assert quake_questions(bot, resident) == []

    jma.publish("vxse51_23ku_5plus.xml")  # 震度5強 in the city
    assert await poller.poll() == ["started"]
    await bot.settle()
    assert len(quake_questions(bot, resident)) == 1
    assert await poller.poll() == [], "each report once"
    call = await started_by_a_feed(bot)
    assert call.occasion == "quake:5+" and call.started_by.startswith("気象庁 震度速報")
    assert len(quake_questions(bot, resident, "s5upper")) == 1, "it names the quake"
    assert said(bot.line.texts_to(resident), "rollcall.body") == []

    bot.clock.advance(timedelta(hours=4))
    jma.publish("vxse51_23ku_5minus_aftershock.xml")  # 震度5弱, four hours later
    assert await poller.poll() == ["aftershock"]
    await bot.settle()
    assert len(quake_questions(bot, resident)) == 1, "not sent again"
    async with bot.repos() as repos:
        actions = [entry["action"] for entry in await repos.admin.audit_log()]
    assert "jma_aftershock" in actions and "jma_started" in actions
    await add_admin(bot)
    await login(bot.client)
    page = await (await bot.client.get("/admin/rollcalls")).text()
    assert says(page, "admin.rollcalls.aftershock", max_int="5-"), "the admins are told"

    bot.clock.advance(timedelta(hours=3))  # past the 6-hour window: a new quake is asked about
    jma.publish("vxse51_23ku_5plus.xml", name="next-quake.xml")
    assert await poller.poll() == ["started"]


def drill_of(file: str, status: str) -> str:
    return (
        (DOCUMENTS / file)
        .read_text("utf-8")
        .replace("<Status>通常</Status>", f"<Status>{status}</Status>")
    )


async def feed_and_bot(
    start_bot: Callable[..., Awaitable[Bot]],
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    **settings: object,
) -> tuple[JmaFeed, Bot, QuakePoller]:
    jma = JmaFeed(DOCUMENTS, quake_title)
    server = await aiohttp_server(jma.app())
    jma.url = str(server.make_url("")).rstrip("/")
    bot = await start_bot(
        jma_areas=frozenset({"350"}), jma_feed_url=f"{jma.url}/eqvol.xml", **settings
    )
    return jma, bot, QuakePoller(bot.services)


async def test_a_drill_or_test_report_starts_nothing_unless_drills_are_on(
    start_bot: Callable[..., Awaitable[Bot]], aiohttp_server: Callable[..., Awaitable[TestServer]]
) -> None:
    jma, bot, poller = await feed_and_bot(start_bot, aiohttp_server)
    resident, _ = await watched_resident(bot, "resident", ["son"])
    jma.publish_raw("drill.xml", drill_of("vxse51_23ku_5plus.xml", "訓練"))
    jma.publish_raw("test.xml", drill_of("vxse51_23ku_5plus.xml", "試験"))
    assert await poller.poll() == ["drill", "drill"]
    await bot.settle()
    assert quake_questions(bot, resident) == []

    drilling = QuakePoller(replace_settings(bot, jma_drills=True))
    jma.publish_raw("drill-day.xml", drill_of("vxse51_23ku_5plus.xml", "訓練"))
    assert await drilling.poll() == ["started"]


async def test_a_report_without_a_status_is_skipped_never_taken_as_real(
    start_bot: Callable[..., Awaitable[Bot]], aiohttp_server: Callable[..., Awaitable[TestServer]]
) -> None:
    """Control/Status says whether a report is real (通常); one without it proves nothing, so it
    is skipped and recorded as unreadable, drills on or off, and starts no roll-call."""
    jma, bot, poller = await feed_and_bot(start_bot, aiohttp_server)
    resident, _ = await watched_resident(bot, "resident", ["son"])
    jma.publish("vxse51_23ku_5plus_no_status.xml")  # 震度5強 in the city, no Status
    jma.publish_raw("unknown.xml", drill_of("vxse51_23ku_5plus.xml", "本番"))
    assert await poller.poll() == ["skipped", "skipped"]
    drilling = QuakePoller(replace_settings(bot, jma_drills=True))
    jma.publish("vxse51_23ku_5plus_no_status.xml", name="again.xml")
    assert await drilling.poll() == ["skipped"]
    await bot.settle()
    assert quake_questions(bot, resident) == []
    async with bot.repos() as repos:
        actions = [entry["action"] for entry in await repos.admin.audit_log()]
    assert actions.count("jma_skipped") == 3 and "jma_started" not in actions


def test_elements_are_read_by_namespace_not_by_local_name() -> None:
    from care.broadcasts.quake import parse_report

    real = (DOCUMENTS / "vxse51_23ku_3.xml").read_text("utf-8")
    report = parse_report(real)
    assert report is not None and report.status == "通常" and report.intensities["350"] == "3"

    # A Status of another vocabulary is not JMA's: without Control's own, not a report.
    foreign_status = real.replace(
        "<Status>通常</Status>", '<x:Status xmlns:x="urn:other">通常</x:Status>'
    )
    with pytest.raises(ValueError, match="Status"):
        parse_report(foreign_status)
    # Nor a drill's Status hidden behind an earlier foreign one.
    drill = real.replace(
        "<Control>", '<Control><x:Status xmlns:x="urn:other">通常</x:Status>'
    ).replace("<Status>通常</Status>", "<Status>訓練</Status>")
    parsed = parse_report(drill)
    assert parsed is not None and parsed.status == "訓練"
    # Intensities of another namespace inside the body are not read as observed.
    louder = real.replace(
        "</Observation>",
        '<o:Area xmlns:o="urn:other"><o:Code>350</o:Code><o:MaxInt>7</o:MaxInt></o:Area>'
        "</Observation>",
    )
    parsed = parse_report(louder)
    assert parsed is not None and parsed.intensities["350"] == "3"
    # The same words with no namespace at all are not a JMA document.
    bare = real.replace(' xmlns="http://xml.kishou.go.jp/jmaxml1/"', "", 1)
    bare = bare.replace(' xmlns="http://xml.kishou.go.jp/jmaxml1/informationBasis1/"', "")
    bare = bare.replace(' xmlns="http://xml.kishou.go.jp/jmaxml1/body/seismology1/"', "")
    with pytest.raises(ValueError):
        parse_report(bare)


def replace_settings(bot: Bot, **changes: object) -> object:
    from dataclasses import replace

    return replace(bot.services, settings=replace(bot.settings, **changes))


async def test_one_bad_document_is_skipped_and_recorded_and_the_next_is_read(
    start_bot: Callable[..., Awaitable[Bot]], aiohttp_server: Callable[..., Awaitable[TestServer]]
) -> None:
    jma, bot, poller = await feed_and_bot(start_bot, aiohttp_server)
    resident, _ = await watched_resident(bot, "resident", ["son"])
    laughs = (
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><Report>&b;</Report>'
    )
    jma.publish_raw("broken.xml", "<Report><Title>震度速報")  # cut off
    jma.publish_raw("missing.xml", None)
    jma.publish_raw("entities.xml", laughs)
    jma.publish_raw("huge.xml", "<Report>" + "x" * (1024 * 1024 + 10) + "</Report>")
    jma.publish_raw("away.xml", "<Report/>", elsewhere=True)
    jma.publish("vxse51_23ku_5plus.xml")
    assert await poller.poll() == ["skipped"] * 5 + ["started"]
    assert "away.xml" not in jma.fetched, "only the feed's own host is fetched"
    await bot.settle()
    assert len(quake_questions(bot, resident)) == 1
    assert await poller.poll() == [], "a skipped document is not read again"
    async with bot.repos() as repos:
        skipped = [e for e in await repos.admin.audit_log() if e["action"] == "jma_skipped"]
    assert len(skipped) == 5
    await add_admin(bot)
    await login(bot.client)
    page = await (await bot.client.get("/admin/rollcalls")).text()
    assert len(said([page], "admin.rollcalls.skipped")) >= 1


def test_the_feed_must_be_https_unless_it_is_a_stand_in_on_loopback() -> None:
    import pytest

    from ground.settings import Settings, SettingsError

    base = {"LINE_CHANNEL_SECRET": "s", "LINE_CHANNEL_ACCESS_TOKEN": "t"}
    with pytest.raises(SettingsError, match="MIMAMORI_JMA_FEED"):
        Settings.from_env({**base, "MIMAMORI_JMA_FEED": "http://www.data.jma.go.jp/x.xml"})
    local = Settings.from_env({**base, "MIMAMORI_JMA_FEED": "http://127.0.0.1:9/eqvol.xml"})
    assert local.jma_feed_url.startswith("http://127.0.0.1")
