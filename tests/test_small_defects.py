"""Small defects found on the way, each fixed and held here: expired codes as QR images, QR
images cached, resuming what is not paused, hostile JSON and ids, an event that cannot be
stored, what a refused postback logs, CSV exports, and reading people's details audited."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

import pytest

from ground.telling import Telling
from tests import line_webhook as hook
from tests.conftest import Bot
from tests.drivers import (
    Page,
    add_admin,
    button,
    create_team,
    csrf,
    exported,
    invite_qr,
    login,
    run_to,
    start_roll_call,
    tokyo,
    watched_resident,
)
from tests.wording import t


async def test_an_expired_manager_code_is_no_longer_drawn_and_images_are_kept(bot: Bot) -> None:
    resident = await bot.follow("resident")
    codes = await create_team(bot, resident, "家族", as_user=True)
    first = await invite_qr(bot, codes["manager"])
    again = await invite_qr(bot, codes["manager"])
    assert first.status == again.status == 200
    assert await first.read() == await again.read()
    bot.clock.advance(bot.settings.manager_code_lifetime + timedelta(minutes=1))
    assert (await invite_qr(bot, codes["manager"])).status == 404
    assert (await invite_qr(bot, codes["user"])).status == 200, "no expiry"


async def test_resuming_what_is_not_paused_is_refused_and_moves_nothing(bot: Bot) -> None:
    resident, _ = await watched_resident(bot, "resident", ["son"])
    page = Page(bot, resident, "resident")
    await page.accept_terms()
    async with bot.repos() as repos:
        before = await repos.members.by_line_id(resident)
    bot.clock.advance(timedelta(hours=30))  # past the first check-in's hour
    page.renew()
    status, body = await page.call("POST", "/liff/api/me/resume", {})
    assert (status, body["error"]) == (409, "not_paused")
    await bot.tap_action(resident, "resume")  # the chat: the same rule, in care.members.people
    assert bot.line.reply_texts()[-1] == t("pause.not_paused")
    async with bot.repos() as repos:
        after = await repos.members.by_line_id(resident)
    assert before is not None and after is not None and after.next_due_at == before.next_due_at


@pytest.mark.parametrize(
    "body", ['{"a":' * 100_000 + "1" + "}" * 100_000, '{"interval_days": 1e400, "hour": 9}']
)
async def test_hostile_json_on_my_page_is_a_400(bot: Bot, body: str) -> None:
    page = Page(bot, await bot.follow("someone"), "someone")
    await page.accept_terms()
    response = await bot.client.put(
        "/liff/api/me/schedule",
        data=body,
        headers={"Authorization": f"Bearer {page.token}", "Content-Type": "application/json"},
    )
    assert response.status == 400 and (await response.json())["error"] == "malformed_json"


@pytest.mark.parametrize("team_id", ["²", "١٢", "9" * 40])
async def test_odd_ids_in_the_console_and_my_page_are_a_404(bot: Bot, team_id: str) -> None:
    await add_admin(bot)
    await login(bot.client)
    assert (await bot.client.get(f"/admin/teams/{team_id}")).status == 404
    page = Page(bot, await bot.follow("someone"), "someone")
    await page.accept_terms()
    assert (await page.call("GET", f"/liff/api/members/{team_id}"))[0] == 404


async def test_an_event_that_cannot_be_stored_as_is_fails_only_itself(bot: Bot) -> None:
    resident, _ = await watched_resident(bot, "resident", ["son"])
    other = await bot.follow("other")
    broken = hook.text(resident, "x", bot.clock.now())
    fine = hook.text(other, "こんにちは", bot.clock.now())
    payload = hook.body(broken, fine).replace(b'"text": "x"', b'"text": "\\ud800"')
    payload = payload.replace(b'"text":"x"', b'"text":"\\ud800"')
    assert b"\\ud800" in payload
    response = await bot.client.post(
        "/callback",
        data=payload,
        headers={"X-Line-Signature": hook.sign(payload, bot.settings.channel_secret)},
    )
    await bot.settle()
    assert response.status == 200
    assert bot.line.reply_texts()[-1] == t("menu.prompt"), "the other event was handled"


async def test_a_refused_postback_is_logged_without_its_data(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    person = await bot.follow("person")
    with caplog.at_level(logging.WARNING):
        await bot.tap(person, "a=ok&secret-words-here&s=forged")
    assert bot.line.reply_texts()[-1] == t("postback.invalid")
    assert "secret-words-here" not in caplog.text and "postback refused" in caplog.text


async def test_csv_exports_are_not_cached_and_full_width_formulas_are_neutralised(
    bot: Bot,
) -> None:
    from admin.files import cell

    assert cell("＝HYPERLINK(1)") == "'＝HYPERLINK(1)"
    assert cell("　=1+1") == "'　=1+1"
    assert cell("＋81") == "'＋81" and cell("山田") == "山田"
    await add_admin(bot)
    await login(bot.client)
    response = await exported(bot.client, "/admin/export/members.csv")
    assert response.status == 200 and response.headers["Cache-Control"] == "no-store"


async def test_reading_a_roll_calls_answers_and_phones_is_audited(bot: Bot) -> None:
    await watched_resident(bot, "resident", ["son"])
    await add_admin(bot)
    await login(bot.client)
    call = await start_roll_call(bot, audience="everyone")
    for _ in range(3):  # the page reloads itself: one line an hour, not one a reload
        assert (await bot.client.get(f"/admin/rollcalls/{call}")).status == 200
    async with bot.repos() as repos:
        viewed = [e for e in await repos.admin.audit_log() if e["action"] == "rollcall_viewed"]
    assert len(viewed) == 1 and viewed[0]["admin_name"] == "city-staff"
    assert await csrf(bot.client, f"/admin/rollcalls/{call}")


async def test_a_line_call_inside_a_unit_of_work_fails_in_the_tests(bot: Bot) -> None:
    """The rule every handler keeps: LINE is asked before the transaction, never in it (on
    SQLite every other batch waits behind the writer meanwhile)."""
    from ground.transactions import LineCallInTransaction

    person = await bot.follow("person")
    assert await bot.services.line.profile(person) is not None, "outside: asked"
    async with bot.services.unit_of_work():
        with pytest.raises(LineCallInTransaction):
            await bot.services.line.profile(person)


async def test_my_page_meets_a_person_in_the_language_of_their_line(bot: Bot) -> None:
    uid = hook.user_id("visitor")
    bot.line.add_profile(uid, "visitor", "en")
    page = Page(bot, uid, "visitor")
    assert (await page.call("POST", "/liff/api/terms", {}))[0] == 200
    async with bot.repos() as repos:
        member = await repos.members.by_line_id(uid)
    assert member is not None and member.language == "en"


async def test_the_heartbeat_renews_what_this_instance_holds(bot: Bot) -> None:
    """A live instance keeps its claims past the (short) lease; a dead one's lapse within it."""
    from scheduler.heartbeat import Heartbeat
    from storage.database import to_db

    services = bot.services
    bot.line.fail_next("/v2/bot/message/push", 500)  # it stays pending
    async with services.unit_of_work() as work:
        outbox_id = await work.repos.outbox.add(
            kind="push",
            recipients=["U0"],
            tellings=[Telling.sentence("ja", "x")],
            purpose="test",
            now=work.now,
        )
    await bot.settle()
    lease = services.settings.claim_lease
    async with bot.repos() as repos:
        await repos.conn.execute(
            "UPDATE outbox SET claimed_by = ?, claimed_until = ? WHERE id = ?",
            (services.instance, to_db(bot.clock.now() + lease), outbox_id),
        )
    bot.clock.advance(lease * 2 / 3)
    await Heartbeat(services).beat()
    async with bot.repos() as repos:
        found = await repos.conn.fetch_one(
            "SELECT claimed_until FROM outbox WHERE id = ?", (outbox_id,)
        )
    assert found is not None and found[0] == to_db(bot.clock.now() + lease)


