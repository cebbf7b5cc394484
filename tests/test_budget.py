"""Nobody can drain the channel: every send a person or the city starts (テスト送信, roll-calls,
notices; chat, console, the JMA feed) goes through one rate and quota rule, and is audited."""

from __future__ import annotations

from datetime import timedelta

from care.broadcasts.budget import RATES_BY_STARTER
from care.members import invites
from care.members.teams import add_manager
from storage.models import Role
from tests.conftest import Bot
from tests.drivers import (
    Page,
    add_admin,
    area_team,
    create_team,
    csrf,
    join,
    login,
    member_of,
    watched_resident,
)
from tests.wording import JA, said, says, t

ROLLCALL_PATHS = ("/v2/bot/message/multicast", "/v2/bot/message/push")


def quota(bot: Bot, limit: int, used: int) -> None:
    """The month's quota as the stand-in LINE reports it."""
    bot.line.quota = {"type": "limited", "value": limit}
    bot.line.quota_used = used


async def audit_rows(bot: Bot, action: str) -> list[dict[str, object]]:
    async with bot.repos() as repos:
        return [row for row in await repos.admin.audit_log() if row["action"] == action]


async def test_test_sends_are_limited_per_person_per_day_and_audited(bot: Bot) -> None:
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    for _ in range(3):
        await bot.tap_action(resident, "test_send")
        assert says(bot.line.reply_texts()[-1], "test.sent", name="resident", count=1)
    # The son asks for the same person: the limit is hers, whoever asks.
    await bot.tap_action(son, "test_send", m=1)
    assert bot.line.reply_texts()[-1] == t("limits.too_often", times=3)
    assert len(said(bot.line.texts_to(son), "test.alert_body")) == 3, "nothing more was sent"
    rows = await audit_rows(bot, "test_sent")
    assert len(rows) == 3 and {row["scope"] for row in rows} == {"member:1"}
    assert {row["messages"] for row in rows} == {2}, "the test check-in and one test alert"
    # A day later she may try again.
    await bot.advance(timedelta(hours=24))
    await bot.tap_action(resident, "test_send")
    assert says(bot.line.reply_texts()[-1], "test.sent", name="resident", count=1)


async def test_a_test_the_quota_cannot_cover_is_refused(bot: Bot) -> None:
    resident, _ = await watched_resident(bot, "resident", ["son"])
    quota(bot, 200, 199)
    before = len(bot.line.pushes)
    await bot.tap_action(resident, "test_send")
    assert bot.line.reply_texts()[-1] == t("rollcall.quota_short", need=2, left=1)
    assert len(bot.line.pushes) == before


async def test_chat_roll_calls_are_limited_per_team_and_counted_with_re_asks(bot: Bot) -> None:
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    for _ in range(2):
        await bot.tap_action(son, "rc_start", t=1)
        assert says(bot.line.reply_texts()[-1], "rollcall.started", count=2)
    sent = len(bot.line.calls)
    await bot.tap_action(son, "rc_start", t=1)
    assert bot.line.reply_texts()[-1] == t("limits.too_often", times=2)
    assert not [c for c in bot.line.calls[sent:] if c.path in ROLLCALL_PATHS]
    rows = await audit_rows(bot, "rollcall_chat")
    # Two people, asked once and then re-asked (the chat's roll-call re-asks the silent twice).
    assert [row["messages"] for row in rows] == [6, 6] and rows[0]["scope"] == "team:1"

    # Counted with its re-asks against what the month leaves: 6 do not fit in 5.
    resident2, (daughter,) = await watched_resident(bot, "resident2", ["daughter"])
    quota(bot, 100, 95)
    await bot.tap_action(daughter, "rc_start", t=2)
    assert bot.line.reply_texts()[-1] == t("rollcall.quota_short", need=6, left=5)


async def test_the_consoles_estimate_counts_the_re_asks(bot: Bot) -> None:
    await area_team(bot, "団地", 30)
    quota(bot, 100, 20)
    await add_admin(bot)
    await login(bot.client)
    token = await csrf(bot.client, "/admin/rollcalls")
    form = {"csrf_token": token, "audience": "everyone", "resend_minutes": "60", "resends": "2"}
    preview = await (await bot.client.post("/admin/rollcalls/preview", data=form)).text()
    assert JA.t("admin.rollcalls.with_reasks", cost=90, reasks=2) in preview
    assert JA.t("admin.rollcalls.short", need=90, left=80) in preview
    refused = await bot.client.post("/admin/rollcalls", data=form)
    assert refused.status == 400
    assert bot.line.multicasts == []
    await bot.client.post("/admin/rollcalls", data={**form, "partial": "yes"})
    await bot.settle()
    # 80 messages cover 26 people asked three times at most.
    assert sum(len(c.body["to"]) for c in bot.line.multicasts) == 26
    (row,) = await audit_rows(bot, "rollcall_console")
    assert row["messages"] == 90 and "80 of 90" in str(row["detail"])


