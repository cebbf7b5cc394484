"""Issue 40, the chat: a resident's first minute on either kind of account (the greeting at
once, one card with its start button in view; starting and pausing for a hospital stay counted
in taps), a relative's first minute (the join first, never the resident's start), her card
while an alert is open (its buttons, a note to the other watchers), every notice that keeps an
alert open carrying the alert's buttons, and the chat's words said truthfully.

Taps are what she sends LINE: a postback (a button, a tile, the switch to mimamori's tab) or
a message. 友だち追加 is counted apart: on the city's account she has done it already."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from care.rounds.protocol import Stage
from scheduler import rich_menus
from tests import line_webhook as hook
from tests.conftest import Bot
from tests.drivers import (
    Page,
    add_admin,
    alerted,
    button,
    create_team,
    login,
    member_of,
    run_to,
    stage,
    tokyo,
    watched_resident,
)
from tests.fake_line import message_text, postbacks_in
from tests.wording import said, says, t

CITY_ALIAS = "city-main"
# The greeting's body, short enough that its start button shows without a scroll on a phone
# (about 14 characters a line in a bubble: seven lines and the title above two buttons).
GREETING_MOST = 110
TAPS_TO_START = 2
TAPS_TO_PAUSE_UNTIL_HOME = 2


class Her:
    """A resident's thumb: every postback or message she sends is one tap."""

    def __init__(self, bot: Bot, uid: str) -> None:
        self.bot, self.uid, self.taps = bot, uid, 0

    async def tile(self, menu_id: str, label: str) -> None:
        """A tile of the menu under her chat, found by the label LINE shows."""
        areas = self.bot.line.rich_menus[menu_id]["areas"]
        (action,) = [a["action"] for a in areas if a["action"].get("label") == label[:20]]
        self.taps += 1
        await self.bot.tap(self.uid, action["data"])

    async def switch_to_tab(self) -> None:
        """The city's 見守り tile: LINE shows mimamori's tab and sends the city's data with the
        alias switched to."""
        event = hook.postback(self.uid, "city-tab=mimamori", self.bot.clock.now())
        event["postback"]["params"] = {"newRichMenuAliasId": "mimamori", "status": "SUCCESS"}
        self.taps += 1
        await self.bot.post(event)

    async def button(self, label: str) -> None:
        self.taps += 1
        await self.bot.tap_reply_button(self.uid, label)


def _one_greeting_card(bot: Bot, key: str, member_id: int) -> dict[str, Any]:
    """The reply is one card: the greeting, its first button 毎日 朝9時で始める, short."""
    (card,) = bot.line.replies[-1].body["messages"]
    assert card["type"] == "flex" and "quickReply" not in card
    assert says(message_text(card), key, member_id=str(member_id))
    assert [a["label"] for a in postbacks_in(card)][0] == t("follow.start_button")
    body = card["contents"]["body"]["contents"][1]["text"]
    print(f"the greeting: one message, its body {len(body)} characters, then the start button")
    assert len(body) <= GREETING_MOST
    return card


