"""One action, one rule, whichever surface a person or the staff uses: the chat, My page, the
admin console and the scheduler agree on pause, schedules, teams and invites."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from simulator import webhooks as hook
from tests.conftest import Bot
from tests.drivers import (
    MINUTE,
    Page,
    add_admin,
    checkins_to,
    csrf,
    join,
    login,
    page_for,
    run_to,
    tokyo,
    watched_resident,
)
from tests.wording import JA, said, says, t, when

# The tests start on Monday 2026-11-23 at 09:00 in Tokyo; the team's default is 毎日 9時.
PAUSE_UNTIL = "2026-11-28"  # Saturday: check-ins come back that day at 9:00
BACK = tokyo(11, 28, 9)


async def paused_resident(bot: Bot) -> tuple[Page, str]:
    """A resident watched by a relative, who pauses on My page until Saturday."""
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    page = Page(bot, resident, "resident")
    await page.accept_terms()
    status, _ = await page.call("POST", "/liff/api/me/pause", {"until": PAUSE_UNTIL})
    assert status == 200
    return page, son


async def pause_in_chat(bot: Bot, uid: str, days: int) -> None:
    """安否確認の設定 -> お休みする -> the period."""
    await bot.tap_action(uid, "sched")
    await bot.tap_reply_button(uid, t("pause.button"))
    await bot.tap_reply_button(uid, t("pause.for_days", days=days))


async def test_a_new_schedule_in_the_chat_ends_a_pause_made_on_my_page(bot: Bot) -> None:
    page, _ = await paused_resident(bot)
    _, me = await page.call("GET", "/liff/api/me")
    assert me["member"]["paused_until"] == PAUSE_UNTIL and me["member"]["checkins"] == "paused"

    await bot.tap(page.uid, bot.codec.encode("sched_set", i=3, h=17))
    assert says(bot.line.reply_texts()[-1], "schedule.saved", next=when(tokyo(11, 23, 17)))

    _, me = await page.call("GET", "/liff/api/me")
    assert me["member"]["paused_until"] is None and me["member"]["checkins"] == "running"
    assert me["member"]["next"] == when(tokyo(11, 23, 17))
    await bot.tap_action(page.uid, "status")
    assert says(bot.line.reply_texts()[-1], "status.own", next=when(tokyo(11, 23, 17)))
    await run_to(bot, tokyo(11, 23, 17))
    assert len(checkins_to(bot, page.uid)) == 1, "the new schedule runs at once"


async def test_blocking_and_unblocking_during_a_pause_keeps_the_pause(bot: Bot) -> None:
    page, son = await paused_resident(bot)
    await bot.post(hook.unfollow(page.uid, bot.clock.now()))
    assert says(bot.line.texts_to(son)[-1], "stopped.unfollow")
    bot.clock.advance(timedelta(hours=1))
    await bot.post(hook.follow(page.uid, bot.clock.now(), unblocked=True))

    for day in (24, 25, 26, 27):
        await run_to(bot, tokyo(11, day, 9) + MINUTE)
    assert checkins_to(bot, page.uid) == [], "no check-in before the chosen date"
    await run_to(bot, BACK)
    assert len(checkins_to(bot, page.uid)) == 1
    await bot.tap_action(page.uid, "status")
    assert says(bot.line.reply_texts()[-1], "status.own", next=when(tokyo(11, 29, 9)))


async def test_a_pause_from_the_chat_survives_a_restart_and_the_missed_hours(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await start_bot()
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    await pause_in_chat(bot, resident, 3)  # until Thursday 26th
    until = tokyo(11, 26, 9)
    assert says(bot.line.reply_texts()[-1], "pause.saved", next=when(until))
    assert says(bot.line.texts_to(son)[-1], "stopped.paused", until=when(until))

    bot = await start_bot()  # the server restarts ...
    bot.clock.set(tokyo(11, 25, 20))  # ... and was down through Tuesday's and Wednesday's hour
    await bot.sweep()
    assert checkins_to(bot, resident) == []
    await run_to(bot, until)
    assert len(checkins_to(bot, resident)) == 1


async def test_pause_and_resume_in_the_chat_show_on_my_page_and_in_the_status(bot: Bot) -> None:
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    page = Page(bot, resident, "resident")
    await page.accept_terms()
    await pause_in_chat(bot, resident, 7)
    _, me = await page.call("GET", "/liff/api/me")
    assert me["member"]["paused_until"] == "2026-11-30" and me["member"]["checkins"] == "paused"
    await bot.tap_action(resident, "status")
    paused = JA.t(
        "checkins.paused", until=JA.day(tokyo(11, 30, 9).date()), next=when(tokyo(11, 30, 9))
    )
    assert paused in bot.line.reply_texts()[-1]

    await bot.tap_action(resident, "sched")
    labels = [a["label"] for a in bot.last_reply_postbacks()]
    assert t("pause.resume_button") in labels and t("pause.button") not in labels
    await bot.tap_reply_button(resident, t("pause.resume_button"))
    assert says(bot.line.reply_texts()[-1], "pause.resumed", next=when(tokyo(11, 24, 9)))
    _, me = await page.call("GET", "/liff/api/me")
    assert me["member"]["paused_until"] is None and me["member"]["checkins"] == "running"
    await run_to(bot, tokyo(11, 24, 9))
    assert len(checkins_to(bot, resident)) == 1


async def test_a_pause_without_check_ins_is_refused_in_the_chat_and_on_my_page(bot: Bot) -> None:
    page = await page_for(bot, "someone")
    await bot.tap(page.uid, bot.codec.encode("pause", d=7))
    assert bot.line.reply_texts()[-1] == t("pause.no_checkins")
    status, body = await page.call("POST", "/liff/api/me/pause", {"until": PAUSE_UNTIL})
    assert (status, body["error"]) == (409, "no_checkins")


async def test_a_team_made_in_the_console_gets_its_code_rotated_on_my_page(bot: Bot) -> None:
    await add_admin(bot)
    assert await login(bot.client) == 200
    token = await csrf(bot.client, "/admin/teams")
    form = {"csrf_token": token, "name": "三丁目 町会", "interval_days": "2", "hour": "8"}
    response = await bot.client.post("/admin/teams", data=form, allow_redirects=False)
    team_path = response.headers["Location"]
    staff = await page_for(bot, "social-worker")
    token = await csrf(bot.client, team_path)
    form = {"csrf_token": token, "action": "add_manager", "member_id": "1"}
    await bot.client.post(team_path, data=form)
    await bot.settle()
    assert says(bot.line.texts_to(staff.uid)[-1], "admin.made_manager_notice", team="三丁目 町会")

    _, listed = await staff.call("GET", "/liff/api/teams")
    (team,) = listed["teams"]
    old_code = team["invites"]["user"]["code"]
    status, _ = await staff.call("POST", f"/liff/api/teams/{team['id']}/rotate", {"role": "user"})
    assert status == 200
    _, listed = await staff.call("GET", "/liff/api/teams")
    new_code = listed["teams"][0]["invites"]["user"]["code"]
    assert new_code != old_code
    assert new_code in await (await bot.client.get(team_path)).text(), "the console agrees"

    resident = await bot.follow("resident")
    await bot.say(resident, t("invite.prefill", code=old_code))
    assert bot.line.reply_texts()[-1] == t("invite.unknown")
    await join(bot, resident, new_code)
    assert says(bot.line.reply_texts()[-1], "invite.schedule_started", schedule="2日毎 8時")
    assert says(bot.line.texts_to(staff.uid)[-1], "invite.joined_notice", name="resident")


async def test_removing_a_manager_in_the_console_tells_the_team(bot: Bot) -> None:
    resident, (son, daughter) = await watched_resident(bot, "resident", ["son", "daughter"])
    await add_admin(bot)
    assert await login(bot.client) == 200
    token = await csrf(bot.client, "/admin/teams/1")
    form = {"csrf_token": token, "action": "remove_manager", "member_id": "2"}  # the son
    response = await bot.client.post("/admin/teams/1", data=form, allow_redirects=False)
    assert response.status == 303
    await bot.settle()
    for uid in (resident, daughter):
        assert said(
            bot.line.texts_to(uid), "team.removed.notice", name="son", team="residentの家族"
        )
    assert says(bot.line.texts_to(son)[-1], "team.removed.you", team="residentの家族")
    await bot.tap_action(son, "team", t=1)
    assert bot.line.reply_texts()[-1] == t("team.not_member")

    # Removing someone who is not a manager of the team changes nothing and says why.
    token = await csrf(bot.client, "/admin/teams/1")
    form = {"csrf_token": token, "action": "remove_manager", "member_id": "1"}  # the resident
    response = await bot.client.post("/admin/teams/1", data=form)
    assert response.status == 400
    assert JA.t("admin.refused.role_mismatch") in await response.text()
