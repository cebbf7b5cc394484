"""Her card on My page while an alert is open, in Debian's Chromium at phone size: a manager
takes the alert, writes the others a note and confirms her safe from the card; axe finds
nothing critical or serious on it."""

from __future__ import annotations

import asyncio

from playwright.async_api import Browser, expect

from care.rounds.protocol import Stage
from tests.conftest import LOGIN_CHANNEL, Bot
from tests.drivers import SHOTS, alerted, axe_findings, member_of, stage
from tests.wording import pattern, says, t

PHONE = {"width": 375, "height": 740}


async def test_a_manager_acts_on_the_alert_from_her_card(browser: Browser, bot: Bot) -> None:
    resident, (son, daughter) = await alerted(bot, ["son", "daughter"])
    member = await member_of(bot, resident)
    token = bot.line.issue_id_token(son, "son", LOGIN_CHANNEL)
    context = await browser.new_context(viewport=PHONE, is_mobile=True, locale="ja-JP")
    page = await context.new_page()
    await page.add_init_script(f"window.__TEST_ID_TOKEN = {token!r};")
    page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await page.goto(str(bot.client.make_url(f"/liff/card/{member.id}")))

    said = page.locator("#card-alert-said")
    await page.locator("#card-take").click()
    await expect(said).to_have_text(pattern("alert.taken_you", name="resident"))
    await page.locator("#card-note").fill("鍵は隣の方が持っています")
    await page.locator("#card-note-form button").click()
    await expect(said).to_have_text(pattern("first_minute.note.sent", names="daughter"))
    await bot.settle()
    assert says(bot.line.texts_to(daughter)[-1], "first_minute.note.body", writer="son")
    assert await stage(bot, resident) is Stage.TAKEN, "a note neither takes nor closes it"
    assert await axe_findings(page) == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "card-alert-actions.png"), full_page=True)

    await page.locator("#card-safe").click()
    await expect(said).to_have_text(pattern("alert.confirmed_you", name="resident"))
    assert await stage(bot, resident) is Stage.CONFIRMED_SAFE
    assert t("alert.safe_button") in (await page.locator("#card-safe").inner_text())
    await context.close()
