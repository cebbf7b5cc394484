"""Partners who visit (見守り協定): the desk asks one to go to the door; a partner on LINE
answers there (向かいます, 確認しました, what they found), the others get a printed request.
A partner is on LINE only once they send, from their own LINE, the one-time code the console
showed; removing one withdraws their visits; a closed case is closed for every partner asked;
what a partner does is theirs (`partner:<id>`), never a console account's."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import timedelta

from bot.shared_account import our_words
from ground import invite_codes, link_codes
from tests.conftest import Bot
from tests.drivers import (
    Page,
    alerted,
    button,
    checkins_to,
    csrf,
    login,
    member_of,
    run_to,
    staff_signed_in,
    team_of,
    tokyo,
)
from tests.fake_line import postbacks_in
from tests.wording import JA, LOCALES, said, says, t

HOUR = timedelta(hours=1)
CODE = re.compile(r'id="partner-code">([0-9A-Z-]+)<')


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


async def add_partner(bot: Bot, name: str, line: bool = True, **form: str | list[str]) -> str:
    """A partner added in the console. -> the one-time code it showed (with `line`)."""
    fields = {"kind": "minsei", **form, **({"line": "on"} if line else {})}
    status, page = await post(bot, "/admin/partners", action="add", name=name, **fields)
    assert status == (200 if line else 303), page
    found = CODE.search(page)
    return found.group(1) if found else ""


async def partner_on_line(bot: Bot, uid: str, name: str, **form: str | list[str]) -> int:
    """A partner added in the console who sent their code from `uid`'s LINE. -> their id."""
    code = await add_partner(bot, name, **form)
    await bot.say(uid, code)
    assert says(bot.line.reply_texts()[-1], "visit.linked", name=name)
    async with bot.repos() as repos:
        (partner_id,) = await repos.conn.fetch_one("SELECT MAX(id) FROM partners", ())
    return int(partner_id)


async def ask(bot: Bot, case_id: int, partner_id: int) -> None:
    status, _ = await post(bot, f"/admin/desk/{case_id}/visits", partner_id=str(partner_id))
    assert status == 303


def personal(text: str) -> bool:
    """Whether `text` carries anything of the resident: her name, address or phone."""
    return any(value in text for value in ("resident", "みどり町1-2-3", "090-1234-5678"))


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
    partner_id = await partner_on_line(
        bot,
        minsei,
        "みどり町 民生委員",
        phone="03-1234-5678",
        area="みどり町",
        team_id=[str(await team_of(bot, resident))],
    )
    page = await (await bot.client.get(f"/admin/desk/{case_id}")).text()
    assert JA.t("admin.visits.suggested") in page, "she covers the resident's team"
    await ask(bot, case_id, partner_id)

    # The request in LINE: who, and the two buttons; where and her phone (she shows them) are
    # on her card, one button away, never in the chat (issue 38).
    request = bot.line.texts_to(minsei)[-1]
    assert t("visit.title") in request and says(request, "card.visit_where")
    assert "みどり町1-2-3" not in request and "090-1234-5678" not in request
    links = [a for a in postbacks_in(bot.line.messages_to(minsei)[-1]) if a["type"] == "uri"]
    resident_id = await member_id(bot, resident)
    card_uri = f"{bot.services.my_page_url}/card/{resident_id}"
    assert links == [{"type": "uri", "label": t("card.button"), "uri": card_uri}]
    status, card = await Page(bot, minsei).call("GET", f"/liff/api/cards/{resident_id}")
    assert status == 200 and card["card"]["relation"] == "partner"
    details = {d["field"]: d["value"] for d in card["card"]["details"]}
    assert details["address"] == "みどり町1-2-3" and details["phone"] == "090-1234-5678"
    assert card["card"]["tel"] == "tel:09012345678"
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
    # What she did is hers, as a partner: never under the name staff typed for her.
    actor = f"partner:{partner_id}"
    assert case is not None and (case.outcome, case.closed_by) == ("asleep", actor)
    assert ("desk-a", "visit_asked") in steps
    assert (actor, "visit_going") in steps and (actor, "visit_done") in steps
    assert visit is not None and (visit.state, visit.outcome) == ("done", "asleep")
    async with bot.repos() as repos:
        audit = [(row["admin_name"], row["action"]) for row in await repos.admin.audit_log()]
    for action in ("partner_linked", "card_viewed", "visit_going", "visit_done", "desk_closed"):
        assert (actor, action) in audit, action
    assert not [row for row in audit if row[0] == "みどり町 民生委員"]
    page = await (await bot.client.get(f"/admin/desk/{case_id}")).text()
    shown = JA.t(
        "admin.desk.partner_actor",
        name="みどり町 民生委員",
        kind=JA.t("admin.partners.kind.minsei"),
    )
    assert page.count(shown) >= 3, "the steps and the outcome show her as the partner"
    queue = await (await bot.client.get("/admin/desk")).text()
    assert shown in queue
    # Tapped again: the case is over, and nothing changes.
    await bot.tap(minsei, action_data(bot, minsei, t("visit.outcome.ambulance")))
    assert says(bot.line.reply_texts()[-1], "visit.closed")
    # Her card was hers to read while the visit was open: not any more, and she learns nothing.
    status, card = await Page(bot, minsei).call("GET", f"/liff/api/cards/{resident_id}")
    assert status == 404 and "card" not in card


