"""わたしの記録 (issue 38): everything held about a person, on My page and as JSON and CSV that
say the same; only hers; the console's copy for a paper request is 運用管理's and audited; 退会
on My page revokes the LIFF app's LINE Login authorization with her access token."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from playwright.async_api import Browser

from storage.models import StaffRole
from tests.conftest import LOGIN_CHANNEL, Bot
from tests.drivers import (
    alerted,
    axe_findings,
    csrf,
    member_of,
    other_staff,
    staff_signed_in,
)
from tests.wording import JA, t

LOGIN_SECRET = "test-login-channel-secret"
DEAUTHORIZE = "/user/v1/deauthorize"
PHONE = {"width": 375, "height": 740}


@pytest.fixture
async def bot(start_bot: Callable[..., Awaitable[Bot]]) -> Bot:
    # With the LINE Login channel's secret, as a deployment that revokes on 退会 has it.
    return await start_bot(login_channel_secret=LOGIN_SECRET)


class MyPage:
    """A person's My page calls, with her ID token (as tests/drivers.Page, plus raw files)."""

    def __init__(self, bot: Bot, uid: str, name: str) -> None:
        self.bot, self.uid = bot, uid
        self.token = bot.line.issue_id_token(uid, name, LOGIN_CHANNEL)

    async def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        response = await self.bot.client.request(
            method, path, json=body, headers={"Authorization": f"Bearer {self.token}"}
        )
        await self.bot.settle()
        data = await response.json() if response.content_type == "application/json" else None
        return response.status, data

    async def file(self, kind: str) -> tuple[int, str, str]:
        response = await self.bot.client.get(
            f"/liff/api/me/records/download?format={kind}",
            headers={"Authorization": f"Bearer {self.token}"},
        )
        return (
            response.status,
            response.headers.get("Content-Disposition", ""),
            await response.text(),
        )


async def opened(bot: Bot, uid: str, name: str) -> MyPage:
    page = MyPage(bot, uid, name)
    assert (await page.call("POST", "/liff/api/terms", {}))[0] == 200
    return page


def csv_cells(text: str) -> list[list[str]]:
    assert text.startswith("\ufeff"), "a BOM, for spreadsheets in Japan"
    return list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))


def agrees(record: dict[str, Any], csv_text: str) -> None:
    """The CSV holds exactly the record's values, cell for cell."""
    expected = [["section", "row", "field", "value"]]
    expected += [
        ["record", "0", key, str(record[key])]
        for key in ("member_id", "made_at", "withheld_notes")
    ]
    for name, rows in record["sections"].items():
        for number, row in enumerate(rows, start=1):
            for field in record["fields"][name]:
                value = row[field]
                if value[:1] in ("=", "+", "-", "@"):
                    value = "'" + value
                expected.append([name, str(number), field, value])
    assert csv_cells(csv_text) == expected


def value_in(record: dict[str, Any], section: str, field: str) -> str:
    """One item of the profile or the schedule."""
    return {row["field"]: row["value"] for row in record["sections"][section]}.get(field, "")


async def her_alerted_record(bot: Bot) -> tuple[str, list[str], MyPage, dict[str, Any]]:
    """A resident with two managers, one shown her details; an alert about her; a device."""
    resident, managers = await alerted(bot, ["son", "daughter"])
    page = await opened(bot, resident, "resident")
    fields = {"full_name": "山田 花子", "phone": "090-1234-5678", "address": "みまもり市1-2-3"}
    assert (await page.call("PUT", "/liff/api/me/personal", fields))[0] == 200
    assert (await page.call("PUT", "/liff/api/me/memo", {"memo": "合鍵は植木鉢の下"}))[0] == 200
    status, device = await page.call(
        "POST", "/liff/api/me/devices", {"label": "電気ポット", "counts_as_ok": False}
    )
    assert status == 200
    her, son = await member_of(bot, resident), await member_of(bot, managers[0])
    async with bot.repos() as repos:
        await repos.teams.share_personal(her.id, son.id, bot.clock.now())
    status, body = await page.call("GET", "/liff/api/me/records")
    assert status == 200
    return resident, managers, page, body["record"]


