"""熱中症警戒アラート days: the Ministry of the Environment's alert files (one per issuing hour)
and WBGT forecast, read from a stand-in of its site on loopback serving the sample documents
of tests/heat/ (see its README: reconstructed from the published description), make an alert
day; at the city's hour those who asked for it (from the chat or My page) and those the desk
marked get one heat check, with its shorter ladder (again after 1 h, the managers alerted 1 h
later), and the console's heat page tallies it like a roll-call. A later file's 9 or 0 does
not take an alert back; a judged-only flag, a test file, a broken file, another area's alert
and a document seen before start nothing."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import date, timedelta

import pytest
from aiohttp.test_utils import TestServer

from care.broadcasts import heat
from ground.settings import Settings, SettingsError
from tests.conftest import Bot
from tests.drivers import (
    Page,
    add_admin,
    answer_the_morning_check_in,
    csrf,
    heat_bot,
    login,
    member_of,
    ok_data,
    opt_in_from_the_chat,
    run_to,
    tokyo,
    watched_resident,
)
from tests.wording import said, says, t


def heat_checks_to(bot: Bot, uid: str, again: bool = False) -> list[str]:
    return said(bot.line.texts_to(uid), "heat41.again_title" if again else "heat41.title")


async def mark_at_risk(bot: Bot, member_id: int, on: bool = True) -> None:
    """運用管理, from the people list's button."""
    token = await csrf(bot.client, "/admin/people")
    form = {"csrf_token": token, "at_risk": "on" if on else "off"}
    response = await bot.client.post(f"/admin/people/{member_id}/heat", data=form)
    assert response.status == 200, await response.text()


def count(page: str, standing: str) -> int:
    found = re.search(rf'id="heat-count-{standing}">(\d+)<', page)
    assert found is not None, standing
    return int(found.group(1))


async def test_an_alert_day_asks_those_who_chose_it_and_those_marked_with_a_shorter_ladder(
    start_bot: Callable[..., Awaitable[Bot]], aiohttp_server: Callable[..., Awaitable[TestServer]]
) -> None:
    feed, bot, poller = await heat_bot(start_bot, aiohttp_server)
    chose, (chose_son,) = await watched_resident(bot, "chose", ["chose-son"])
    marked, (marked_son,) = await watched_resident(bot, "marked", ["marked-son"])
    neither, _ = await watched_resident(bot, "neither", ["neither-son"])
    await opt_in_from_the_chat(bot, chose)
    await add_admin(bot)
    await login(bot.client)
    await mark_at_risk(bot, (await member_of(bot, marked)).id)
    async with bot.repos() as repos:
        assert "heat_at_risk" in [e["action"] for e in await repos.admin.audit_log()]

    await run_to(bot, tokyo(8, 2, 17, 5, year=2027))
    assert await poller.poll() == ["forecast"], "the day's files not published: not recorded"
    feed.publish("20270802_17", "alert_20270802_17.csv")  # 熱中症警戒アラート for 東京都, tomorrow
    assert await poller.poll() == ["alert"]
    assert await poller.poll() == [], "each version of each document once"
    await bot.sweep()
    assert heat_checks_to(bot, chose) == [], "not before the city's hour the next day"

    # The day's 5:00 says nothing of 東京都 (9): yesterday's 17:00 stands.
    await run_to(bot, tokyo(8, 3, 5, 10, year=2027))
    feed.publish("20270803_05", "alert_20270803_05_nines.csv")
    assert await poller.poll() == ["none"]
    await answer_the_morning_check_in(bot, chose, marked, neither)
    # The 10:00 file says 0 for today, read before the check goes: an alert once issued is
    # never withdrawn, so the check goes all the same.
    bot.clock.set(tokyo(8, 3, 10, 0, year=2027))
    feed.publish("20270803_10", "alert_20270803_10_zero.csv")
    assert await poller.poll() == ["none"]
    await bot.sweep()  # the city's hour (10:00)
    assert len(heat_checks_to(bot, chose)) == 1 and len(heat_checks_to(bot, marked)) == 1
    assert says(bot.line.texts_to(chose)[-1], "heat41.advice")
    assert heat_checks_to(bot, neither) == []
    await bot.sweep()
    assert len(heat_checks_to(bot, chose)) == 1, "one extra message, not one per sweep"

    # She answers OK: closed; nobody is told anything (nobody was alerted).
    ok = ok_data(bot, chose)
    await bot.tap(chose, ok)
    assert says(bot.line.reply_texts()[-1], "checkin.thanks")
    before_son = len(bot.line.texts_to(chose_son))

    # The one marked at risk says nothing: asked again after an hour, her son alerted an
    # hour after that (not 24 h and 3 h, the regular ladder's).
    await run_to(bot, tokyo(8, 3, 10, 59, year=2027))
    assert heat_checks_to(bot, marked, again=True) == []
    await run_to(bot, tokyo(8, 3, 11, 0, year=2027))
    assert len(heat_checks_to(bot, marked, again=True)) == 1
    assert said(bot.line.texts_to(marked_son), "alert.body") == []
    await run_to(bot, tokyo(8, 3, 12, 0, year=2027))
    assert said(bot.line.texts_to(marked_son), "alert.body")
    assert len(bot.line.texts_to(chose_son)) == before_son, "her OK tells nobody"
    assert not said(bot.line.texts_to(marked_son), "safe.body"), "silence is never safety"

    await login(bot.client)  # a day later: signed in again
    page = await (await bot.client.get("/admin/heat")).text()
    assert says(page, "admin.heat41.level_alert")
    assert count(page, "answered") == 1 and count(page, "alerted") == 1
    assert count(page, "silent") == 0 and count(page, "unasked") == 0
    assert says(page, "admin.heat41.asked_count", count=2)
    rows = re.findall(r'data-standing="(\w+)"', page)
    assert rows == ["alerted", "answered"], "the silent and alerted first"
    assert "34.1" in page, "the WBGT forecast's highest for the day"


