"""The local LINE simulator: the real bot, a stand-in LINE, people with phones, a clock."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pyotp
from aiohttp import ClientSession, web
from aiohttp.test_utils import TestClient

from admin.second_factor import matching_step
from care.services import SERVICES
from ground.clock import FakeClock
from ground.messages import HELP_COLOUR, OK_COLOUR
from simulator.city import GARBAGE_DAY_ANSWER
from simulator.console import Codes, Console
from simulator.demo import DEMO_CALL_BUDGET, Demo
from simulator.simulator import Bubble
from simulator.telephone import as_written
from simulator.tour import (
    DAUGHTER,
    GROUP,
    LANDLINE,
    LANDLINE_RESIDENT,
    MINSEI,
    NEIGHBOURS,
    REGISTER_CARER,
    REGISTER_PHONE,
    RESIDENT,
    SON,
    Tour,
    key_of,
)
from simulator.weather import FeedStandIn, alert_day
from tests.conftest import free_port_pair
from tests.wording import said, says

ROOT = Path(__file__).resolve().parents[1]


def _tally(page: str) -> list[tuple[str, dict[str, str]]]:
    """The tally by 担当: each carer's counts by standing."""
    rows = re.findall(r'<tr data-carer="([^"]*)"><th scope="row">[^<]*</th>(.*?)</tr>', page)
    counts = r'data-standing="(\w+)">(\d+)<'
    return [(carer, dict(re.findall(counts, cells))) for carer, cells in rows]


def texts(demo: Demo, name: str) -> list[str]:
    assert demo.simulator is not None
    person = demo.simulator.people[key_of(demo.simulator, name)]
    return [bubble.text for bubble in demo.simulator.logs[person.uid]]


# The tour's narration, step by step: what the audience reads on the page as it plays.
NARRATED = (
    "city_follow", "garbage", "open_tab", "start", "team", "daughter", "son",
    "checkin", "resend", "alert", "take", "words", "ok",
    "partner", "nobody", "desk", "visit", "visited",
    "group", "group_post", "group_report",
    "landline", "ring", "no_answer", "answer",
    "phone41.quake", "phone41.rung", "phone41.safe",
    "tour41.heat_opt_in", "tour41.heat_alert", "tour41.heat_morning", "tour41.heat_check",
    "tour41.heat_answer",
    "tour41.storm", "tour41.storm_rung", "tour41.storm_safe", "tour41.storm_tally",
    "end",
)  # fmt: skip


