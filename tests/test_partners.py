"""Partners who visit (見守り協定): the desk asks one to go to the door; a partner on LINE
answers there (向かいます, 確認しました, what they found), the others get a printed request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from tests.conftest import Bot
from tests.drivers import alerted, csrf, member_of, run_to, staff_signed_in, team_of, tokyo
from tests.fake_line import postbacks_in
from tests.wording import JA, said, says, t

HOUR = timedelta(hours=1)


async def case_at_the_desk(bot: Bot) -> tuple[str, str, int]:
    """The resident's alert reached the desk; she shows her details to her son."""
    resident, (son,) = await alerted(bot, ["son"])
    async with bot.repos() as repos:
        member = await repos.members.by_line_id(resident)
        assert member is not None
        await repos.conn.execute(
            "UPDATE members SET phone = ?, address = ? WHERE id = ?",
            ("090-1234-5678", "みどり町1-2-3", member.id),
        )
    await bot.tap_action(resident, "share_personal", m=2)
    await run_to(bot, tokyo(11, 25, 13))
    await run_to(bot, tokyo(11, 25, 14, 1))
    async with bot.repos() as repos:
        (case,) = await repos.desk.queue()
    return resident, son, case["id"]


async def post(bot: Bot, path: str, **form: str | list[str]) -> tuple[int, str]:
    token = await csrf(bot.client, "/admin/partners")
    data = [("csrf_token", token)]
    for key, value in form.items():
        data += [(key, v) for v in value] if isinstance(value, list) else [(key, value)]
    response = await bot.client.post(path, data=data, allow_redirects=False)
    await bot.settle()
    return response.status, await response.text()


async def member_id(bot: Bot, uid: str) -> str:
    return str((await member_of(bot, uid)).id)


def action_data(bot: Bot, uid: str, label: str) -> str:
    """A button's data, in what was pushed to `uid` or in the latest replies."""
    replied = [m for call in bot.line.replies for m in call.body["messages"]]
    for message in reversed(bot.line.messages_to(uid) + replied):
        for action in postbacks_in(message):
            if action.get("label") == label:
                return action["data"]
    raise AssertionError(f"no {label!r} for {uid}")