async def test_the_record_holds_what_is_kept_about_her_and_the_files_say_the_same(
    bot: Bot,
) -> None:
    resident, managers, page, record = await her_alerted_record(bot)
    sections = record["sections"]
    assert value_in(record, "profile", "full_name") == "山田 花子"
    assert value_in(record, "profile", "emergency_memo") == "合鍵は植木鉢の下"
    assert value_in(record, "profile", "line_user_id") == resident
    assert [row["team"] for row in sections["teams"]] == ["residentの家族"]
    # Who watches her and what each sees: her details only to the one she showed them to.
    sees = {row["name"]: row["sees"].split() for row in sections["watchers"]}
    assert set(sees) == {"son", "daughter"}
    assert "phone" in sees["son"] and "memo" in sees["son"]
    assert sees["daughter"] == ["state", "history"]
    # Her rounds, the alert, and who was told (named, never their LINE ids).
    assert len(sections["answers"]) >= 1 and sections["alerts"][0]["alerted_at"]
    told = [row for row in sections["told"] if row["purpose"] == "alert"]
    assert told and {"son", "daughter"} <= {n for row in told for n in row["to"].split(" / ")}
    assert [row["label"] for row in sections["devices"]] == ["電気ポット"]
    text = json.dumps(record, ensure_ascii=False)
    for manager in managers:
        assert manager not in text, "another person's LINE id is never in her record"
    async with bot.repos() as repos:
        (device,) = await repos.devices.of_member(record["member_id"])
        hashed = (await repos.conn.fetch_one("SELECT token_hash FROM devices"))[0]
    assert device.label == "電気ポット" and hashed not in text

    # The JSON file is the page's record; the CSV says the same, value for value.
    status, disposition, body = await page.file("json")
    assert status == 200 and "attachment" in disposition
    assert json.loads(body) == record
    status, _, body = await page.file("csv")
    assert status == 200
    agrees(record, body)
    assert (await page.file("xml"))[0] == 400


async def test_only_her_own_record_whatever_id_is_asked_for(bot: Bot) -> None:
    resident, managers, page, record = await her_alerted_record(bot)
    son = await opened(bot, managers[0], "son")
    her_id = record["member_id"]
    for path in (
        f"/liff/api/me/records?member_id={her_id}",
        f"/liff/api/me/records?user_id={resident}",
    ):
        status, body = await son.call("GET", path)
        assert status == 200 and body["record"]["member_id"] != her_id
        text = json.dumps(body, ensure_ascii=False)
        assert "山田 花子" not in text and "合鍵" not in text and "電気ポット" not in text
    for path in (f"/liff/api/me/records/{her_id}", f"/liff/api/members/{her_id}/records"):
        assert (await son.call("GET", path))[0] == 404
    _, _, csv_text = await son.file("csv")
    assert "山田 花子" not in csv_text and "090-1234-5678" not in csv_text
    # Without LINE's token, nothing at all.
    response = await bot.client.get("/liff/api/me/records/download?format=json")
    assert response.status == 401


async def test_the_console_produces_the_same_for_a_paper_request_operator_only_audited(
    bot: Bot,
) -> None:
    _, _, _, record = await her_alerted_record(bot)
    her_id = record["member_id"]
    await staff_signed_in(bot, "officer")
    page = await (await bot.client.get(f"/admin/records?member_id={her_id}")).text()
    assert t("admin.my_records.title") in page
    token = await csrf(bot.client, "/admin/records")

    async def produce(client: Any, **form: str) -> Any:
        return await client.post("/admin/records", data={"csrf_token": token, **form})

    # No reference, or nobody with that id: said, and nothing produced or audited.
    response = await produce(bot.client, member_id=str(her_id), reference="", format="json")
    assert response.status == 400 and t("admin.my_records.no_reference") in await response.text()
    response = await produce(bot.client, member_id="999", reference="開示 2026-17", format="csv")
    assert response.status == 400 and t("admin.my_records.not_found") in await response.text()
    async with bot.repos() as repos:
        assert await repos.admin.audit_log(action="disclosure") == []

    response = await produce(
        bot.client, member_id=str(her_id), reference="開示 2026-17", format="json"
    )
    assert response.status == 200 and "attachment" in response.headers["Content-Disposition"]
    produced = json.loads(await response.text())
    assert produced["sections"] == record["sections"]
    response = await produce(
        bot.client, member_id=str(her_id), reference="開示 2026-17", format="csv"
    )
    agrees(produced, (await response.read()).decode("utf-8"))
    async with bot.repos() as repos:
        rows = await repos.admin.audit_log(action="disclosure")
    assert len(rows) == 2 and all("reference 開示 2026-17" in row["detail"] for row in rows)
    assert all(
        row["admin_name"] == "officer" and f"member {her_id}" in row["detail"] for row in rows
    )

    # The desk's staff (and every other role) are refused, and nothing is audited for them.
    for role in (StaffRole.DESK, StaffRole.VIEWER, StaffRole.AUDITOR):
        other = await other_staff(bot, f"staff-{role.value}", role)
        try:
            assert (await other.get(f"/admin/records?member_id={her_id}")).status == 403
            form = {"member_id": str(her_id), "reference": "開示 2026-18", "format": "json"}
            response = await other.post("/admin/records", data=form)
            assert response.status == 403
        finally:
            await other.session.close()
    async with bot.repos() as repos:
        assert len(await repos.admin.audit_log(action="disclosure")) == 2


async def test_withdrawing_revokes_the_line_login_authorization_with_her_token(bot: Bot) -> None:
    resident = await bot.follow("resident")
    page = await opened(bot, resident, "resident")
    access = bot.line.issue_access_token(resident)
    status, body = await page.call(
        "POST", "/liff/api/me/withdraw", {"confirm": True, "access_token": access}
    )
    assert status == 200 and body["line_unlinked"] is True
    (call,) = [c for c in bot.line.calls if c.path == DEAUTHORIZE]
    assert call.body == {"userAccessToken": access} and call.status == 204
    assert bot.line.deauthorized == [resident]
    (token_call,) = [c for c in bot.line.calls if c.path == "/oauth2/v3/token"]
    assert token_call.body["client_id"] == LOGIN_CHANNEL