async def test_a_judged_flag_a_test_file_a_broken_one_and_another_area_start_nothing(
    start_bot: Callable[..., Awaitable[Bot]], aiohttp_server: Callable[..., Awaitable[TestServer]]
) -> None:
    feed, bot, poller = await heat_bot(start_bot, aiohttp_server)
    resident, _ = await watched_resident(bot, "resident", ["son"])
    await opt_in_from_the_chat(bot, resident)
    feed.wbgt = ""  # the forecast missing: skipped, recorded once

    feed.publish("20270802_14", "alert_20270802_14_judged.csv")  # 特別警戒 judged, not issued
    assert sorted(await poller.poll()) == ["none", "skipped"]
    await run_to(bot, tokyo(8, 2, 17, 5, year=2027))
    feed.publish("20270802_17", "alert_20270802_17_test.csv")  # Status 試験
    assert await poller.poll() == ["drill"]
    feed.publish("20270802_17", "alert_broken.csv")  # published again, cut off
    assert await poller.poll() == ["skipped"]
    assert await poller.poll() == [], "a broken document is recorded once"
    feed.publish("20270802_17", "alert_20270802_17_osaka.csv")  # 大阪府's alert, not ours
    assert await poller.poll() == ["none"]
    await answer_the_morning_check_in(bot, resident)
    await run_to(bot, tokyo(8, 3, 12, 0, year=2027))
    assert heat_checks_to(bot, resident) == []
    async with bot.repos() as repos:
        actions = [e["action"] for e in await repos.admin.audit_log()]
        assert "heat_skipped" in actions and "heat_alert" not in actions
        assert await repos.heat.recent_days() == []
    await add_admin(bot)
    await login(bot.client)
    page = await (await bot.client.get("/admin/heat")).text()
    for action in ("drill", "skipped", "none"):
        assert f'data-action="{action}"' in page
        assert says(page, f"admin.heat41.document_action_{action}")


async def test_a_test_file_starts_a_heat_check_when_the_city_asks_for_drills(
    start_bot: Callable[..., Awaitable[Bot]], aiohttp_server: Callable[..., Awaitable[TestServer]]
) -> None:
    feed, bot, poller = await heat_bot(start_bot, aiohttp_server, heat_drills=True)
    resident, _ = await watched_resident(bot, "resident", ["son"])
    await opt_in_from_the_chat(bot, resident)
    await run_to(bot, tokyo(8, 2, 17, 5, year=2027))
    feed.publish("20270802_17", "alert_20270802_17_test.csv")
    assert sorted(await poller.poll()) == ["alert", "forecast"]
    await answer_the_morning_check_in(bot, resident)
    await run_to(bot, tokyo(8, 3, 10, 0, year=2027))
    assert len(heat_checks_to(bot, resident)) == 1


