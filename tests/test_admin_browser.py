"""The admin console in Debian's Chromium: log in, read the dashboard, send a notice."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta

from playwright.async_api import Browser, expect

from tests.conftest import Bot
from tests.drivers import (
    PASSWORD,
    SHOTS,
    add_admin,
    alerted,
    console_page,
    run_to,
    tokyo,
    totp_code,
    watched_resident,
)
from tests.wording import said, t


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
    await expect(page.locator("h1")).to_have_text(t("admin.signin.code_title"))
    await page.fill("#code", await totp_code(bot.client, "city-staff"))
    await page.get_by_role("button", name=t("admin.signin.submit")).click()
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
    page, _ = await console_page(browser, bot)

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


async def test_the_desk_takes_a_case_logs_a_call_and_closes_it(
    browser: Browser, start_bot: Callable[..., Awaitable[Bot]]
) -> None:
    """Two staff members in two browsers: one takes the case, the other sees who has it."""
    bot = await start_bot(desk_after=timedelta(hours=1))
    resident, (son,) = await alerted(bot, ["son"])
    async with bot.repos() as repos:
        member = await repos.members.by_line_id(resident)
        assert member is not None
        await repos.conn.execute(
            "UPDATE members SET phone = ?, emergency_memo = ?, address = ? WHERE id = ?",
            ("090-1234-5678", "合鍵は隣の家", "みどり町1-2-3", member.id),
        )
    await bot.tap_action(resident, "share_personal", m=2)
    await run_to(bot, tokyo(11, 25, 13))
    await run_to(bot, tokyo(11, 25, 14, 1))
    pages = []
    for name in ("desk-a", "desk-b"):
        page, _ = await console_page(browser, bot, name)
        await page.get_by_role("link", name=t("admin.nav.desk")).click()
        pages.append(page)
    first, second = pages

    await expect(first.locator(".case-row")).to_have_count(1)
    await first.get_by_role("link", name=t("admin.desk.open_case")).click()
    await expect(first.locator("a.call")).to_have_attribute("href", "tel:09012345678")
    await expect(first.locator(".memo")).to_have_text("合鍵は隣の家")
    await expect(first.locator(".address")).to_have_text("みどり町1-2-3")
    await second.get_by_role("link", name=t("admin.desk.open_case")).click()
    await first.get_by_role("button", name=t("admin.desk.take")).click()
    await expect(first.locator("dd.taken")).to_contain_text(t("admin.desk.you_have_it"))
    await second.reload()
    taken = t("admin.desk.taken_by_other", name="desk-a")
    await expect(second.locator("dd.taken")).to_contain_text(taken)
    await expect(second.get_by_role("button", name=t("admin.desk.take"))).to_have_count(0)

    # A 民生委員 without LINE is registered; the desk asks her to visit and prints the request.
    case_url = first.url
    await first.get_by_role("link", name=t("admin.nav.partners")).click()
    await first.get_by_label(t("admin.partners.name"), exact=True).fill("みどり町の民生委員")
    await first.get_by_label(t("admin.partners.phone")).fill("03-1234-5678")
    await first.get_by_label(t("admin.partners.area")).fill("みどり町")
    await first.get_by_role("button", name=t("admin.partners.add")).click()
    await expect(first.locator("#partners tbody tr")).to_have_count(1)
    await first.goto(case_url)
    await first.get_by_role("button", name=t("admin.visits.ask")).click()
    await expect(first.locator("#visits tbody tr")).to_have_count(1)
    await first.get_by_role("link", name=t("admin.visits.print")).click()
    await expect(first.locator(".visit-request")).to_contain_text("みどり町1-2-3")
    await first.go_back()

    # Her card, from the case: a note that the next case will show too.
    await first.get_by_role("link", name=t("admin.desk.open_card")).click()
    await first.get_by_label(t("admin.desk.person_note_help")).fill("耳が遠いので、ゆっくり話す")
    await first.get_by_role("button", name=t("admin.desk.save")).click()
    await expect(first.locator(".person-notes")).to_contain_text("ゆっくり話す")
    await first.locator("#cases a").click()
    await expect(first.locator(".person-notes")).to_contain_text("ゆっくり話す")

    await first.get_by_label(t("admin.desk.call.no_answer")).check()
    await first.locator("form:has(input[value=call]) textarea").fill("2回鳴らした")
    await first.locator("form:has(input[value=call]) button").click()
    await expect(first.locator(".step-call")).to_contain_text("2回鳴らした")
    await first.get_by_label(t("desk.outcome.asleep")).check()
    # Closing asks first (it tells the family); accepted, it closes.
    first.once("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await first.get_by_role("button", name=t("admin.desk.close")).last.click()
    await expect(first.locator("dd.outcome")).to_contain_text(t("desk.outcome.asleep"))
    SHOTS.mkdir(parents=True, exist_ok=True)
    await first.screenshot(path=str(SHOTS / "admin-04-desk-case.png"), full_page=True)
    await bot.settle()
    assert said(
        bot.line.texts_to(son),
        "desk.confirmed_notice",
        name="resident",
        outcome=t("desk.outcome.asleep"),
    )
    await first.get_by_role("navigation").get_by_role("link", name=t("admin.nav.desk")).click()
    await expect(first.locator(".case-row")).to_have_count(0)
    await expect(first.locator(".closed-case")).to_have_count(1)