async def test_no_slow_call_runs_inside_a_unit_of_work_or_a_claim(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    """Each client that waits on another system (LINE's push and reply, LINE Login's token
    check, Twilio, the city's system, JMA) refuses to call out while a unit of work or a
    claim is open, and claims do not nest: the check can fail, and does."""
    from bot.forwarding import Forwarder
    from care.services import NestedUnitOfWork
    from ground.channels import Parcel
    from ground.telling import Choice, Form, Telling
    from ground.transactions import SlowCallInTransaction
    from ground.voice import TwilioVoice
    from liff.routes import LIFF_VERIFIER
    from scheduler.quakes import QuakePoller

    nowhere = "http://127.0.0.1:9"
    bot = await start_bot(forward_url=f"{nowhere}/city", jma_feed_url=f"{nowhere}/feed")
    person = await bot.follow("person")
    line, services = bot.services.line, bot.services
    voice = TwilioVoice("AC0", "token", "+15005550006", "https://x.example", nowhere, strict=True)
    ring = Telling(Form.CALL, "ja", "q", "end", choices=(Choice("ok", "1", "a=call"),))
    forwarder, quakes = Forwarder(services), QuakePoller(services)
    calls = {
        "push": lambda: line.push(person, [{"type": "text", "text": "x"}], "k-1"),
        "reply": lambda: line.reply("reply-token", [{"type": "text", "text": "x"}]),
        "twilio": lambda: voice.send(Parcel("push", ["+819012345678"], [ring], "k-2")),
        "city": lambda: forwarder._post(b"{}"),
        "jma": quakes.poll,
        "token check": lambda: bot.app[LIFF_VERIFIER].verify("an-id-token"),
    }
    try:
        for opener in (services.unit_of_work, services.claims):
            for name, call in calls.items():
                async with opener():
                    with pytest.raises(SlowCallInTransaction):
                        await call()
                        pytest.fail(f"{name} called out inside {opener.__name__}")
    finally:
        await voice.close()
        await forwarder.stop()
    async with services.claims():
        with pytest.raises(NestedUnitOfWork):
            async with services.claims():
                pass
        with pytest.raises(NestedUnitOfWork):
            async with services.unit_of_work():
                pass
    async with services.unit_of_work():
        with pytest.raises(NestedUnitOfWork):
            async with services.claims():
                pass


async def test_a_line_name_cannot_fake_a_line_of_the_services_words(bot: Bot) -> None:
    """A LINE name goes into other managers' messages (「○○さんが対応します」): its line breaks
    and bidirectional overrides are taken out, and a long one is cut."""
    from care.rounds.notify import NAME_SHOWN

    resident, (son, daughter) = await watched_resident(bot, "resident", ["son", "daughter"])
    async with bot.repos() as repos:
        member = await repos.members.by_line_id(son)
        assert member is not None
        forged = "son\n" + t("alert.confirmed_notice", taker="x", name="resident") + "\u202e" * 3
        await repos.conn.execute(
            "UPDATE members SET display_name = ? WHERE id = ?", (forged + "あ" * 80, member.id)
        )
    await run_to(bot, tokyo(11, 24, 9))
    await run_to(bot, tokyo(11, 25, 9))
    await run_to(bot, tokyo(11, 25, 12))
    await bot.tap(son, button(bot, son, t("alert.take_button")))
    # The notice keeps the alert open: a card, its title above the sentence the name is in.
    told = bot.line.texts_to(daughter)[-1].removeprefix(t("first_minute.alert_title") + "\n")
    assert "\n" not in told and "\u202e" not in told
    assert len(told) <= len(t("alert.taken_notice", name="resident", taker="")) + NAME_SHOWN


async def test_pages_with_peoples_details_leave_an_audit_row_once_an_hour(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    """The open alerts, the desk's queue, a team's page and the partner list show names,
    answers or details: each reading is in the audit log, once an hour per staff member."""
    bot = await start_bot(desk_after=timedelta(hours=1))
    await watched_resident(bot, "resident", ["son"])
    await add_admin(bot)
    await login(bot.client)
    async with bot.repos() as repos:
        ((team, _),) = await repos.teams.teams_of(1)
    pages = ("/admin/alerts", "/admin/desk", f"/admin/teams/{team.id}", "/admin/partners")
    for _ in range(3):
        for page in pages:
            assert (await bot.client.get(page)).status == 200, page
    async with bot.repos() as repos:
        viewed = [e for e in await repos.admin.audit_log() if e["action"].endswith("_viewed")]
    actions = sorted(e["action"] for e in viewed)
    assert actions == sorted(
        ["alerts_viewed", "desk_queue_viewed", "team_viewed", "partners_viewed"]
    ), actions
    assert {e["admin_name"] for e in viewed} == {"city-staff"}
    bot.clock.advance(timedelta(hours=1, minutes=1))
    assert (await bot.client.get("/admin/alerts")).status == 200
    async with bot.repos() as repos:
        again = [e for e in await repos.admin.audit_log() if e["action"] == "alerts_viewed"]
    assert len(again) == 2
