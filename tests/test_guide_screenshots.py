"""The pages the Japanese guide (docs/ja/guide.md) shows, visited in Debian's Chromium as a
city's staff and a resident meet them: the console's sign-in, its dashboard, the open alerts,
the desk's case, a team's invites and flyer, the accounts, a notice, a roll-call, and My page.

With MIMAMORI_SCREENSHOTS=1 each page is saved as docs/ja/images/<name>.png, so the guide's
pictures are taken again from the pages as they are (docs/README.md names the command); without
it, the test only checks that each page renders what the guide says is on it."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from playwright.async_api import Browser, Page, expect

from tests.conftest import LOGIN_CHANNEL, Bot
from tests.drivers import (
    PASSWORD,
    add_admin,
    answer_button,
    run_to,
    tokyo,
    totp_code,
    watched_resident,
)
from tests.wording import t

IMAGES = Path(__file__).resolve().parents[1] / "docs" / "ja" / "images"
DESKTOP = {"width": 1000, "height": 760}
PHONE = {"width": 375, "height": 740}
# Names as LINE shows them; no person's name, only what they are.
RESIDENT, FAMILY = "利用者A", "家族A"


async def shot(page: Page, name: str, full_page: bool = True) -> None:
    """The page as the guide shows it, saved only when asked for: a run of the suite leaves
    the committed pictures alone."""
    if os.environ.get("MIMAMORI_SCREENSHOTS") != "1":
        return
    IMAGES.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(IMAGES / f"{name}.png"), full_page=full_page)


async def heading(page: Page, key: str, **values: Any) -> None:
    await expect(page.locator("h1")).to_have_text(t(key, **values))


async def test_the_pages_the_guide_shows(
    browser: Browser, start_bot: Callable[..., Awaitable[Bot]]
) -> None:
    bot = await start_bot(desk_after=timedelta(hours=1))
    resident, (family,) = await watched_resident(bot, RESIDENT, [FAMILY])
    # No OK: asked again, the family alerted, nobody takes it, and it reaches the desk.
    for moment in (tokyo(11, 24, 9), tokyo(11, 25, 9), tokyo(11, 25, 12)):
        await run_to(bot, moment)
    await run_to(bot, tokyo(11, 25, 13))
    await run_to(bot, tokyo(11, 25, 14, 1))

    await add_admin(bot, "city-staff")
    context = await browser.new_context(viewport=DESKTOP, locale="ja-JP")
    page = await context.new_page()
    page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    base = str(bot.client.make_url("/admin")).rstrip("/")

    # Sign-in: the password, then the authenticator app's code.
    await page.goto(base + "/login")
    await heading(page, "admin.login.title")
    await page.fill("#name", "city-staff")
    await page.fill("#password", PASSWORD)
    await shot(page, "console-login")
    await page.get_by_role("button", name=t("admin.login.submit")).click()
    await heading(page, "admin.signin.code_title")
    await shot(page, "console-code")
    await page.fill("#code", await totp_code(bot.client, "city-staff"))
    await page.get_by_role("button", name=t("admin.signin.submit")).click()
    await heading(page, "admin.nav.dashboard")
    await expect(page.locator("svg.chart")).to_be_visible()
    await shot(page, "console-dashboard")

    nav = page.get_by_role("navigation")
    await nav.get_by_role("link", name=t("admin.nav.alerts")).click()
    await expect(page.locator("main")).to_contain_text(RESIDENT)
    await shot(page, "console-alerts")

    # The desk: the queue, the case taken, a call logged.
    await nav.get_by_role("link", name=t("admin.nav.desk")).click()
    await expect(page.locator(".case-row")).to_have_count(1)
    await shot(page, "console-desk")
    await page.get_by_role("link", name=t("admin.desk.open_case")).click()
    await page.get_by_role("button", name=t("admin.desk.take")).click()
    await expect(page.locator("dd.taken")).to_contain_text(t("admin.desk.you_have_it"))
    await page.get_by_label(t("admin.desk.call.no_answer")).check()
    await page.locator("form:has(input[value=call]) button").click()
    await expect(page.locator(".step-call")).to_have_count(1)
    await shot(page, "console-case")

    # An area team, its invite QR codes, and the flyer to print.
    await nav.get_by_role("link", name=t("admin.nav.teams")).click()
    await page.get_by_label(t("admin.teams.name"), exact=True).fill("三丁目町会")
    await page.get_by_role("button", name=t("admin.teams.create_button")).click()
    await expect(page.get_by_text(t("admin.team.invites"))).to_be_visible()
    await shot(page, "console-team")
    await page.get_by_role("link", name=t("admin.team.flyer")).click()
    await expect(page.locator("main")).to_contain_text(t("admin.flyer.code"))
    await shot(page, "console-flyer")

    await page.goto(base + "/accounts")
    await heading(page, "admin.accounts.title")
    await shot(page, "console-accounts")

    await page.goto(base + "/notices")
    await page.fill("#text", "【お知らせ】あすの見守り説明会は、公民館で10時からです。")
    await page.get_by_label(t("admin.notices.to.everyone")).check()
    await page.get_by_role("button", name=t("admin.notices.preview")).click()
    await expect(page.locator("#cost")).to_be_visible()
    await shot(page, "console-notice-preview")

    # A roll-call to everyone; the resident answers that she needs help.
    await nav.get_by_role("link", name=t("admin.nav.rollcalls")).click()
    await page.get_by_label(t("admin.notices.to.everyone")).check()
    await page.get_by_role("button", name=t("admin.notices.preview")).click()
    await page.get_by_role("button", name=t("admin.rollcalls.start")).click()
    await expect(page.locator("#count-silent")).to_have_text("2")
    await bot.settle()
    await bot.tap(resident, answer_button(bot, resident, "help"))
    await page.reload()
    await expect(page.locator("#count-help")).to_have_text("1")
    await shot(page, "console-rollcall")
    await context.close()

    await my_page(browser, bot, resident)


async def my_page(browser: Browser, bot: Bot, uid: str) -> None:
    """My page at a phone's size, through the LIFF stand-in, as the resident opens it."""
    token = bot.line.issue_id_token(uid, RESIDENT, LOGIN_CHANNEL)
    context = await browser.new_context(
        viewport=PHONE, is_mobile=True, has_touch=True, locale="ja-JP"
    )
    page = await context.new_page()
    await page.add_init_script(f"window.__TEST_ID_TOKEN = {token!r};")
    await page.goto(str(bot.client.make_url("/liff/")))
    accept = page.get_by_role("button", name=t("liff.terms_accept"))
    await accept.wait_for()
    await shot(page, "mypage-terms", full_page=False)
    await accept.click()
    await page.locator("#member-card").wait_for()
    await shot(page, "mypage", full_page=False)
    await context.close()