async def test_on_the_citys_account_the_tab_greets_her_and_she_starts_and_pauses_in_two_taps(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await start_bot(shared_account=True, menus="tab", city_menu_alias=CITY_ALIAS)
    bot.line.add_city_menu(CITY_ALIAS)
    tab = (await rich_menus.install(bot.services))["tab"]
    uid = await bot.follow("resident")  # the city's: mimamori says nothing
    assert bot.line.replies == []
    her = Her(bot, uid)

    await her.switch_to_tab()
    member = await member_of(bot, uid)
    _one_greeting_card(bot, "shared.greeting", member.id)
    await her.button(t("follow.start_button"))
    assert says(bot.line.reply_texts()[-1], "schedule.saved")
    member = await member_of(bot, uid)
    assert (member.interval_days, member.checkin_hour) == (1, 9)
    print(f"city's account: started in {her.taps} taps (the 見守り tab, 毎日 朝9時で始める)")
    assert her.taps <= TAPS_TO_START

    # Back to the tab another day: nothing more is said (the tab is what she came for).
    replies = len(bot.line.replies)
    await her.switch_to_tab()
    assert len(bot.line.replies) == replies

    # 入院: お休み・再開 is on the tab, and 退院するまで on its card.
    her.taps = 0
    await her.tile(tab, t("richmenu.pause"))
    await her.button(t("pause.until_home"))
    reply = bot.line.reply_texts()[-1]
    assert says(reply, "pause.saved_open")
    # She has no watchers yet: nobody was told, and the way back is the tab's tile.
    assert says(reply, "first_minute.told.nobody") and says(reply, "first_minute.back.tab")
    assert (await member_of(bot, uid)).open_pause
    print(f"city's account: paused until home in {her.taps} taps (お休み・再開, 退院するまで)")
    assert her.taps <= TAPS_TO_PAUSE_UNTIL_HOME
    assert bot.line.schema_errors == []


async def test_on_its_own_account_she_starts_and_pauses_in_two_taps(bot: Bot) -> None:
    menus = await rich_menus.install(bot.services)
    uid = await bot.follow("resident")
    her = Her(bot, uid)
    member = await member_of(bot, uid)
    _one_greeting_card(bot, "follow.greeting", member.id)
    await her.button(t("follow.start_button"))
    assert says(bot.line.reply_texts()[-1], "schedule.saved")
    print(f"own account: started in {her.taps} tap after 友だち追加 (毎日 朝9時で始める)")
    assert her.taps + 1 <= TAPS_TO_START, "友だち追加 and one tap"

    her.taps = 0
    await her.tile(menus["user"], t("richmenu.pause"))
    await her.button(t("pause.until_home"))
    reply = bot.line.reply_texts()[-1]
    assert says(reply, "pause.saved_open") and says(reply, "first_minute.back.own")
    print(f"own account: paused until home in {her.taps} taps (お休み・再開, 退院するまで)")
    assert her.taps <= TAPS_TO_PAUSE_UNTIL_HOME


async def test_the_residents_guide_names_only_what_her_kind_of_account_shows(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    for menus, steps in (
        ("own", "admin.guides.resident.steps"),
        ("tab", "admin.first_minute.guide.tab"),
        ("none", "admin.first_minute.guide.none"),
    ):
        shared = menus != "own"
        changes: dict[str, Any] = {"shared_account": shared, "menus": menus}
        if menus == "tab":
            changes["city_menu_alias"] = CITY_ALIAS
        bot = await start_bot(**changes)  # the same database: the admin is there after one
        if menus == "own":
            await add_admin(bot)
        bot.clock.advance(timedelta(minutes=2))  # one sign-in a minute, as a person's would be
        assert await login(bot.client) == 200
        page = await (await bot.client.get("/admin/guides/resident")).text()
        for step in t(steps).split("\n"):
            assert step in page, (menus, step)
        others = {"admin.guides.resident.steps", "admin.first_minute.guide.tab"} - {steps}
        for other in others:
            last = t(other).split("\n")[-1]
            assert last not in page, (menus, other)


# -- the relative's first minute -----------------------------------------------------------


async def test_on_the_citys_account_an_invited_relative_gets_the_join_card_alone(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await start_bot(shared_account=True, menus="none")
    resident = hook.user_id("resident")
    bot.line.add_profile(resident, "resident", "ja")
    await bot.say(resident, "見守り")
    codes = await create_team(bot, resident, "母の見守り", as_user=True)
    daughter = await bot.follow("daughter")  # the city's: nothing from mimamori
    await bot.say(daughter, t("invite.prefill", code=codes["manager"]))  # the link fills it in
    (card,) = bot.reply_to(daughter).body["messages"]  # type: ignore[union-attr]
    assert t("invite.confirm_title") in message_text(card)
    assert not says(message_text(card), "shared.greeting")
    assert t("follow.start_button") not in [a["label"] for a in postbacks_in(card)]
    await bot.tap_reply_button(daughter, t("invite.accept"))
    assert says(bot.line.reply_texts()[-1], "invite.joined.manager")


async def test_on_its_own_account_an_invited_relative_never_sees_the_residents_start(
    bot: Bot,
) -> None:
    resident = await bot.follow("resident")
    codes = await create_team(bot, resident, "母の見守り", as_user=True)
    # The invite link adds the account and sends the code: both in one delivery.
    son = hook.user_id("son")
    bot.line.add_profile(son, "son", "ja")
    now = bot.clock.now()
    before = len(bot.line.replies)
    code = hook.text(son, t("invite.prefill", code=codes["manager"]), now)
    await bot.post(hook.follow(son, now), code)
    ((card,),) = [c.body["messages"] for c in bot.line.replies[before:]]
    assert t("invite.confirm_title") in message_text(card)
    assert not says(message_text(card), "follow.greeting")
    assert t("follow.start_button") not in [a["label"] for a in postbacks_in(card)]
    await bot.tap_reply_button(son, t("invite.accept"))
    assert says(bot.line.reply_texts()[-1], "invite.joined.manager")

    # The link opened the chat before the account was added: the code first, the follow
    # after; she is a watcher, and hears only that she is welcome.
    daughter = hook.user_id("daughter")
    bot.line.add_profile(daughter, "daughter", "ja")
    await bot.say(daughter, t("invite.prefill", code=codes["manager"]))
    await bot.tap_reply_button(daughter, t("invite.accept"))
    await bot.post(hook.follow(daughter, bot.clock.now()))
    (welcome,) = bot.reply_to(daughter).body["messages"]  # type: ignore[union-attr]
    assert says(message_text(welcome), "first_minute.welcome_watcher")
    assert postbacks_in(welcome) == []


# -- her card while an alert is open ------------------------------------------------------


async def test_her_card_offers_the_alerts_buttons_and_a_note_to_the_others(bot: Bot) -> None:
    resident, (son, daughter) = await alerted(bot, ["son", "daughter"])
    member = await member_of(bot, resident)
    await bot.tap_action(son, "member", m=member.id)  # 詳しく見る, on the alert
    labels = [a["label"] for a in bot.last_reply_postbacks(son)]
    assert labels[:3] == [
        t("alert.take_button"),
        t("alert.safe_button"),
        t("first_minute.note.button"),
    ]
    await bot.tap_reply_button(son, t("first_minute.note.button"))
    assert says(bot.line.reply_texts()[-1], "first_minute.note.ask", names="daughter")
    # His note says she 「動けない」: words about her, not a call for help of his own.
    await bot.say(son, "今から向かいます。昨日から動けないと近所の方が")
    assert says(bot.line.reply_texts()[-1], "first_minute.note.sent", names="daughter")
    note = bot.line.messages_to(daughter)[-1]
    assert says(message_text(note), "first_minute.note.body", writer="son", name="resident")
    assert [a["label"] for a in postbacks_in(note)] == [
        t("alert.take_button"),
        t("alert.safe_button"),
    ]
    assert not said(bot.line.texts_to(daughter), "alert.confirmed_notice")
    assert await stage(bot, resident) is Stage.ALERTED, "a note neither takes nor closes it"
    assert not said(bot.line.texts_to(son), "checkin.help_sent")

    # Too long a note changes nothing and says so; the card's 対応します takes the alert.
    await bot.tap_action(son, "member", m=member.id)
    await bot.tap_reply_button(son, t("first_minute.note.button"))
    await bot.say(son, "あ" * 201)
    assert says(bot.line.reply_texts()[-1], "first_minute.note.too_long")
    told = len(bot.line.messages_to(daughter))
    await bot.tap_action(son, "cancel")
    await bot.tap_action(son, "member", m=member.id)
    await bot.tap_reply_button(son, t("alert.take_button"))
    assert says(bot.line.reply_texts()[-1], "alert.taken_you", name="resident")
    # The others hear who has it, with 無事を確認しました on that notice.
    taken = bot.line.messages_to(daughter)[-1]
    assert len(bot.line.messages_to(daughter)) == told + 1
    assert says(message_text(taken), "alert.taken_notice", taker="son")
    assert [a["label"] for a in postbacks_in(taken)] == [t("alert.safe_button")]
    await bot.tap(daughter, button(bot, daughter, t("alert.safe_button")))
    assert says(bot.line.reply_texts()[-1], "alert.confirmed_you", name="resident")

    # Closed: her card offers no alert buttons, and an old note button is refused.
    await bot.tap_action(son, "member", m=member.id)
    labels = [a["label"] for a in bot.last_reply_postbacks(son)]
    assert t("alert.take_button") not in labels and t("first_minute.note.button") not in labels


async def test_my_pages_card_acts_on_the_open_alert(bot: Bot) -> None:
    resident, (son, daughter) = await alerted(bot, ["son", "daughter"])
    member = await member_of(bot, resident)
    page = Page(bot, son, "son")
    status, body = await page.call("GET", f"/liff/api/cards/{member.id}")
    assert status == 200, body
    alert = body["card"]["alert"]
    assert alert["others"] == ["daughter"] and body["texts"]["alert.take_button"]
    path = f"/liff/api/cards/{member.id}/alert"
    note = {"action": "note", "round": alert["round"], "note": "鍵は隣の方が"}
    status, said_ = await page.call("POST", path, note)
    assert status == 200 and says(said_["said"], "first_minute.note.sent")
    assert says(bot.line.texts_to(daughter)[-1], "first_minute.note.body", note="鍵は隣の方が")
    status, _ = await page.call("POST", path, {"action": "note", "round": alert["round"]})
    assert status == 400
    status, said_ = await page.call("POST", path, {"action": "safe", "round": alert["round"]})
    assert status == 200 and says(said_["said"], "alert.confirmed_you", name="resident")
    status, _ = await page.call("POST", path, {"action": "take", "round": alert["round"]})
    assert status == 409, "closed"
    _, body = await page.call("GET", f"/liff/api/cards/{member.id}")
    assert body["card"]["alert"] is None
    # Someone who does not watch her cannot act on her alert.
    stranger = Page(bot, await bot.follow("stranger"), "stranger")
    status, _ = await stranger.call("POST", path, {"action": "take", "round": alert["round"]})
    assert status in (403, 404)


async def test_every_notice_that_keeps_an_alert_open_carries_its_buttons(bot: Bot) -> None:
    resident, (son, daughter) = await watched_resident(bot, "resident", ["son", "daughter"])
    await run_to(bot, tokyo(11, 24, 9))
    await bot.tap(resident, button(bot, resident, t("checkin.help_button")))
    card = bot.line.replies[-1].body["messages"][-1]
    (mistake,) = [b for b in card["contents"]["footer"]["contents"] if b.get("type") == "button"]
    assert mistake["action"]["label"] == t("checkin.mistake_button")
    assert mistake["style"] == "secondary", "the undo is no big coloured button"
    await bot.tap_reply_button(resident, t("checkin.mistake_button"))
    notice = bot.line.messages_to(son)[-1]
    assert says(message_text(notice), "alert.mistake_notice", name="resident")
    assert [a["label"] for a in postbacks_in(notice)] == [
        t("alert.take_button"),
        t("alert.safe_button"),
    ]
    # Her words during the alert reach them with the buttons too.
    await bot.say(resident, "大丈夫です、ころんだだけ")
    words = bot.line.messages_to(daughter)[-1]
    assert says(message_text(words), "words.body")
    assert t("alert.safe_button") in [a["label"] for a in postbacks_in(words)]
    # The buttons work from the notice: 無事を確認しました closes it.
    await bot.tap(son, button(bot, son, t("alert.safe_button")))
    assert await stage(bot, resident) is Stage.CONFIRMED_SAFE


# -- the chat's words, said truthfully ------------------------------------------------------


async def test_a_pause_says_who_heard_of_it(bot: Bot) -> None:
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    await bot.tap_action(resident, "pause", d=7)
    reply = bot.line.reply_texts()[-1]
    assert says(reply, "pause.saved") and says(reply, "first_minute.told.watchers", names="son")

    alone = await bot.follow("alone")
    await bot.tap_reply_button(alone, t("follow.start_button"))
    await bot.tap_action(alone, "pause", d=7)
    reply = bot.line.reply_texts()[-1]
    assert says(reply, "first_minute.told.nobody")
    assert not says(reply, "first_minute.told.watchers")


async def test_help_promises_no_call_back_and_says_who_heard(bot: Bot) -> None:
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    await run_to(bot, tokyo(11, 24, 9))
    await bot.tap(resident, button(bot, resident, t("checkin.help_button")))
    assert says(bot.line.reply_texts()[-1], "checkin.help_sent", names="son")

    alone = await bot.follow("alone")
    await bot.tap_reply_button(alone, t("follow.start_button"))
    await run_to(bot, tokyo(11, 25, 9))
    await bot.tap(alone, button(bot, alone, t("checkin.help_button")))
    assert bot.line.reply_texts()[-1] == t("checkin.help_nobody")


async def test_the_next_check_in_is_a_sentence_when_there_is_none(bot: Bot) -> None:
    resident = await bot.follow("resident")
    await bot.tap_action(resident, "ok", t=0)  # 元気です, with no check-ins at all
    reply = bot.line.reply_texts()[-1]
    assert says(reply, "checkin.menu_ok") and says(reply, "first_minute.next.stopped")
    assert t("checkins.stopped") not in reply
    await bot.tap_action(resident, "sched_set", i=1, h=9)
    await bot.tap_action(resident, "ok", t=0)
    assert says(bot.line.reply_texts()[-1], "first_minute.next.running")


async def test_the_tab_is_two_rows_of_three_large_tiles(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await start_bot(shared_account=True, menus="tab", city_menu_alias=CITY_ALIAS)
    bot.line.add_city_menu(CITY_ALIAS)
    tab = bot.line.rich_menus[(await rich_menus.install(bot.services))["tab"]]
    assert tab["size"] == {"width": 2500, "height": 1686}, "LINE's large size"
    rows = sorted({a["bounds"]["y"] for a in tab["areas"]})
    assert rows == [0, 843] and all(a["bounds"]["width"] == 833 for a in tab["areas"])
    labels = [a["action"].get("label") for a in tab["areas"]]
    assert labels[:2] == [t("richmenu.ok"), t("richmenu.pause")]
    assert bot.line.schema_errors == []


async def test_unwell_says_who_heard_it(bot: Bot) -> None:
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    await bot.tap_action(resident, "ok", t=0, v="unwell")
    assert says(bot.line.reply_texts()[-1], "checkin.unwell_thanks")
    assert said(bot.line.texts_to(son), "unwell.body", name="resident")

    alone = await bot.follow("alone")
    await bot.tap_reply_button(alone, t("follow.start_button"))
    await bot.tap_action(alone, "ok", t=0, v="unwell")
    reply = bot.line.reply_texts()[-1]
    assert says(reply, "first_minute.unwell.nobody") and says(reply, "first_minute.next.running")
    assert not says(reply, "checkin.unwell_thanks")


async def test_on_its_own_account_a_relative_who_added_it_first_is_told_the_start_is_not_hers(
    bot: Bot,
) -> None:
    """LINE delivers the follow before the code the invite link filled in is sent: she has
    seen the greeting's start. The join card says that button is the watched person's."""
    resident = await bot.follow("resident")
    codes = await create_team(bot, resident, "母の見守り", as_user=True)
    son = await bot.follow("son")
    await bot.say(son, t("invite.prefill", code=codes["manager"]))
    (card,) = bot.reply_to(son).body["messages"]  # type: ignore[union-attr]
    assert t("invite.confirm_title") in message_text(card)
    assert says(message_text(card), "first_minute.not_your_start")
    await bot.tap_reply_button(son, t("invite.accept"))
    assert says(bot.line.reply_texts()[-1], "invite.joined.manager")
    # Someone invited to be watched is asked to start nothing else: no such word for her.
    neighbour = await bot.follow("neighbour")
    await bot.say(neighbour, t("invite.prefill", code=codes["user"]))
    (card,) = bot.reply_to(neighbour).body["messages"]  # type: ignore[union-attr]
    assert not says(message_text(card), "first_minute.not_your_start")