async def test_another_persons_token_sent_with_a_withdrawal_revokes_nothing(bot: Bot) -> None:
    """The token in the 退会 call is checked to be the caller's (LINE Login's profile of it):
    someone who leaves with another's token unlinks nobody."""
    victim = await bot.follow("victim")
    leaving = await bot.follow("leaving")
    page = await opened(bot, leaving, "leaving")
    stolen = bot.line.issue_access_token(victim)
    status, body = await page.call(
        "POST", "/liff/api/me/withdraw", {"confirm": True, "access_token": stolen}
    )
    assert status == 200 and body["line_unlinked"] is False
    assert bot.line.deauthorized == [] and not [c for c in bot.line.calls if c.path == DEAUTHORIZE]


async def test_a_failed_deauthorize_does_not_stop_withdrawal(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    resident = await bot.follow("resident")
    page = await opened(bot, resident, "resident")
    bot.line.fail_next(DEAUTHORIZE, 500, body={"message": "trouble"})
    with caplog.at_level(logging.WARNING, "mimamori.liff.auth"):
        status, body = await page.call(
            "POST",
            "/liff/api/me/withdraw",
            {"confirm": True, "access_token": bot.line.issue_access_token(resident)},
        )
    assert status == 200 and body["line_unlinked"] is False
    assert "deauthorize" in caplog.text
    member = await member_of(bot, resident)
    async with bot.repos() as repos:
        assert await repos.members.has_withdrawn(member.id)
    # Without a token from the page (an old page), 退会 stands and nothing false is said.
    other = await bot.follow("other")
    page = await opened(bot, other, "other")
    status, body = await page.call("POST", "/liff/api/me/withdraw", {"confirm": True})
    assert status == 200 and body["line_unlinked"] is False
    assert bot.line.deauthorized == []


async def test_my_records_and_withdrawal_in_a_browser(browser: Browser, bot: Bot) -> None:
    resident, _, api_page, record = await her_alerted_record(bot)
    context = await browser.new_context(viewport=PHONE, is_mobile=True, locale="ja-JP")
    page = await context.new_page()
    access = bot.line.issue_access_token(resident)
    await page.add_init_script(
        f"window.__TEST_ID_TOKEN = {api_page.token!r}; window.__TEST_ACCESS_TOKEN = {access!r};"
    )
    page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await page.goto(str(bot.client.make_url("/liff/")))
    await page.get_by_role("button", name=t("my_records.open_button")).click()
    await page.locator("#my-records [data-section=devices] td").first.wait_for()
    # What the page shows, cell by cell, is the record the files carry.
    shown = await page.evaluate(
        """() => Array.from(document.querySelectorAll('#my-records .record-section')).map(
          s => [s.dataset.section, Array.from(s.querySelectorAll('tbody tr')).map(
            r => Array.from(r.querySelectorAll('td')).map(
              c => [c.dataset.field, c.textContent]))])"""
    )
    assert [name for name, _ in shown] == list(record["fields"])
    for name, rows in shown:
        assert len(rows) == len(record["sections"][name]), name
        for cells, row in zip(rows, record["sections"][name], strict=True):
            for field, text in cells:
                expected = row[field]
                if field == "field":
                    # Fields issue 41's gaps added have their words in a table of their own.
                    key = f"my_records.field.{expected}"
                    expected = t(key if key in JA.texts else f"gaps41.{key}")
                assert text == expected, (name, field)
    assert await axe_findings(page) == []
    async with page.expect_download() as waiting:
        await page.get_by_role("button", name=t("my_records.download_json")).click()
    download = await waiting.value
    saved = json.loads((await download.path()).read_text("utf-8"))
    assert saved["sections"] == record["sections"]

    await context.close()

    # 退会 (for someone without an open alert) sends her access token; LINE unlinks the app.
    leaving = await bot.follow("leaving")
    await opened(bot, leaving, "leaving")
    context = await browser.new_context(viewport=PHONE, is_mobile=True, locale="ja-JP")
    page = await context.new_page()
    token = bot.line.issue_id_token(leaving, "leaving", LOGIN_CHANNEL)
    access = bot.line.issue_access_token(leaving)
    await page.add_init_script(
        f"window.__TEST_ID_TOKEN = {token!r}; window.__TEST_ACCESS_TOKEN = {access!r};"
    )
    page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await page.goto(str(bot.client.make_url("/liff/")))
    assert t("my_records.withdraw_note") in await page.inner_text("#withdraw")
    await page.get_by_role("button", name=t("liff.withdraw_button")).click()
    await page.get_by_text(t("my_records.unlinked")).wait_for()
    assert bot.line.deauthorized == [leaving]
    await context.close()
