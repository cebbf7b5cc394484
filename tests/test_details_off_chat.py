"""Her details out of the chat by default (issue 38): the guideline on local governments' use of
LINE keeps residents' personal data in the city's own database, not on LINE.

With MIMAMORI_DETAILS_IN_CHAT off (the default) no alert, re-alert, reminder, reply, visit
request or notice carries her 緊急時メモ, phone number or address, in its text or its actions
(no tel: link either): every message the fake LINE accepted is read. They carry a button to her
card on My page instead, which shows them after LINE's ID-token check to a manager she shows
them to (audited), tells a manager she does not show them to that she chose not to, and answers
anyone else exactly as it answers for nobody. With the setting on, today's messages stay.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest

from ground.settings import Settings, SettingsError
from server.readiness import check_my_page
from storage.models import CARD_FIELDS, PERSONAL_ITEMS, SENSITIVE_FIELDS
from tests.conftest import LOGIN_CHANNEL, Bot
from tests.drivers import (
    ALERT,
    SHOTS,
    Page,
    answer_button,
    axe_findings,
    button,
    csrf,
    member_of,
    ok_data,
    run_to,
    staff_signed_in,
    team_of,
    tokyo,
    watched_resident,
)
from tests.fake_line import postbacks_in
from tests.wording import JA, said, says, t

HOUR = timedelta(hours=1)
MEMO = "合鍵は隣の家\nかかりつけ医 みどり内科、お薬 降圧剤"
PHONE = "090-1234-5678"
ADDRESS = "みどり町1-2-3"
FULL_NAME = "本人の氏名"
# Whatever of her a message must not carry: the memo's lines, the number as written and as a
# tel: link dials it, the address and the name on her papers.
HERS = ("合鍵", "みどり内科", "降圧剤", PHONE, "09012345678", ADDRESS, FULL_NAME, "tel:")
MESSAGES = (
    "/v2/bot/message/push",
    "/v2/bot/message/multicast",
    "/v2/bot/message/reply",
    "/v2/bot/message/broadcast",
    "/v2/bot/message/narrowcast",
)


def everything_sent(bot: Bot) -> list[dict[str, Any]]:
    """Every message LINE accepted, to anyone, by any route."""
    return [
        message
        for call in bot.line.calls
        if call.path in MESSAGES and call.status == 200
        for message in call.body["messages"]
    ]


def carrying_hers(bot: Bot) -> list[str]:
    """The messages that carry anything of her details, in text, alt text or actions."""
    found = []
    for message in everything_sent(bot):
        written = json.dumps(message, ensure_ascii=False)
        if any(value in written or json.dumps(value)[1:-1] in written for value in HERS):
            found.append(written)
    return found


def uri_actions(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [action for action in postbacks_in(message) if action["type"] == "uri"]


def card_uri(bot: Bot, member_id: int) -> str:
    return f"{bot.services.my_page_url}/card/{member_id}"


def opened(uri: str) -> str:
    """The page LINE opens for a LIFF URL (the endpoint is /liff/): https://liff.line.me/ID/x
    -> /liff/x."""
    found = re.match(r"^https://liff\.line\.me/[^/]+(/.*)$", uri)
    assert found, uri
    return "/liff" + found.group(1)


async def resident_with_details(bot: Bot, managers: list[str]) -> tuple[str, list[str], int]:
    """A resident who wrote her name, phone, address and 緊急時メモ on My page and shows them to
    her first manager only. -> her LINE id, her managers', her 会員ID."""
    resident, ids = await watched_resident(bot, "resident", managers)
    mine = Page(bot, resident, "resident")
    await mine.accept_terms()
    fields = {"full_name": FULL_NAME, "phone": PHONE, "address": ADDRESS}
    assert (await mine.call("PUT", "/liff/api/me/personal", fields))[0] == 200
    assert (await mine.call("PUT", "/liff/api/me/memo", {"memo": MEMO}))[0] == 200
    member = await member_of(bot, resident)
    first = await member_of(bot, ids[0])
    await bot.tap_action(resident, "share_personal", m=first.id)
    return resident, ids, member.id