async def test_a_special_alert_after_the_hour_asks_at_once_and_skips_an_open_round(
    start_bot: Callable[..., Awaitable[Bot]], aiohttp_server: Callable[..., Awaitable[TestServer]]
) -> None:
    feed, bot, poller = await heat_bot(start_bot, aiohttp_server, heat_drills=False)
    calm, _ = await watched_resident(bot, "calm", ["calm-son"])
    helping, (helping_son,) = await watched_resident(bot, "helping", ["helping-son"])
    for uid in (calm, helping):
        await opt_in_from_the_chat(bot, uid)
    await answer_the_morning_check_in(bot, calm)
    await run_to(bot, tokyo(8, 3, 10, 30, year=2027))
    await bot.say(helping, t("distress.words").split(",")[0].strip())  # her alert is open

    # The day's 5:00 file, 熱中症特別警戒アラート for 東京都, read late: past the city's hour.
    feed.publish("20270803_05", "alert_20270803_05_special.csv")
    assert await poller.poll() == ["special", "forecast"]
    await bot.sweep()
    assert len(heat_checks_to(bot, calm)) == 1, "asked at once"
    assert heat_checks_to(bot, helping) == [], "her open alert stands for the day"
    await add_admin(bot)
    await login(bot.client)
    page = await (await bot.client.get("/admin/heat")).text()
    assert says(page, "admin.heat41.level_special")
    assert count(page, "silent") == 1 and count(page, "unasked") == 1
    assert says(page, "admin.heat41.why_round_open")
    # The regular alert goes on as it was: the heat check neither closed nor told it.
    assert not said(bot.line.texts_to(helping_son), "safe.body")


async def test_opt_in_and_out_on_my_page_and_the_chat(
    start_bot: Callable[..., Awaitable[Bot]], aiohttp_server: Callable[..., Awaitable[TestServer]]
) -> None:
    _, bot, _ = await heat_bot(start_bot, aiohttp_server)
    uid = await bot.follow("resident")
    page = Page(bot, uid, "resident")
    await page.accept_terms()
    assert await page.call("GET", "/liff/api/me/heat") == (
        200,
        {"offered": True, "opted_in": False, "at_risk": False},
    )
    assert (await page.call("PUT", "/liff/api/me/heat", {"opted_in": "yes"}))[0] == 400
    assert (await page.call("PUT", "/liff/api/me/heat", {"opted_in": True}))[0] == 200
    assert (await page.call("GET", "/liff/api/me/heat"))[1]["opted_in"] is True
    # From the chat, the card says she gets it, and its one button stops it.
    await bot.tap_action(uid, "heat")
    assert says(bot.line.reply_texts()[-1], "heat41.about_on")
    await bot.tap_reply_button(uid, t("heat41.off_button"))
    assert says(bot.line.reply_texts()[-1], "heat41.turned_off")
    assert (await page.call("GET", "/liff/api/me/heat"))[1]["opted_in"] is False
    await bot.tap_action(uid, "heat", v="maybe")
    assert says(bot.line.reply_texts()[-1], "postback.invalid")


async def test_the_desk_filters_its_queue_to_the_heat_checks_left_unanswered(
    start_bot: Callable[..., Awaitable[Bot]], aiohttp_server: Callable[..., Awaitable[TestServer]]
) -> None:
    feed, bot, poller = await heat_bot(start_bot, aiohttp_server, desk_after=timedelta(hours=1))
    hot, _ = await watched_resident(bot, "hot", ["hot-son"])
    other, _ = await watched_resident(bot, "other", ["other-son"])
    await opt_in_from_the_chat(bot, hot)
    await run_to(bot, tokyo(8, 2, 17, 5, year=2027))
    feed.publish("20270802_17", "alert_20270802_17.csv")
    assert sorted(await poller.poll()) == ["alert", "forecast"]
    await answer_the_morning_check_in(bot, hot)  # "other" leaves her 9:00 check-in unanswered
    await run_to(bot, tokyo(8, 3, 10, 0, year=2027))
    await bot.say(other, t("distress.words").split(",")[0].strip())  # a case of another kind
    for hour in (11, 12, 13, 14, 15):  # again, the alert, sent again, then the desk's
        await run_to(bot, tokyo(8, 3, hour, 0, year=2027))
    await add_admin(bot)
    await login(bot.client)
    everything = await (await bot.client.get("/admin/desk")).text()
    heat_only = await (await bot.client.get("/admin/desk?heat=1")).text()
    async with bot.repos() as repos:
        case_of = {case["member_id"]: case["id"] for case in await repos.desk.queue()}
    hot_case = f'data-case="{case_of[(await member_of(bot, hot)).id]}"'
    other_case = f'data-case="{case_of[(await member_of(bot, other)).id]}"'
    assert hot_case in everything and other_case in everything
    assert hot_case in heat_only and other_case not in heat_only
    assert says(heat_only, "admin.queue.filter.heat")