async def test_a_notice_the_quota_cannot_cover_is_refused_and_sent_ones_audited(bot: Bot) -> None:
    await area_team(bot, "団地", 30)
    quota(bot, 100, 90)
    await add_admin(bot)
    await login(bot.client)
    token = await csrf(bot.client, "/admin/notices")
    form = {"csrf_token": token, "audience": "teams", "team_id": "1", "text": "避難所が開きました"}
    refused = await bot.client.post("/admin/notices/send", data=form)
    assert refused.status == 400
    assert JA.t("rollcall.quota_short", need=30, left=10) in await refused.text()
    assert await audit_rows(bot, "notice_sent") == []
    bot.line.quota_used = 0
    sent = await bot.client.post("/admin/notices/send", data=form, allow_redirects=False)
    assert sent.status == 303
    (row,) = await audit_rows(bot, "notice_sent")
    assert row["messages"] == 30


async def test_chat_roll_calls_are_limited_per_starter_however_many_teams_they_make(
    bot: Bot,
) -> None:
    """Teams are free to make: the chat's roll-call is held by who starts it as well, so one
    manager with several teams cannot drain the month's quota."""
    first, (son,) = await watched_resident(bot, "resident", ["son"])
    codes = await create_team(bot, son, "二つ目", as_user=False)
    second = await bot.follow("resident2")
    await join(bot, second, codes["user"])
    for team_id in (1, 2):
        await bot.tap_action(son, "rc_start", t=team_id)
        assert says(bot.line.reply_texts()[-1], "rollcall.started")
    await bot.tap_action(son, "rc_start", t=2)
    assert bot.line.reply_texts()[-1] == t("limits.too_often", times=2)


async def test_teams_are_limited_per_person_per_day_in_the_chat_and_on_my_page(bot: Bot) -> None:
    """Each team brings its own invite codes and roll-call allowance: one person may make a few
    a day, wherever they make them; the city's own teams are not held."""
    maker = await bot.follow("maker")
    times = RATES_BY_STARTER["team_created"].times
    for n in range(times - 1):
        await create_team(bot, maker, f"チーム{n}", as_user=False)
    page = Page(bot, maker, "maker")
    await page.accept_terms()
    status, _ = await page.call("POST", "/liff/api/teams", {"name": "最後", "role": "manager"})
    assert status == 201
    extra = {"name": "多すぎ", "role": "manager"}
    status, body = await page.call("POST", "/liff/api/teams", extra)
    assert status != 201 and body["error"] == "too_often"
    await bot.tap_action(maker, "team_new")
    await bot.say(maker, "もう一つ")
    await bot.tap_reply_button(maker, t("team.as_manager"))
    assert bot.line.reply_texts()[-1] == t("limits.too_often", times=times)
    made = await member_of(bot, maker)
    async with bot.repos() as repos:
        teams = await repos.teams.teams_of(made.id)
    assert len(teams) == times, "nothing made past the limit"
    assert len(await audit_rows(bot, "team_created")) == times
    other = await bot.follow("neighbour")
    await create_team(bot, other, "となり", as_user=False)  # held per person, not for all
    bot.clock.advance(timedelta(hours=24))
    await create_team(bot, maker, "あした", as_user=False)


async def test_joining_an_area_team_is_held_per_person_and_told_only_to_its_managers(
    bot: Bot,
) -> None:
    """A 町会's user code is on a flyer for good. Each join was pushed to every one of its
    users: a stranger joining and leaving in a loop spent the city's quota and carried a name
    of their choosing to all of them. Its users are neighbours: only its managers hear of a
    join, and one person joins at most a few teams a day."""
    team_id, users = await area_team(bot, "町会", 5)
    minsei = await bot.follow("minsei")
    minsei_id = (await member_of(bot, minsei)).id
    async with bot.services.unit_of_work() as work:
        team = await work.repos.teams.get(team_id)
        assert team is not None
        await invites.ensure_invites(work, team)
        code = await work.repos.teams.active_invite(team_id, Role.USER)
        await add_manager(work, team, minsei_id)
    assert code is not None
    stranger = await bot.follow("stranger")
    page = Page(bot, stranger, "stranger")
    await page.accept_terms()
    before = {uid: len(bot.line.texts_to(uid)) for uid in users}
    times = RATES_BY_STARTER["team_joined"].times
    for _ in range(times):
        await join(bot, stranger, code.code)
        page.renew()
        assert (await page.call("POST", f"/liff/api/teams/{team_id}/leave", {}))[0] == 200
    await bot.settle()
    assert {uid: len(bot.line.texts_to(uid)) for uid in users} == before, "neighbours not told"
    assert said(bot.line.texts_to(minsei), "invite.joined_notice", name="stranger")
    await bot.say(stranger, t("invite.prefill", code=code.code))
    await bot.tap_reply_button(stranger, t("invite.accept"))
    assert bot.line.reply_texts()[-1] == t("limits.too_often", times=times)
    stranger_id = (await member_of(bot, stranger)).id
    async with bot.repos() as repos:
        assert await repos.teams.role_of(team_id, stranger_id) is None
