"""Manager codes expire; a new manager sees a user's personal fields only after one tap."""

from __future__ import annotations

from datetime import timedelta

from tests.conftest import Bot
from tests.drivers import ALERT, Page, create_team, join, run_to, tokyo, watched_resident
from tests.fake_line import message_text, postbacks_in
from tests.wording import said, says, t


async def test_a_manager_code_expires_after_a_week_and_asking_again_renews_it(bot: Bot) -> None:
    resident = await bot.follow("resident")
    codes = await create_team(bot, resident, "家族", as_user=True)
    bot.clock.advance(timedelta(days=7, minutes=1))
    late = await bot.follow("late relative")
    await bot.say(late, t("invite.prefill", code=codes["manager"]))
    assert any(says(text, "invite.expired") for text in bot.line.reply_texts()[-2:])
    async with bot.repos() as repos:
        member = await repos.members.by_line_id(late)
        assert member is not None and await repos.teams.teams_of(member.id) == []

    # Asking for the invite again gives a new code that works; the old one stays dead.
    page = Page(bot, resident, "resident")
    await page.accept_terms()
    _, body = await page.call("GET", "/liff/api/teams")
    renewed = body["teams"][0]["invites"]["manager"]
    assert renewed["code"] != codes["manager"] and renewed["expires"]
    assert body["teams"][0]["invites"]["user"]["expires"] == "", "user codes do not expire"
    await join(bot, late, renewed["code"])
    async with bot.repos() as repos:
        assert member is not None and len(await repos.teams.teams_of(member.id)) == 1


async def test_a_new_manager_is_alerted_at_once_but_sees_details_only_with_consent(
    bot: Bot,
) -> None:
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    mine = Page(bot, resident, "resident")
    await mine.accept_terms()
    await mine.call(
        "PUT", "/liff/api/me/personal", {"full_name": "見守 花子", "phone": "0312345678"}
    )

    # The resident was asked in the chat, with one button.
    (ask,) = [m for m in bot.line.messages_to(resident) if t("sharing.title") in message_text(m)]
    assert says(message_text(ask), "sharing.ask", name="son", team="residentの家族")
    (button,) = postbacks_in(ask)
    assert button["label"] == t("sharing.allow")

    sons_page = Page(bot, son, "son")
    await sons_page.accept_terms()
    status, body = await sons_page.call("GET", "/liff/api/members/1")
    assert body["member"]["personal"] is None, (status, body)

    # Alerts do not wait for consent: safety first.
    await run_to(bot, tokyo(11, 24, 9))
    await run_to(bot, tokyo(11, 25, 9))
    await run_to(bot, tokyo(11, 25, 12))
    assert any(ALERT in text for text in bot.line.texts_to(son))

    # A tampered tap naming someone who does not watch her is refused and shares nothing.
    stranger = await bot.follow("stranger")
    async with bot.repos() as repos:
        other = await repos.members.by_line_id(stranger)
    assert other is not None
    await bot.tap_action(resident, "share_personal", m=other.id)
    assert said(bot.line.reply_texts(), "member.not_allowed")

    await bot.tap(resident, button["data"])
    assert said(bot.line.reply_texts(), "sharing.allowed", name="son")
    sons_page.renew()  # a day later: My page opened again
    _, body = await sons_page.call("GET", "/liff/api/members/1")
    assert body["member"]["personal"]["full_name"] == "見守 花子"