async def test_one_ladder_steps_every_round_once_each_by_its_own_waits(
    start_bot: Callable[..., Awaitable[Bot]], aiohttp_server: Callable[..., Awaitable[TestServer]]
) -> None:
    """On an alert day the heat check's round and the regular round it found waiting climb
    with the heat day's waits, each asked again once (in the heat check's words) and alerted
    once; a regular round the check did not name keeps the regular waits (24 h, 3 h)."""
    feed, bot, poller = await heat_bot(start_bot, aiohttp_server)
    silent, (silent_son,) = await watched_resident(bot, "silent", ["silent-son"])
    quiet, (quiet_son,) = await watched_resident(bot, "quiet", ["quiet-son"])
    usual, (usual_son,) = await watched_resident(bot, "usual", ["usual-son"])
    for uid in (silent, quiet):
        await opt_in_from_the_chat(bot, uid)
    await run_to(bot, tokyo(8, 2, 17, 5, year=2027))
    feed.publish("20270802_17", "alert_20270802_17.csv")
    assert "alert" in await poller.poll()
    # "silent" and "usual" leave the morning's check-in unanswered; "quiet" answers it.
    await answer_the_morning_check_in(bot, quiet)

    await run_to(bot, tokyo(8, 3, 10, 0, year=2027))
    assert len(heat_checks_to(bot, quiet)) == 1
    assert heat_checks_to(bot, silent) == [], "her check-in still waits: no second round"
    # Silent since her check-in went (9:30): asked again an hour later, in the heat words.
    await run_to(bot, tokyo(8, 3, 10, 29, year=2027))
    assert heat_checks_to(bot, silent, again=True) == []
    await run_to(bot, tokyo(8, 3, 10, 30, year=2027))
    assert len(heat_checks_to(bot, silent, again=True)) == 1
    await run_to(bot, tokyo(8, 3, 11, 0, year=2027))
    assert len(heat_checks_to(bot, quiet, again=True)) == 1
    await run_to(bot, tokyo(8, 3, 11, 30, year=2027))
    assert said(bot.line.texts_to(silent_son), "alert.body")
    await run_to(bot, tokyo(8, 3, 12, 0, year=2027))
    assert said(bot.line.texts_to(quiet_son), "alert.body")
    assert said(bot.line.texts_to(usual), "checkin.resend_title") == []

    for hour in (13, 16, 20):
        await run_to(bot, tokyo(8, 3, hour, 0, year=2027))
    await run_to(bot, tokyo(8, 4, 9, 29, year=2027))
    assert said(bot.line.texts_to(usual), "checkin.resend_title") == []
    await run_to(bot, tokyo(8, 4, 9, 30, year=2027))
    assert len(said(bot.line.texts_to(usual), "checkin.resend_title")) == 1, "24 h, as always"
    # A day on (before the open alerts' reminders): each heat round stepped once.
    for uid, son in ((silent, silent_son), (quiet, quiet_son)):
        assert len(heat_checks_to(bot, uid, again=True)) == 1, "asked again once, by one ladder"
        assert said(bot.line.texts_to(uid), "checkin.resend_title") == []
        alerts = said(bot.line.texts_to(son), "alert.body")
        first = [text for text in alerts if not says(text, "alert.again")]
        assert len(first) == 1, "alerted once (then sent again as the protocol says)"
        assert not said(bot.line.texts_to(son), "safe.body")
    await run_to(bot, tokyo(8, 4, 11, 29, year=2027))
    assert said(bot.line.texts_to(usual_son), "alert.body") == [], "3 h after, not before"
    await run_to(bot, tokyo(8, 4, 12, 30, year=2027))
    assert said(bot.line.texts_to(usual_son), "alert.body")


