"""My page in a real browser: Debian's Chromium, driven by Playwright, at phone size.

The LIFF SDK is replaced by a stand-in (served by the fake LINE) that returns a test ID token;
the server verifies that token with the fake LINE exactly as it would with LINE. Screenshots of
each page go to `test-output/screenshots/`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import unquote

from playwright.async_api import Browser, Page, expect

from simulator.qr import read_qr
from tests.conftest import LOGIN_CHANNEL, Bot
from tests.drivers import CODE, SHOTS, code_read_in, join, member_of, until, watched_resident
from tests.fake_twilio import FakeTwilio, calling_through
from tests.wording import JA, t

PHONE = {"width": 375, "height": 740}


async def open_as(browser: Browser, bot: Bot, uid: str, name: str, path: str) -> Page:
    """A phone-sized page, logged in through the LIFF stand-in as `uid`."""
    token = bot.line.issue_id_token(uid, name, LOGIN_CHANNEL)
    context = await browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="ja-JP"
    )
    page = await context.new_page()
    await page.add_init_script(f"window.__TEST_ID_TOKEN = {token!r};")
    page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await page.goto(str(bot.client.make_url(path)))
    return page


async def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


async def no_sideways_scroll(page: Page) -> None:
    await page.set_viewport_size({"width": 320, "height": 640})
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 320, f"{page.url} scrolls sideways at 320 px ({width} px wide)"
    await page.set_viewport_size(PHONE)


async def test_resident_and_relative_use_my_page(browser: Browser, bot: Bot) -> None:
    resident = await bot.follow("resident")
    page = await open_as(browser, bot, resident, "resident", "/liff/")

    accept = page.get_by_role("button", name=t("liff.terms_accept"))
    await accept.wait_for()
    assert "みまもり 利用規約" in await page.inner_text("#terms")
    await shot(page, "01-terms")
    await accept.click()
    card = page.locator("#member-card")
    await card.wait_for()
    assert await page.locator("[data-field=member_id]").inner_text() == "1"
    assert t("liff.no_checkins") in await page.inner_text("#watchers")
    await no_sideways_scroll(page)
    await shot(page, "02-mypage")

    # Fill and save the card.
    await page.fill("#field-full_name", "山田 花子")
    await page.fill("#field-furigana", "やまだ はなこ")
    await page.select_option("#field-gender", "female")
    await page.fill("#field-birth_date", "1948-04-01")
    await page.fill("#field-phone", "090-1234-5678")
    await page.get_by_role("button", name=t("liff.save"), exact=True).click()
    await expect(page.locator("#status")).to_contain_text(t("liff.saved"))
    assert (await member_of(bot, resident)).personal.full_name == "山田 花子"
    await page.fill("#field-phone", "電話なし")
    await page.get_by_role("button", name=t("liff.save"), exact=True).click()
    await page.locator("#error-phone").wait_for(state="visible")
    assert (await member_of(bot, resident)).personal.phone == "090-1234-5678"

    # The 緊急時メモ for whoever goes to look.
    await page.fill("#field-memo", "合鍵は隣の家に預けています")
    await page.get_by_role("button", name=t("liff.memo_save")).click()
    await expect(page.locator("#status")).to_contain_text(t("liff.saved"))

    # Change the schedule.
    await page.select_option("#field-interval", "3")
    await page.select_option("#field-hour", "11")
    await page.get_by_role("button", name=t("liff.schedule_save")).click()
    await expect(page.locator("[data-field=schedule]")).to_have_text(JA.schedule(3, 11))
    await shot(page, "03-mypage-filled")

    # Create a team and read its manager QR code back, as a relative's phone would.
    await page.goto(str(bot.client.make_url("/liff/teams")))
    await page.fill("#field-team_name", "わが家")
    await page.select_option("#field-role_choice", "user")
    await page.get_by_role("button", name=t("liff.create_button")).click()
    qr = page.locator("img.qr[data-role=manager]")
    await qr.wait_for()
    for image in await page.locator("img").all():
        await expect(image).to_have_js_property("complete", True)
        assert await image.evaluate("image => image.naturalWidth") > 0
    await no_sideways_scroll(page)
    await shot(page, "04-teams")
    source = await qr.get_attribute("src")
    assert source is not None
    image = await bot.client.get(source)
    link = read_qr(await image.read())
    assert link.startswith("https://line.me/R/oaMessage/%40mimamori-test/?")
    prefilled = unquote(link.split("?", 1)[1])
    code = CODE.search(prefilled).group()  # type: ignore[union-attr]
    assert prefilled == t("invite.prefill", code=code)
    text = await page.locator("textarea[data-role=manager]").input_value()
    assert code in text

    # The relative joins with the code from the QR, in the chat.
    son = await bot.follow("son")
    await join(bot, son, code)
    await page.reload()
    await page.locator("li[data-member='2']").wait_for()
    assert "son" in await page.inner_text(".team")

    # The relative sees the resident's status and opens their page, read only.
    relative = await open_as(browser, bot, son, "son", "/liff/teams")
    await relative.get_by_role("button", name=t("liff.terms_accept")).click()
    await relative.get_by_role("button", name=t("liff.view_page")).wait_for()
    last_ok = f"{t('liff.last_ok')}: {t('time.never')}"
    assert last_ok in await relative.inner_text("li[data-member='1']")
    await shot(relative, "05-teams-manager")
    await relative.get_by_role("button", name=t("liff.view_page")).click()
    await relative.locator("#member-card").wait_for()
    # Her details wait for her one tap in the chat: 見守り with consent.
    assert t("liff.personal_not_shared") in await relative.inner_text("#member-card")
    await bot.tap_action(resident, "share_personal", m=2)
    await relative.reload()
    await relative.get_by_role("button", name=t("liff.view_page")).click()
    await relative.locator("#member-card").wait_for()
    assert await relative.locator("[data-field=phone]").inner_text() == "090-1234-5678"
    assert t("liff.read_only") in await relative.inner_text("#content")
    assert await relative.locator("#personal-form").count() == 0
    assert await relative.locator("#memo-view").count() == 0, "no alert: the memo stays hidden"
    await shot(relative, "06-resident-read-only")

    # Back on the resident's My page, the relative is now who gets alerted.
    await page.goto(str(bot.client.make_url("/liff/")))
    await page.locator("#watchers li").wait_for()
    assert await page.inner_text("#watchers li .name") == "son"


async def test_a_page_that_cannot_load_the_liff_sdk_says_so(
    browser: Browser, start_bot: Callable[..., Awaitable[Bot]], tmp_path: Path
) -> None:
    bot = await start_bot()
    broken = await start_bot(liff_sdk_url=f"{bot.line.url}/no-such-sdk.js")
    resident = await broken.follow("resident")
    page = await open_as(browser, broken, resident, "resident", "/liff/")
    status = page.locator("#status")
    await expect(status).to_have_class("notice error")
    assert t("liff.sdk_failed") in await status.inner_text()
    await shot(page, "07-sdk-failed")


async def test_terms_page_and_english(browser: Browser, bot: Bot) -> None:
    visitor = await bot.follow("visitor", language="en")
    page = await open_as(browser, bot, visitor, "visitor", "/liff/terms")
    await page.get_by_role("button", name="Agree and start").click()
    await expect(page.locator("#status")).to_contain_text("agreed")
    assert await page.inner_text("nav") == "My page\nTeams\nTerms"
    await no_sideways_scroll(page)
    await shot(page, "08-terms-en")


async def test_the_history_chart_reads_without_colour(browser: Browser, bot: Bot) -> None:
    from tests.drivers import history_of_a_week

    resident, _ = await history_of_a_week(bot)
    page = await open_as(browser, bot, resident, "resident", "/liff/")
    await page.get_by_role("button", name=t("liff.terms_accept")).click()
    chart = page.locator("svg.history-chart")
    await chart.wait_for()
    days = chart.locator("g.history-day")
    assert await days.count() == 4
    none = chart.locator("g.history-day[data-answer=none]")
    assert await none.locator("text.history-mark").text_content() == "×", "a mark, not a colour"
    assert t("liff.answer_none") in (await none.locator("title").text_content() or "")
    unwell = chart.locator("g.history-day[data-answer=unwell]")
    assert await unwell.locator("text.history-mark").text_content() == "△"
    # A date axis under the bars, and the same days as a list a screen reader reads.
    first_day = await chart.locator("text.history-date").first.text_content()
    assert first_day and first_day in (await page.locator("#history-days").text_content() or "")
    assert await page.locator("#history-days li").count() == 4
    await no_sideways_scroll(page)
    await page.locator("#history").screenshot(path=str(SHOTS / "06-history.png"))


async def test_her_number_is_verified_on_my_page_by_the_code_a_call_reads(
    browser: Browser, start_bot: Callable[..., Awaitable[Bot]], twilio: FakeTwilio
) -> None:
    bot = await start_bot(**calling_through(twilio, call_budget=30))
    resident, _ = await watched_resident(bot, "resident", ["son"])
    page = await open_as(browser, bot, resident, "resident", "/liff/")
    await page.get_by_role("button", name=t("liff.terms_accept")).click()
    # Few take a call first: it is folded at the end of her page.
    await page.locator("#calls-fold summary").click()
    await page.locator("#calls-form").wait_for()
    assert await page.locator("#calls-unwatched").count() == 0, "her son watches her"

    # A number abroad is refused with a clear answer, and nothing is saved.
    await page.fill("#field-call_number", "+44 20 7123 4567")
    await page.locator("#calls-form button[type=submit]").click()
    await expect(page.locator("#status")).to_have_text(t("calls.verify.error_number_abroad"))
    assert twilio.calls == [] and await page.locator("#call-verified").count() == 0

    # Her own mobile: saving it rings it with a code.
    await page.fill("#field-call_number", "090-1234-5678")
    await page.check("#field-call_before_alert")
    await page.locator("#calls-form button[type=submit]").click()
    await expect(page.locator("#status")).to_have_text(t("calls.verify.calling"))
    await expect(page.locator("#call-verified")).to_have_text(t("calls.verify.not_verified"))
    await until(lambda: len(twilio.calls) == 1)
    code = code_read_in(twilio.calls[0].spoken())
    await shot(page, "09-number-code")

    wrong = "0000" if code != "0000" else "1111"
    await page.fill("#field-call_code", wrong)
    await page.get_by_role("button", name=t("calls.verify.code_button")).click()
    await expect(page.locator("#status")).to_have_text(t("calls.verify.wrong_code", left=2))
    await page.fill("#field-call_code", code)
    await page.get_by_role("button", name=t("calls.verify.code_button")).click()
    await expect(page.locator("#status")).to_have_text(t("calls.verify.done"))
    await expect(page.locator("#call-verified")).to_have_text(t("calls.verify.verified"))
    assert await page.locator("#field-call_code").count() == 0
    await no_sideways_scroll(page)
    await shot(page, "10-number-verified")
    assert (await member_of(bot, resident)).call_verified_by == "call"


async def test_my_page_says_no_call_goes_to_someone_nobody_watches(
    browser: Browser, start_bot: Callable[..., Awaitable[Bot]], twilio: FakeTwilio
) -> None:
    bot = await start_bot(**calling_through(twilio, call_budget=30))
    stranger = await bot.follow("stranger")
    page = await open_as(browser, bot, stranger, "stranger", "/liff/")
    await page.get_by_role("button", name=t("liff.terms_accept")).click()
    await page.locator("#calls-fold summary").click()
    notice = page.locator("#calls-unwatched")
    await expect(notice).to_have_text(t("calls.verify.nobody_watches"))
    await page.fill("#field-call_number", "090-1234-5678")
    await page.locator("#calls-form button[type=submit]").click()
    await expect(page.locator("#call-verified")).to_have_text(t("calls.verify.not_verified"))
    assert await page.locator("#call-again").count() == 0
    assert twilio.calls == []