async def partner_on_line(bot: Bot, uid: str, name: str, **form: str | list[str]) -> int:
    """A partner the signed-in staff added, who sent the console's one-time code from `uid`'s
    LINE. -> their id."""
    token = await csrf(bot.client, "/admin/partners")
    data = [("csrf_token", token), ("action", "add"), ("name", name), ("kind", "minsei")]
    data += [("line", "on")] + [
        (key, v)
        for key, value in form.items()
        for v in ([value] if isinstance(value, str) else value)
    ]
    page = await (await bot.client.post("/admin/partners", data=data)).text()
    found = re.search(r'id="partner-code">([0-9A-Z-]+)<', page)
    assert found, page
    await bot.say(uid, found.group(1))
    assert says(bot.line.reply_texts()[-1], "visit.linked", name=name)
    async with bot.repos() as repos:
        (partner_id,) = await repos.conn.fetch_one("SELECT MAX(id) FROM partners", ())
    return int(partner_id)


async def ask(bot: Bot, case_id: int, partner_id: int) -> None:
    """The desk asks the partner to go to her door, from the case."""
    token = await csrf(bot.client, "/admin/partners")
    form = {"csrf_token": token, "partner_id": str(partner_id)}
    response = await bot.client.post(
        f"/admin/desk/{case_id}/visits", data=form, allow_redirects=False
    )
    await bot.settle()
    assert response.status == 303


async def card_of(bot: Bot, uid: str, member_id: int | str) -> tuple[int, Any]:
    return await Page(bot, uid).call("GET", f"/liff/api/cards/{member_id}")


async def audit_rows(bot: Bot, action: str) -> list[dict[str, Any]]:
    async with bot.repos() as repos:
        return [row for row in await repos.admin.audit_log() if row["action"] == action]


