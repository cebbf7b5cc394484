"""The desk's work on a case counted as a keyboard user does it (and by mouse): keys and clicks to
take a case, log a call, ask a partner to visit and close it, from the case page as it loads
after each step. Printed (run with -s) and held under a ceiling; the figures are in
docs/features.md (the desk)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from playwright.async_api import Browser, Page

from tests.conftest import Bot
from tests.drivers import alerted, console_page, run_to, team_of, tokyo

# Each step's controls, by what they do (not by their wording, which changed): the form's
# action, the radio's value.
TAKE = "form:has(input[name=action][value=take]) button[type=submit]"
CALL_RESULT = "input[name=result][value=no_answer]"
CALL_SEND = "form:has(input[name=action][value=call]) button[type=submit]"
VISIT_SEND = "#ask-visit button[type=submit]"
OUTCOME = "input[name=outcome][value=asleep]"
CLOSE_SEND = "form:has(input[name=action][value=close]) button[type=submit]"
# The same run on the case page before issue 40 reordered it (take after 訪問を依頼する, the
# page opening at its top after each step): keys, clicks.
BEFORE = {"take": (8, 1), "call": (11, 2), "visit": (7, 1), "close": (19, 3)}
# Ceilings: what the case page asks now.
KEYS_CEILING = {"take": 4, "call": 5, "visit": 3, "close": 9}
TAB_LIMIT = 120


@dataclass
class Count:
    keys: int = 0
    clicks: int = 0


async def _is(page: Page, selector: str) -> bool:
    return bool(
        await page.evaluate(
            "s => document.activeElement !== null && document.activeElement.matches(s)",
            selector,
        )
    )


async def _press(page: Page, count: Count, key: str) -> None:
    await page.keyboard.press(key)
    count.keys += 1


async def _start(page: Page, count: Count) -> None:
    """Where a keyboard user begins on a page that just loaded: where the page put them (a
    fragment it moved focus to), or else the skip link and Enter, into the content."""
    if await page.evaluate("document.activeElement && document.activeElement !== document.body"):
        return
    if await page.evaluate("location.hash !== ''"):
        return  # Tab continues from the fragment's target
    await _press(page, count, "Tab")
    await _press(page, count, "Enter")


async def _tab_to(page: Page, count: Count, selector: str) -> None:
    for _ in range(TAB_LIMIT):
        if await _is(page, selector):
            return
        await _press(page, count, "Tab")
    raise AssertionError(f"Tab never reached {selector}")


async def _radio(page: Page, count: Count, selector: str) -> None:
    """Tab into the radio group, then arrows to the one meant (an arrow checks it)."""
    name = await page.locator(selector).get_attribute("name")
    await _tab_to(page, count, f"input[type=radio][name={name}]")
    for _ in range(20):
        if await page.locator(selector).is_checked():
            return
        await _press(page, count, "ArrowRight")
    raise AssertionError(f"arrows never reached {selector}")


async def _loaded(page: Page) -> None:
    await page.wait_for_load_state("load")


async def keyboard_counts(page: Page, case_url: str) -> dict[str, Count]:
    counts = {name: Count() for name in ("take", "call", "visit", "close")}
    page.on("dialog", lambda dialog: dialog.accept())
    await page.goto(case_url)
    count = counts["take"]
    await _start(page, count)
    await _tab_to(page, count, TAKE)
    async with page.expect_navigation():
        await _press(page, count, "Enter")
    await _loaded(page)

    count = counts["call"]
    await _start(page, count)
    await _radio(page, count, CALL_RESULT)
    await _tab_to(page, count, CALL_SEND)
    async with page.expect_navigation():
        await _press(page, count, "Enter")
    await _loaded(page)

    count = counts["visit"]
    await _start(page, count)
    await _tab_to(page, count, VISIT_SEND)
    async with page.expect_navigation():
        await _press(page, count, "Enter")
    await _loaded(page)

    count = counts["close"]
    await _start(page, count)
    await _radio(page, count, OUTCOME)
    await _tab_to(page, count, CLOSE_SEND)
    async with page.expect_navigation():
        await _press(page, count, "Enter")  # the confirmation is accepted: one more key
    count.keys += 1
    await _loaded(page)
    return counts


async def mouse_counts(page: Page, case_url: str) -> dict[str, Count]:
    counts = {name: Count() for name in ("take", "call", "visit", "close")}
    await page.goto(case_url)
    for name, selectors in (
        ("take", [TAKE]),
        ("call", [CALL_RESULT, CALL_SEND]),
        ("visit", [VISIT_SEND]),
        ("close", [OUTCOME, CLOSE_SEND]),
    ):
        count = counts[name]
        for selector in selectors[:-1]:
            await page.locator(selector).click()
            count.clicks += 1
        async with page.expect_navigation():
            await page.locator(selectors[-1]).click()
        count.clicks += 1
        if name == "close":
            count.clicks += 1  # the confirmation's OK
        await _loaded(page)
    return counts


async def _case_with_a_partner(bot: Bot) -> int:
    resident, _ = await alerted(bot, ["son"])
    await run_to(bot, tokyo(11, 25, 13))
    await run_to(bot, tokyo(11, 25, 14, 1))
    team_id = await team_of(bot, resident)
    async with bot.repos() as repos:
        await repos.partners.add(
            "みどり町の民生委員", "minsei", "", "", [team_id], tokyo(11, 1, 9)
        )
        row = await repos.conn.fetch_one("SELECT MAX(id) FROM desk_cases", ())
    assert row is not None and row[0] is not None
    return int(row[0])


async def test_keys_and_clicks_for_the_work_on_a_case(
    browser: Browser, start_bot: Callable[..., Awaitable[Bot]]
) -> None:
    bot = await start_bot(desk_after=timedelta(hours=1))
    case_id = await _case_with_a_partner(bot)
    page, base = await console_page(browser, bot, "desk-a")
    # The work comes first in the page, in its order: take, call, visit, note, close.
    await page.goto(f"{base}/desk/{case_id}")
    order = await page.evaluate(
        """() => [...document.querySelectorAll("main form")].map(form =>
            form.id === "ask-visit" ? "visit" : form.querySelector("[name=action]").value)"""
    )
    assert order == ["take", "call", "visit", "note", "close"], order
    keys = await keyboard_counts(page, f"{base}/desk/{case_id}")
    # A second case for the mouse.
    async with bot.repos() as repos:
        await repos.conn.execute(
            "INSERT INTO desk_cases (member_id, reason, urgent, opened_at)"
            " SELECT member_id, 'untaken', 0, opened_at FROM desk_cases WHERE id = ?",
            (case_id,),
        )
        row = await repos.conn.fetch_one("SELECT MAX(id) FROM desk_cases", ())
    assert row is not None
    clicks = await mouse_counts(page, f"{base}/desk/{row[0]}")
    for name in keys:
        was_keys, was_clicks = BEFORE[name]
        print(
            f"desk {name}: {keys[name].keys} keys, {clicks[name].clicks} clicks"
            f" (before: {was_keys} keys, {was_clicks} clicks)"
        )
    over = {n: c.keys for n, c in keys.items() if c.keys > KEYS_CEILING[n]}
    assert over == {}, over
    assert {n: c.clicks for n, c in clicks.items()} == {
        "take": 1,
        "call": 2,
        "visit": 1,
        "close": 3,
    }