async def test_a_民生委員_on_line_goes_to_the_door_and_finds_her_safe(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await start_bot(desk_after=HOUR)
    resident, son, case_id = await case_at_the_desk(bot)
    minsei = await bot.follow("minsei")
    await staff_signed_in(bot)
    status, _ = await post(
        bot,
        "/admin/partners",
        action="add",
        name="みどり町 民生委員",
        kind="minsei",
        phone="03-1234-5678",
        area="みどり町",
        member_id=await member_id(bot, minsei),
        team_id=[str(await team_of(bot, resident))],
    )
    assert status == 303
    page = await (await bot.client.get(f"/admin/desk/{case_id}")).text()
    assert JA.t("admin.visits.suggested") in page, "she covers the resident's team"
    async with bot.repos() as repos:
        ((partner_id,),) = await repos.conn.fetch_all("SELECT id FROM partners", ())
    status, _ = await post(bot, f"/admin/desk/{case_id}/visits", partner_id=str(partner_id))
    assert status == 303

    # The request in LINE: who, where, her phone (she shows them), and the two buttons.
    request = bot.line.texts_to(minsei)[-1]
    assert t("visit.title") in request
    assert t("visit.address", value="みどり町1-2-3") in request
    assert t("visit.phone", value="090-1234-5678") in request
    await bot.tap(minsei, action_data(bot, minsei, t("visit.going_button")))
    assert says(bot.line.reply_texts()[-1], "visit.going_thanks")
    await bot.tap(minsei, action_data(bot, minsei, t("visit.seen_button")))
    await bot.tap(minsei, action_data(bot, minsei, t("visit.outcome.asleep")))
    assert says(bot.line.reply_texts()[-1], "visit.recorded")

    outcome = JA.t("desk.outcome.asleep")
    assert said(bot.line.texts_to(son), "desk.confirmed_notice", name="resident", outcome=outcome)
    async with bot.repos() as repos:
        case = await repos.desk.get(case_id)
        steps = [(s.staff, s.kind) for s in await repos.desk.steps(case_id)]
        visit = await repos.partners.visit(1)
    assert case is not None and (case.outcome, case.closed_by) == ("asleep", "みどり町 民生委員")
    assert ("desk-a", "visit_asked") in steps and ("みどり町 民生委員", "visit_going") in steps
    assert visit is not None and (visit.state, visit.outcome) == ("done", "asleep")
    # Tapped again: the case is over, and nothing changes.
    await bot.tap(minsei, action_data(bot, minsei, t("visit.outcome.ambulance")))
    assert says(bot.line.reply_texts()[-1], "visit.closed")


async def test_only_the_partner_asked_can_answer_and_not_home_keeps_the_case(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await start_bot(desk_after=HOUR)
    resident, son, case_id = await case_at_the_desk(bot)
    minsei = await bot.follow("minsei")
    await staff_signed_in(bot)
    await post(
        bot,
        "/admin/partners",
        action="add",
        name="民生委員",
        kind="minsei",
        member_id=await member_id(bot, minsei),
    )
    await post(bot, f"/admin/desk/{case_id}/visits", partner_id="1")
    going = action_data(bot, minsei, t("visit.going_button"))
    await bot.tap(son, going)  # a forwarded button, tapped by someone else
    assert says(bot.line.reply_texts()[-1], "member.not_allowed")
    await bot.tap(minsei, action_data(bot, minsei, t("visit.seen_button")))
    await bot.tap(minsei, action_data(bot, minsei, t("visit.outcome.not_home")))
    assert says(bot.line.reply_texts()[-1], "visit.recorded_open")
    async with bot.repos() as repos:
        case = await repos.desk.get(case_id)
    assert case is not None and case.open
    assert not said(
        bot.line.texts_to(son),
        "desk.confirmed_notice",
        name="resident",
        outcome=JA.t("desk.outcome.asleep"),
    )


async def test_a_partner_without_line_gets_a_printed_request(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await start_bot(desk_after=HOUR)
    _, _, case_id = await case_at_the_desk(bot)
    await staff_signed_in(bot)
    status, _ = await post(
        bot,
        "/admin/partners",
        action="add",
        name="みどり管理",
        kind="management",
        phone="03-0000-1111",
    )
    assert status == 303
    await post(bot, f"/admin/desk/{case_id}/visits", partner_id="1")
    page = await (await bot.client.get("/admin/visits/1/print")).text()
    assert JA.t("admin.visits.print_title") in page
    assert JA.t("visit.address", value="みどり町1-2-3") in page
    assert (await bot.client.get("/admin/visits/9/print")).status == 404
    async with bot.repos() as repos:
        actions = {row["action"] for row in await repos.admin.audit_log()}
    assert {"partner_added", "visit_asked", "visit_printed"} <= actions


async def test_bad_partners_are_refused(start_bot: Callable[..., Awaitable[Bot]]) -> None:
    bot = await start_bot(desk_after=HOUR)
    _, _, case_id = await case_at_the_desk(bot)
    await staff_signed_in(bot)
    invalid = JA.t("admin.refused.invalid_partner")
    for form in (
        {"name": "", "kind": "minsei"},
        {"name": "x" * 51, "kind": "minsei"},
        {"name": "ok", "kind": "mayor"},
        {"name": "ok", "kind": "minsei", "phone": "call me"},
        {"name": "ok\u202e", "kind": "minsei"},
    ):
        assert await post(bot, "/admin/partners", action="add", **form) == (400, invalid)
    status, text = await post(
        bot, "/admin/partners", action="add", name="ok", kind="minsei", member_id="999"
    )
    assert status == 400 and text == JA.t("admin.refused.no_such_member")
    assert (await post(bot, "/admin/partners", action="add", name="ok", kind="police"))[0] == 303
    assert (await post(bot, "/admin/partners", action="remove", partner_id="1"))[0] == 303
    status, text = await post(bot, f"/admin/desk/{case_id}/visits", partner_id="1")
    assert status == 400 and text == JA.t("admin.refused.no_such_partner")
    async with bot.repos() as repos:
        (visits,) = await repos.conn.fetch_one("SELECT COUNT(*) FROM visits", ())
    assert visits == 0
