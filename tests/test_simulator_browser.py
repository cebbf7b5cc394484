"""The simulator in Debian's Chromium, clicked through as a newcomer would at a 説明会."""

from __future__ import annotations

from functools import partial

from playwright.async_api import Browser, Page, expect

from simulator.city import GARBAGE_DAY_ANSWER
from simulator.demo import Demo
from simulator.tour import DAUGHTER, RESIDENT
from tests.drivers import SHOTS
from tests.wording import pattern


def pane(page: Page, name: str):  # type: ignore[no-untyped-def]
    return page.locator(f"section.pane[data-name='{name}']")


async def test_a_newcomer_clicks_through_the_ladder(browser: Browser, demo: Demo) -> None:
    context = await browser.new_context(viewport={"width": 1500, "height": 900}, locale="ja-JP")
    page = await context.new_page()
    await page.goto(demo.url)
    resident, daughter = pane(page, RESIDENT), pane(page, DAUGHTER)
    said, t = partial(pattern, locale=demo.locale), demo.locale.t

    # On the city's own account: the resident follows it; under the chat is the city's menu.
    # Its 「ごみの日」 tile is answered by the city's system; its 見守り tab opens mimamori's
    # menu, and mimamori greets her at once: one card, the start button in view.
    await resident.get_by_role("button", name="友だち追加").click()
    await expect(resident.locator(".richmenu img")).to_be_visible()
    await resident.get_by_role("button", name=t("city_stand_in.garbage_tile")).click()
    await expect(resident.locator(".log")).to_contain_text(GARBAGE_DAY_ANSWER)
    await resident.get_by_role("button", name=t("city_stand_in.mimamori_tile")).click()
    await expect(resident.get_by_role("button", name=t("richmenu.ok"))).to_be_attached()
    await expect(resident.locator(".log")).to_contain_text(said("shared.greeting"))
    greeting = resident.locator(".msg.card").last
    await greeting.get_by_role("button", name=t("follow.start_button")).click()
    await expect(resident.locator(".log")).to_contain_text(said("schedule.saved"))
    await resident.locator(".richmenu").get_by_role("button", name=t("richmenu.help")).click()
    await resident.locator(".quick").get_by_role("button", name=t("menu.new_team")).click()
    await expect(resident.locator(".log")).to_contain_text(said("team.ask_name"))
    await resident.locator(".compose input").fill("わが家")
    await resident.locator(".compose").get_by_role("button", name="送信").click()
    await resident.locator(".quick").get_by_role("button", name=t("team.as_user")).click()
    await expect(resident.locator(".log")).to_contain_text(
        said("team.created.user", team="わが家")
    )

    # The daughter follows and scans the QR code on her mother's phone.
    await daughter.get_by_role("button", name="友だち追加").click()
    await resident.locator(".quick").get_by_role("button", name=t("invite.show_qr")).click()
    await expect(resident.locator(".msg img").first).to_be_visible()
    await daughter.get_by_role("button", name="QRを読み取る").click()
    await expect(daughter.locator(".compose input")).to_have_value(said("invite.prefill"))
    await daughter.locator(".compose").get_by_role("button", name="送信").click()
    await daughter.locator(".msg.card").last.get_by_role("button", name=t("invite.accept")).click()
    await expect(daughter.locator(".log")).to_contain_text(said("invite.joined.manager"))
    await page.screenshot(path=str(SHOTS / "simulator-01-team.png"))

    # Time moves: the check-in, no answer, the re-send, the alert on the daughter's phone.
    await page.get_by_role("button", name="次の確認まで進める").click()
    # The greeting names the check-in too, so wait for the check-in's own card.
    ok_button = page.get_by_role("button", name=t("checkin.ok_button"), exact=True)
    checkin_card = resident.locator(".msg.card", has_text=t("checkin.title"), has=ok_button)
    await expect(checkin_card.first).to_be_visible()
    await page.get_by_role("button", name="+1日").click()
    await expect(resident.locator(".log")).to_contain_text(t("checkin.resend_title"))
    await page.get_by_role("button", name="+3時間").click()
    await expect(daughter.locator(".log")).to_contain_text(t("alert.title"))
    await page.screenshot(path=str(SHOTS / "simulator-02-alert.png"))

    # The resident taps OK at last; the daughter hears she is safe.
    await checkin_card.first.get_by_role("button", name=t("checkin.ok_button"), exact=True).click()
    await expect(resident.locator(".log")).to_contain_text(said("checkin.thanks"))
    await expect(daughter.locator(".log")).to_contain_text(said("safe.body", name=RESIDENT))
    await page.screenshot(path=str(SHOTS / "simulator-03-safe.png"))

    # Watched now, she has the 利用者 menu: 元気です from it is a sign of life.
    await resident.get_by_role("button", name=t("richmenu.ok")).click()
    await expect(resident.locator(".log")).to_contain_text(said("checkin.menu_ok"))