async def test_the_tour_tells_the_whole_story(demo: Demo) -> None:
    assert demo.simulator is not None
    desk = Console(f"http://127.0.0.1:{demo.settings.port}", demo.desk_staff, demo.clock.now)
    try:
        await Tour(demo.simulator, demo.locale, pace=0, console=desk, feeds=demo.feeds).run()
        # The demo's month has a call budget: the quota page shows the landline's calls
        # within it, and no warning that a budget of 0 is spent.
        await desk.sign_in()
        quota = await desk.page("/quota")
        roll_call = await desk.page("/rollcalls/1")
        heat_day = await desk.page("/heat")
        storm_tally = await desk.page("/rollcalls/2/roster")
    finally:
        await desk.close()
    rings = demo.simulator.rings
    assert f'id="calls-limit">{DEMO_CALL_BUDGET}<' in quota
    assert f'id="calls-used">{len(rings)}<' in quota
    assert 'id="calls-warning"' not in quota
    locale = demo.locale
    word = locale.t("shared.start_words").split(",")[0]
    warning = locale.t(
        "storm41.name",
        level=4,
        hazard=locale.t("storm41.hazard.landslide"),
        rank=locale.t("storm41.rank.level4"),
    )
    assert demo.simulator.narration == [
        locale.t(f"simulator40.tour.{step}", word=word, warning=warning, carer=REGISTER_CARER)
        for step in NARRATED
    ]
    resident = texts(demo, RESIDENT)
    # On the city's shared account: the city's system answers her 「ごみの日」, and mimamori
    # says nothing until she asks for it, then greets her with her 会員ID.
    garbage = resident.index(GARBAGE_DAY_ANSWER)
    (greeting,) = said(resident, "shared.greeting", locale)
    assert garbage < resident.index(greeting)
    assert not said(resident, "follow.greeting", locale)
    assert "follow" in demo.city.types() and demo.city.refused == 0
    assert any(text.startswith(locale.t("checkin.title")) for text in resident)
    assert any(text.startswith(locale.t("checkin.resend_title")) for text in resident)
    for relative in (DAUGHTER, SON):
        heard = texts(demo, relative)
        assert said(heard, "invite.joined.manager", locale)
        assert any(locale.t("alert.title") in text for text in heard), heard
        (words,) = said(heard, "words.body", locale, name=RESIDENT)
        # (Her later OKs say so again: the heat day's morning answers a round left open.)
        safe = said(heard, "safe.body", locale, name=RESIDENT)[0]
        assert heard.index(words) < heard.index(safe), "her message did not say she was safe"
    assert said(texts(demo, SON), "alert.taken_notice", locale, taker=DAUGHTER)
    # Another day nobody in the family could take it: the desk, and the 民生委員's visit.
    assert any(locale.t("visit.title") in text for text in texts(demo, MINSEI))
    asleep = locale.t("desk.outcome.asleep")
    for relative in (DAUGHTER, SON):
        heard = texts(demo, relative)
        (at_desk,) = said(heard, "desk.at_desk_notice", locale, name=RESIDENT)
        (found,) = said(heard, "desk.confirmed_notice", locale, name=RESIDENT, outcome=asleep)
        assert heard.index(at_desk) < heard.index(found)
    group = [b.text for b in demo.simulator.logs[demo.simulator.groups["g1"].gid]]
    assert said(group, "group.ok", locale, name=NEIGHBOURS[0])
    assert said(group, "group.answer_unwell", locale, name=NEIGHBOURS[1])
    report = said(group, "group.report_head", locale)[0]  # the round the tour played
    assert locale.t("group.report_line", name=NEIGHBOURS[2]) in report
    assert NEIGHBOURS[0] not in report
    assert demo.simulator.groups["g1"].name == GROUP
    # A man with only a landline: rung at check-in time (out), rung again, answered with 1.
    out, answered = rings[:2]
    (quake,) = [ring for ring in rings[2:] if ring.number == LANDLINE][:1]
    assert out.number == answered.number == LANDLINE  # as the desk wrote it, not +81...
    question = locale.t("call.question", name=LANDLINE_RESIDENT)
    assert out.spoken[0] == answered.spoken[0] == question
    assert out.ended == "no-answer" and answered.ended == "completed"
    assert answered.heard == [locale.t("call.thanks_ok")]
    # The quake's roll-call reached him by phone, and his 1 answered it safe (issue 41).
    assert quake.number == LANDLINE and says(quake.spoken[0], "gaps41.call.warning", locale)
    assert quake.heard == [locale.t("phone41.call.thanks_safe")]
    for name in (RESIDENT, DAUGHTER, SON):
        assert said(texts(demo, name), "storm41.body", locale), name  # naming the quake
    # (The register's person without LINE was rung too; she answers the storm's, below.)
    assert locale.t("admin.phone41.by_phone", asked=2, answered=1) in roll_call
    assert not any(
        LANDLINE_RESIDENT in text
        for text in texts(demo, MINSEI)[-3:]
        if locale.t("alert.title") in text
    ), "nobody alarmed"
    # A 熱中症警戒アラート day (issue 41): the heat check reached her, and her OK answered it.
    resident = texts(demo, RESIDENT)
    assert said(resident, "heat41.turned_on", locale)
    assert any(text.startswith(locale.t("heat41.title")) for text in resident)
    assert not any(text.startswith(locale.t("heat41.again_title")) for text in resident)
    assert re.search(r'data-standing="answered"', heat_day), "her OK closed the heat check"
    # JMA's レベル４土砂災害危険警報: the roll-call names it; the register person without LINE
    # is rung on her landline, and her 1 is in the tally by 担当.
    for name in (RESIDENT, DAUGHTER, SON):
        assert said(texts(demo, name), "storm41.body", locale, warning=warning), name
    # (Rung in the quake's roll-call too, and once more; the storm's is her last call.)
    register = [ring for ring in rings if ring.number == REGISTER_PHONE][-1]
    assert register.spoken[0] == locale.t("gaps41.call.warning", warning=warning)
    assert register.heard == [locale.t("phone41.call.thanks_safe")]
    carer = dict(_tally(storm_tally))[REGISTER_CARER]
    assert carer["safe"] == "1" and carer["unasked"] == "1", "D002 has no phone"
    # Her carer's list of people to visit names D002 (never asked), not her.
    assert re.search(r'data-roster="D002" data-standing="unasked"', storm_tally)
    assert 'data-roster="D001"' not in storm_tally


