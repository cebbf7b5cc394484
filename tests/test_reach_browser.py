"""Issue 40's console pages in Debian's Chromium, with axe: a notice whose audience must be
chosen, its preview and the roll-call's saying whom they reach and whom not, the tally's
people never asked, the audit log in words. Critical or serious findings fail."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from playwright.async_api import Browser, expect

from tests import line_webhook as hook
from tests.conftest import Bot
from tests.drivers import (
    SHOTS,
    area_team,
    axe_findings,
    console_page,
    team_with_landline_resident,
)
from tests.fake_twilio import FakeTwilio, calling_through
from tests.wording import t

WORDS = "admin.reach40"
NEWS = "【お知らせ】あすの防災訓練は中止です。"


@pytest.fixture
async def bot(start_bot: Callable[..., Awaitable[Bot]], twilio: FakeTwilio) -> Bot:
    return await start_bot(**calling_through(twilio, call_budget=20))


async def test_reach_said_in_the_console_for_a_notice_and_a_roll_call(
    browser: Browser, bot: Bot, twilio: FakeTwilio
) -> None:
    _, son = await team_with_landline_resident(bot)
    _, east = await area_team(bot, "東町", 2)
    await bot.post(hook.unfollow(east[1], bot.clock.now()))
    page, base = await console_page(browser, bot)
    findings: list[str] = []
    SHOTS.mkdir(parents=True, exist_ok=True)

    # The notice: nobody is chosen for her, and the browser will not send it so.
    await page.goto(base + "/notices")
    assert await page.locator('input[name="audience"]:checked').count() == 0
    await page.fill("#text", NEWS)
    await page.get_by_role("button", name=t("admin.notices.preview")).click()
    await expect(page).to_have_url(base + "/notices")
    missing = await page.locator('input[name="audience"]').first.evaluate(
        "e => e.validity.valueMissing"
    )
    assert missing
    # Without the browser's check (an old browser, a script), the page says it and keeps it.
    await page.evaluate(
        "document.querySelectorAll('input[name=audience]').forEach(e => e.required = false)"
    )
    await page.get_by_role("button", name=t("admin.notices.preview")).click()
    await expect(page.get_by_role("alert")).to_have_text(t(f"{WORDS}.choose_audience"))
    await expect(page.locator("#text")).to_have_value(NEWS)
    findings += await axe_findings(page)

    await page.get_by_label(t("admin.notices.to.teams"), exact=True).check()
    await page.get_by_label("東町").check()
    await page.get_by_label("山田家").check()
    await page.get_by_role("button", name=t("admin.notices.preview")).click()
    reach = page.locator("#reach")
    await expect(reach.locator("#reach-line")).to_have_text(t(f"{WORDS}.line", count=2))
    await expect(reach.locator("#reach-phone_only")).to_have_text(
        t(f"{WORDS}.unreached.notice.phone_only", count=1)
    )
    await expect(reach.locator("#reach-blocked")).to_have_text(
        t(f"{WORDS}.unreached.notice.blocked", count=1)
    )
    await page.screenshot(path=str(SHOTS / "admin-40-notice-reach.png"), full_page=True)
    findings += await axe_findings(page)
    calls = len(twilio.calls)
    await page.get_by_role("button", name=t("admin.notices.confirm")).click()
    await expect(page.locator("#notices tbody tr").first).to_contain_text(
        t(f"{WORDS}.not_reached_short", count=2)
    )
    await bot.settle()
    assert NEWS in bot.line.texts_to(son) and NEWS in bot.line.texts_to(east[0])
    assert len(twilio.calls) == calls
    findings += await axe_findings(page)

    # The roll-call: its preview (she is rung: issue 41), then the tally saying who was never
    # asked, and who was asked by phone.
    await page.goto(base + "/rollcalls")
    await page.get_by_role("button", name=t("admin.notices.preview")).click()
    await expect(page.locator("#reach-phone")).to_have_text(t(f"{WORDS}.by_phone", count=1))
    await expect(page.locator("#calls")).to_have_text(
        t("admin.phone41.calls", count=1, minutes=30, left=20)
    )
    findings += await axe_findings(page)
    await page.get_by_role("button", name=t("admin.rollcalls.start")).click()
    await expect(page.locator("#count-unasked")).to_have_text("1")
    await expect(page.locator("#count-silent")).to_have_text("3")
    await expect(page.locator("#tally-by-phone")).to_have_text(
        t("admin.phone41.by_phone", asked=1, answered=0)
    )
    unasked = page.locator("#tally-unasked")
    await expect(unasked).to_contain_text(t(f"{WORDS}.why.blocked"))
    await page.screenshot(path=str(SHOTS / "admin-40-rollcall-unasked.png"), full_page=True)
    findings += await axe_findings(page)

    # The audit log: words, the code beside them.
    await page.goto(base + "/audit")
    first = page.locator("#audit tbody tr").first
    await expect(first.locator("td").nth(2)).to_have_text(t(f"{WORDS}.action.rollcall_viewed"))
    await expect(first.locator("code")).to_have_text("rollcall_viewed")
    findings += await axe_findings(page)
    assert findings == [], "\n".join(findings)
