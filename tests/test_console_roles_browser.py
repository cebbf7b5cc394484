"""Console roles in Debian's Chromium: a 窓口 and a 閲覧 account each see only their own pages
in the navigation, and a forbidden URL typed in answers with the 403 page."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from admin.render import NAV_LINKS
from storage.models import StaffRole
from tests.conftest import Bot
from tests.drivers import SHOTS, axe_findings, console_page, watched_resident
from tests.wording import t

# What each opens, as docs/security.md tells a city's reviewer.
PAGES = {
    StaffRole.DESK: [
        "dashboard",
        "alerts",
        "desk",
        "people",
        "partners",
        "roster",  # the register's people it may see now (care.roster.visibility)
        "guides",
        "second_factor",
    ],
    StaffRole.VIEWER: ["dashboard", "quota", "report", "guides", "second_factor"],
}
FORBIDDEN = {
    StaffRole.DESK: [
        "/export/members.csv",
        "/export/cases.csv",
        "/teams",
        "/rollcalls",
        "/audit",
        "/roster/import",
    ],
    StaffRole.VIEWER: [
        "/alerts",
        "/desk",
        "/people",
        "/people/1",
        "/export/cases.csv",
        "/audit",
        "/roster",
    ],
}


async def test_desk_and_viewer_see_only_their_pages(browser: Browser, bot: Bot) -> None:
    await watched_resident(bot, "resident", ["son"])
    SHOTS.mkdir(parents=True, exist_ok=True)
    for role, keys in PAGES.items():
        page, base = await console_page(browser, bot, f"staff-{role.value}", role)
        role_name = t(f"admin.access.role.{role.value}")
        await expect(page.locator("#staff-role")).to_have_text(
            t("admin.access.as_role", role=role_name)
        )
        links = page.get_by_role("navigation").get_by_role("link")
        await expect(links).to_have_text([t(f"admin.nav.{key}") for key in keys])
        assert {key for _, key in NAV_LINKS} >= set(keys)
        # Each page it may open opens, with the same navigation, and passes axe (its record
        # is part of the console's 試験結果, docs/accessibility/results.md).
        findings = await axe_findings(page, f"console-{role.value}-{keys[0]}")
        for key in keys[1:]:
            await links.filter(has_text=t(f"admin.nav.{key}")).click()
            await expect(page.locator("h1")).not_to_have_text(t("admin.access.forbidden_title"))
            await expect(links).to_have_count(len(keys))
            # Read only once the new page is the one shown.
            current = page.locator('header nav a[aria-current="page"]')
            await expect(current).to_have_text(t(f"admin.nav.{key}"))
            findings += await axe_findings(page, f"console-{role.value}-{key}")
        assert findings == [], "\n".join(findings)
        for path in FORBIDDEN[role]:
            response = await page.goto(base + path)
            assert response is not None and response.status == 403, (role, path)
            await expect(page.locator("h1")).to_have_text(t("admin.access.forbidden_title"))
            await expect(
                page.get_by_text(t("admin.access.forbidden", role=role_name))
            ).to_be_visible()
            await expect(links).to_have_count(len(keys))
        await page.screenshot(
            path=str(SHOTS / f"admin-roles-{role.value}-403.png"), full_page=True
        )
        assert await axe_findings(page) == []
        await page.context.close()
