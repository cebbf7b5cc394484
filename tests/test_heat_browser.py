"""The console's 暑い日の確認 in a browser: 運用管理 marks a resident at risk from the people list,
the alert day's tally reads like a roll-call's (the silent first) and refreshes in place, and
the page passes axe. 窓口, 閲覧 and 監査 are not shown the page, as with roll-calls."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, expect

from storage.models import StaffRole
from tests.conftest import Bot
from tests.drivers import (
    answer_the_morning_check_in,
    axe_findings,
    console_page,
    heat_bot,
    member_of,
    ok_data,
    opt_in_from_the_chat,
    run_to,
    tokyo,
    watched_resident,
)
from tests.wording import t


async def test_the_heat_page_tallies_the_day_silent_first_and_passes_axe(
    browser: Browser,
    start_bot: Callable[..., Awaitable[Bot]],
    aiohttp_server: Callable[..., Awaitable[TestServer]],
) -> None:
    feed, bot, poller = await heat_bot(start_bot, aiohttp_server)
    chose, _ = await watched_resident(bot, "chose", ["chose-son"])
    marked, _ = await watched_resident(bot, "marked", ["marked-son"])
    await opt_in_from_the_chat(bot, chose)
    feed.publish("20270802_17", "alert_20270802_17.csv")
    await run_to(bot, tokyo(8, 2, 17, 5, year=2027))
    assert sorted(await poller.poll()) == ["alert", "forecast"]
    await answer_the_morning_check_in(bot, chose, marked)
    page, base = await console_page(browser, bot)

    # 運用管理 marks her at risk from the people list: one button on her row.
    await page.get_by_role("link", name=t("admin.nav.people")).click()
    marked_id = (await member_of(bot, marked)).id
    row = page.locator(f"#person-{marked_id}")
    await row.get_by_role("button", name=t("admin.heat41.mark_on"), exact=False).click()
    await expect(page.locator(f"#person-{marked_id}")).to_contain_text(t("admin.heat41.mark_off"))

    await run_to(bot, tokyo(8, 3, 10, 0, year=2027))
    await bot.tap(chose, ok_data(bot, chose))

    await page.clock.install()  # the refresh's 30 s are moved on, not waited for
    await page.goto(base + "/heat")
    await expect(page.locator("#heat-count-silent")).to_have_text("1")
    await expect(page.locator("#heat-count-answered")).to_have_text("1")
    standings = page.locator("#heat-people tbody tr")
    await expect(standings.first).to_have_attribute("data-standing", "silent")
    assert await axe_findings(page, "console-heat") == []

    # She answers now: the tally changes in place at the next refresh.
    await bot.tap(marked, ok_data(bot, marked))
    await page.clock.run_for(31_000)
    await expect(page.locator("#heat-count-silent")).to_have_text("0")
    await expect(page.locator("#heat-count-answered")).to_have_text("2")

    # Roles as the roll-call page has them: 窓口 sees no link to it, and is refused it.
    desk, _ = await console_page(browser, bot, "desk-b", StaffRole.DESK)
    await expect(desk.get_by_role("link", name=t("admin.nav.heat"))).to_have_count(0)
    response = await desk.goto(base + "/heat")
    assert response is not None and response.status == 403