async def test_the_phones_page_and_its_api(demo: Demo) -> None:
    async with ClientSession() as session:
        async with session.get(demo.url) as response:
            assert response.status == 200 and "シミュレーター" in await response.text()
        async with session.post(demo.url + "api/people", json={"name": "new person"}) as response:
            key = (await response.json())["key"]
        async with session.post(demo.url + f"api/people/{key}/follow", json={}) as response:
            assert response.status == 200

        async def person_now() -> dict:
            async with session.get(demo.url + "api/state") as response:
                state = await response.json()
            return next(p for p in state["people"] if p["key"] == key)

        # The city's account: a follow brings nothing from mimamori, and under the chat is
        # the city's own menu, with a tab to mimamori's.
        person = await person_now()
        assert person["chat"] == []
        menu = person["rich_menu"]
        labels = [area["action"]["label"] for area in menu["areas"]]
        assert labels == [
            demo.locale.t(f"city_stand_in.{k}") for k in ("garbage_tile", "mimamori_tile")
        ]
        tab = menu["areas"][1]["action"]
        async with session.post(
            demo.url + f"api/people/{key}/switch",
            json={"alias": tab["alias"], "data": tab["data"]},
        ) as response:
            assert response.status == 200
        menu = (await person_now())["rich_menu"]
        labels = [area["action"]["label"] for area in menu["areas"]]
        assert labels[0] == demo.locale.t("richmenu.ok")
        assert labels[-1] == demo.locale.t("richmenu.city_menu")
        async with session.get(demo.url + menu["image"].lstrip("/")) as response:
            assert response.status == 200 and response.content_type == "image/png"
        # Her switch to mimamori's tab: it greets her at once, one card.
        for _ in range(100):  # the bot answers in the background; wait for its reply
            person = await person_now()
            if person["chat"]:
                break
            await asyncio.sleep(0.05)
        assert says(person["chat"][0]["text"], "shared.greeting", demo.locale)
        assert len(person["chat"]) == 1
        async with session.get(demo.url + f"mypage/{key}", allow_redirects=False) as response:
            assert response.status == 302 and "#sim_token=" in response.headers["Location"]
        async with session.post(demo.url + "api/clock", json={"advance": "1d"}) as response:
            assert response.status == 200
        async with session.post(demo.url + "api/clock", json={"advance": "1y"}) as response:
            assert response.status == 400
        async with session.post(demo.url + "api/people/nobody/follow", json={}) as response:
            assert response.status == 404
        # The 機器 button: before she agreed to My page's terms, her device cannot be linked;
        # after, the first press links it and each press is a movement.
        async with session.post(demo.url + f"api/people/{key}/device", json={}) as response:
            assert (await response.json())["status"] == 403
        assert demo.simulator is not None
        person = demo.simulator.people[key]
        token = demo.platform.issue_id_token(
            person.uid, person.name, demo.settings.login_channel_id or "", timedelta(days=1)
        )
        async with session.post(
            f"http://127.0.0.1:{demo.settings.port}/liff/api/terms",
            json={},
            headers={"Authorization": f"Bearer {token}"},
        ) as response:
            assert response.status == 200
        async with session.post(demo.url + f"api/people/{key}/device", json={}) as response:
            assert (await response.json())["status"] == 204
        async with session.get(demo.url + "api/state") as response:
            assert key in (await response.json())["devices"]
        async with session.post(demo.url + "api/calls/CAnone/press", json={}) as response:
            assert response.status == 404


