"""The roster's pages in a browser (issue 41): the import chosen, previewed and committed by
keyboard and mouse as 運用管理 does it, the list, a letter and a roll-call's tally by 担当, each
passing axe."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, expect

from tests.conftest import Bot
from tests.drivers import area_team, axe_findings, console_page
from tests.wording import t

SAMPLES = Path(__file__).resolve().parent / "register"


async def test_the_import_and_the_tally_by_carer_pass_axe(browser: Browser, bot: Bot) -> None:
    await area_team(bot, "本町", 1)
    page, base = await console_page(browser, bot)
    await page.get_by_role("link", name=t("admin.nav.roster")).click()
    await page.get_by_role("link", name=t("admin.register41.import_title")).click()
    findings = await axe_findings(page)
    await page.get_by_label(t("admin.register41.file_label")).set_input_files(
        str(SAMPLES / "sample.csv")
    )
    await page.get_by_role("button", name=t("admin.register41.preview")).click()
    await expect(page.locator("#refused tbody tr")).to_have_count(6)
    findings += await axe_findings(page)
    await page.get_by_role("button", name=t("admin.register41.commit")).click()
    await expect(page.locator("#done")).to_be_visible()
    findings += await axe_findings(page)
    await page.get_by_role("link", name=t("admin.register41.to_roster")).click()
    await expect(page.locator("#roster tbody tr")).to_have_count(4)
    findings += await axe_findings(page)
    await page.locator("#roster a").first.click()
    await expect(page.locator("#letter-code")).to_be_visible()
    findings += await axe_findings(page)

    await page.goto(base + "/rollcalls")
    await page.get_by_label(t("admin.notices.to.everyone")).check()
    await page.get_by_label(t("admin.register41.declare")).check()
    await page.get_by_role("button", name=t("admin.notices.preview")).click()
    await expect(page.locator("#declared")).to_be_visible()
    await page.get_by_role("button", name=t("admin.rollcalls.start")).click()
    await page.get_by_role("link", name=t("admin.register41.tally_link")).click()
    await expect(page.locator("#roster-count-unasked")).to_have_text("4")
    findings += await axe_findings(page)
    assert findings == [], "\n".join(findings)
