"""Signing in to the console in Debian's Chromium: a desk account enrols its second factor by
the page (the QR code and its key, a first code, the recovery codes), signs in with a code; an
operator disables it and its open page is ended."""

from __future__ import annotations

from datetime import timedelta

import pyotp
from playwright.async_api import Browser, expect

from storage.models import StaffRole
from tests.conftest import Bot
from tests.drivers import PASSWORD, SHOTS, add_admin, axe_findings, console_page
from tests.wording import t


async def test_enrolment_sign_in_and_an_account_disabled(browser: Browser, bot: Bot) -> None:
    await add_admin(bot, "desk-a", StaffRole.DESK, second_factor=False)
    context = await browser.new_context(viewport={"width": 1200, "height": 900}, locale="ja-JP")
    desk = await context.new_page()
    base = str(bot.client.make_url("/admin")).rstrip("/")

    await desk.goto(base + "/login")
    await desk.fill("#name", "desk-a")
    await desk.fill("#password", PASSWORD)
    await desk.get_by_role("button", name=t("admin.login.submit")).click()
    await expect(desk.locator("h1")).to_have_text(t("admin.signin.enrol_title"))
    qr = desk.locator("#enrol-qr")
    await expect(qr).to_be_visible()
    assert await qr.evaluate("image => image.naturalWidth") > 0, "the QR code is drawn"
    assert await axe_findings(desk) == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    await desk.screenshot(path=str(SHOTS / "admin-signin-01-enrol.png"), full_page=True)
    # The person's app, given the key typed by hand.
    secret = (await desk.locator("#enrol-secret").inner_text()).replace(" ", "")
    app = pyotp.TOTP(secret)
    await desk.fill("#code", app.at(bot.clock.now()))
    await desk.get_by_role("button", name=t("admin.signin.enrol_submit")).click()
    await expect(desk.locator("h1")).to_have_text(t("admin.signin.recovery_title"))
    await expect(desk.locator("#recovery-codes li")).to_have_count(10)
    await desk.screenshot(path=str(SHOTS / "admin-signin-02-recovery.png"), full_page=True)
    await desk.get_by_role("link", name=t("admin.signin.continue")).click()
    await expect(desk.locator("h1")).to_have_text(t("admin.nav.dashboard"))

    # Signed out, then in again: the password, then the app's next code.
    await desk.get_by_role("button", name=t("admin.logout")).click()
    await bot.advance(timedelta(seconds=app.interval))
    await desk.fill("#name", "desk-a")
    await desk.fill("#password", PASSWORD)
    await desk.get_by_role("button", name=t("admin.login.submit")).click()
    await expect(desk.locator("h1")).to_have_text(t("admin.signin.code_title"))
    assert await axe_findings(desk) == []
    await desk.fill("#code", app.at(bot.clock.now()))
    await desk.get_by_role("button", name=t("admin.signin.submit")).click()
    await expect(desk.locator("h1")).to_have_text(t("admin.nav.dashboard"))

    # An operator, in their own browser, disables the account.
    operator, _ = await console_page(browser, bot, "city-staff")
    await operator.goto(base + "/accounts")
    assert await axe_findings(operator) == []
    row = operator.locator("#account-desk-a")
    await expect(row).to_contain_text(t("admin.accounts.enrolled"))
    operator.once("dialog", lambda dialog: dialog.accept())
    await row.get_by_role("button", name=t("admin.accounts.do.disable")).click()
    await expect(operator.locator("#account-done")).to_contain_text(
        t("admin.accounts.done.disable", name="desk-a", sessions=1)
    )
    await expect(operator.locator("#account-desk-a")).to_contain_text(t("admin.accounts.disabled"))
    await operator.screenshot(path=str(SHOTS / "admin-signin-03-accounts.png"), full_page=True)

    # The desk's open page: its next request finds no session.
    await desk.reload()
    await expect(desk).to_have_url(base + "/login")
    await desk.fill("#name", "desk-a")
    await desk.fill("#password", PASSWORD)
    await desk.get_by_role("button", name=t("admin.login.submit")).click()
    await expect(desk.get_by_role("alert")).to_contain_text(t("admin.login.wrong"))
    await context.close()
