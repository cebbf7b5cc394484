"""My page in the order a resident of 80 needs it (issue 40), in Debian's Chromium at a phone's
size: her card with its OK while a check-in waits, the schedule, a pause, who is told; the rest
after; calls and devices folded at the end. Checkboxes sit with their sentences, text at 200 %
keeps whole words, and axe finds nothing critical or serious.

The page's height and where the schedule and the pause start are printed (run with -s): the
figures in docs/features.md come from here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from playwright.async_api import Browser, BrowserContext, Page, expect

from care.rounds.protocol import Stage
from tests.conftest import LOGIN_CHANNEL, Bot
from tests.drivers import (
    SHOTS,
    alerted,
    axe_findings,
    run_to,
    stage,
    tokyo,
    told_safe,
    watched_resident,
)
from tests.drivers import (
    Page as Api,
)
from tests.fake_twilio import FakeTwilio, calling_through
from tests.wording import says, t

# A phone the size most residents hold (CSS pixels).
PHONE = {"width": 390, "height": 844}
# Where each part of her page starts, top to bottom, in the order she needs them.
ORDER = [
    "#my-card",
    "#schedule-form",
    "#pause",
    "#watchers",
    "#history",
    "#personal-form",
    "#memo-form",
    "#language-form",
    "#my-records",
    "#withdraw",
    "#calls-fold",
    "#devices-fold",
]
# Before issue 40, at 390x844 with a check-in waiting: 5,067 px long, the schedule at 2,678 px
# and お休み at 3,641 px. Now the schedule starts on the first screen, the pause on the second,
# and the page is no longer than it was.
SCHEDULE_BY = 844
PAUSE_BY = 2 * 844
HEIGHT_BY = 5067
# A value narrower than this many characters of its own text size is squeezed.
FEW_CHARACTERS = 4


async def open_my_page(
    browser: Browser, bot: Bot, uid: str, name: str, *, bypass_csp: bool = False
) -> tuple[BrowserContext, Page]:
    token = bot.line.issue_id_token(uid, name, LOGIN_CHANNEL)
    context = await browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="ja-JP",
        bypass_csp=bypass_csp,
    )
    page = await context.new_page()
    await page.add_init_script(f"window.__TEST_ID_TOKEN = {token!r};")
    await page.goto(str(bot.client.make_url("/liff/")))
    await expect(page.locator("#my-card")).to_be_visible()
    await page.wait_for_load_state("networkidle")
    return context, page


async def top(page: Page, selector: str) -> int:
    """Where an element starts on the page, in CSS pixels from the top."""
    return int(
        await page.locator(selector).evaluate("e => e.getBoundingClientRect().top + scrollY")
    )


async def figures(page: Page) -> dict[str, int]:
    return {
        "height": int(await page.evaluate("document.documentElement.scrollHeight")),
        "schedule": await top(page, "#schedule-form"),
        "pause": await top(page, "#pause"),
        "watchers": await top(page, "#watchers"),
    }


async def a_resident_with_a_check_in_waiting(bot: Bot) -> tuple[str, str]:
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    await Api(bot, resident, "resident").accept_terms()
    await run_to(bot, tokyo(11, 24, 9))
    return resident, son


async def test_her_page_puts_her_card_schedule_pause_and_watchers_first(
    browser: Browser, bot: Bot
) -> None:
    resident, son = await a_resident_with_a_check_in_waiting(bot)
    _, page = await open_my_page(browser, bot, resident, "resident")
    # (calls only where the deployment places them: not here)
    present = [selector for selector in ORDER if await page.locator(selector).count()]
    assert present == [selector for selector in ORDER if selector != "#calls-fold"]
    tops = [await top(page, selector) for selector in present]
    assert tops == sorted(tops), dict(zip(present, tops, strict=True))
    # The check-in waiting, on her card with its OK, on the first screen.
    await expect(page.locator("#waiting")).to_have_attribute("data-kind", "asked")
    ok = page.get_by_role("button", name=t("mypage40.ok_button"))
    box = await ok.bounding_box()
    assert box is not None and box["y"] + box["height"] <= PHONE["height"]
    assert box["height"] >= 60, "as large as the chat's OK"
    # Who is told, and what each of them sees of her.
    watchers = page.locator("#watchers")
    await expect(watchers.locator("li .name")).to_have_text("son")
    await expect(watchers.locator("li .shown-state")).to_have_text(t("share_back.not_shown"))
    # Calls and devices, which few use, are folded at the end.
    folded = page.locator("details.fold")
    assert await folded.count() >= 1
    for fold in await folded.all():
        assert await fold.get_attribute("open") is None
    # The words she reads are plain: no 会員ステータス, no いまの確認, no 「お知らせ中」 without
    # the OK that answers it.
    text = await page.inner_text("#my-card")
    assert t("liff.alert_open") not in text
    measured = await figures(page)
    print(
        f"\nMy page at {PHONE['width']}x{PHONE['height']}, a check-in waiting:"
        f" {measured['height']} px long, the schedule at {measured['schedule']} px,"
        f" the pause at {measured['pause']} px, who is told at {measured['watchers']} px"
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SHOTS / "40-mypage-order.png"), full_page=True)
    assert measured["schedule"] <= SCHEDULE_BY
    assert measured["pause"] <= PAUSE_BY
    assert measured["height"] <= HEIGHT_BY
    assert await axe_findings(page) == []


async def test_the_ok_on_her_card_answers_the_alert_and_her_son_hears_it(
    browser: Browser, bot: Bot
) -> None:
    resident, (son,) = await alerted(bot, ["son"])
    await Api(bot, resident, "resident").accept_terms()
    _, page = await open_my_page(browser, bot, resident, "resident")
    waiting = page.locator("#waiting")
    await expect(waiting).to_have_attribute("data-kind", "alerted")
    assert await axe_findings(page) == []
    await page.get_by_role("button", name=t("mypage40.ok_button")).click()
    status = page.locator("#status")
    await expect(status).to_contain_text(t("checkin.managers_told"))
    assert says(await status.inner_text(), "checkin.thanks"), "what the chat would reply"
    await expect(waiting).to_have_count(0)
    assert await stage(bot, resident) is Stage.SAFE
    assert len(told_safe(bot, son)) == 1


async def test_checkboxes_sit_with_their_sentences(
    browser: Browser, start_bot: Callable[..., Awaitable[Bot]], twilio: FakeTwilio
) -> None:
    bot = await start_bot(**calling_through(twilio, call_budget=30))
    resident, _ = await a_resident_with_a_check_in_waiting(bot)
    _, page = await open_my_page(browser, bot, resident, "resident")
    for fold in ("#calls-fold", "#devices-fold"):
        await page.locator(f"{fold} summary").click()
    for box, key in (
        ("#field-call_before_alert", "liff.call_before_alert"),
        ("#field-device_counts_as_ok", "liff.device_counts_as_ok"),
    ):
        checkbox = page.locator(box)
        # Inside its label, the sentence beside it on the same line, the box a box.
        label = page.locator(f"label:has({box})")
        await expect(label).to_have_text(t(key))
        placed = await checkbox.bounding_box()
        sentence = await label.locator("span").bounding_box()
        assert placed is not None and sentence is not None
        assert placed["width"] <= 48, f"{box} stretched to {placed['width']} px"
        assert sentence["x"] > placed["x"] + placed["width"]
        assert abs(sentence["y"] - placed["y"]) < placed["height"]
        # Tapping the sentence ticks the box.
        await label.locator("span").click()
        await expect(checkbox).to_be_checked()
    SHOTS.mkdir(parents=True, exist_ok=True)
    await page.locator("#calls-fold").screenshot(path=str(SHOTS / "40-mypage-checkbox.png"))
    assert await axe_findings(page) == []


# Two ways her text becomes twice as large: the browser's own text size (what a page that
# sizes its text relatively follows), and text zoom, which LINE's Android browser applies to
# every size, pixels included.
LARGE_TEXT = {
    "browser text size": None,
    "text zoom": "html { font-size: 36px !important }",
}


async def test_at_200_percent_text_no_value_runs_a_character_a_line(
    browser: Browser, start_bot: Callable[..., Awaitable[Bot]], twilio: FakeTwilio
) -> None:
    bot = await start_bot(**calling_through(twilio, call_budget=30))
    resident, _ = await a_resident_with_a_check_in_waiting(bot)
    for way, style in LARGE_TEXT.items():
        context, page = await open_my_page(
            browser, bot, resident, "resident", bypass_csp=style is not None
        )
        if style is None:
            session = await context.new_cdp_session(page)
            await session.send("Page.setFontSizes", {"fontSizes": {"standard": 32, "fixed": 26}})
        else:
            await page.add_style_tag(content=style)
        for fold in await page.locator("details.fold").all():
            await fold.evaluate("details => { details.open = true; }")
        size = await page.evaluate("getComputedStyle(document.documentElement).fontSize")
        assert size == "36px", f"{way}: the page's text is {size}, not twice 18 px"
        squeezed = await narrowest(page)
        print(f"\nMy page at 200 % text ({way}): the narrowest text is {squeezed}")
        assert squeezed["characters"] >= FEW_CHARACTERS, f"{way}: {squeezed}"
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{way}: scrolls sideways ({width} px)"
        await page.screenshot(
            path=str(SHOTS / f"40-mypage-200-{way.replace(' ', '-')}.png"), full_page=True
        )
        await context.close()


async def narrowest(page: Page) -> dict[str, Any]:
    """The narrowest box of text on the page, in characters of its own size: every value,
    label, line and button that holds a few characters or more."""
    found: dict[str, Any] = await page.evaluate(
        """() => {
          const boxes = [...document.querySelectorAll(
            'nav a, #content :is(dt, dd, p, li, label, button, h1, h2, summary, span)')];
          let least = {characters: Infinity, text: ''};
          for (const box of boxes) {
            const text = box.textContent.trim();
            const rect = box.getBoundingClientRect();
            if (text.length < 4 || rect.width === 0) continue;
            const size = parseFloat(getComputedStyle(box).fontSize);
            const characters = rect.width / size;
            if (characters < least.characters) {
              least = {characters: Math.round(characters * 10) / 10, text: text.slice(0, 20),
                tag: box.tagName};
            }
          }
          return least;
        }"""
    )
    return found
