"""The desk's queue and the list of people in Debian's Chromium (issue 40): a coordinator
searches, filters, sorts and pages by keyboard and mouse, two staff see each other take a case
without reloading, and the pages pass axe."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from playwright.async_api import Browser, expect

from tests.conftest import Bot
from tests.drivers import SHOTS, axe_findings, console_page, member_of, watched_resident
from tests.wording import t

HOUR = timedelta(hours=1)


async def _cases(bot: Bot, count: int) -> tuple[int, int]:
    """A resident on LINE with an urgent case, and `count` - 1 people with a case each. ->
    (her case, her 会員ID)."""
    resident, _ = await watched_resident(bot, "resident", ["son"])
    her = await member_of(bot, resident)
    now = bot.clock.now()
    async with bot.repos() as repos:
        case = await repos.desk.open_case(her.id, "help", True, now - 3 * HOUR)
        for i in range(count - 1):
            member, _ = await repos.members.register(f"U{i:032x}", f"filler{i}", "ja", now)
            await repos.desk.open_case(member.id, "untaken", False, now - i * HOUR / 10)
    assert case is not None
    return case, her.id


async def test_the_queue_searched_sorted_paged_and_refreshed_for_two_staff(
    browser: Browser, start_bot: Callable[..., Awaitable[Bot]]
) -> None:
    bot = await start_bot(desk_after=HOUR)
    case, her_id = await _cases(bot, 55)
    first, base = await console_page(browser, bot, "desk-a")
    await first.clock.install()  # the refresh's 15 s are moved on, not waited for
    await first.get_by_role("link", name=t("admin.nav.desk")).click()
    rows = first.locator(".case-row")
    await expect(rows).to_have_count(50)
    await expect(rows.first).to_have_attribute("data-case", str(case))
    SHOTS.mkdir(parents=True, exist_ok=True)
    await first.screenshot(path=str(SHOTS / "admin-desk-queue.png"))

    # The second page, by its link; then back.
    pages = first.get_by_role("navigation", name=t("admin.queue.pages"))
    await pages.get_by_role("link", name=t("admin.queue.next")).click()
    await expect(rows).to_have_count(5)
    await expect(first).to_have_url(f"{base}/desk?page=2")
    await pages.get_by_role("link", name="1", exact=True).click()

    # Sorted by 会員ID, the highest first (a second click on the header).
    header = first.locator("#queue thead").get_by_role("link", name=t("admin.member_id"))
    await header.click()
    await expect(first.locator('th[aria-sort="ascending"]')).to_have_count(1)
    await first.locator("#queue thead").get_by_role("link", name=t("admin.member_id")).click()
    await expect(first.locator('th[aria-sort="descending"]')).to_have_count(1)
    async with bot.repos() as repos:
        highest = await repos.conn.fetch_one("SELECT MAX(member_id) FROM desk_cases", ())
    assert highest is not None
    await expect(rows.first.locator("td").nth(2)).to_have_text(str(highest[0]))

    # Searched by keyboard: the words, Enter; the search is the URL (a bookmark).
    await first.get_by_label(t("admin.queue.words")).fill("filler7")
    await first.get_by_label(t("admin.queue.words")).press("Enter")
    await expect(rows).to_have_count(1)
    assert "q=filler7" in first.url
    await first.get_by_role("link", name=t("admin.queue.clear")).click()
    # Filtered: urgent only.
    await first.get_by_label(t("admin.queue.filter.urgent")).check()
    await first.get_by_role("button", name=t("admin.queue.find")).click()
    await expect(rows).to_have_count(1)
    assert "urgent=1" in first.url
    assert await axe_findings(first) == []

    # Another staff member takes her case in another browser: the first sees it in place.
    second, _ = await console_page(browser, bot, "desk-b")
    await second.goto(f"{base}/desk/{case}")
    await second.get_by_role("button", name=t("admin.desk.take")).click()
    await expect(second.locator("dd.taken")).to_contain_text(t("admin.desk.you_have_it"))
    await first.evaluate("window.__same_page = true")
    await expect(rows.first.locator(".taken")).to_have_text(t("admin.desk.nobody"))
    await first.clock.run_for(16_000)
    await expect(rows.first.locator(".taken")).to_have_text("desk-b")
    assert await first.evaluate("window.__same_page === true")
    # …and what they were typing stays typed.
    await first.get_by_label(t("admin.queue.words")).fill("half-typed")
    await first.clock.run_for(16_000)
    await expect(first.get_by_label(t("admin.queue.words"))).to_have_value("half-typed")
    await second.context.close()
    await first.context.close()


async def test_the_people_list_finds_a_person_and_opens_her_card(
    browser: Browser, start_bot: Callable[..., Awaitable[Bot]]
) -> None:
    bot = await start_bot(desk_after=HOUR)
    _, her_id = await _cases(bot, 3)
    page, base = await console_page(browser, bot, "desk-a")
    await page.get_by_role("link", name=t("admin.nav.people")).click()
    await expect(page.locator(".person-row")).to_have_count(3)
    assert await axe_findings(page) == []
    await page.get_by_label(t("admin.queue.words")).fill(str(her_id))
    await page.get_by_label(t("admin.queue.words")).press("Enter")
    await expect(page.locator(".person-row")).to_have_count(1)
    await page.locator(".person-row").get_by_role("link", name="resident").click()
    await expect(page).to_have_url(f"{base}/people/{her_id}")
    await expect(page.locator('header nav a[aria-current="page"]')).to_have_text(
        t("admin.nav.people")
    )
    # A partner's page, to change what the desk keeps of them.
    async with bot.repos() as repos:
        partner = await repos.partners.add("民生委員", "minsei", "", "", [1], bot.clock.now())
    await page.goto(f"{base}/partners")
    await page.get_by_role(
        "link", name=t("admin.queue.partners.edit_named", name="民生委員")
    ).click()
    await expect(page).to_have_url(f"{base}/partners/{partner}")
    await page.get_by_label(t("admin.partners.phone")).fill("03-1111-2222")
    assert await axe_findings(page) == []
    await page.get_by_role("button", name=t("admin.queue.partners.save")).click()
    await expect(page.locator(f'tr[data-partner="{partner}"]')).to_contain_text("03-1111-2222")
    await page.context.close()
