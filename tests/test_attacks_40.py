"""Issue 40's surfaces attacked: the desk's search and people list, the exports, My page's OK
and her card's alert actions, a watcher's note, and the shared account's tab."""

from __future__ import annotations

from urllib.parse import quote

from care.rounds.protocol import HELP_STAGES, Stage
from storage.models import StaffRole
from tests import line_webhook as hook
from tests.conftest import Bot
from tests.drivers import (
    Page,
    alerted,
    button,
    create_team,
    csrf,
    join,
    member_of,
    other_staff,
    staff_signed_in,
    stage,
    watched_resident,
)
from tests.wording import says, t


def _help_word() -> str:
    return t("distress.words").split(",")[0]


async def test_a_note_dialog_left_by_a_closed_alert_never_swallows_her_own_call_for_help(
    bot: Bot,
) -> None:
    """A watcher who is watched too (a couple, each the other's) asks to write a note; before
    she writes it, the alert closes. Her next words, 「助けて」 about herself, went to the
    note (refused: the alert is closed) and the refusal undid the dialog's end too: every
    message after was refused the same way, her own call for help never reaching anyone."""
    resident, (son, daughter) = await alerted(bot, ["son", "daughter"])
    codes = await create_team(bot, son, "son's own", as_user=True)
    grandson = await bot.follow("grandson")
    await join(bot, grandson, codes["manager"])
    member = await member_of(bot, resident)
    await bot.tap_action(son, "member", m=member.id)
    await bot.tap_reply_button(son, t("first_minute.note.button"))
    assert says(bot.line.reply_texts()[-1], "first_minute.note.ask", names="daughter")
    await bot.tap(daughter, button(bot, daughter, t("alert.safe_button")))
    assert await stage(bot, resident) is Stage.CONFIRMED_SAFE

    await bot.say(son, _help_word())
    assert await stage(bot, son) in HELP_STAGES, bot.line.reply_texts()[-1]


async def test_ten_notes_a_day_across_the_card_and_the_chat_and_the_eleventh_ends_the_dialog(
    bot: Bot,
) -> None:
    """The rate holds by writer whatever the surface (My page's card, then the chat); the
    eleventh, refused, no longer leaves every later message of the writer refused as a note."""
    resident, (son, daughter) = await alerted(bot, ["son", "daughter"])
    member = await member_of(bot, resident)
    page = Page(bot, son, "son")
    _, body = await page.call("GET", f"/liff/api/cards/{member.id}")
    path = f"/liff/api/cards/{member.id}/alert"
    for number in range(10):
        note = {"action": "note", "round": body["card"]["alert"]["round"], "note": f"{number}"}
        status, _ = await page.call("POST", path, note)
        assert status == 200
    note = {"action": "note", "round": body["card"]["alert"]["round"], "note": "more"}
    status, _ = await page.call("POST", path, note)
    assert status == 429
    told = len(bot.line.messages_to(daughter))
    await bot.tap_action(son, "member", m=member.id)
    await bot.tap_reply_button(son, t("first_minute.note.button"))
    await bot.say(son, "the eleventh")
    refused = bot.line.reply_texts()[-1]
    await bot.say(son, "the twelfth")
    assert len(bot.line.messages_to(daughter)) == told, "no eleventh note reached her"
    assert bot.line.reply_texts()[-1] != refused, "the dialog ended with the refusal"


ODD_NUMERALS = "\u1369"  # ፩: Ethiopic one, a digit to str.isdigit that int() cannot read


async def test_the_desks_search_takes_any_text_in_any_parameter_without_an_error(
    bot: Bot,
) -> None:
    """A search is a link anyone can edit: each parameter with a numeral int() cannot read,
    LIKE's own characters, a backslash, a quote, a huge or negative page, a column that is
    not one. Each answers the page (what it cannot read left out), never a server error."""
    await staff_signed_in(bot)
    await watched_resident(bot, "resident", ["son"])
    odd = quote(ODD_NUMERALS)
    queries = [
        f"q={odd}",
        f"page={odd}",
        f"team={odd}",
        f"waiting={odd}",
        f"q=12{odd}3",
        "q=%25",
        "q=_",
        "q=%5C",
        "q=%27%20OR%201%3D1--",
        "page=-1",
        "page=99999999999999999999",
        "sort=display_name&dir=desc",
        "sort=member_id%20DESC",
    ]
    for path in ("/admin/desk", "/admin/people"):
        for query in queries:
            response = await bot.client.get(f"{path}?{query}")
            assert response.status == 200, (path, query, response.status)


async def test_a_manager_who_blocked_the_account_cannot_take_her_alert_from_my_page(
    bot: Bot,
) -> None:
    """A manager who blocked the account hears nothing more (no alert, no question whether he
    found her): the protocol frees an alert he had (care.rounds.taking.taker_gone). My page
    still opens for him (LIFF needs no friendship); his 対応します there took her alert, the
    others heard that he has it, and nobody he could be asked stood in for him."""
    resident, (son, daughter) = await alerted(bot, ["son", "daughter"])
    member = await member_of(bot, resident)
    page = Page(bot, son, "son")
    _, body = await page.call("GET", f"/liff/api/cards/{member.id}")
    round_id = body["card"]["alert"]["round"]
    await bot.post(hook.unfollow(son, bot.clock.now()))
    told = len(bot.line.messages_to(daughter))
    path = f"/liff/api/cards/{member.id}/alert"
    for action in ("take", "note"):
        status, _ = await page.call(
            "POST", path, {"action": action, "round": round_id, "note": "x"}
        )
        assert status == 403, action
    assert await stage(bot, resident) is Stage.ALERTED
    assert len(bot.line.messages_to(daughter)) == told


async def test_the_roles_that_read_no_names_reach_no_desk_page_file_or_partner(bot: Bot) -> None:
    """閲覧 and 監査 read figures and the log, never names, 会員ID or phones: the queue, the
    people list, a partner's page and the files of cases refuse them, GET and POST alike;
    窓口 takes no file out, even posting the purpose form itself."""
    await staff_signed_in(bot)
    token = await csrf(bot.client, "/admin/partners")
    form = {"csrf_token": token, "action": "add", "name": "a partner", "kind": "minsei"}
    assert (await bot.client.post("/admin/partners", data=form)).status == 200
    roles = {StaffRole.VIEWER: True, StaffRole.AUDITOR: True, StaffRole.DESK: False}
    for role, no_desk in roles.items():
        client = await other_staff(bot, f"staff-{role.value}", role)
        try:
            token = await csrf(client, "/admin/")
            for what in ("cases", "case_steps", "members"):
                path = f"/admin/export/{what}.csv"
                assert (await client.get(path)).status == 403, (role, path)
                data = {"csrf_token": token, "purpose": "city_report"}
                assert (await client.post(path, data=data)).status == 403, (role, path)
            if no_desk:
                for path in ("/admin/desk", "/admin/people", "/admin/partners/1"):
                    assert (await client.get(path)).status == 403, (role, path)
        finally:
            await client.session.close()