async def test_serve_without_credentials_starts_the_simulator(tmp_path: Path) -> None:
    port = free_port_pair()
    env = {
        "PATH": os.environ["PATH"],
        "PYTHONPATH": str(ROOT),
        "HOME": str(tmp_path),
        "MIMAMORI_PORT": str(port),
        "NO_PROXY": "127.0.0.1,localhost",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mimamori",
        "serve",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        assert f"open http://127.0.0.1:{port + 1}/" in line
        async with ClientSession() as session, session.get(f"http://127.0.0.1:{port + 1}/") as r:
            assert r.status == 200
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()[-2000:]


async def test_the_earthquake_button_starts_a_roll_call_for_the_phones_and_the_group(
    demo: Demo,
) -> None:
    assert demo.simulator is not None
    await Tour(demo.simulator, demo.locale, pace=0).run()
    async with ClientSession() as session, session.post(demo.url + "api/quake", json={}) as answer:
        assert answer.status == 200
    locale = demo.locale
    for name in (RESIDENT, DAUGHTER, SON):
        assert said(texts(demo, name), "storm41.body", locale), name  # naming the quake
    group = [b.text for b in demo.simulator.logs[demo.simulator.groups["g1"].gid]]
    assert said(group, "storm41.body", locale), "the group gets its post"


def checkin_card(demo: Demo) -> Bubble:
    assert demo.simulator is not None
    person = demo.simulator.people[key_of(demo.simulator, RESIDENT)]
    title = demo.locale.t("checkin.title")
    return next(b for b in demo.simulator.logs[person.uid] if b.text.startswith(title))


def parts(node: dict, kind: str) -> list[dict]:
    found = [node] if node.get("type") == kind else []
    for block in ("header", "hero", "body", "footer"):
        if isinstance(node.get(block), dict):
            found += parts(node[block], kind)
    for child in node.get("contents", []):
        found += parts(child, kind)
    return found


async def test_the_check_in_is_kept_as_its_boxes_for_the_page_to_draw(demo: Demo) -> None:
    assert demo.simulator is not None
    await Tour(demo.simulator, demo.locale, pace=0).team_and_invites()
    await demo.simulator.advance_to_next_due()
    card = checkin_card(demo)
    assert card.flex is not None and card.flex["type"] == "bubble"
    t = demo.locale.t
    # Each button keeps its style and colour, and points at its action in the card's buttons.
    drawn = {card.buttons[button["act"]]["label"]: button for button in parts(card.flex, "button")}
    assert drawn[t("checkin.ok_button")]["color"] == OK_COLOUR
    assert drawn[t("checkin.help_button")]["color"] == HELP_COLOUR
    assert drawn[t("checkin.unwell_button")]["style"] == "secondary"
    assert "color" not in drawn[t("checkin.unwell_button")]
    assert drawn[t("checkin.help_button")]["margin"] == "xxl"
    assert len(parts(card.flex, "separator")) == 1
    title = next(p for p in parts(card.flex, "text") if p["text"] == t("checkin.title"))
    assert title["size"] == "xl" and title["weight"] == "bold"
    # Nothing the page does not draw is passed on (the action is its index).
    assert all("action" not in button for button in drawn.values())


def test_numbers_are_shown_as_people_in_japan_write_them() -> None:
    assert as_written("+819012345678") == "090-1234-5678"
    assert as_written("+81312345678") == "03-1234-5678"
    assert as_written("+81612345678") == "06-1234-5678"
    assert as_written("+81451234567") == "045-123-4567"
    assert as_written("+81120123456") == "0120-123-456"
    assert as_written("+12025550123") == "+12025550123"


def test_the_page_never_shows_a_code_the_tour_takes() -> None:
    clock = FakeClock(datetime(2026, 4, 1, 9, tzinfo=UTC))
    key = pyotp.random_base32()
    codes = Codes(key, clock.now)
    shown = codes.shown()
    taken = codes.taken()
    assert taken != shown  # the presenter may have typed the one shown
    shown_step = matching_step(key, shown, clock.now())
    taken_step = matching_step(key, taken, clock.now())
    assert shown_step is not None and taken_step is not None and taken_step > shown_step
    # Later on the demo's clock, each is the step of its moment again.
    clock.advance(timedelta(hours=1))
    assert matching_step(key, codes.shown(), clock.now()) == pyotp.TOTP(key).timecode(clock.now())


async def test_a_landline_left_ringing_ends_when_the_clock_moves_past_it(demo: Demo) -> None:
    """Nobody answers and the presenter moves the clock on: by then Twilio would have given
    up, so the call ends no-answer and the bot hears it before the sweep runs."""
    assert demo.simulator is not None
    desk = Console(f"http://127.0.0.1:{demo.settings.port}", demo.desk_staff, demo.clock.now)
    try:
        await Tour(demo.simulator, demo.locale, pace=0, console=desk).register_landline(desk)
    finally:
        await desk.close()
    await demo.simulator.advance_to_next_due()
    (ring,) = demo.simulator.rings
    assert ring.ended == "" and ring.timeout == 30
    await demo.simulator.advance(timedelta(seconds=29))
    assert ring.ended == ""
    await demo.simulator.advance(timedelta(seconds=1))
    assert ring.ended == "no-answer"
    async with demo.bot_app[SERVICES].reading_repositories() as repos:
        assert await repos.calls.taken(ring.sid, "status:no-answer")


async def test_the_heat_and_storm_buttons_publish_what_the_pollers_read(demo: Demo) -> None:
    """「熱中症アラート」: the Ministry's 17:00 file makes an alert day (today before 17:00,
    tomorrow after); 「大雨警報」: JMA's レベル４土砂災害危険警報 starts a roll-call naming it."""
    assert demo.simulator is not None
    await Tour(demo.simulator, demo.locale, pace=0).team_and_invites()
    async with ClientSession() as session:
        async with session.post(demo.url + "api/heat", json={}) as answer:
            assert answer.status == 200
        async with session.post(demo.url + "api/storm", json={}) as answer:
            assert answer.status == 200
    async with demo.bot_app[SERVICES].reading_repositories() as repos:
        days = [found["day"] for found in await repos.heat.recent_days()]
    assert days == [alert_day(demo.clock.now()).isoformat()]
    locale = demo.locale
    warning = locale.t(
        "storm41.name",
        level=4,
        hazard=locale.t("storm41.hazard.landslide"),
        rank=locale.t("storm41.rank.level4"),
    )
    assert said(texts(demo, RESIDENT), "storm41.body", locale, warning=warning)
    assert [ring.number for ring in demo.simulator.rings] == [REGISTER_PHONE], "the register"


async def test_one_stand_in_serves_the_three_feeds_each_at_its_own_path(
    aiohttp_client: Callable[..., Awaitable[TestClient]],
) -> None:
    """JMA's two feeds list their own documents, newest first, each at a URL of its own; the
    Ministry's 17:00 file is there by its day once published, with its dates moved there."""
    feeds = FeedStandIn()
    app = web.Application()
    feeds.add_routes(app)
    client = await aiohttp_client(app)
    now = datetime(2028, 7, 20, 18, 0, tzinfo=UTC)  # 21 July 03:00 in Tokyo
    feeds.quake(now)
    feeds.warn()
    feeds.warn()
    quakes = await (await client.get("/jma/eqvol.xml")).text()
    warnings = await (await client.get("/jma/extra.xml")).text()
    assert re.findall(r'href="(/jma/[^"]+)"', quakes) == ["/jma/eqvol/0.xml"]
    assert re.findall(r'href="(/jma/[^"]+)"', warnings) == ["/jma/extra/1.xml", "/jma/extra/0.xml"]
    quake = await (await client.get("/jma/eqvol/0.xml")).text()
    assert "<ReportDateTime>2028-07-21T03:00:00+09:00</ReportDateTime>" in quake
    assert "<Code>350</Code>" in quake
    assert (
        "Ｒ０６" in warnings and "1310100" in await (await client.get("/jma/extra/0.xml")).text()
    )
    assert (await client.get("/jma/eqvol/1.xml")).status == 404
    assert (await client.get("/jma/other.xml")).status == 404
    file = "/alert/dl/2028/alert_20280720_17.csv"
    assert (await client.get(file)).status == 404, "not published yet"
    assert feeds.alert(now) == alert_day(now) == date(2028, 7, 21)
    published = await (await client.get(file)).text()
    assert "2028/07/20" in published and "2028/07/21" in published and "2027" not in published
    assert (await client.get("/alert/dl/2028/alert_20280720_14.csv")).status == 404