async def test_only_the_partner_asked_can_answer_and_not_home_keeps_the_case(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await start_bot(desk_after=HOUR)
    resident, son, case_id = await case_at_the_desk(bot)
    minsei = await bot.follow("minsei")
    await staff_signed_in(bot)
    await ask(bot, case_id, await partner_on_line(bot, minsei, "民生委員"))
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
    await add_partner(bot, "みどり管理", line=False, kind="management", phone="03-0000-1111")
    await ask(bot, case_id, 1)
    page = await (await bot.client.get("/admin/visits/1/print")).text()
    assert JA.t("admin.visits.print_title") in page
    assert JA.t("visit.address", value="みどり町1-2-3") in page
    # On paper her details stay (issue 38), with how to handle a sheet that holds 要配慮 items.
    assert JA.t("admin.card.print_note") in page
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
    assert (await post(bot, "/admin/partners", action="add", name="ok", kind="police"))[0] == 303
    assert (await post(bot, "/admin/partners", action="remove", partner_id="1"))[0] == 303
    status, text = await post(bot, f"/admin/desk/{case_id}/visits", partner_id="1")
    assert status == 400 and text == JA.t("admin.refused.no_such_partner")
    async with bot.repos() as repos:
        (visits,) = await repos.conn.fetch_one("SELECT COUNT(*) FROM visits", ())
    assert visits == 0


async def test_a_typed_会員id_links_nobody_and_only_the_partners_own_code_does(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    """A mistyped 会員ID once sent a stranger the resident's address and spare-key location:
    the console takes none, and the partner's LINE is the one that sends their code."""
    bot = await start_bot(desk_after=HOUR)
    _, _, case_id = await case_at_the_desk(bot)
    minsei, stranger = await bot.follow("minsei"), await bot.follow("stranger")
    await staff_signed_in(bot)
    # The old form's 会員ID, of someone else, is not taken: she is a partner without LINE.
    await add_partner(bot, "民生委員", line=False, member_id=await member_id(bot, stranger))
    before = len(bot.line.texts_to(stranger))
    await ask(bot, case_id, 1)
    assert bot.line.texts_to(stranger)[before:] == []
    page = await (await bot.client.get("/admin/partners")).text()
    assert 'data-line="print"' in page

    # A code waits for her LINE; until it comes, requests are printed.
    status, page = await post(bot, "/admin/partners", action="code", partner_id="1")
    code = CODE.search(page)
    assert status == 200 and code is not None
    code_text = code.group(1)
    assert link_codes.find_code(code_text) == code_text
    waiting = await (await bot.client.get("/admin/partners")).text()
    assert 'data-line="code"' in waiting and code_text not in waiting, "shown once"
    await ask(bot, case_id, 1)
    assert not said(bot.line.texts_to(minsei), "visit.call_back")

    # A guess, or a code typed otherwise than it was shown, links nobody.
    await bot.say(stranger, link_codes.new_code())
    assert says(bot.line.reply_texts()[-1], "visit.code_unknown")
    # Sent from her LINE (typed in full-width with a Japanese dash): hers.
    typed = code_text.replace("-", "ー").translate(
        {ord(c): ord(c) + 0xFEE0 for c in "0123456789ABCDEFGHJKMNPQRSTVWXYZ"}
    )
    await bot.say(minsei, f"コード {typed}")
    assert says(bot.line.reply_texts()[-1], "visit.linked", name="民生委員")
    # Spent: sent again by anyone, it does nothing.
    await bot.say(stranger, code_text)
    assert says(bot.line.reply_texts()[-1], "visit.code_unknown")
    page = await (await bot.client.get("/admin/partners")).text()
    assert 'data-line="linked"' in page and "minsei" in page, "staff see whose LINE it is"
    await ask(bot, case_id, 1)
    assert said(bot.line.texts_to(minsei), "visit.call_back")
    assert not said(bot.line.texts_to(stranger), "visit.call_back")

    # A code not sent in time stops working; a new one moves her to her new phone.
    await post(bot, "/admin/partners", action="code", partner_id="1")
    bot.clock.advance(timedelta(hours=73))
    new_phone = await bot.follow("minsei-new-phone")
    async with bot.repos() as repos:
        ((late,),) = await repos.conn.fetch_all("SELECT link_code FROM partners", ())
    await bot.say(new_phone, late)
    assert says(bot.line.reply_texts()[-1], "visit.code_unknown")
    async with bot.repos() as repos:
        partner = await repos.partners.get(1)
        audit = [(row["admin_name"], row["action"]) for row in await repos.admin.audit_log()]
    assert partner is not None and partner.member_id == (await member_of(bot, minsei)).id
    assert ("desk-a", "partner_code") in audit and ("partner:1", "partner_linked") in audit


def test_a_partners_code_is_not_an_invite_code_and_is_the_bots_on_a_shared_account() -> None:
    code, invite = link_codes.new_code(), invite_codes.new_code()
    assert link_codes.find_code(invite) is None and invite_codes.find_code(code) is None
    assert link_codes.find_code(f"{code}-ABCD") is None
    assert link_codes.find_code("I have good news") is None
    assert our_words(code, LOCALES, "ja") and our_words(f"コード：{code}", LOCALES, None)


async def test_removing_a_partner_withdraws_their_visits_and_refuses_their_taps(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await start_bot(desk_after=HOUR)
    _, son, case_id = await case_at_the_desk(bot)
    minsei = await bot.follow("minsei")
    await staff_signed_in(bot)
    partner_id = await partner_on_line(bot, minsei, "民生委員")
    await ask(bot, case_id, partner_id)
    going = action_data(bot, minsei, t("visit.going_button"))
    await bot.tap(minsei, going)
    seen = action_data(bot, minsei, t("visit.seen_button"))
    await bot.tap(minsei, seen)
    safe = action_data(bot, minsei, t("visit.outcome.out"))
    before = len(bot.line.texts_to(minsei))

    status, _ = await post(bot, "/admin/partners", action="remove", partner_id=str(partner_id))
    assert status == 303
    (told,) = bot.line.texts_to(minsei)[before:]
    assert says(told, "visit.removed_notice") and says(told, "visit.withdrawn_notice", count=1)
    assert not personal(told), "nothing of the resident goes to a removed partner"
    # Her old card's buttons, each refused; the case stays open and nobody is told safe.
    for data in (going, seen, safe):
        await bot.tap(minsei, data)
        assert says(bot.line.reply_texts()[-1], "visit.withdrawn")
    async with bot.repos() as repos:
        case = await repos.desk.get(case_id)
        visit = await repos.partners.visit(1)
        steps = [(s.staff, s.kind, s.note) for s in await repos.desk.steps(case_id)]
        audit = [(row["admin_name"], row["action"]) for row in await repos.admin.audit_log()]
    assert case is not None and case.open
    assert visit is not None and visit.state == "withdrawn" and visit.outcome is None
    assert ("desk-a", "visit_withdrawn", "民生委員") in steps
    assert ("desk-a", "partner_removed") in audit
    assert not said(bot.line.texts_to(son), "desk.confirmed_notice", name="resident")
    page = await (await bot.client.get(f"/admin/desk/{case_id}")).text()
    assert JA.t("admin.visits.state.withdrawn") in page
    # Her code, had one been waiting, is gone with her: asked again, she cannot be.
    status, text = await post(bot, f"/admin/desk/{case_id}/visits", partner_id=str(partner_id))
    assert (status, text) == (400, JA.t("admin.refused.no_such_partner"))


async def test_a_case_staff_close_is_closed_for_every_partner_asked(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await start_bot(desk_after=HOUR)
    _, _, case_id = await case_at_the_desk(bot)
    minsei, kanri = await bot.follow("minsei"), await bot.follow("kanri")
    await staff_signed_in(bot)
    await ask(bot, case_id, await partner_on_line(bot, minsei, "民生委員"))
    await ask(bot, case_id, await partner_on_line(bot, kanri, "管理会社", kind="management"))
    await add_partner(bot, "交番", line=False, kind="police")
    await ask(bot, case_id, 3)
    await bot.tap(kanri, action_data(bot, kanri, t("visit.going_button")))
    going = action_data(bot, minsei, t("visit.going_button"))
    before = {uid: len(bot.line.texts_to(uid)) for uid in (minsei, kanri)}

    token = await csrf(bot.client, f"/admin/desk/{case_id}")
    await bot.client.post(
        f"/admin/desk/{case_id}",
        data={"csrf_token": token, "action": "close", "outcome": "out"},
        allow_redirects=False,
    )
    await bot.settle()
    for uid in (minsei, kanri):
        (told,) = bot.line.texts_to(uid)[before[uid] :]
        assert says(told, "visit.not_needed_notice") and not personal(told)
    await bot.tap(minsei, going)
    assert says(bot.line.reply_texts()[-1], "visit.closed")
    async with bot.repos() as repos:
        states = [v["state"] for v in await repos.partners.visits_of(case_id)]
    assert states == ["not_needed"] * 3
    page = await (await bot.client.get(f"/admin/desk/{case_id}")).text()
    assert JA.t("admin.visits.phone_them") in page, "the one without LINE is phoned"


async def test_a_partners_outcome_calls_off_the_other_partners_visit(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await start_bot(desk_after=HOUR)
    _, _, case_id = await case_at_the_desk(bot)
    minsei, kanri = await bot.follow("minsei"), await bot.follow("kanri")
    await staff_signed_in(bot)
    await ask(bot, case_id, await partner_on_line(bot, minsei, "民生委員"))
    await ask(bot, case_id, await partner_on_line(bot, kanri, "管理会社", kind="management"))
    await bot.tap(minsei, action_data(bot, minsei, t("visit.seen_button")))
    await bot.tap(minsei, action_data(bot, minsei, t("visit.outcome.asleep")))
    assert said(bot.line.texts_to(kanri), "visit.not_needed_notice")
    assert not said(bot.line.texts_to(minsei), "visit.not_needed_notice"), "she closed it"
    await bot.tap(kanri, action_data(bot, kanri, t("visit.seen_button")))
    assert says(bot.line.reply_texts()[-1], "visit.closed")


async def test_her_own_ok_closes_the_case_for_the_partner_too(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    """Her OK closes the case where the desk does not act: the partner hears at once that
    she need not go, and her card's buttons are refused."""
    bot = await start_bot(desk_after=HOUR)
    resident, _, case_id = await case_at_the_desk(bot)
    minsei = await bot.follow("minsei")
    await staff_signed_in(bot)
    await ask(bot, case_id, await partner_on_line(bot, minsei, "民生委員"))
    await bot.tap(resident, button(bot, resident, t("checkin.ok_button")))
    async with bot.repos() as repos:
        case = await repos.desk.get(case_id)
    assert case is not None and not case.open
    (told,) = said(bot.line.texts_to(minsei), "visit.not_needed_notice")
    await bot.tap(minsei, action_data(bot, minsei, t("visit.going_button")))
    assert says(bot.line.reply_texts()[-1], "visit.closed")
    assert not personal(told)
    await bot.advance(timedelta(minutes=1))
    assert len(said(bot.line.texts_to(minsei), "visit.not_needed_notice")) == 1, "once"
    async with bot.repos() as repos:
        visit = await repos.partners.visit(1)
    assert visit is not None and visit.state == "not_needed"


async def test_closed_as_in_hospital_the_desk_pauses_her_check_ins_until_she_is_home(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    """入院していた: the case page offers a pause until she is home, so her daily check-ins
    do not alert her son again two days later."""
    bot = await start_bot(desk_after=HOUR)
    resident, son, case_id = await case_at_the_desk(bot)
    await staff_signed_in(bot)
    offer = JA.t("admin.desk.pause_until_home")
    page = await (await bot.client.get(f"/admin/desk/{case_id}")).text()
    assert offer not in page, "not while the case is open"
    token = await csrf(bot.client, f"/admin/desk/{case_id}")
    await bot.client.post(
        f"/admin/desk/{case_id}",
        data={"csrf_token": token, "action": "close", "outcome": "hospital"},
        allow_redirects=False,
    )
    await bot.settle()
    page = await (await bot.client.get(f"/admin/desk/{case_id}")).text()
    assert offer in page
    token = await csrf(bot.client, f"/admin/desk/{case_id}")
    response = await bot.client.post(
        f"/admin/desk/{case_id}",
        data={"csrf_token": token, "action": "pause_until_home"},
        allow_redirects=False,
    )
    await bot.settle()
    assert response.status == 303
    assert said(bot.line.texts_to(son), "stopped.paused_open", name="resident")
    assert said(bot.line.texts_to(resident), "desk.paused_notice")
    page = await (await bot.client.get(f"/admin/desk/{case_id}")).text()
    assert offer not in page and JA.t("admin.desk.step.paused") in page
    async with bot.repos() as repos:
        steps = [(s.staff, s.kind) for s in await repos.desk.steps(case_id)]
        audit = [(row["admin_name"], row["action"]) for row in await repos.admin.audit_log()]
    assert ("desk-a", "paused") in steps and ("desk-a", "desk_paused") in audit
    # Two days, then a week: no check-in for her, no alert for her son.
    checkins, to_son = len(checkins_to(bot, resident)), len(bot.line.texts_to(son))
    for day in (26, 27, 28, 30):
        await run_to(bot, tokyo(11, day, 9))
        await run_to(bot, tokyo(11, day, 15))
    assert len(checkins_to(bot, resident)) == checkins
    assert not said(bot.line.texts_to(son)[to_son:], "alert.body", name="resident")
    # Asked again (signed in anew: a week went by), it changes nothing.
    assert await login(bot.client, "desk-a") == 200
    token = await csrf(bot.client, f"/admin/desk/{case_id}")
    response = await bot.client.post(
        f"/admin/desk/{case_id}",
        data={"csrf_token": token, "action": "pause_until_home"},
        allow_redirects=False,
    )
    assert response.status == 400


async def test_only_in_hospital_offers_the_pause(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await start_bot(desk_after=HOUR)
    resident, _, case_id = await case_at_the_desk(bot)
    await staff_signed_in(bot)
    token = await csrf(bot.client, f"/admin/desk/{case_id}")
    await bot.client.post(
        f"/admin/desk/{case_id}",
        data={"csrf_token": token, "action": "close", "outcome": "asleep"},
        allow_redirects=False,
    )
    page = await (await bot.client.get(f"/admin/desk/{case_id}")).text()
    assert JA.t("admin.desk.pause_until_home") not in page
    token = await csrf(bot.client, f"/admin/desk/{case_id}")
    response = await bot.client.post(
        f"/admin/desk/{case_id}",
        data={"csrf_token": token, "action": "pause_until_home"},
        allow_redirects=False,
    )
    assert (response.status, await response.text()) == (
        400,
        JA.t("admin.refused.not_allowed"),
    )
    assert (await member_of(bot, resident)).paused_until is None
