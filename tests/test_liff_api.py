"""My page's API: verified by LINE, authorised on the server, in the deployment's brand."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from tests import line_webhook as hook
from tests.conftest import Bot
from tests.drivers import ALERT, Page, checkins_to, join, page_for, run_to, tokyo, watched_resident
from tests.wording import JA, said, says, t, when

VERIFY = "/oauth2/v2.1/verify"


async def test_tokens_are_verified_by_line_and_cached(bot: Bot) -> None:
    page = await page_for(bot, "resident", terms=False)
    status, me = await page.call("GET", "/liff/api/me")
    assert status == 200 and me["member"]["id"] == 1 and me["terms_accepted"] is False
    verifications = len([c for c in bot.line.calls if c.path == VERIFY])
    await page.call("GET", "/liff/api/me")
    assert len([c for c in bot.line.calls if c.path == VERIFY]) == verifications, "cached"

    response = await bot.client.get("/liff/api/me")
    assert response.status == 401
    for bad in ("forged-token", bot.line.issue_id_token(page.uid, "x", "9999999999")):
        status, body = await page.call("GET", "/liff/api/me", Authorization=f"Bearer {bad}")
        assert status == 401 and body["error"] == "invalid_token"

    bot.line.lenient_audience = True  # LINE says yes: the server's own audience check says no
    other = bot.line.issue_id_token(page.uid, "x", "9999999999")
    status, _ = await page.call("GET", "/liff/api/me", Authorization=f"Bearer {other}")
    assert status == 401

    bot.clock.advance(timedelta(hours=2))  # past the token's expiry: the cache lets go too
    status, _ = await page.call("GET", "/liff/api/me")
    assert status == 401


async def test_the_user_id_comes_only_from_the_token(bot: Bot) -> None:
    mallory = await page_for(bot, "mallory")
    victim = await page_for(bot, "victim")
    status, _ = await mallory.call(
        "PUT",
        "/liff/api/me/personal",
        {"full_name": "書き換え", "user_id": victim.uid, "member_id": 2},
    )
    assert status == 200
    _, body = await victim.call("GET", "/liff/api/me")
    assert body["member"]["personal"]["full_name"] == ""


async def test_terms_must_be_accepted_once_and_are_recorded(bot: Bot) -> None:
    page = await page_for(bot, "resident", terms=False)
    status, body = await page.call("PUT", "/liff/api/me/personal", {"full_name": "山田"})
    assert status == 403 and body["error"] == "terms_not_accepted"
    await page.accept_terms()
    async with bot.repos() as repos:
        member = await repos.members.by_line_id(page.uid)
    assert member is not None and member.terms_accepted_at == bot.clock.now()
    assert (await page.call("PUT", "/liff/api/me/personal", {"full_name": "山田"}))[0] == 200


async def test_member_card_and_personal_fields(bot: Bot) -> None:
    page = await page_for(bot, "resident")
    _, me = await page.call("GET", "/liff/api/me")
    card = me["member"]
    assert card["registered"] == when(tokyo(11, 23, 9)) and card["status"] == t(
        "status.member.active"
    )
    assert card["personal"] == dict.fromkeys(
        ("full_name", "furigana", "gender", "birth_date", "phone", "address"), ""
    )
    fields = {
        "full_name": "山田 花子",
        "furigana": "やまだ はなこ",
        "gender": "female",
        "birth_date": "1948-04-01",
        "phone": "090-1234-5678",
        "address": "東京都千代田区千代田1-1",
    }
    assert (await page.call("PUT", "/liff/api/me/personal", fields))[0] == 200
    _, me = await page.call("GET", "/liff/api/me")
    assert me["member"]["personal"] == fields

    for bad in (
        {"phone": "call me"},
        {"birth_date": "2030-01-01"},
        {"gender": "x"},
        {"full_name": "x" * 51},
        {"address": "x" * 101},
        {"address": "1-1\u202e"},
        {"birth_date": "yesterday"},
    ):
        status, body = await page.call("PUT", "/liff/api/me/personal", {**fields, **bad})
        assert status == 400 and set(body["fields"]) == set(bad)
    _, me = await page.call("GET", "/liff/api/me")
    assert me["member"]["personal"] == fields, "nothing changed"

    response = await bot.client.put(
        "/liff/api/me/personal",
        data="full_name=x",
        headers={
            "Authorization": f"Bearer {page.token}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    assert response.status == 415, "a cross-site form cannot post"


async def test_schedule_pause_and_resume(bot: Bot) -> None:
    resident, (manager,) = await watched_resident(bot, "resident", ["son"])
    page = Page(bot, resident, "resident")
    await page.accept_terms()
    status, _ = await page.call("PUT", "/liff/api/me/schedule", {"interval_days": 3, "hour": 11})
    assert status == 200
    _, me = await page.call("GET", "/liff/api/me")
    assert me["member"]["schedule"] == JA.schedule(3, 11) and me["member"]["watchers"] == ["son"]
    for bad in ({"interval_days": 4, "hour": 11}, {"interval_days": 3, "hour": 24}, {}):
        assert (await page.call("PUT", "/liff/api/me/schedule", bad))[0] == 400

    await run_to(bot, tokyo(11, 24, 11))
    assert len(checkins_to(bot, resident)) == 1
    page.renew()
    status, _ = await page.call("POST", "/liff/api/me/pause", {"until": "2026-12-01"})
    assert status == 200
    assert says(bot.line.texts_to(manager)[-1], "stopped.paused", until=when(tokyo(12, 1, 11)))
    _, me = await page.call("GET", "/liff/api/me")
    assert me["member"]["paused_until"] == "2026-12-01"
    # The pause written as every surface writes dates.
    assert JA.day(tokyo(12, 1, 11).date()) in me["member"]["paused_label"]
    await run_to(bot, tokyo(11, 25, 11))
    await run_to(bot, tokyo(11, 25, 14))
    assert len(checkins_to(bot, resident)) == 1, "the open round ended, no re-send"
    assert not any(ALERT in t for t in bot.line.texts_to(manager))
    await run_to(bot, tokyo(11, 30, 11))
    assert len(checkins_to(bot, resident)) == 1
    await run_to(bot, tokyo(12, 1, 11))
    assert len(checkins_to(bot, resident)) == 2, "back on the date, at the hour"
    page.renew()

    for bad in ("2026-11-01", "2028-01-01", "soon"):
        assert (await page.call("POST", "/liff/api/me/pause", {"until": bad}))[0] == 400
    assert (await page.call("POST", "/liff/api/me/pause", {"until": "2026-12-10"}))[0] == 200
    assert (await page.call("POST", "/liff/api/me/resume", {}))[0] == 200
    _, me = await page.call("GET", "/liff/api/me")
    assert me["member"]["paused_until"] is None and me["member"]["next"] == when(tokyo(12, 2, 11))

    assert (await page.call("POST", "/liff/api/me/stop", {}))[0] == 200
    _, me = await page.call("GET", "/liff/api/me")
    assert me["member"]["schedule"] == t("schedule.none")
    assert says(bot.line.texts_to(manager)[-1], "stopped.stopped", name="resident")


async def test_who_may_see_whom(bot: Bot) -> None:
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    other_resident, (other_manager,) = await watched_resident(bot, "other", ["stranger"])
    pages = {
        name: Page(bot, uid, name)
        for name, uid in (
            ("resident", resident),
            ("son", son),
            ("other", other_resident),
            ("stranger", other_manager),
        )
    }
    for page in pages.values():
        await page.accept_terms()
    await pages["resident"].call("PUT", "/liff/api/me/personal", {"phone": "03-1234-5678"})

    status, body = await pages["son"].call("GET", "/liff/api/members/1")
    assert status == 200 and body["member"]["personal"] is None, "not before she agrees"
    assert body["member"]["own"] is False
    await bot.tap_action(resident, "share_personal", m=2)
    status, body = await pages["son"].call("GET", "/liff/api/members/1")
    assert status == 200 and body["member"]["personal"]["phone"] == "03-1234-5678"
    for viewer in ("stranger", "other"):
        status, body = await pages[viewer].call("GET", "/liff/api/members/1")
        assert status == 403 and "member" not in body
    status, _ = await pages["resident"].call("GET", "/liff/api/members/2")  # her son: not a user
    assert status == 403

    # Teams: only one's own, and invites only to members.
    _, body = await pages["stranger"].call("GET", "/liff/api/teams")
    assert [t["name"] for t in body["teams"]] == ["otherの家族"]
    for path in ("/liff/api/teams/1/rotate", "/liff/api/teams/1/leave"):
        status, body = await pages["stranger"].call("POST", path, {"role": "user"})
        assert status == 403 and body["error"] == "not_a_member"
    _, body = await pages["son"].call("GET", "/liff/api/teams")
    (team,) = body["teams"]
    assert {m["name"]: m["role"] for m in team["members"]} == {
        "resident": "user",
        "son": "manager",
    }
    user = next(m for m in team["members"] if m["role"] == "user")
    assert user["last_ok"] == t("time.never") and user["alert_open"] is False
    _, resident_view = await pages["resident"].call("GET", "/liff/api/teams")
    assert "last_ok" not in str(resident_view["teams"][0]["members"]), "users see no one's OKs"


async def test_teams_from_my_page_and_invites(bot: Bot) -> None:
    page = await page_for(bot, "daughter")
    status, body = await page.call(
        "POST", "/liff/api/teams", {"name": "母の見守り", "role": "manager"}
    )
    assert status == 201
    _, body = await page.call("GET", "/liff/api/teams")
    (team,) = body["teams"]
    invite = team["invites"]["user"]
    assert invite["code"] in invite["text"] and invite["link"].startswith(
        "https://line.me/R/oaMessage/"
    )
    response = await bot.client.get(invite["qr"] + "&download=1")
    assert response.status == 200
    assert response.headers["Content-Disposition"].startswith("attachment")

    assert (await page.call("POST", f"/liff/api/teams/{team['id']}/rotate", {"role": "user"}))[
        0
    ] == 200
    _, body = await page.call("GET", "/liff/api/teams")
    assert body["teams"][0]["invites"]["user"]["code"] != invite["code"]
    assert body["teams"][0]["invites"]["manager"]["code"] == team["invites"]["manager"]["code"]
    for bad in ({"name": "", "role": "user"}, {"name": "x", "role": "boss"}):
        assert (await page.call("POST", "/liff/api/teams", bad))[0] == 400
    assert (await page.call("POST", f"/liff/api/teams/{team['id']}/leave", {}))[0] == 200
    _, body = await page.call("GET", "/liff/api/teams")
    assert body["teams"] == []


async def test_withdrawing_deletes_personal_fields_and_memberships(bot: Bot) -> None:
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    page = Page(bot, resident, "resident")
    await page.accept_terms()
    await page.call(
        "PUT", "/liff/api/me/personal", {"full_name": "山田 花子", "phone": "0312345678"}
    )
    await page.call("PUT", "/liff/api/me/memo", {"memo": "鍵は植木鉢の下"})
    await bot.say(resident, "今日は病院の日です")
    await bot.tap_action(resident, "share_personal", m=2)  # her son may see her details
    assert (await page.call("POST", "/liff/api/me/withdraw", {}))[0] == 400, "needs confirming"
    assert (await page.call("POST", "/liff/api/me/withdraw", {"confirm": True}))[0] == 200
    _, me = await page.call("GET", "/liff/api/me")
    assert set(me["member"]["personal"].values()) == {""}
    assert me["member"]["schedule"] == t("schedule.none")
    async with bot.repos() as repos:
        member = await repos.members.by_line_id(resident)
        assert member is not None and await repos.teams.teams_of(member.id) == []
        assert member.display_name == "" and member.emergency_memo == ""
        exported = await repos.stats.members_export()
        assert member.id not in [row["id"] for row in exported], "not listed as a member"
        audit = await repos.admin.audit_log()
    assert said(bot.line.texts_to(son), "stopped.withdrawn", name="resident")
    assert any(e["action"] == "member_withdrew" and str(member.id) in e["detail"] for e in audit)
    # Their words are gone from the stored webhook events (the events' ids stay, for dedup).
    async with bot.repos() as repos:
        payloads = await repos.conn.fetch_all("SELECT payload FROM webhook_events")
        (withdrawn_at,) = await repos.conn.fetch_one(
            "SELECT withdrawn_at FROM members WHERE id = ?", (member.id,)
        )
        (shares,) = await repos.conn.fetch_one(
            "SELECT COUNT(*) FROM personal_shares WHERE user_id = ?", (member.id,)
        )
    stored = " ".join(row[0] for row in payloads)
    assert "病院" not in stored and resident not in stored
    assert withdrawn_at is not None, "the record says when it happened"
    assert shares == 0, "consent ends with the membership"

    # Coming back: a new follow is a member again.
    await bot.post(hook.follow(resident, bot.clock.now()))
    async with bot.repos() as repos:
        assert member.id in [row["id"] for row in await repos.stats.members_export()]


async def test_pages_have_security_headers_and_no_user_data(bot: Bot) -> None:
    for path in ("/liff/", "/liff/teams", "/liff/terms"):
        response = await bot.client.get(path)
        assert response.status == 200
        page = await response.text()
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert bot.line.url in csp  # the (stand-in) SDK's origin may run scripts
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert t("liff.loading") in page and "<noscript>" in page
        assert "みまもり 利用規約" in page
    response = await bot.client.get("/liff/api/me")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_branding_comes_from_the_deployment_folder(
    start_bot: Callable[..., Awaitable[Bot]], tmp_path: Path
) -> None:
    brand = tmp_path / "brand"
    brand.mkdir()
    (brand / "service.toml").write_text(
        'name = "あんしん見守り〇〇市"\ncontact = "〇〇市 福祉課 00-0000-0000"\n'
        '[colours]\nprimary = "#003366"\ntext = "red; } body { display:none"\n'
    )
    (brand / "terms.md").write_text("# 〇〇市 利用規約\n\n<script>alert(1)</script>\n- 第1条\n")
    bot = await start_bot(branding=brand)
    page = await (await bot.client.get("/liff/")).text()
    assert "あんしん見守り〇〇市" in page and "〇〇市 福祉課" in page
    assert "〇〇市 利用規約" in page and "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page
    css = await (await bot.client.get("/liff/brand.css")).text()
    assert "--primary:#003366" in css and "display:none" not in css
    assert "--background:#fbfaf6" in css  # missing pieces fall back to the defaults
    banner = await bot.client.get("/liff/banner")
    assert banner.headers["Content-Type"] == "image/svg+xml"  # no banner.png: the default

    png = bytes.fromhex("89504e470d0a1a0a")
    (brand / "banner.png").write_bytes(png)
    banner = await bot.client.get("/liff/banner")  # no restart, no rebuild
    assert banner.headers["Content-Type"] == "image/png" and await banner.read() == png


async def test_without_a_login_channel_the_api_says_so(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await start_bot(login_channel_id=None)
    response = await bot.client.get("/liff/api/me", headers={"Authorization": "Bearer x"})
    assert response.status == 503
    assert (await response.json())["error"] == "liff_not_configured"


async def test_a_manager_joins_from_a_code_made_on_my_page(bot: Bot) -> None:
    resident = await page_for(bot, "resident")
    await resident.call("POST", "/liff/api/teams", {"name": "わが家", "role": "user"})
    _, body = await resident.call("GET", "/liff/api/teams")
    code = body["teams"][0]["invites"]["manager"]["code"]
    son = await bot.follow("son")
    await join(bot, son, code)
    _, body = await resident.call("GET", "/liff/api/teams")
    assert len(body["teams"][0]["members"]) == 2


async def test_personal_data_is_never_cached_and_https_is_sticky(bot: Bot) -> None:
    page = await page_for(bot, "resident")
    response = await bot.client.get(
        "/liff/api/me",
        headers={"Authorization": f"Bearer {page.token}", "X-Forwarded-Proto": "https"},
    )
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    refused = await bot.client.get("/liff/api/me")
    assert refused.status == 401 and refused.headers["Cache-Control"] == "no-store"


async def test_personal_fields_are_normalised_or_refused_the_same_way(bot: Bot) -> None:
    page = await page_for(bot, "resident")
    for birth in ("19400203", "2020-W01-1", "1940-2-3"):
        status, body = await page.call("PUT", "/liff/api/me/personal", {"birth_date": birth})
        assert (status, body["fields"]) == (400, {"birth_date": "not_a_date"}), birth
    for name in ("山田\u202e子花", "山\u200b田"):
        status, body = await page.call("PUT", "/liff/api/me/personal", {"full_name": name})
        assert (status, body["fields"]) == (400, {"full_name": "hidden_characters"}), name
    status, body = await page.call("PUT", "/liff/api/me/memo", {"memo": "鍵は\u202e隣"})
    assert (status, body["error"]) == (400, "invalid_memo")
    assert (await page.call("PUT", "/liff/api/me/personal", {"full_name": "ＹＡＭＡＤＡ"}))[
        0
    ] == 200
    _, me = await page.call("GET", "/liff/api/me")
    assert me["member"]["personal"]["full_name"] == "YAMADA", "NFKC, as team names"


def test_every_refusal_has_an_http_answer() -> None:
    """A refusal whose status had no answer became a 500 (a test past its daily rate, an
    expired code): each status the refusals name is one the API can send."""
    from liff.api.guard import ERRORS, REFUSALS

    assert {status for status, _ in REFUSALS.values()} <= set(ERRORS)
