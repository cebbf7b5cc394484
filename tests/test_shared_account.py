"""On the city's own LINE account, shared with its other services: mimamori in front forwards
every event that is not its own to the city's system (a stand-in that verifies LINE's
signature with the channel secret), durably and in order; mimamori behind takes only its own;
a follow enrols nobody. Driven with signed webhooks, the fake LINE and a fake clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from simulator.city import GARBAGE_DAY_ANSWER, CitySystem
from tests import line_webhook as hook
from tests.conftest import SECRET, Bot
from tests.drivers import add_admin, alerted, login, member_of, watched_resident
from tests.fake_line import message_text
from tests.wording import said, says, t


@pytest.fixture
async def city(bot_line_url: str) -> AsyncIterator[CitySystem]:
    system = CitySystem(SECRET, line_url=bot_line_url)
    server = TestServer(system.make_app())
    await server.start_server()
    system.url = str(server.make_url("/webhook"))
    yield system
    await server.close()


@pytest.fixture
def bot_line_url(fake_line: Any) -> str:
    return str(fake_line.url)


async def in_front(start_bot: Callable[..., Awaitable[Bot]], city: CitySystem) -> Bot:
    return await start_bot(
        shared_account=True,
        forward_url=city.url,
        menus="none",  # type: ignore[attr-defined]
    )


async def forwards(bot: Bot) -> list[tuple[str, str, int]]:
    async with bot.repos() as repos:
        rows = await repos.conn.fetch_all(
            "SELECT event_id, state, attempts FROM forwards ORDER BY id", ()
        )
    return [(r[0], r[1], r[2]) for r in rows]


def replies_to(bot: Bot, token: str) -> list[Any]:
    """Every reply LINE was asked for with this token, by anyone (a token is good once)."""
    return [
        c
        for c in bot.line.calls
        if c.path.endswith("/reply") and c.body.get("replyToken") == token
    ]


async def test_a_follow_enrols_nobody_and_the_citys_system_greets(
    start_bot: Callable[..., Awaitable[Bot]], city: CitySystem
) -> None:
    bot = await in_front(start_bot, city)
    uid = await bot.follow("resident")
    assert city.types() == ["follow"] and city.refused == 0
    assert bot.line.replies == [] and bot.line.texts_to(uid) == []
    async with bot.repos() as repos:
        assert await repos.members.by_line_id(uid) is None

    # 「ごみの日」 is the city's: it answers with the reply token; mimamori never touches it.
    event = hook.text(uid, "ごみの日", bot.clock.now())
    await bot.post(event)
    assert city.types() == ["follow", "message"] and city.replies_sent == 1
    (reply,) = replies_to(bot, event["replyToken"])
    assert reply.status == 200 and reply.body["messages"][0]["text"] == GARBAGE_DAY_ANSWER

    # 「見守り」 is how she starts: mimamori greets her with her 会員ID.
    await bot.say(uid, t("shared.start_words").split(",")[0])
    member = await member_of(bot, uid)
    assert says(bot.line.reply_texts()[-1], "shared.greeting", member_id=str(member.id))
    assert len(bot.line.replies[-1].body["messages"]) == 1, "one card, the start button in view"
    assert city.types() == ["follow", "message"], "mimamori's own is not forwarded"
    assert city.user_agents == {"LineBotWebhook/2.0"}


async def test_events_go_each_way_by_type_and_by_dialog_state(
    start_bot: Callable[..., Awaitable[Bot]], city: CitySystem
) -> None:
    bot = await in_front(start_bot, city)
    resident = hook.user_id("resident")
    bot.line.add_profile(resident, "resident", "ja")
    now = bot.clock.now

    # mimamori's signed postback starts her; the city's own postback is the city's.
    await bot.tap_action(resident, "team_new")  # a dialog: the team's name is awaited
    await bot.post(hook.postback(resident, "action=garbage&area=3", now()))
    await bot.say(resident, "ごみの日")  # in the middle of mimamori's dialog: its answer
    assert [e["type"] for e in city.events] == ["postback"]
    await bot.tap_reply_button(resident, t("team.as_user"))

    # Free text with nothing of mimamori's open is the city's; words of distress never are.
    await bot.say(resident, "粗大ごみの申し込み")
    await bot.say(resident, "助けて")
    assert [e.get("message", {}).get("text") for e in city.events[1:]] == ["粗大ごみの申し込み"]

    # A group mimamori joins is its; a group it does not know is the city's; and so is any
    # event type mimamori has no use for.
    group = hook.group_id("neighbours")
    await bot.post(hook.join(hook.in_group(group, None), now()))
    await bot.post(hook.text(resident, "みまもり", now(), hook.in_group(group, resident)))
    other = hook.group_id("city-club")
    await bot.post(hook.text(resident, "こんにちは", now(), hook.in_group(other, resident)))
    beacon = {
        **hook.text(resident, "x", now()),
        "type": "beacon",
        "beacon": {"hwid": "d41d8cd98f", "type": "enter"},
    }
    beacon.pop("message")
    await bot.post(beacon, validate=False)
    assert [e["type"] for e in city.events] == ["postback", "message", "message", "beacon"]
    assert city.events[2]["source"]["groupId"] == other
    # What it took is what LINE sent, signed as LINE signs: its own checks passed.
    assert city.refused == 0
    assert all(state == "sent" for _, state, _ in await forwards(bot))


async def test_an_answer_to_a_check_in_is_mimamoris_and_a_block_is_both(
    start_bot: Callable[..., Awaitable[Bot]], city: CitySystem
) -> None:
    bot = await in_front(start_bot, city)
    resident, (son,) = await alerted(bot, ["son"])
    before = len(city.events)
    await bot.say(resident, "ごめんなさい、寝ていました")  # an alert is open: her words go to him
    assert len(city.events) == before
    assert said(bot.line.texts_to(son), "words.body", words="ごめんなさい、寝ていました")
    await bot.post(hook.unfollow(resident, bot.clock.now()))
    assert city.types()[-1] == "unfollow", "the city's system hears she blocked the account"
    # Her alert is still open: he hears she blocked it, and that the alert waits for him.
    assert said(bot.line.texts_to(son), "stopped_open.unfollow", name="resident")
    # She comes back: the city's system greets her; mimamori resumes without a word.
    event = hook.follow(resident, bot.clock.now(), unblocked=True)
    await bot.post(event)
    assert city.types()[-1] == "follow"
    assert replies_to(bot, event["replyToken"]) == []
    async with bot.repos() as repos:
        member = await repos.members.by_line_id(resident)
    assert member is not None and member.status == "active"


async def test_the_citys_system_down_ten_minutes_then_gets_everything_once_in_order(
    start_bot: Callable[..., Awaitable[Bot]], city: CitySystem
) -> None:
    bot = await in_front(start_bot, city)
    city.down = True
    people = [hook.user_id(name) for name in ("a", "b")]
    sent: list[str] = []
    for index in range(6):
        uid = people[index % 2]
        event = hook.text(uid, f"お知らせ {index}", bot.clock.now())
        sent.append(event["webhookEventId"])
        await bot.post(event)
    for _ in range(10):
        await bot.advance(timedelta(minutes=1))
    waiting = await forwards(bot)
    assert [state for _, state, _ in waiting] == ["pending"] * 6 and city.events == []
    metrics = await (await bot.client.get("/metrics")).text()
    assert "mimamori_forwards_waiting 6.0" in metrics

    city.down = False
    await bot.advance(timedelta(minutes=5))
    assert sorted(city.event_ids()) == sorted(sent), "each event once"
    for uid in people:
        mine = [e["webhookEventId"] for e in city.events if e["source"]["userId"] == uid]
        assert mine == [i for i in sent if i in mine], "in order, per chat"
    assert all(e["deliveryContext"]["isRedelivery"] for e in city.events), "tried before"
    assert sum(len(body["events"]) for body in city.bodies) == 6, "nothing sent twice"
    assert [state for _, state, _ in await forwards(bot)] == ["sent"] * 6


async def test_a_restart_loses_nothing_waiting_for_the_citys_system(
    start_bot: Callable[..., Awaitable[Bot]], city: CitySystem
) -> None:
    bot = await in_front(start_bot, city)
    city.down = True
    await bot.post(hook.text(hook.user_id("a"), "ごみの日", bot.clock.now()))
    bot = await in_front(start_bot, city)  # the same database
    city.down = False
    await bot.advance(timedelta(minutes=1))
    assert city.types() == ["message"]


async def test_a_redirect_is_not_followed_but_tried_again_as_a_failure(
    start_bot: Callable[..., Awaitable[Bot]], city: CitySystem
) -> None:
    """A 307 would post her words and the signature again to wherever it points: the
    forwarder does not follow it; the events wait as for any answer that is not 2xx."""
    redirects: list[str] = []

    async def elsewhere(request: web.Request) -> web.Response:
        redirects.append(request.method)
        raise web.HTTPTemporaryRedirect(city.url)

    app = web.Application()
    app.router.add_post("/webhook", elsewhere)
    redirector = TestServer(app)
    await redirector.start_server()
    try:
        bot = await start_bot(
            shared_account=True,
            forward_url=str(redirector.make_url("/webhook")),
            menus="none",
        )
        await bot.post(hook.text(hook.user_id("a"), "粗大ごみの申し込み", bot.clock.now()))
        await bot.settle()
        await bot.advance(timedelta(minutes=1))
        assert len(redirects) >= 2, "tried, and tried again"
        assert city.attempts == 0 and city.events == [], "nothing reached the other host"
        [(_, state, attempts)] = await forwards(bot)
        assert state == "pending" and attempts == len(redirects)
        async with bot.repos() as repos:
            [(error,)] = await repos.conn.fetch_all("SELECT last_error FROM forwards", ())
        assert "307" in error and "not followed" in error

        from server.readiness import check_forward

        check = await check_forward(bot.settings)
        assert not check.ok and "307" in check.what and "redirect" in check.fix
        assert city.attempts == 0
    finally:
        await redirector.close()

    # Set to the URL it answers at, the events waiting go there, once.
    bot = await in_front(start_bot, city)
    await bot.advance(timedelta(minutes=5))
    assert city.types() == ["message"] and city.events[0]["deliveryContext"]["isRedelivery"]


def test_the_citys_system_is_reached_over_https_and_never_at_a_link_local_host() -> None:
    from ground.settings import Settings, SettingsError

    base = {"LINE_CHANNEL_SECRET": "s", "LINE_CHANNEL_ACCESS_TOKEN": "t"}
    name = "MIMAMORI_FORWARD_URL"
    for url in (
        "https://city.example.jp/line/webhook",
        "https://10.0.0.5/webhook",
        "http://127.0.0.1:8081/webhook",
        "http://127.8.0.1/webhook",
        "http://[::1]:8081/webhook",
        "http://localhost:8081/webhook",
    ):
        assert Settings.from_env({**base, name: url}).forward_url == url
    for url, problem in (
        ("http://city.example.jp/line/webhook", "https"),
        ("http://10.0.0.5/webhook", "https"),
        ("http://0.0.0.0:8081/webhook", "https"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("http://169.254.169.254/latest/meta-data", "link-local"),
        ("https://[fe80::1]/webhook", "link-local"),
        ("https://[febf::abcd%25eth0]/webhook", "link-local"),
        ("https://[::ffff:169.254.169.254]/webhook", "link-local"),
        ("https://2852039166/webhook", "link-local"),  # 169.254.169.254 as the resolver reads it
    ):
        with pytest.raises(SettingsError, match=problem) as caught:
            Settings.from_env({**base, name: url})
        assert caught.value.name == name, url


async def test_behind_the_citys_system_mimamori_takes_only_its_own(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await start_bot(shared_account=True, menus="none")
    uid = await bot.follow("resident")
    await bot.say(uid, "ごみの日")
    assert bot.line.replies == [], "the city's: neither answered nor enrolled"
    await bot.say(uid, "見守り")
    member = await member_of(bot, uid)
    assert says(bot.line.reply_texts()[-1], "shared.greeting", member_id=str(member.id))
    assert len(bot.line.replies[-1].body["messages"]) == 1, "one card, the start button in view"
    assert await forwards(bot) == [], "nothing to forward without MIMAMORI_FORWARD_URL"


async def test_on_its_own_account_a_follow_still_greets(bot: Bot) -> None:
    uid = await bot.follow("resident")
    member = await member_of(bot, uid)
    assert says(bot.line.reply_texts()[0], "follow.greeting", member_id=str(member.id))


async def test_the_tab_is_made_and_removed_without_touching_the_citys_menu(
    start_bot: Callable[..., Awaitable[Bot]], city: CitySystem
) -> None:
    from ground.rich_menu import TAB_ALIAS
    from scheduler import rich_menus

    bot = await start_bot(
        shared_account=True, forward_url=city.url, menus="tab", city_menu_alias="city-main"
    )
    line = bot.line
    city_menu = line.add_city_menu("city-main")
    made = (await rich_menus.install(bot.services))["tab"]
    tab = line.rich_menus[made]
    (back,) = [a["action"] for a in tab["areas"] if a["action"]["type"] == "richmenuswitch"]
    assert back["richMenuAliasId"] == "city-main"
    assert line.rich_menu_aliases == {"city-main": city_menu, TAB_ALIAS: made}
    assert line.default_rich_menu == city_menu and line.schema_errors == []

    # A resident who uses both: nobody is linked to mimamori's menu, now or at any sweep.
    await watched_resident(bot, "resident", ["son"])
    await bot.advance(timedelta(minutes=1))
    assert line.linked_rich_menus == {}
    touched = [c for c in line.calls if city_menu in c.path or "/user/all/richmenu" in c.path]
    assert touched == []

    # Her tap on the way back to the city's menu is the city's system's to see.
    uid = hook.user_id("resident")
    await bot.tap(uid, back["data"])
    assert city.types()[-1] == "postback"

    # Made again: the alias moves; the old tab goes. Removed: only mimamori's is gone.
    again = (await rich_menus.install(bot.services))["tab"]
    assert line.rich_menu_aliases[TAB_ALIAS] == again and made not in line.rich_menus
    assert await rich_menus.remove(bot.services) == [again]
    assert line.rich_menu_aliases == {"city-main": city_menu}
    assert set(line.rich_menus) == {city_menu} and line.default_rich_menu == city_menu


async def test_with_no_menu_to_touch_none_is_touched(
    start_bot: Callable[..., Awaitable[Bot]], city: CitySystem
) -> None:
    from ground.rich_menu import RichMenuError
    from scheduler import rich_menus

    bot = await in_front(start_bot, city)
    city_menu = bot.line.add_city_menu("city-main")
    with pytest.raises(RichMenuError):
        await rich_menus.install(bot.services)
    await watched_resident(bot, "resident", ["son"])
    await bot.advance(timedelta(minutes=1))
    assert [c for c in bot.line.calls if "richmenu" in c.path] == []
    assert bot.line.default_rich_menu == city_menu


async def test_the_setup_check_tries_the_citys_system(
    start_bot: Callable[..., Awaitable[Bot]], city: CitySystem
) -> None:
    from server.readiness import check_forward

    bot = await in_front(start_bot, city)
    ok = await check_forward(bot.settings)
    assert ok.ok and city.refused == 0 and city.bodies[-1]["events"] == []
    city.down = True
    down = await check_forward(bot.settings)
    assert not down.ok and "503" in down.what and down.fix
    city.down = False
    wrong = await check_forward(replace(bot.settings, channel_secret="another-channel"))
    assert not wrong.ok and "400" in wrong.what and city.refused == 1
    gone = await check_forward(replace(bot.settings, forward_url="http://127.0.0.1:9/webhook"))
    assert not gone.ok and "not reached" in gone.what


async def test_on_the_municipal_plan_nothing_is_refused_for_quota(
    start_bot: Callable[..., Awaitable[Bot]], city: CitySystem
) -> None:
    from care.broadcasts import budget

    bot = await start_bot(
        shared_account=True, forward_url=city.url, menus="none", unlimited_messages=True
    )
    bot.line.quota = {"type": "limited", "value": 200}  # what LINE says: not this plan's
    bot.line.quota_used = 200
    assert await budget.quota_left(bot.services) is None
    forecast = await bot.services.message_quota()
    assert forecast is not None and (forecast.limit, forecast.used) == (None, 200)
    await add_admin(bot)
    assert await login(bot.client) == 200
    page = await (await bot.client.get("/admin/quota")).text()
    assert t("admin.quota.plan_unlimited") in page and t("admin.quota.unlimited") in page


async def test_whoever_first_reaches_mimamori_through_its_tab_hears_their_member_id(
    start_bot: Callable[..., Awaitable[Bot]], city: CitySystem
) -> None:
    bot = await in_front(start_bot, city)
    uid = await bot.follow("resident")
    await bot.tap_action(uid, "help")  # 使い方, from mimamori's tab of the city's menu
    member = await member_of(bot, uid)
    first, *rest = bot.line.replies[-1].body["messages"]
    assert says(message_text(first), "shared.greeting", member_id=str(member.id))
    assert any(says(m.get("text", ""), "help.body") for m in rest)
    await bot.tap_action(uid, "help")
    assert not any(
        says(message_text(m), "shared.greeting") for m in bot.line.replies[-1].body["messages"]
    ), "once"
