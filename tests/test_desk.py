"""The last rung: an alert nobody takes, even sent again, lands at the 社協 or city desk as a
case in the console; staff take it, log their calls and close it with an outcome. Driven
through the webhook, the sweep and the console, with the fake LINE and a fake clock."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import timedelta

from care.desk.reading import CASE_KNOWN_FOR
from storage.database import to_db
from storage.models import StaffRole
from tests import line_webhook as hook
from tests.conftest import Bot
from tests.drivers import (
    Page,
    act,
    add_admin,
    alerted,
    answer_button,
    button,
    case_ids,
    csrf,
    login,
    member_of,
    run_to,
    staff_signed_in,
    start_roll_call,
    team_of,
    tokyo,
    watched_resident,
)
from tests.wording import JA, said, says, t

HOUR = timedelta(hours=1)


async def desk_bot(start_bot: Callable[..., Awaitable[Bot]]) -> Bot:
    return await start_bot(desk_after=HOUR)


async def at_the_desk(bot: Bot, managers: list[str]) -> tuple[str, list[str]]:
    """Alerted 11/25 12:00, sent again at 13:00, nobody took it: the desk has it at 14:00."""
    resident, ids = await alerted(bot, managers)
    await run_to(bot, tokyo(11, 25, 13))
    await run_to(bot, tokyo(11, 25, 13, 59))
    async with bot.repos() as repos:
        assert await repos.desk.queue() == [], "not before the hour is up"
    await run_to(bot, tokyo(11, 25, 14, 1))
    return resident, ids


async def as_staff(bot: Bot, name: str) -> None:
    await bot.client.post("/admin/logout", data={"csrf_token": await csrf(bot.client)})
    assert await login(bot.client, name) == 200


def admin_text(key: str, **values: str) -> str:
    return JA.t(f"admin.{key}", **values)


async def test_an_alert_nobody_takes_lands_at_the_desk_and_the_desk_finds_her_safe(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await desk_bot(start_bot)
    resident, (son, daughter) = await at_the_desk(bot, ["son", "daughter"])
    for manager in (son, daughter):
        assert said(bot.line.texts_to(manager), "desk.at_desk_notice", name="resident")
    (case_id,) = await case_ids(bot)

    # Two staff members: the first takes the case and logs a call nobody answered.
    for name in ("desk-a", "desk-b"):
        await add_admin(bot, name)
    assert await login(bot.client, "desk-a") == 200
    queue = await (await bot.client.get("/admin/desk")).text()
    assert f'data-case="{case_id}"' in queue and admin_text("desk.reason.untaken") in queue
    assert (await act(bot, case_id, action="take"))[0] == 303
    assert (await act(bot, case_id, action="call", result="no_answer", note="2回"))[0] == 303

    # The second looks: she sees who has it, and taking it changes nothing.
    await as_staff(bot, "desk-b")
    page = await (await bot.client.get(f"/admin/desk/{case_id}")).text()
    assert admin_text("desk.taken_by_other", name="desk-a") in page
    assert (await act(bot, case_id, action="take"))[0] == 303
    async with bot.repos() as repos:
        case = await repos.desk.get(case_id)
    assert case is not None and case.taken_by == "desk-a"

    # She reaches the resident, who had slept through it: the alert closes as found safe.
    await act(bot, case_id, action="call", result="reached")
    status, _ = await act(bot, case_id, action="close", outcome="asleep", note="昼寝")
    assert status == 303
    outcome = JA.t("desk.outcome.asleep")
    for manager in (son, daughter):
        assert said(
            bot.line.texts_to(manager), "desk.confirmed_notice", name="resident", outcome=outcome
        )
    async with bot.repos() as repos:
        case = await repos.desk.get(case_id)
        steps = await repos.desk.steps(case_id)
        (state, reason) = await repos.conn.fetch_one(
            "SELECT state, close_reason FROM checkin_rounds WHERE id = ?", (case.round_id,)
        )
        audit = await repos.admin.audit_log()
    assert (
        case is not None
        and not case.open
        and (case.outcome, case.closed_by)
        == (
            "asleep",
            "desk-b",
        )
    )
    assert [(s.staff, s.kind, s.result) for s in steps] == [
        ("", "opened", "untaken"),
        ("desk-a", "taken", None),
        ("desk-a", "call", "no_answer"),
        ("desk-b", "call", "reached"),
        ("desk-b", "closed", "asleep"),
    ]
    assert (state, reason) == ("answered", "desk_confirmed")
    done = {(row["admin_name"], row["action"]) for row in audit}
    assert {("desk-a", "desk_taken"), ("desk-a", "desk_call"), ("desk-b", "desk_closed")} <= done
    page = await (await bot.client.get("/admin/desk")).text()
    assert admin_text("desk.none") in page and outcome in page
    # Closed: nothing more is done to it.
    status, text = await act(bot, case_id, action="note", note="x")
    assert status == 400 and text == admin_text("refused.case_closed")


async def test_her_own_ok_closes_the_case_and_only_then_is_anyone_told_safe(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await desk_bot(start_bot)
    resident, (son,) = await at_the_desk(bot, ["son"])
    (case_id,) = await case_ids(bot)
    assert not said(bot.line.texts_to(son), "safe.body", name="resident")
    await bot.tap(resident, button(bot, resident, t("checkin.ok_button")))
    assert said(bot.line.texts_to(son), "safe.body", name="resident")
    async with bot.repos() as repos:
        case = await repos.desk.get(case_id)
    assert case is not None and (case.outcome, case.closed_by) == ("answered", "")


async def test_a_family_member_who_takes_it_late_shows_on_the_case(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await desk_bot(start_bot)
    _, (son, daughter) = await at_the_desk(bot, ["son", "daughter"])
    (case_id,) = await case_ids(bot)
    await bot.tap(son, button(bot, son, t("alert.take_button")))
    async with bot.repos() as repos:
        case = await repos.desk.get(case_id)
        kinds = [s.kind for s in await repos.desk.steps(case_id)]
    assert case is not None and case.open and kinds[-1] == "family_took"
    await bot.tap(son, button(bot, son, t("alert.safe_button")))
    assert said(bot.line.texts_to(daughter), "alert.confirmed_notice", name="resident")
    async with bot.repos() as repos:
        case = await repos.desk.get(case_id)
    assert case is not None and case.outcome == "family_confirmed"


async def test_an_outcome_that_is_not_safe_never_tells_the_family_safe(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await desk_bot(start_bot)
    _, (son,) = await at_the_desk(bot, ["son"])
    (case_id,) = await case_ids(bot)
    await staff_signed_in(bot)
    before = len(bot.line.texts_to(son))
    assert (await act(bot, case_id, action="close", outcome="ambulance"))[0] == 303
    new = bot.line.texts_to(son)[before:]
    assert said(new, "desk.closed_notice", name="resident")
    assert not any(
        says(text, key, name="resident")
        for text in new
        for key in ("safe.body", "desk.confirmed_notice", "alert.confirmed_notice")
    )
    assert JA.t("desk.outcome.ambulance") not in "".join(new), "a person says it, not the bot"


async def test_still_unreachable_keeps_the_case_open(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await desk_bot(start_bot)
    await at_the_desk(bot, ["son"])
    (case_id,) = await case_ids(bot)
    await staff_signed_in(bot)
    assert (await act(bot, case_id, action="close", outcome="unreachable"))[0] == 303
    assert await case_ids(bot) == [case_id]


async def test_a_call_for_help_nobody_took_comes_first_in_the_queue(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await desk_bot(start_bot)
    await at_the_desk(bot, ["son"])
    helped, _ = await watched_resident(bot, "neighbour", ["daughter"])
    await bot.tap(helped, bot.codec.encode("ok", t=0, v="help"))
    await bot.advance(HOUR + timedelta(minutes=1))  # the urgent alert sent again
    await bot.advance(HOUR + timedelta(minutes=1))  # and still nobody: the desk
    async with bot.repos() as repos:
        queue = await repos.desk.queue()
    assert [(c["reason"], bool(c["urgent"])) for c in queue] == [
        ("help", True),
        ("untaken", False),
    ]


async def test_without_a_desk_an_alert_stays_with_the_managers(bot: Bot) -> None:
    _, (son,) = await alerted(bot, ["son"])
    await run_to(bot, tokyo(11, 26, 8))
    async with bot.repos() as repos:
        (count,) = await repos.conn.fetch_one("SELECT COUNT(*) FROM desk_cases", ())
    assert count == 0
    assert not said(bot.line.texts_to(son), "desk.at_desk_notice", name="resident")


async def test_blocking_the_bot_while_at_the_desk_leaves_the_case_open(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await desk_bot(start_bot)
    resident, _ = await at_the_desk(bot, ["son"])
    (case_id,) = await case_ids(bot)
    await bot.post(hook.unfollow(resident, bot.clock.now()))
    async with bot.repos() as repos:
        case = await repos.desk.get(case_id)
        kinds = [s.kind for s in await repos.desk.steps(case_id)]
    assert case is not None and case.open and kinds[-1] == "stopped"


async def test_bad_requests_change_nothing(start_bot: Callable[..., Awaitable[Bot]]) -> None:
    bot = await desk_bot(start_bot)
    await at_the_desk(bot, ["son"])
    (case_id,) = await case_ids(bot)
    await add_admin(bot, "desk-a")
    assert (await bot.client.get("/admin/desk", allow_redirects=False)).status in (302, 303)
    assert await login(bot.client, "desk-a") == 200
    assert (await bot.client.get("/admin/desk/999")).status == 404
    assert (await bot.client.get("/admin/desk/abc")).status == 404
    forged = await bot.client.post(
        f"/admin/desk/{case_id}", data={"action": "take", "csrf_token": "forged"}
    )
    assert forged.status == 403
    status, _ = await act(bot, case_id, action="call", result="busy-ish")
    assert status == 400
    status, text = await act(bot, case_id, action="note", note="あ" * 1001)
    assert status == 400 and text == admin_text("refused.invalid_note", limit="1000")
    status, _ = await act(bot, case_id, action="close", outcome="fine")
    assert status == 400
    status, _ = await act(bot, case_id, action="dance")
    assert status == 400
    async with bot.repos() as repos:
        case = await repos.desk.get(case_id)
        steps = await repos.desk.steps(case_id)
    assert case is not None and case.open and case.taken_by is None and len(steps) == 1
    page = await (await bot.client.get(f"/admin/desk/{case_id}")).text()
    assert not re.search(r"<script", page.split('<main id="main" tabindex="-1">')[1])


async def test_a_roll_call_help_answer_is_a_case_at_once(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await desk_bot(start_bot)
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    await staff_signed_in(bot)
    call = await start_roll_call(bot, audience="everyone")
    for _ in range(2):  # answered twice: still one case
        await bot.tap(resident, answer_button(bot, resident, "help"))
    async with bot.repos() as repos:
        queue = await repos.desk.queue()
    assert [(c["reason"], c["roll_call_id"], bool(c["urgent"])) for c in queue] == [
        ("rollcall_help", call, True)
    ]
    status, _ = await act(bot, queue[0]["id"], action="close", outcome="out")
    assert status == 303
    outcome = JA.t("desk.outcome.out")
    assert said(bot.line.texts_to(son), "desk.confirmed_notice", name="resident", outcome=outcome)


async def desk_watches_the_team_of(bot: Bot, uid: str) -> None:
    team_id = await team_of(bot, uid)
    status, text = await team_form(bot, team_id, action="desk_watch_on")
    assert status == 303, text
    page = await (await bot.client.get(f"/admin/teams/{team_id}")).text()
    assert admin_text("team.desk_on") in page


async def test_a_person_with_nobody_else_is_watched_by_the_desk_itself(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await desk_bot(start_bot)
    alone, _ = await watched_resident(bot, "resident", [])
    await staff_signed_in(bot)
    await desk_watches_the_team_of(bot, alone)

    await run_to(bot, tokyo(11, 24, 9))
    await run_to(bot, tokyo(11, 25, 9))
    await run_to(bot, tokyo(11, 25, 12))
    async with bot.repos() as repos:
        queue = await repos.desk.queue()
    assert [(c["reason"], c["opened_at"]) for c in queue] == [
        ("untaken", to_db(tokyo(11, 25, 12)))
    ], "a case the moment the alert is due: no manager's turn to wait for"

    # Her call for help reaches the desk at once, and she is told it did.
    await bot.tap(alone, bot.codec.encode("ok", t=0, v="help"))
    # Nobody watches her: she hears the desk has it, not that her watchers do.
    assert says(bot.line.reply_texts()[-1], "checkin.help_nobody_desk", desk=JA.t("desk.name"))
    async with bot.repos() as repos:
        (case,) = await repos.desk.queue()
        kinds = [s.kind for s in await repos.desk.steps(case["id"])]
    assert kinds == ["opened", "help"] and case["urgent"], "her call for help, on its case"


async def test_a_desk_watched_teams_managers_hear_the_desk_has_it_too(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await desk_bot(start_bot)
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    await staff_signed_in(bot)
    await desk_watches_the_team_of(bot, resident)
    await bot.tap(resident, bot.codec.encode("ok", t=0, v="help"))
    assert says(bot.line.reply_texts()[-1], "checkin.help_sent", names=f"son、{JA.t('desk.name')}")
    assert said(bot.line.texts_to(son), "desk.watching_notice", name="resident")
    assert [c["reason"] for c in await await_queue(bot)] == ["help"]


async def await_queue(bot: Bot) -> list[dict[str, object]]:
    async with bot.repos() as repos:
        return await repos.desk.queue()


async def test_no_desk_no_desk_watched_team(bot: Bot) -> None:
    resident, _ = await watched_resident(bot, "resident", [])
    await staff_signed_in(bot)
    async with bot.repos() as repos:
        member = await repos.members.by_line_id(resident)
        assert member is not None
        ((team, _),) = await repos.teams.teams_of(member.id)
    token = await csrf(bot.client, f"/admin/teams/{team.id}")
    response = await bot.client.post(
        f"/admin/teams/{team.id}", data={"csrf_token": token, "action": "desk_watch_on"}
    )
    assert response.status == 400 and await response.text() == admin_text("refused.no_desk")


async def team_form(bot: Bot, team_id: int, **form: str) -> tuple[int, str]:
    token = await csrf(bot.client, f"/admin/teams/{team_id}")
    response = await bot.client.post(
        f"/admin/teams/{team_id}", data={"csrf_token": token, **form}, allow_redirects=False
    )
    return response.status, await response.text()


async def member_id(bot: Bot, uid: str) -> str:
    return str((await member_of(bot, uid)).id)


async def test_a_team_tells_its_民生委員_first_then_the_family_then_the_desk(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await desk_bot(start_bot)
    resident, (minsei, son, daughter) = await watched_resident(
        bot, "resident", ["minsei", "son", "daughter"]
    )
    await staff_signed_in(bot)
    team_id = await team_of(bot, resident)
    for family in (son, daughter):
        form = {"action": "set_turn", "member_id": await member_id(bot, family), "turn": "2"}
        assert (await team_form(bot, team_id, **form))[0] == 303
    assert (await team_form(bot, team_id, action="set_turn_minutes", minutes="30"))[0] == 303

    def alerted(uid: str) -> int:
        return sum(1 for text in bot.line.texts_to(uid) if JA.t("alert.title") in text)

    await run_to(bot, tokyo(11, 24, 9))
    await run_to(bot, tokyo(11, 25, 9))
    await run_to(bot, tokyo(11, 25, 12))
    assert (alerted(minsei), alerted(son), alerted(daughter)) == (1, 0, 0), "the 民生委員 first"
    await run_to(bot, tokyo(11, 25, 12, 29))
    assert (alerted(son), alerted(daughter)) == (0, 0)
    await run_to(bot, tokyo(11, 25, 12, 30))
    assert (alerted(minsei), alerted(son), alerted(daughter)) == (1, 1, 1), "then the family"
    # An hour after the last turn, everyone again; an hour after that, the desk.
    await run_to(bot, tokyo(11, 25, 13, 29))
    assert not said(bot.line.texts_to(son), "alert.again")
    await run_to(bot, tokyo(11, 25, 13, 30))
    for uid in (minsei, son, daughter):
        assert any(JA.t("alert.again") in text for text in bot.line.texts_to(uid))
    await run_to(bot, tokyo(11, 25, 14, 30))
    assert [c["reason"] for c in await await_queue(bot)] == ["untaken"]


async def test_the_first_turn_takes_it_and_the_family_is_not_alarmed(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await desk_bot(start_bot)
    resident, (minsei, son) = await watched_resident(bot, "resident", ["minsei", "son"])
    await staff_signed_in(bot)
    team_id = await team_of(bot, resident)
    form = {"action": "set_turn", "member_id": await member_id(bot, son), "turn": "2"}
    assert (await team_form(bot, team_id, **form))[0] == 303
    await run_to(bot, tokyo(11, 24, 9))
    await run_to(bot, tokyo(11, 25, 9))
    await run_to(bot, tokyo(11, 25, 12))
    await bot.tap(minsei, button(bot, minsei, t("alert.take_button")))
    await run_to(bot, tokyo(11, 25, 16))
    assert not any(JA.t("alert.title") in text for text in bot.line.texts_to(son))
    await bot.tap(minsei, button(bot, minsei, t("alert.safe_button")))
    assert await await_queue(bot) == []


async def test_a_turn_out_of_range_is_refused(start_bot: Callable[..., Awaitable[Bot]]) -> None:
    bot = await desk_bot(start_bot)
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    await staff_signed_in(bot)
    team_id = await team_of(bot, resident)
    refused = admin_text("refused.invalid_turn")
    son_id = await member_id(bot, son)
    for form in (
        {"action": "set_turn", "member_id": son_id, "turn": "7"},
        {"action": "set_turn", "member_id": son_id, "turn": "x"},
        {"action": "set_turn_minutes", "minutes": "5"},
    ):
        assert await team_form(bot, team_id, **form) == (400, refused)
    resident_id = await member_id(bot, resident)
    status, _ = await team_form(bot, team_id, action="set_turn", member_id=resident_id, turn="2")
    assert status == 400, "a user has no turn"
    async with bot.repos() as repos:
        assert await repos.teams.turns_in(team_id) == {int(son_id): 1}


async def test_the_month_in_counts_and_what_the_desk_saw(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    """A seeded November: two people, one OK, one alert that reached the desk and ended
    safe, a roll-call. The report counts them (no names); the desk page shows the outcomes."""
    bot = await desk_bot(start_bot)
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    neighbour, _ = await watched_resident(bot, "neighbour", ["daughter"])
    await run_to(bot, tokyo(11, 24, 9))
    await bot.tap(neighbour, button(bot, neighbour, t("checkin.ok_button")))
    for moment in (tokyo(11, 25, 9), tokyo(11, 25, 12), tokyo(11, 25, 13), tokyo(11, 25, 14, 1)):
        await run_to(bot, moment)
    (case_id,) = await case_ids(bot)
    await staff_signed_in(bot)
    bot.clock.set(tokyo(11, 25, 14, 31))
    assert (await act(bot, case_id, action="close", outcome="asleep"))[0] == 303
    await start_roll_call(bot, audience="everyone")

    page = await (await bot.client.get("/admin/report?month=2026-11")).text()
    csv_text = await (await bot.client.get("/admin/report.csv?month=2026-11")).text()
    rows = dict(line.split(",", 1) for line in csv_text.lstrip("\ufeff").splitlines()[1:])
    async with bot.repos() as repos:
        (asked,) = await repos.conn.fetch_one("SELECT COUNT(*) FROM roll_call_people", ())
    expected = {
        "month": "2026-11",
        "watched": "2",
        "checkins": "3",  # her 11/24; the neighbour's 11/24 (OK) and 11/25 (waiting)
        "answered": "1",
        "waiting": "1",
        "answer_rate": "50%",  # 1 of the 2 no longer waiting (care.desk.report.answer_rate)
        "alerts": "1",
        "calls_for_help": "0",
        "median_resolution_minutes": "151",  # alerted 12:00, found safe by the desk 14:31
        "cases": "1",
        "cases_asleep": "1",
        "cases_out": "0",
        "median_case_minutes": "30",
        "roll_calls": "1",
        "roll_call_asked": str(asked),
        "roll_call_answered": "0",
        "roll_call_needed_help": "0",
    }
    assert {k: rows[k] for k in expected} == expected
    assert "resident" not in csv_text and "neighbour" not in csv_text, "counts only"
    assert 'data-item="median_resolution_minutes"><th scope="row">' in page
    assert "resident" not in page.split('<main id="main" tabindex="-1">')[1]
    october = await (await bot.client.get("/admin/report.csv?month=2026-10")).text()
    assert "checkins,0" in october
    for month in ("2026-13", "26-11", "<script>"):
        assert (await bot.client.get("/admin/report", params={"month": month})).status == 400

    desk_page = await (await bot.client.get("/admin/desk")).text()
    assert 'data-outcome="asleep"><th scope="row">' in desk_page
    assert re.search(r'id="median-alert">.*?<td>151</td>', desk_page)


async def test_where_the_city_asks_not_feeling_well_is_a_case_too(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await start_bot(desk_after=HOUR, desk_unwell=True)
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    await run_to(bot, tokyo(11, 24, 9))
    await bot.tap(resident, button(bot, resident, t("checkin.unwell_button")))
    assert said(bot.line.texts_to(son), "unwell.body", name="resident"), "the family first"
    # Again from the menu with no check-in waiting: the same case hears it, not a second.
    await bot.tap(resident, bot.codec.encode("ok", t=0, v="unwell"))
    (case,) = await await_queue(bot)
    assert (case["reason"], bool(case["urgent"])) == ("unwell", False)
    async with bot.repos() as repos:
        kinds = [(s.kind, s.result) for s in await repos.desk.steps(int(case["id"]))]
    assert kinds == [("opened", "unwell"), ("again", "unwell")]

    await staff_signed_in(bot)
    queue = await (await bot.client.get("/admin/desk")).text()
    assert admin_text("desk.reason.unwell") in queue
    # Staff call her back: she had a cold. The round stays as she left it; her son hears.
    status, _ = await act(bot, int(case["id"]), action="close", outcome="out", note="風邪")
    assert status == 303
    outcome = JA.t("desk.outcome.out")
    assert said(bot.line.texts_to(son), "desk.confirmed_notice", name="resident", outcome=outcome)
    async with bot.repos() as repos:
        (state, answer) = await repos.conn.fetch_one(
            "SELECT state, answer FROM checkin_rounds WHERE id = ?", (case["round_id"],)
        )
    assert (state, answer) == ("answered", "unwell")


async def test_by_default_not_feeling_well_stays_with_the_family(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await desk_bot(start_bot)
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    await run_to(bot, tokyo(11, 24, 9))
    await bot.tap(resident, button(bot, resident, t("checkin.unwell_button")))
    assert said(bot.line.texts_to(son), "unwell.body", name="resident")
    assert await await_queue(bot) == []


async def note_on(bot: Bot, member_id: int, note: str) -> tuple[int, str]:
    token = await csrf(bot.client, "/admin/desk")
    response = await bot.client.post(
        f"/admin/people/{member_id}",
        data={"csrf_token": token, "note": note},
        allow_redirects=False,
    )
    return response.status, await response.text()


async def test_a_note_on_her_card_is_there_at_her_next_case(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await desk_bot(start_bot)
    resident, (son,) = await at_the_desk(bot, ["son"])
    (case_id,) = await case_ids(bot)
    member = await member_of(bot, resident)
    await staff_signed_in(bot, "desk-a")

    # From the case, her card; a note on it outlasts the case.
    case_page = await (await bot.client.get(f"/admin/desk/{case_id}")).text()
    assert f'href="/admin/people/{member.id}"' in case_page
    card = await (await bot.client.get(f"/admin/people/{member.id}")).text()
    assert admin_text("desk.no_person_notes") in card and f'data-case="{case_id}"' in card
    assert (await note_on(bot, member.id, "耳が遠いので、ゆっくり話す"))[0] == 303
    await act(bot, case_id, action="close", outcome="asleep")

    # Two days later, another alert nobody takes: the note is on the new case.
    for moment in ((11, 26, 9), (11, 27, 9), (11, 27, 12), (11, 27, 13), (11, 27, 14, 1)):
        await run_to(bot, tokyo(*moment))
    (second,) = await case_ids(bot)
    assert second != case_id
    assert await login(bot.client, "desk-a") == 200  # the console's session ran out meanwhile
    page = await (await bot.client.get(f"/admin/desk/{second}")).text()
    assert "耳が遠いので、ゆっくり話す" in page and admin_text("desk.person_notes") in page
    card = await (await bot.client.get(f"/admin/people/{member.id}")).text()
    assert f'data-case="{case_id}"' in card and f'data-case="{second}"' in card
    async with bot.repos() as repos:
        done = {(row["admin_name"], row["action"]) for row in await repos.admin.audit_log()}
    assert {("desk-a", "desk_person_note"), ("desk-a", "desk_viewed")} <= done
    assert not any("耳が遠い" in text for text in bot.line.texts_to(son)), "the desk's own"


async def test_a_card_is_only_for_people_the_desk_has_had(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await desk_bot(start_bot)
    resident, _ = await at_the_desk(bot, ["son"])
    other, _ = await watched_resident(bot, "neighbour", ["neighbour-son"])
    member, stranger = await member_of(bot, resident), await member_of(bot, other)
    await staff_signed_in(bot, "desk-a")
    assert (await bot.client.get(f"/admin/people/{stranger.id}")).status == 404
    assert (await bot.client.get("/admin/people/9999")).status == 404
    assert (await bot.client.get("/admin/people/abc")).status == 404
    status, text = await note_on(bot, stranger.id, "x")
    assert status == 400 and text == admin_text("refused.no_such_person")
    status, text = await note_on(bot, member.id, "あ" * 1001)
    assert status == 400 and text == admin_text("refused.invalid_note", limit="1000")
    status, _ = await note_on(bot, member.id, "   ")
    assert status == 400

    # 退会: what the desk kept on her goes with it, and nothing more can be added.
    assert (await note_on(bot, member.id, "鍵は隣の方が預かっている"))[0] == 303
    page = Page(bot, resident, "resident")
    await page.accept_terms()
    # Not while her alert is open: the desk finds her first.
    assert (await page.call("POST", "/liff/api/me/withdraw", {"confirm": True}))[0] == 409
    (case_id,) = await case_ids(bot)
    assert (await act(bot, case_id, action="close", outcome="asleep"))[0] == 303
    assert (await page.call("POST", "/liff/api/me/withdraw", {"confirm": True}))[0] == 200
    async with bot.repos() as repos:
        assert await repos.desk.person_notes(member.id) == []
    status, text = await note_on(bot, member.id, "x")
    assert status == 400 and text == admin_text("refused.no_such_person")


async def test_a_closed_case_opens_her_card_to_the_desk_for_a_month_not_for_good(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    """A case is the desk's reason to read her card while it lasts and for its follow-up;
    years later it is no reason at all (her team is not one the desk watches)."""
    bot = await desk_bot(start_bot)
    resident, _ = await at_the_desk(bot, ["son"])
    await bot.tap(resident, button(bot, resident, t("checkin.ok_button")))
    member = await member_of(bot, resident)
    await add_admin(bot, "desk-a", StaffRole.DESK)
    assert await login(bot.client, "desk-a") == 200
    path = f"/admin/people/{member.id}"
    assert (await bot.client.get(path)).status == 200, "closed today: its follow-up"
    bot.clock.advance(CASE_KNOWN_FOR + timedelta(days=1))
    assert await login(bot.client, "desk-a") == 200
    assert (await bot.client.get(path)).status == 404
