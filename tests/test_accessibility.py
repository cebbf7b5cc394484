"""Pages anyone can use: axe-core (WCAG 2.1 A/AA and best practice) on every console page, My
page as a resident and as a manager, the flyer, the printed guides and the simulator, failing
on any critical or serious finding; the console's skip link, focus ring, current page,
confirmations and live tallies; My page at 200 % zoom."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import timedelta

from playwright.async_api import Browser, Page, expect

from simulator.demo import Demo
from simulator.tour import Tour
from tests.conftest import LOGIN_CHANNEL, Bot
from tests.drivers import (
    Page as Page_,
)
from tests.drivers import (
    alerted,
    answer_button,
    axe_findings,
    console_page,
    member_of,
    run_to,
    team_of,
    tokyo,
)
from tests.wording import t

DESKTOP = {"width": 1200, "height": 900}
PHONE = {"width": 375, "height": 740}


async def test_every_console_page_passes_axe(
    browser: Browser, start_bot: Callable[..., Awaitable[Bot]]
) -> None:
    bot = await start_bot(desk_after=timedelta(hours=1))
    resident, (son,) = await alerted(bot, ["son"])
    await run_to(bot, tokyo(11, 25, 13))
    await run_to(bot, tokyo(11, 25, 14, 1))  # a case at the desk
    page, base = await console_page(browser, bot)
    team_id = await team_of(bot, resident)
    member = await member_of(bot, resident)
    # A roll-call, so its page has a tally to read.
    await page.goto(base + "/rollcalls")
    await page.get_by_label(t("admin.notices.to.everyone")).check()
    await page.get_by_role("button", name=t("admin.notices.preview")).click()
    await page.get_by_role("button", name=t("admin.rollcalls.start")).click()
    await expect(page.locator("#count-silent")).to_be_visible()
    rollcall = page.url
    async with bot.repos() as repos:
        (case_id,) = (await repos.conn.fetch_one("SELECT MAX(id) FROM desk_cases", ()))[:1]
    # (the record of what axe checked, docs/accessibility/axe/<record>.json; the page)
    paths = [
        ("console-dashboard", "/"),
        ("console-alerts", "/alerts"),
        ("console-desk", "/desk"),
        ("console-desk-case", f"/desk/{case_id}"),
        ("console-person", f"/people/{member.id}"),
        ("console-people", "/people"),
        ("console-partners", "/partners"),
        ("console-teams", "/teams"),
        ("console-team", f"/teams/{team_id}"),
        ("console-flyer", f"/teams/{team_id}/flyer"),
        ("console-groups", "/groups"),
        ("console-notices", "/notices"),
        ("console-rollcalls", "/rollcalls"),
        ("console-rollcall", rollcall.removeprefix(base)),
        ("console-quota", "/quota"),
        ("console-report", "/report"),
        ("guides", "/guides"),
        ("guide-resident", "/guides/resident"),
        ("guide-watcher", "/guides/watcher"),
        ("guide-group", "/guides/group"),
        ("guide-staff", "/guides/staff"),
        ("console-audit", "/audit"),
    ]
    findings = []
    for record, path in paths:
        await page.goto(base + path)
        findings += await axe_findings(page, record)
    assert findings == [], "\n".join(findings)

    # The login page too, signed out.
    context = await browser.new_context(viewport=DESKTOP, locale="ja-JP")
    login = await context.new_page()
    await login.goto(base + "/login")
    assert await axe_findings(login, "console-login") == []


async def test_the_console_for_keyboards_and_eyes(browser: Browser, bot: Bot) -> None:
    resident, (son,) = await alerted(bot, ["son"])
    page, base = await console_page(browser, bot)
    await page.goto(base + "/teams")
    # The first Tab reaches the skip link, which leads straight into the content.
    await page.keyboard.press("Tab")
    focused = page.locator(":focus")
    await expect(focused).to_have_text(t("admin.skip_to_main"))
    outline = await focused.evaluate("e => getComputedStyle(e).outlineWidth")
    assert outline == "3px"
    await page.keyboard.press("Enter")
    await expect(page.locator("main")).to_be_focused()
    # The page one is on is marked in the navigation.
    current = page.locator('header nav a[aria-current="page"]')
    await expect(current).to_have_text(t("admin.nav.teams"))
    # A team's page is under チーム too.
    team_id = await team_of(bot, resident)
    await page.goto(f"{base}/teams/{team_id}")
    await expect(current).to_have_text(t("admin.nav.teams"))

    # Destructive buttons ask first; dismissed, nothing changes.
    asked: list[str] = []

    async def dismiss(dialog: object) -> None:
        asked.append(dialog.message)  # type: ignore[attr-defined]
        await dialog.dismiss()  # type: ignore[attr-defined]

    page.on("dialog", dismiss)
    code_before = await page.locator(".invites").inner_text()
    await page.get_by_role("button", name=t("admin.team.rotate")).first.click()
    assert asked == [t("admin.team.rotate_confirm")]
    assert await page.locator(".invites").inner_text() == code_before


async def test_a_roll_call_tally_updates_in_place(browser: Browser, bot: Bot) -> None:
    resident, (son,) = await alerted(bot, ["son"])
    page, base = await console_page(browser, bot)
    await page.clock.install()  # the page's 15 s are moved on, not waited for
    await page.goto(base + "/rollcalls")
    await page.get_by_label(t("admin.notices.to.everyone")).check()
    await page.get_by_role("button", name=t("admin.notices.preview")).click()
    await page.get_by_role("button", name=t("admin.rollcalls.start")).click()
    await expect(page.locator("#count-silent")).to_have_text("2")
    assert await page.locator('meta[http-equiv="refresh"]').count() == 0
    await bot.settle()
    # Something typed stays typed, and the page is the same page: no reload.
    await page.evaluate("window.__same_page = true")
    await bot.tap(resident, answer_button(bot, resident, "safe"))
    await expect(page.locator("#count-safe")).to_have_text("0")
    await page.clock.run_for(16_000)
    await expect(page.locator("#count-safe")).to_have_text("1")
    assert await page.evaluate("window.__same_page === true")


async def test_my_page_passes_axe_for_a_resident_and_a_manager_and_reads_at_200_percent(
    browser: Browser, bot: Bot
) -> None:
    resident, (son,) = await alerted(bot, ["son"])
    await bot.tap_action(resident, "share_personal", m=2)
    for uid, name in ((resident, "resident"), (son, "son")):
        await Page_(bot, uid, name).accept_terms()
    findings = []
    for uid, name, path, record in (
        (resident, "resident", "/liff/", "mypage-resident"),
        (resident, "resident", "/liff/teams", "mypage-resident-teams"),
        (son, "son", "/liff/teams", "mypage-manager-teams"),
        (son, "son", "/liff/", "mypage-manager"),
        (resident, "resident", "/liff/terms", "mypage-terms"),
    ):
        page = await _my_page(browser, bot, uid, name, path)
        findings += await axe_findings(page, record)
    # A manager opens the person's page from the alert (#member-N).
    member = await member_of(bot, resident)
    page = await _my_page(browser, bot, son, "son", f"/liff/teams#member-{member.id}")
    await expect(page.locator("#member-card")).to_be_visible()
    await expect(page.locator("#history-days li").first).to_be_attached()
    # Her alert is open: the way to its actions (her card) comes first, as in the chat.
    to_card = page.locator("#member-alert-card")
    await expect(to_card).to_have_attribute("href", f"/liff/card/{member.id}")
    findings += await axe_findings(page, "mypage-manager-card")
    assert findings == [], "\n".join(findings)

    # 200 % zoom: a 375 px phone reads like 188 px; the card's values keep whole words.
    page = await _my_page(browser, bot, resident, "resident", "/liff/", zoom=True)
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 188, f"scrolls sideways at 200 % ({width} px)"
    narrowest = await page.evaluate(
        "Math.min(...[...document.querySelectorAll('#member-card dd')]"
        ".map(e => e.getBoundingClientRect().width))"
    )
    assert narrowest >= 120, f"a value squeezed to {narrowest} px"


async def _my_page(
    browser: Browser, bot: Bot, uid: str, name: str, path: str, zoom: bool = False
) -> Page:
    token = bot.line.issue_id_token(uid, name, LOGIN_CHANNEL)
    viewport = {"width": 188, "height": 370} if zoom else PHONE
    context = await browser.new_context(
        viewport=viewport, device_scale_factor=2, is_mobile=True, has_touch=True, locale="ja-JP"
    )
    page = await context.new_page()
    await page.add_init_script(f"window.__TEST_ID_TOKEN = {token!r};")
    await page.goto(str(bot.client.make_url(path)))
    await expect(page.locator("#content:visible, #terms:visible").first).to_be_visible()
    await page.wait_for_load_state("networkidle")
    return page


async def test_the_simulator_passes_axe(browser: Browser, demo: Demo) -> None:
    context = await browser.new_context(viewport=DESKTOP, locale="ja-JP")
    page = await context.new_page()
    await page.goto(demo.url)
    # With what a presentation shows: Flex cards drawn, the tour's narration, the console's
    # login, a phone marked as having just received something.
    assert demo.simulator is not None
    await Tour(demo.simulator, demo.locale, pace=0).team_and_invites()
    await demo.simulator.advance_to_next_due()
    await expect(page.locator(".msg.flex").first).to_be_visible()
    await expect(page.locator("#narration")).to_be_visible()
    await expect(page.locator("#console-login")).to_be_visible()
    await page.wait_for_load_state("networkidle")
    findings = await axe_findings(page, "simulator")
    assert findings == [], "\n".join(findings)
    assert re.search(r"<main", await page.content())