async def test_with_the_setting_off_no_message_carries_her_memo_phone_or_address(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await start_bot(desk_after=HOUR)
    assert bot.settings.details_in_chat is False, "off by default"
    resident, (son, daughter), her_id = await resident_with_details(bot, ["son", "daughter"])
    # No answer: the alert (12:00), sent again (13:00), the desk's case (14:00) and what the
    # managers hear of it.
    for moment in (tokyo(11, 24, 9), tokyo(11, 25, 9), tokyo(11, 25, 12), tokyo(11, 25, 13)):
        await run_to(bot, moment)
    await run_to(bot, tokyo(11, 25, 14, 1))
    for manager in (son, daughter):
        alerts = [
            m for m in bot.line.messages_to(manager) if ALERT in json.dumps(m, ensure_ascii=False)
        ]
        assert len(alerts) == 2, "the alert and its re-send"
        for alert in alerts:
            # Named as she chose to be, with one button to her card: nothing else of her.
            assert [a["uri"] for a in uri_actions(alert)] == [card_uri(bot, her_id)]
    # The desk asks a partner on LINE to go to her door.
    minsei = await bot.follow("minsei")
    await staff_signed_in(bot)
    partner_id = await partner_on_line(
        bot, minsei, "みどり町 民生委員", team_id=[str(await team_of(bot, resident))]
    )
    async with bot.repos() as repos:
        (case,) = await repos.desk.queue()
    await ask(bot, case["id"], partner_id)
    request = bot.line.messages_to(minsei)[-1]
    assert says(bot.line.texts_to(minsei)[-1], "card.visit_where")
    assert [a["uri"] for a in uri_actions(request)] == [card_uri(bot, her_id)]
    # Her son takes it: the reply's button is her card, not a tel: link; two hours on he is
    # asked whether he found her, with the same button.
    await bot.tap(son, button(bot, son, t("alert.take_button")))
    assert [a["uri"] for a in bot.last_reply_postbacks(son) if a["type"] == "uri"] == [
        card_uri(bot, her_id)
    ]
    await run_to(bot, tokyo(11, 25, 16, 2))
    (asked,) = [m for m in bot.line.messages_to(son) if t("alert.found_her_title") in str(m)]
    assert [a["uri"] for a in uri_actions(asked)] == [card_uri(bot, her_id)]
    # He did not say: at 17:00 it is everyone's again (sent again); a day on, still open, the
    # reminder carries her card too.
    await run_to(bot, tokyo(11, 25, 17, 5))
    await run_to(bot, tokyo(11, 26, 17, 10))
    (reminder,) = [
        m for m in bot.line.messages_to(daughter) if t("card.still_open_title") in str(m)
    ]
    assert says(json.dumps(reminder, ensure_ascii=False), "alert.still_open", name="resident")
    assert [a["uri"] for a in uri_actions(reminder)] == [card_uri(bot, her_id)]
    # A roll-call: her 「助けが必要です」 reaches her managers at once, without her number.
    await bot.tap_action(son, "rc_start", t=1)
    await bot.tap(resident, answer_button(bot, resident, "help"))
    (notice,) = said(bot.line.texts_to(son), "card.rollcall_help", name="resident")
    # Then she asks for help herself: the urgent alert, to everyone at once.
    await bot.tap(resident, button(bot, resident, t("checkin.help_button")))

    assert carrying_hers(bot) == []
    # Her details are in the city's database, on her card: the son she shows them to reads
    # them there, with the call button; the partner the desk sent, while the visit is open.
    _, his = await card_of(bot, son, her_id)
    assert {d["field"]: d["value"] for d in his["card"]["details"]} == {
        "full_name": FULL_NAME,
        "phone": PHONE,
        "address": ADDRESS,
        "emergency_memo": MEMO,
    }
    assert his["card"]["tel"] == "tel:09012345678"
    _, theirs = await card_of(bot, minsei, her_id)
    assert theirs["card"]["relation"] == "partner" and theirs["card"]["tel"] == "tel:09012345678"


async def test_the_button_opens_her_card_which_shows_her_details_to_those_she_chose(
    bot: Bot,
) -> None:
    resident, (son, daughter), her_id = await resident_with_details(bot, ["son", "daughter"])
    stranger = await bot.follow("stranger")
    for moment in (tokyo(11, 24, 9), tokyo(11, 25, 9), tokyo(11, 25, 12)):
        await run_to(bot, moment)
    (uri,) = [a["uri"] for a in uri_actions(bot.line.messages_to(son)[-1])]
    # The button opens My page's card page for her (LINE's ID token is checked by its API).
    page = await bot.client.get(opened(uri))
    assert page.status == 200 and 'data-page="card"' in await page.text()
    assert page.headers["Cache-Control"] == "no-store"
    assert (await bot.client.get(f"/liff/api/cards/{her_id}")).status == 401, "no token"

    # Her son, whom she shows them to: every detail, the memo marked 要配慮, one tap to call.
    status, his = await card_of(bot, son, her_id)
    assert status == 200
    card = his["card"]
    assert (card["relation"], card["shown"], card["alert_open"]) == ("manager", True, True)
    assert card["name"] == "resident" and card["tel"] == "tel:09012345678"
    assert [d["field"] for d in card["details"]] == list(CARD_FIELDS)
    assert [d["field"] for d in card["details"] if d["sensitive"]] == ["emergency_memo"]
    assert his["texts"]["card.sensitive"] == t("card.sensitive")
    # Audited: who read whose card and what, 要配慮 named; read again within the hour, one row.
    await card_of(bot, son, her_id)
    (row,) = await audit_rows(bot, "card_viewed")
    son_id = (await member_of(bot, son)).id
    assert row["admin_name"] == f"会員ID {son_id}"
    assert (
        row["detail"].startswith(f"会員ID {her_id}: ")
        and "要配慮: emergency_memo" in row["detail"]
    )

    # Her daughter, whom she does not show them to: that she chose not to, and nothing of them.
    status, hers = await card_of(bot, daughter, her_id)
    assert status == 200
    assert (hers["card"]["shown"], hers["card"]["details"], hers["card"]["tel"]) == (
        False,
        [],
        None,
    )
    written = json.dumps(hers, ensure_ascii=False)
    assert not any(value in written for value in (PHONE, ADDRESS, FULL_NAME, "合鍵"))
    assert says(hers["texts"]["card.not_shown"], "card.not_shown")
    assert len(await audit_rows(bot, "card_viewed")) == 1, "nothing shown, nothing to audit"

    # A stranger: what a card that does not exist gets, word for word; nothing of her.
    status, refused = await card_of(bot, stranger, her_id)
    assert status == 404 and "card" not in refused
    assert (status, refused) == await card_of(bot, stranger, 9999)
    for wrong in ("0", "abc", "-1"):
        assert (await card_of(bot, stranger, wrong))[0] == 404
    assert [row["admin_name"] for row in await audit_rows(bot, "card_refused")] == [
        f"会員ID {(await member_of(bot, stranger)).id}"
    ], "one row a while for someone trying cards"

    # Herself: her own card, as the others see it.
    status, own = await card_of(bot, resident, her_id)
    assert status == 200 and own["card"]["relation"] == "own" and len(own["card"]["details"]) == 4
    # Her son's view of her team page shows her details too: audited as the card is (the same
    # reader, person and details within the hour are one row).
    bot.clock.advance(timedelta(minutes=61))
    await Page(bot, son).accept_terms()
    assert (await Page(bot, son).call("GET", f"/liff/api/members/{her_id}"))[0] == 200
    assert len(await audit_rows(bot, "card_viewed")) == 2


async def test_the_memo_waits_for_an_alert_and_a_manager_who_stops_watching_reads_nothing(
    bot: Bot,
) -> None:
    resident, (son,), her_id = await resident_with_details(bot, ["son"])
    _, his = await card_of(bot, son, her_id)
    # No alert open: her phone and address, and word that the memo comes with an alert.
    assert [d["field"] for d in his["card"]["details"]] == ["full_name", "phone", "address"]
    assert his["card"]["memo_later"] is True
    await bot.tap_action(resident, "team_members", t=1)
    await bot.tap_reply_button(resident, t("unwatch.button", name="son"))
    await bot.tap_reply_button(resident, t("unwatch.yes"))
    status, _ = await card_of(bot, son, her_id)
    assert status == 404


async def test_with_the_setting_on_the_messages_carry_them_as_before(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await start_bot(details_in_chat=True)
    resident, (son, daughter), her_id = await resident_with_details(bot, ["son", "daughter"])
    for moment in (tokyo(11, 24, 9), tokyo(11, 25, 9), tokyo(11, 25, 12)):
        await run_to(bot, moment)
    son_alert, daughter_alert = bot.line.texts_to(son)[-1], bot.line.texts_to(daughter)[-1]
    assert t("alert.memo", memo=MEMO) in son_alert
    assert t("alert.phone", phone=PHONE) in son_alert
    assert "合鍵" not in daughter_alert and PHONE not in daughter_alert, "no consent"
    son_links = uri_actions(bot.line.messages_to(son)[-1])
    assert son_links[0] == {
        "type": "uri",
        "label": t("alert.call_button"),
        "uri": "tel:09012345678",
    }
    assert son_links[-1]["uri"] == f"{bot.services.my_page_url}/teams#member-{her_id}"
    assert not any(
        a["uri"].startswith("tel:") for a in uri_actions(bot.line.messages_to(daughter)[-1])
    )
    await bot.tap(son, button(bot, son, t("alert.take_button")))
    assert [a["uri"] for a in bot.last_reply_postbacks(son) if a["type"] == "uri"] == [
        "tel:09012345678"
    ]
    await bot.tap_action(son, "rc_start", t=1)
    await bot.tap(resident, answer_button(bot, resident, "help"))
    (notice,) = said(bot.line.texts_to(son), "rollcall.help_notice", name="resident")
    assert PHONE in notice
    assert carrying_hers(bot), "what the test of the setting off looks for, found"


async def test_a_partner_on_line_with_the_setting_on_gets_the_request_as_before(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await start_bot(desk_after=HOUR, details_in_chat=True)
    resident, _, _ = await resident_with_details(bot, ["son"])
    for moment in (tokyo(11, 24, 9), tokyo(11, 25, 9), tokyo(11, 25, 12), tokyo(11, 25, 13)):
        await run_to(bot, moment)
    await run_to(bot, tokyo(11, 25, 14, 1))
    minsei = await bot.follow("minsei")
    await staff_signed_in(bot)
    partner_id = await partner_on_line(bot, minsei, "民生委員")
    async with bot.repos() as repos:
        (case,) = await repos.desk.queue()
    await ask(bot, case["id"], partner_id)
    request = bot.line.texts_to(minsei)[-1]
    for key, value in (("visit.address", ADDRESS), ("visit.phone", PHONE), ("visit.memo", MEMO)):
        assert t(key, value=value) in request
    assert uri_actions(bot.line.messages_to(minsei)[-1])[0]["uri"] == "tel:09012345678"


def test_the_setting_is_off_unless_said_and_my_page_is_then_needed() -> None:
    required = {"LINE_CHANNEL_SECRET": "s", "LINE_CHANNEL_ACCESS_TOKEN": "t"}
    assert Settings.from_env(required).details_in_chat is False
    on = Settings.from_env({**required, "MIMAMORI_DETAILS_IN_CHAT": "on"})
    assert on.details_in_chat is True
    with pytest.raises(SettingsError, match="MIMAMORI_DETAILS_IN_CHAT"):
        Settings.from_env({**required, "MIMAMORI_DETAILS_IN_CHAT": "sometimes"})
    # Without My page her details would be nowhere a manager can read them: `mimamori check`
    # says so, unless the deployment keeps them in the chat.
    assert check_my_page(Settings.from_env(required)).ok is False
    assert check_my_page(on).ok is True


async def test_sensitive_items_are_marked_once_and_name_real_columns(bot: Bot) -> None:
    assert {"emergency_memo"} == SENSITIVE_FIELDS
    assert {item.column for item in PERSONAL_ITEMS if item.table == "members"} >= set(CARD_FIELDS)
    async with bot.repos() as repos:
        for item in PERSONAL_ITEMS:
            # Each item the register lists is a column the schema has.
            await repos.conn.fetch_one(f"SELECT {item.column} FROM {item.table} LIMIT 1", ())


async def test_the_console_marks_the_memo_and_the_printed_request_says_how_to_keep_it(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await start_bot(desk_after=HOUR)
    await resident_with_details(bot, ["son"])
    for moment in (tokyo(11, 24, 9), tokyo(11, 25, 9), tokyo(11, 25, 12), tokyo(11, 25, 13)):
        await run_to(bot, moment)
    await run_to(bot, tokyo(11, 25, 14, 1))
    await staff_signed_in(bot)
    async with bot.repos() as repos:
        (case,) = await repos.desk.queue()
    page = await (await bot.client.get(f"/admin/desk/{case['id']}")).text()
    assert JA.t("admin.card.sensitive") in page and "合鍵" in page


async def test_her_card_in_a_browser_calls_her_and_passes_axe(browser: Any, bot: Bot) -> None:
    from playwright.async_api import expect

    async def open_as(uid: str, name: str, path: str) -> Any:
        """A phone-sized page, signed in through the LIFF stand-in as `uid`."""
        token = bot.line.issue_id_token(uid, name, LOGIN_CHANNEL)
        context = await browser.new_context(
            viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True, locale="ja-JP"
        )
        page = await context.new_page()
        await page.add_init_script(f"window.__TEST_ID_TOKEN = {token!r};")
        await page.goto(str(bot.client.make_url(path)))
        return page

    resident, (son, daughter), her_id = await resident_with_details(bot, ["son", "daughter"])
    stranger = await bot.follow("stranger")
    for moment in (tokyo(11, 24, 9), tokyo(11, 25, 9), tokyo(11, 25, 12)):
        await run_to(bot, moment)
    (uri,) = [a["uri"] for a in uri_actions(bot.line.messages_to(son)[-1])]
    findings = []
    # Her son, from the alert's button (before any terms: nobody at her door waits for them).
    page = await open_as(son, "son", opened(uri))
    await expect(page.locator("#card-call")).to_have_attribute("href", "tel:09012345678")
    assert await page.inner_text("[data-field=phone]") == PHONE
    assert await page.inner_text("[data-field=address]") == ADDRESS
    assert "みどり内科" in await page.inner_text("[data-field=emergency_memo]")
    assert t("card.sensitive") in await page.inner_text("#card-details")
    await expect(page.locator("#card-alert")).to_be_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "card-manager.png"), full_page=True)
    findings += await axe_findings(page)
    # Her daughter: that she chose not to, and nothing of them.
    page = await open_as(daughter, "daughter", opened(uri))
    await expect(page.locator("#card-not-shown")).to_be_visible()
    assert await page.locator("#card-details").count() == 0
    assert PHONE not in await page.inner_text("body")
    findings += await axe_findings(page)
    # A stranger with the link: the page cannot be shown, and says nothing of her.
    page = await open_as(stranger, "stranger", opened(uri))
    await expect(page.locator("#status")).to_have_text(t("card.not_found"))
    assert "resident" not in await page.inner_text("body")
    findings += await axe_findings(page)
    assert findings == [], "\n".join(findings)


async def test_leaving_empties_the_partners_request_and_the_daily_notes_that_named_her(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    """A visit request was pushed to the partner with no word of whom it was about, and a
    manager's daily note names everyone he watches: 退会 left her details in both rows (with
    the details in the chat, her address and memo) for as long as message bodies are kept."""
    bot = await start_bot(desk_after=HOUR, details_in_chat=True)
    resident, (son,), _ = await resident_with_details(bot, ["son"])
    for moment in (tokyo(11, 24, 9), tokyo(11, 25, 9), tokyo(11, 25, 12), tokyo(11, 25, 13)):
        await run_to(bot, moment)
    await run_to(bot, tokyo(11, 25, 14, 1))
    minsei = await bot.follow("minsei")
    await staff_signed_in(bot)
    team = str(await team_of(bot, resident))
    partner_id = await partner_on_line(bot, minsei, "みどり町 民生委員", team_id=[team])
    async with bot.repos() as repos:
        (case,) = await repos.desk.queue()
        son_id = (await repos.members.by_line_id(son)).id  # type: ignore[union-attr]
        await repos.members.set_daily_note(son_id, True)
    await ask(bot, case["id"], partner_id)
    await bot.tap(resident, ok_data(bot, resident))  # she answers: the alert closes
    await run_to(bot, tokyo(11, 26, 20))  # the daily note, at its hour
    page = Page(bot, resident, "resident")
    assert (await page.call("POST", "/liff/api/me/withdraw", {"confirm": True}))[0] == 200
    async with bot.repos() as repos:
        rows = await repos.conn.fetch_all(
            "SELECT purpose, tellings FROM outbox WHERE purpose IN ('visit', 'daily_note')", ()
        )
    assert {row["purpose"] for row in rows} == {"visit", "daily_note"}
    for row in rows:
        assert ADDRESS not in row["tellings"] and "resident" not in row["tellings"], row["purpose"]
