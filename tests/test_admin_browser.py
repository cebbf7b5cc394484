"""The admin console in Debian's Chromium: log in, read the dashboard, send a notice."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.conftest import Bot
from tests.drivers import PASSWORD, SHOTS, add_admin, run_to, tokyo, watched_resident
from tests.wording import t


async def test_login_dashboard_and_a_notice(browser: Browser, bot: Bot) -> None:
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    await run_to(bot, tokyo(11, 24, 9))
    await add_admin(bot)
    context = await browser.new_context(viewport={"width": 1200, "height": 900}, locale="ja-JP")
    page = await context.new_page()
    base = str(bot.client.make_url("/admin/")).rstrip("/")

    await page.goto(base + "/")
    await expect(page).to_have_url(base + "/login")
    await page.fill("#name", "city-staff")
    await page.fill("#password", "wrong password!")
    await page.get_by_role("button", name=t("admin.login.submit")).click()
    await expect(page.get_by_role("alert")).to_contain_text(t("admin.login.wrong"))
    await page.fill("#name", "city-staff")
    await page.fill("#password", PASSWORD)
    await page.get_by_role("button", name=t("admin.login.submit")).click()
    await expect(page.locator("h1")).to_have_text(t("admin.nav.dashboard"))
    await expect(page.locator("#count-users strong")).to_have_text("1")
    await expect(page.locator("#today-checkins strong")).to_have_text("1")
    await expect(page.locator("svg.chart")).to_be_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "admin-01-dashboard.png"), full_page=True)

    await page.get_by_role("link", name=t("admin.nav.notices")).click()
    await page.fill(
        "#text", "【避難情報】〇〇川の水位が上がっています。高い所へ避難してください。"
    )
    await page.get_by_label(t("admin.notices.to.everyone")).check()
    await page.get_by_role("button", name=t("admin.notices.preview")).click()
    cost = t("admin.notices.cost", recipients=2, requests=1)
    await expect(page.locator("#cost")).to_contain_text(cost)
    await page.screenshot(path=str(SHOTS / "admin-02-notice-preview.png"), full_page=True)
    await page.get_by_role("button", name=t("admin.notices.confirm")).click()
    everyone = t("admin.notices.to.everyone")
    await expect(page.locator("#notices tbody tr").first).to_contain_text(everyone)
    await bot.settle()
    assert len(bot.line.broadcasts) == 1
    await page.reload()
    await expect(page.locator("#notices .progress").first).to_have_text("1/1")
    await page.screenshot(path=str(SHOTS / "admin-03-notices.png"), full_page=True)


async def test_a_roll_call_started_and_followed_in_the_console(browser: Browser, bot: Bot) -> None:
    from tests.drivers import answer_button

    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    await add_admin(bot)
    context = await browser.new_context(viewport={"width": 1200, "height": 900}, locale="ja-JP")
    page = await context.new_page()
    base = str(bot.client.make_url("/admin/")).rstrip("/")
    await page.goto(base + "/login")
    await page.fill("#name", "city-staff")
    await page.fill("#password", PASSWORD)
    await page.get_by_role("button", name=t("admin.login.submit")).click()

    await page.get_by_role("link", name=t("admin.nav.rollcalls")).click()
    await page.get_by_label(t("admin.notices.to.everyone")).check()
    await page.get_by_role("button", name=t("admin.notices.preview")).click()
    cost = t("admin.notices.cost", recipients=2, requests=1)
    await expect(page.locator("#cost")).to_contain_text(cost)
    await page.get_by_role("button", name=t("admin.rollcalls.start")).click()
    await expect(page.locator("#count-silent")).to_have_text("2")
    await bot.settle()

    await bot.tap(resident, answer_button(bot, resident, "help"))
    await page.reload()  # the page reloads itself every 15 s; not waited for here
    await expect(page.locator("#count-help")).to_have_text("1")
    await expect(page.locator("#count-silent")).to_have_text("1")
    await expect(page.locator("#tally-help tr.needs-help")).to_contain_text("resident")
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "admin-04-rollcall.png"), full_page=True)