def test_a_heat_wait_longer_than_the_regular_one_is_refused_at_start() -> None:
    required = {"LINE_CHANNEL_SECRET": "s", "LINE_CHANNEL_ACCESS_TOKEN": "t"}
    for name, value in (("RESEND_AFTER", "25h"), ("ALERT_AFTER", "4h")):
        with pytest.raises(SettingsError) as raised:
            Settings.from_env({**required, f"MIMAMORI_HEAT_{name}": value})
        assert raised.value.name == f"MIMAMORI_HEAT_{name}"
        assert f"MIMAMORI_{name}" in str(raised.value)
    with pytest.raises(SettingsError):
        Settings.from_env(
            {**required, "MIMAMORI_RESEND_AFTER": "30m"} | {"MIMAMORI_HEAT_RESEND_AFTER": "1h"}
        )
    # As long as the regular ones, or shorter: taken. Unset, an hour each, or the regular
    # wait where that is shorter.
    same = Settings.from_env(
        {**required, "MIMAMORI_HEAT_RESEND_AFTER": "24h", "MIMAMORI_HEAT_ALERT_AFTER": "3h"}
    )
    assert (same.heat_resend_after, same.heat_alert_after) == (
        timedelta(hours=24),
        timedelta(hours=3),
    )
    short = Settings.from_env({**required, "MIMAMORI_ALERT_AFTER": "20m"})
    assert (short.heat_resend_after, short.heat_alert_after) == (
        timedelta(hours=1),
        timedelta(minutes=20),
    )
    with pytest.raises(SettingsError):
        Settings(channel_secret="s", channel_access_token="t", heat_alert_after=timedelta(hours=5))


def test_the_heat_settings_read_the_ministrys_files_and_check_the_areas() -> None:
    required = {"LINE_CHANNEL_SECRET": "s", "LINE_CHANNEL_ACCESS_TOKEN": "t"}
    on = {**required, "MIMAMORI_HEAT_AREAS": "130000,460040", "MIMAMORI_HEAT_POINTS": "44132"}
    settings = Settings.from_env(on)
    assert settings.heat_areas == {"130000", "460040"} and settings.heat_check_hour == 10
    assert settings.heat_alert_base == "https://www.wbgt.env.go.jp/alert/dl/"
    assert settings.heat_wbgt_url.format(point="44132").endswith("/yohou_44132.csv")
    base = "https://www.wbgt.env.go.jp/alert/dl/"
    for wrong in (
        {"MIMAMORI_HEAT_AREAS": "13"},  # a prefecture's number, not a 府県予報区 code
        {"MIMAMORI_HEAT_AREAS": "130010"},  # a 一次細分区域 (東京地方), not a 府県予報区
        {"MIMAMORI_HEAT_AREAS": "東京都"},
        {"MIMAMORI_HEAT_ALERT_BASE": base.replace("https", "http")},
        {"MIMAMORI_HEAT_ALERT_BASE": "https://elsewhere.example/alert/dl/"},
        {"MIMAMORI_HEAT_CHECK_HOUR": "23"},
        {"MIMAMORI_HEAT_POINTS": "東京"},
    ):
        with pytest.raises(SettingsError) as raised:
            Settings.from_env({**on, **wrong})
        assert raised.value.name.startswith("MIMAMORI_HEAT_")


def test_the_files_read_are_yesterdays_five_pm_and_todays_hours_passed() -> None:
    base = "https://www.wbgt.env.go.jp/alert/dl/"
    assert heat.alert_file_url(base, date(2027, 1, 1), 5).endswith("/2027/alert_20270101_05.csv")
    assert heat.alert_files_due(tokyo(1, 1, 4, 59, year=2027)) == [(date(2026, 12, 31), 17)]
    assert heat.alert_files_due(tokyo(8, 3, 14, 0, year=2027)) == [
        (date(2027, 8, 2), 17),
        (date(2027, 8, 3), 5),
        (date(2027, 8, 3), 10),
        (date(2027, 8, 3), 14),
    ]
