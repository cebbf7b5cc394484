"""The simulator in Debian's Chromium, clicked through as a newcomer would at a 説明会."""

from __future__ import annotations

import re
from functools import partial

from playwright.async_api import Browser, Page, expect

from care.services import SERVICES
from ground.messages import HELP_COLOUR, OK_COLOUR
from simulator.city import GARBAGE_DAY_ANSWER
from simulator.console import STAFF_NAME, Console
from simulator.demo import Demo
from simulator.tour import DAUGHTER, LANDLINE, MINSEI, RESIDENT, Tour, key_of
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


def rgb(hex_colour: str) -> str:
    """A #rrggbb colour as the browser reports it."""
    red, green, blue = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({red}, {green}, {blue})"


async def newcomer(browser: Browser, demo: Demo, width: int = 1500) -> Page:
    context = await browser.new_context(viewport={"width": width, "height": 900}, locale="ja-JP")
    page = await context.new_page()
    await page.goto(demo.url)
    await expect(page.locator("section.pane").first).to_be_visible()
    return page


async def test_flex_is_drawn_as_line_draws_it_help_red_and_apart(
    browser: Browser, demo: Demo
) -> None:
    assert demo.simulator is not None
    page = await newcomer(browser, demo)
    tour, t = Tour(demo.simulator, demo.locale, pace=0), demo.locale.t
    said = partial(pattern, locale=demo.locale)
    await tour.team_and_invites()
    await demo.simulator.advance_to_next_due()  # the check-in
    resident = pane(page, RESIDENT)
    card = resident.locator(".msg.flex", has_text=t("checkin.title")).last
    ok = card.get_by_role("button", name=t("checkin.ok_button"), exact=True)
    unwell = card.get_by_role("button", name=t("checkin.unwell_button"))
    help_ = card.get_by_role("button", name=t("checkin.help_button"))
    await expect(help_).to_be_visible()

    def background(button):  # type: ignore[no-untyped-def]
        return button.evaluate("node => getComputedStyle(node).backgroundColor")

    # The colours the bubble gives: OK green, 助けてほしい red, 少し体調が悪い grey; never alike.
    assert await background(ok) == rgb(OK_COLOUR)
    assert await background(help_) == rgb(HELP_COLOUR)
    assert await background(unwell) not in (rgb(HELP_COLOUR), rgb(OK_COLOUR))
    # Apart: a line and LINE's widest margin between the calm answers and help.
    unwell_box, help_box = await unwell.bounding_box(), await help_.bounding_box()
    assert unwell_box is not None and help_box is not None
    assert help_box["y"] - (unwell_box["y"] + unwell_box["height"]) >= 30
    await expect(card.locator(".flex-separator")).to_have_count(1)
    # The title in LINE's xl (22 px), bold; the buttons full-height (52 px).
    title = card.locator(".flex-text", has_text=t("checkin.title")).first
    await expect(title).to_be_in_viewport()  # her chat shows the card that just came, from its top
    assert await title.evaluate("node => getComputedStyle(node).fontSize") == "22px"
    assert await title.evaluate("node => getComputedStyle(node).fontWeight") == "700"
    assert help_box["height"] >= 52
    await page.screenshot(path=str(SHOTS / "simulator-04-flex.png"))
    # Drawn, its buttons still answer as the resident's taps.
    await ok.click()
    await expect(resident.locator(".log")).to_contain_text(said("checkin.thanks"))


async def test_the_page_follows_the_phone_that_received_something(
    browser: Browser, demo: Demo
) -> None:
    assert demo.simulator is not None
    # A laptop's width: three phones in view, the 民生委員's far to the right.
    page = await newcomer(browser, demo, width=1000)
    resident, minsei = pane(page, RESIDENT), pane(page, MINSEI)
    said = partial(pattern, locale=demo.locale)
    await expect(resident).to_be_in_viewport()
    await expect(minsei).not_to_be_in_viewport()
    key = key_of(demo.simulator, MINSEI)
    await demo.simulator.follow(key)
    await demo.simulator.say(key, demo.locale.t("shared.start_words").split(",")[0])
    # The greeting lands on her phone: the page scrolls to it and marks it.
    await expect(minsei.locator(".log")).to_contain_text(said("shared.greeting"))
    await expect(minsei).to_be_in_viewport(ratio=0.9)
    await expect(minsei).to_have_class(re.compile(r"\bfresh\b"))
    await expect(resident).not_to_be_in_viewport()
    await expect(resident).not_to_have_class(re.compile(r"\bfresh\b"))


async def test_the_tour_narrates_each_step_on_the_page(browser: Browser, demo: Demo) -> None:
    assert demo.simulator is not None
    page = await newcomer(browser, demo)
    narration = page.locator("#narration")
    await expect(narration).to_be_hidden()
    line = demo.locale.t
    desk = Console(f"http://127.0.0.1:{demo.settings.port}", demo.desk_staff, demo.clock.now)
    tour = Tour(demo.simulator, demo.locale, pace=0, console=desk)
    try:
        # The tour as `--script tour` plays it, a part at a time: the line on the page says
        # what the last step was about, and the step count grows.
        await tour.team_and_invites()
        await expect(narration).to_be_visible()
        await expect(narration).to_have_attribute("role", "status")
        await expect(page.locator("#narration-text")).to_have_text(line("simulator40.tour.son"))
        shown = int(await narration.get_attribute("data-step") or 0)
        await tour.ladder()
        await expect(page.locator("#narration-text")).to_have_text(line("simulator40.tour.ok"))
        assert int(await narration.get_attribute("data-step") or 0) > shown
        await page.screenshot(path=str(SHOTS / "simulator-05-narration.png"))
        await tour.landline(desk)
        await expect(page.locator("#narration-text")).to_have_text(line("simulator40.tour.answer"))
    finally:
        await desk.close()


async def test_the_console_link_and_its_login_are_on_the_page(
    browser: Browser, demo: Demo
) -> None:
    page = await newcomer(browser, demo)
    link = page.locator("#console-link")
    console_url = f"http://127.0.0.1:{demo.settings.port}/admin/"
    await expect(link).to_have_attribute("href", console_url)
    await expect(page.locator("#console-name")).to_have_text(STAFF_NAME)
    await expect(page.locator("#console-password")).to_have_text(demo.desk_staff.password)
    # The presenter signs in with what the page shows: the code is the one an authenticator
    # would show at the demo's clock.
    async with page.context.expect_page() as opened:
        await link.click()
    console = await opened.value
    await console.wait_for_url(re.compile(r"/admin/login"))
    await console.fill("#name", await page.locator("#console-name").inner_text())
    await console.fill("#password", await page.locator("#console-password").inner_text())
    await console.get_by_role("button", name=demo.locale.t("admin.login.submit")).click()
    await console.wait_for_url(re.compile(r"/admin/login/code"))
    await console.fill("#code", await page.locator("#console-code").inner_text())
    await console.get_by_role("button", name=demo.locale.t("admin.signin.submit")).click()
    await console.wait_for_url(console_url)
    # The tour signs in with the same account afterwards: never with the step just shown.
    assert demo.simulator is not None
    desk = Console(
        f"http://127.0.0.1:{demo.settings.port}", demo.desk_staff, demo.clock.now, demo.codes
    )
    try:
        await desk.sign_in()
        assert await desk.open_cases() == []
    finally:
        await desk.close()


async def test_an_unanswered_landline_call_ends_and_the_bot_hears_it(
    browser: Browser, demo: Demo
) -> None:
    assert demo.simulator is not None
    demo.simulator.ring_seconds = 1.0  # Twilio's 30 seconds, shortened for the test
    page = await newcomer(browser, demo)
    desk = Console(f"http://127.0.0.1:{demo.settings.port}", demo.desk_staff, demo.clock.now)
    try:
        await Tour(demo.simulator, demo.locale, pace=0, console=desk).register_landline(desk)
    finally:
        await desk.close()
    await demo.simulator.advance_to_next_due()  # his landline rings
    (ring,) = demo.simulator.rings
    call = page.locator(f"[data-call='{ring.sid}']")
    # Numbers as people write them, not as Twilio dials them.
    await expect(call).to_contain_text(LANDLINE)
    await expect(call).not_to_contain_text("+81")
    # Nobody picks up: it stops ringing on its own, and Twilio's report reaches the bot.
    await expect(call.locator("[data-ended='no-answer']")).to_be_visible(timeout=10_000)
    await expect(call.locator(".keypad")).to_have_count(0)
    async with demo.bot_app[SERVICES].reading_repositories() as repos:
        assert await repos.calls.taken(ring.sid, "status:no-answer")
