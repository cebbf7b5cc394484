"""The safety protocol, proven as a whole: random lives played through the real service (the
webhook, the scheduler's sweep, the fake LINE, a fake clock, an SQLite file), with the
protocol's invariants checked after every step.

CI plays a fixed, bounded set of lives (derandomized). A longer run, from the repository root:

    MIMAMORI_LIVES=500 MIMAMORI_LIFE_STEPS=60 MIMAMORI_SHRINK=1 \\
        .venv/bin/pytest tests/test_protocol_lives.py

A counter-example it finds is shrunk by Hypothesis and becomes an ordinary regression test
(tests/test_words.py holds the first ones).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from care.rounds.ladder import next_step
from care.rounds.protocol import (
    ALERT_STAGES,
    BY_DESK,
    HELP_STAGES,
    Event,
    Stage,
    decide,
    stage_of,
)
from care.rounds.protocol import OPEN_STAGES as OPEN_STAGES_OF_PROTOCOL
from ground.clock import FakeClock
from ground.postback import PostbackCodec
from ground.settings import Settings
from server.app import create_app
from storage.models import OPEN_STATES, CheckinRound
from tests import line_webhook as hook
from tests import wording
from tests.conftest import LOGIN_CHANNEL, SECRET, START, Bot
from tests.drivers import add_admin, create_team, csrf, join, login
from tests.fake_line import FakeLine, message_text, postbacks_in
from tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FROM, FakeTwilio
from tests.wording import JA, says, t

LIVES = int(os.environ.get("MIMAMORI_LIVES", "12"))
STEPS = int(os.environ.get("MIMAMORI_LIFE_STEPS", "24"))
RESIDENT, FIRST, SECOND, THIRD = "resident", "son", "daughter", "minsei"
SAYS_SAFE = (
    "safe.body",
    "alert.recovered_notice",
    "alert.confirmed_notice",
    "desk.confirmed_notice",
)
# The steps that are one event of the protocol: the service's stage after one must be the
# stage `decide` gives (a refused step, e.g. a tap by someone no longer watching, changes
# nothing).
ONE_EVENT = {
    "ok": Event.OK,
    "unwell": Event.UNWELL,
    "help": Event.HELP,
    "distress": Event.DISTRESS,
    "mistake": Event.MISTAKE,
    "recovered": Event.RECOVERED,
    "take": Event.TAKE,
    "confirm": Event.CONFIRM,
    "not_found": Event.NOT_FOUND,
    "desk_safe": Event.DESK_SAFE,
    "activity": Event.ACTIVITY,
}
STAFF = "desk-staff"
PARTNER = "partner"
PARTNER_CODE = re.compile(r'id="partner-code">([0-9A-Z-]+)<')
PHONE = "+819012345678"  # her phone, for the call before the alert


# -- the pure protocol: every table path, with nothing but the table ------------------------


@settings(max_examples=400, derandomize=True, deadline=None)
@given(st.lists(st.sampled_from(list(Event)), max_size=40))
def test_the_table_never_says_safe_without_ok_or_a_confirmation(events: list[Event]) -> None:
    """Paths through the table (tests/test_protocol_table.py checks every cell on its own)."""
    stage = Stage.IDLE
    help_open = False
    for event in events:
        decision = decide(stage, event)
        if decision is None:
            continue
        if decision.says_safe:
            assert event in (Event.OK, Event.RECOVERED, Event.CONFIRM, Event.DESK_SAFE)
            if event is Event.OK:
                assert not help_open, "an OK never closes a call for help"
        if stage in ALERT_STAGES and decision.closes:
            assert event in (Event.OK, Event.RECOVERED, Event.CONFIRM, *BY_DESK)
        help_open = decision.after in HELP_STAGES
        stage = decision.after


# -- the real service ------------------------------------------------------------------------


@dataclass
class Life:
    """What the model knows of the resident: enough to say what must and must not be sent."""

    schedule_on: bool = True
    paused_until: date | None = None
    blocked: bool = False
    withdrawn: bool = False
    managers: set[str] = field(default_factory=set)  # line user ids managing her team now
    closed_rounds: set[int] = field(default_factory=set)

    def may_be_asked(self, today: date) -> bool:
        paused = self.paused_until is not None and today < self.paused_until
        return self.schedule_on and not paused and not self.blocked and not self.withdrawn

    @property
    def can_act(self) -> bool:
        return not self.blocked and not self.withdrawn


class Lives(RuleBasedStateMachine):
    """A resident watched by managers, and everything they and time can do."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self.loop)
        self.folder = Path(tempfile.mkdtemp(prefix="mimamori-lives-"))
        self.clock = FakeClock(START)
        self.line = FakeLine()
        self.life = Life()
        self.clients: list[TestClient] = []
        self.questions: list[dict[str, str]] = []  # まだ助けが必要ですか？ as she got them
        self.safe_rounds: set[int] = set()  # rounds that told a manager she is safe
        self.answered_calls: set[str] = set()  # calls a key has answered
        self.step_name = "start"
        self.seen = 0  # LINE calls already checked
        self.run(self._start())

    def run(self, work: Any) -> Any:
        return self.loop.run_until_complete(work)

    async def _start(self) -> None:
        self.line_server = TestServer(self.line.make_app())
        await self.line_server.start_server()
        # Her phone: a call before the alert, through a stand-in Twilio (tests/fake_twilio.py).
        self.twilio = FakeTwilio()
        self.twilio_server = TestServer(self.twilio.make_app())
        await self.twilio_server.start_server()
        self.twilio.url = str(self.twilio_server.make_url("")).rstrip("/")
        self.line.url = str(self.line_server.make_url("")).rstrip("/")
        self.line.now = self.clock.now
        self.settings = Settings(
            channel_secret=SECRET,
            channel_access_token="test-access-token",
            line_api_base_url=self.line.url,
            database=self.folder / "mimamori.db",
            public_url="https://mimamori.example.jp",
            login_channel_id=LOGIN_CHANNEL,
            liff_id=f"{LOGIN_CHANNEL}-testliff",
            liff_sdk_url=f"{self.line.url}/liff-sdk.js",
            locale_overrides=wording.REWORDED,
            strict_transactions=True,
            desk_after=timedelta(hours=1),
            desk_unwell=True,
            twilio_account_sid=ACCOUNT_SID,
            twilio_auth_token=AUTH_TOKEN,
            twilio_from=FROM,
            twilio_api_base_url=self.twilio.url,
            call_budget=1000,
        )
        self.bot = await self._boot()
        await add_admin(self.bot, STAFF)
        self.resident = await self.bot.follow(RESIDENT)
        codes = await create_team(self.bot, self.resident, "family", as_user=True)
        self.manager_code = codes["manager"]
        self.uids = {RESIDENT: self.resident}
        for name in (FIRST, SECOND):
            self.uids[name] = await self.bot.follow(name)
            await join(self.bot, self.uids[name], self.manager_code)
            self.life.managers.add(self.uids[name])
        self.device = await self._link_device()
        self.partner = await self.bot.follow(PARTNER)
        await self._link_partner()
        async with self.bot.repos() as repos:
            member = await repos.members.by_line_id(self.resident)
            assert member is not None
            self.member_id = member.id
            ((team, _),) = await repos.teams.teams_of(member.id)
            self.team_id = team.id
            await repos.calls.set_consent(member.id, PHONE, True, "self")
            # Hers: the code of its verification call typed (care.rounds.verify).
            await repos.calls.set_verified(member.id, PHONE, "call", self.bot.clock.now())
        self.seen = len(self.line.calls)

    async def _link_device(self) -> str:
        """Her door sensor, which she agreed counts as 元気: its URL's path."""
        token = self.line.issue_id_token(self.resident, RESIDENT, LOGIN_CHANNEL)
        headers = {"Authorization": f"Bearer {token}"}
        await self.bot.client.post("/liff/api/terms", json={}, headers=headers)
        body = {"label": "玄関", "counts_as_ok": True}
        response = await self.bot.client.post("/liff/api/me/devices", json=body, headers=headers)
        assert response.status == 200, await response.text()
        return urlsplit((await response.json())["url"]).path

    async def _link_partner(self) -> None:
        """A 民生委員 the desk asks to visit, linked by the code she sends from her LINE."""
        client = self.bot.client
        assert await login(client, STAFF) == 200
        token = await csrf(client, "/admin/partners")
        form = {"csrf_token": token, "action": "add", "name": "民生委員", "kind": "minsei"}
        response = await client.post("/admin/partners", data={**form, "line": "on"})
        found = PARTNER_CODE.search(await response.text())
        assert found is not None
        await self.bot.say(self.partner, found.group(1))
        assert says(self.bot.line.reply_texts()[-1], "visit.linked", name="民生委員")
        async with self.bot.repos() as repos:
            (partner_id,) = await repos.conn.fetch_one("SELECT MAX(id) FROM partners", ())
        self.partner_id = int(partner_id)

    async def _boot(self) -> Bot:
        app = create_app(self.settings, clock=self.clock, run_scheduler=False)
        client = TestClient(TestServer(app))
        await client.start_server()
        self.clients.append(client)
        return Bot(client, app, self.clock, self.line, self.settings)

    def teardown(self) -> None:
        async def stop() -> None:
            for client in self.clients:
                await client.close()
            await self.line_server.close()
            await self.twilio_server.close()

        self.run(stop())
        self.loop.close()
        asyncio.set_event_loop(None)
        shutil.rmtree(self.folder, ignore_errors=True)

    @property
    def codec(self) -> PostbackCodec:
        return PostbackCodec(SECRET)

    # -- what the model reads back ---------------------------------------------------------

    async def _rounds(self) -> list[CheckinRound]:
        async with self.bot.repos() as repos:
            return await repos.rounds._many(
                "SELECT * FROM checkin_rounds WHERE member_id = ? ORDER BY id", (self.member_id,)
            )

    async def _stage(self) -> tuple[Stage, CheckinRound | None]:
        rounds = [r for r in await self._rounds() if r.state in OPEN_STATES]
        current = rounds[-1] if rounds else None
        return stage_of(current), current

    def _act(self, name: str, work: Any) -> None:
        self.step_name = name
        self.before_stage, self.before_round = self.run(self._stage())
        self.run(work)

    # -- the resident ----------------------------------------------------------------------

    def _newest_checkin_button(self, label: str) -> str | None:
        for message in reversed(self.line.messages_to(self.resident)):
            for action in postbacks_in(message):
                if action["label"] == label:
                    return action["data"]
        return None

    @precondition(lambda self: self.life.can_act)
    @rule(value=st.sampled_from(["ok", "unwell", "help"]), from_menu=st.booleans())
    def answer(self, value: str, from_menu: bool) -> None:
        label = t(f"checkin.{value}_button")
        data = None if from_menu else self._newest_checkin_button(label)
        if data is None:  # the rich menu's 元気です carries no slot
            data = self.codec.encode("ok", t=0, v=value)
        self._act(value, self.bot.tap(self.resident, data))

    @precondition(lambda self: self.life.can_act and bool(self.twilio.calls))
    @rule(digit=st.sampled_from(["1", "2", "3", "9"]))
    def presses_a_key(self, digit: str) -> None:
        """A key on the newest call (its round may be over by now): 1 元気, 2 体調, 3 助けて.
        A call takes one answer (it says thanks and hangs up): a key on a call already answered
        is Twilio repeating itself, and changes nothing."""
        name = {"1": "ok", "2": "unwell", "3": "help"}.get(digit, "none")
        call = self.twilio.calls[-1]
        if name != "none":
            name = "repeat" if call.sid in self.answered_calls else name
            self.answered_calls.add(call.sid)

        async def pressing() -> None:
            await self.twilio.press(self.bot.client, call, digit)
            await self.bot.settle()

        self._act(name, pressing())

    @precondition(lambda self: bool(self.twilio.calls))
    @rule(status=st.sampled_from(["no-answer", "busy", "completed"]))
    def the_phone_goes_unanswered(self, status: str) -> None:
        call = self.twilio.calls[-1]

        async def ending() -> None:
            await self.twilio.end(self.bot.client, call, status)
            await self.bot.sweep()

        self._act("time", ending())

    @precondition(lambda self: self.life.can_act)
    @rule()
    def takes_back_help(self) -> None:
        """まちがえて押しました, on whatever round is open now (or the last one)."""
        rounds = self.run(self._rounds())
        round_id = rounds[-1].id if rounds else 0
        self._act("mistake", self.bot.tap(self.resident, self.codec.encode("mistake", r=round_id)))

    @precondition(lambda self: self.life.can_act)
    @rule(words=st.sampled_from(["こんにちは", "寝ていました", "ありがとう", "電話 03-1190-2222"]))
    def says_something(self, words: str) -> None:
        self._act("message", self.bot.say(self.resident, words))

    @precondition(lambda self: self.life.can_act)
    @rule(index=st.integers(0, 100), before=st.sampled_from(["転んで", "胸が", ""]))
    def says_distress(self, index: int, before: str) -> None:
        words = JA.t("distress.words").split(",")
        self._act("distress", self.bot.say(self.resident, f"{before}{words[index % len(words)]}"))

    @precondition(lambda self: self.life.can_act)
    @rule()
    def sends_sticker(self) -> None:
        self._act("message", self.bot.post(hook.sticker(self.resident, self.clock.now())))

    @precondition(lambda self: self.life.can_act)
    @rule()
    def blocks(self) -> None:
        self.life.blocked = True
        self._act("stop", self.bot.post(hook.unfollow(self.resident, self.clock.now())))

    @precondition(lambda self: self.life.blocked and not self.life.withdrawn)
    @rule()
    def unblocks(self) -> None:
        self.life.blocked = False
        event = hook.follow(self.resident, self.clock.now(), unblocked=True)
        self._act("unblock", self.bot.post(event))

    @precondition(lambda self: self.life.can_act)
    @rule(days=st.sampled_from([3, 7]), sure=st.booleans())
    def pauses(self, days: int, sure: bool) -> None:
        """お休み; during an alert she is asked first, and `sure` is her yes to that."""
        asked = self._asked_first(sure)
        if self.life.schedule_on and not asked:
            today = self._today()
            self.life.paused_until = today + timedelta(days=days)
        data = self.codec.encode("pause", d=days, **({"c": 1} if sure else {}))
        self._act("asked" if asked else "stop", self.bot.tap(self.resident, data))

    def _asked_first(self, sure: bool) -> bool:
        """A pause or stop during an open alert, without her yes: only a question comes."""
        stage, _ = self.run(self._stage())
        return stage in ALERT_STAGES and not sure

    @precondition(lambda self: self.life.can_act)
    @rule()
    def resumes(self) -> None:
        if self.life.paused_until and self._today() < self.life.paused_until:
            self.life.paused_until = None
        self._act("resume", self.bot.tap(self.resident, self.codec.encode("resume")))

    @precondition(lambda self: self.life.can_act)
    @rule(interval=st.sampled_from([1, 2, 3]), hour=st.sampled_from([6, 9, 17]))
    def changes_schedule(self, interval: int, hour: int) -> None:
        self.life.schedule_on, self.life.paused_until = True, None
        data = self.codec.encode("sched_set", i=interval, h=hour)
        self._act("schedule", self.bot.tap(self.resident, data))

    @precondition(lambda self: self.life.can_act)
    @rule(sure=st.booleans())
    def stops(self, sure: bool) -> None:
        asked = self._asked_first(sure)
        if not asked:
            self.life.schedule_on, self.life.paused_until = False, None
        data = self.codec.encode("sched_stop", **({"c": 1} if sure else {}))
        self._act("asked" if asked else "stop", self.bot.tap(self.resident, data))

    @precondition(lambda self: self.life.can_act)
    @rule()
    def withdraws(self) -> None:
        self._act("withdraw", self._withdraw())

    async def _withdraw(self) -> None:
        """退会: refused (409) while an alert about her is open, done otherwise."""
        token = self.line.issue_id_token(self.resident, RESIDENT, LOGIN_CHANNEL)
        headers = {"Authorization": f"Bearer {token}"}
        for path, body in (("/liff/api/terms", {}), ("/liff/api/me/withdraw", {"confirm": True})):
            response = await self.bot.client.post(path, json=body, headers=headers)
            if response.status == 409:
                assert self.before_stage in ALERT_STAGES, await response.text()
                self.step_name = "refused"
                return
            assert response.status == 200, await response.text()
        assert self.before_stage not in ALERT_STAGES, "退会 waits while an alert is open"
        self.life.withdrawn = True
        self.life.managers.clear()
        await self.bot.settle()

    @precondition(lambda self: self.life.can_act and bool(self.questions))
    @rule(recovered=st.booleans(), older=st.integers(0, 3))
    def answers_whether_she_still_needs_help(self, recovered: bool, older: int) -> None:
        """もう大丈夫 / まだ助けてほしい, on a question an OK brought: the newest, or an older
        one (stale once she called for help again, or the alert closed)."""
        question = self.questions[max(0, len(self.questions) - 1 - older)]
        data = question["recovered" if recovered else "help"]
        self._act("recovered" if recovered else "help", self.bot.tap(self.resident, data))

    def _keep_questions(self) -> None:
        """The question an OK brought during a call for help, as her chat keeps it."""
        labels = {
            t("checkin.recovered_button"): "recovered",
            t("checkin.still_help_button"): "help",
        }
        found = {
            labels[a["label"]]: a["data"]
            for a in self.bot.last_reply_postbacks(self.resident)
            if a["label"] in labels
        }
        if len(found) == 2 and found not in self.questions:
            self.questions.append(found)

    # -- the managers ----------------------------------------------------------------------

    def _alert_button(self, uid: str, label: str) -> str | None:
        for message in reversed(self.line.messages_to(uid)):
            for action in postbacks_in(message):
                if action["label"] == label:
                    return action["data"]
        return None

    @rule(who=st.sampled_from([FIRST, SECOND, THIRD]), confirm=st.booleans())
    def manager_taps(self, who: str, confirm: bool) -> None:
        uid = self.uids.get(who)
        label = t("alert.safe_button" if confirm else "alert.take_button")
        data = self._alert_button(uid, label) if uid else None
        if uid is None or data is None:
            return
        self._act("confirm" if confirm else "take", self.bot.tap(uid, data))

    @precondition(lambda self: not self.life.withdrawn)
    @rule(who=st.sampled_from([FIRST, SECOND, THIRD]))
    def taker_has_not_found_her(self, who: str) -> None:
        """まだ会えていない, on the newest question asked of this manager (maybe stale)."""
        uid = self.uids.get(who)
        data = self._alert_button(uid, t("alert.not_found_button")) if uid else None
        if uid is None or data is None:
            return
        self._act("not_found", self.bot.tap(uid, data))

    @precondition(lambda self: not self.life.withdrawn)
    @rule(who=st.sampled_from([FIRST, SECOND, THIRD]))
    def manager_joins(self, who: str) -> None:
        if self.uids.get(who) in self.life.managers:
            return
        joined: list[str] = []

        async def joining() -> None:
            if who not in self.uids:
                self.uids[who] = await self.bot.follow(who)
            uid = self.uids[who]
            await self.bot.say(uid, t("invite.prefill", code=self.manager_code))
            accept = [
                a for a in self.bot.last_reply_postbacks() if a["label"] == t("invite.accept")
            ]
            if accept:  # none once the manager code has expired (a week): nothing changes
                await self.bot.tap(uid, accept[0]["data"])
                joined.append(uid)

        self._act("join", joining())
        self.life.managers.update(joined)

    @rule(who=st.sampled_from([FIRST, SECOND, THIRD]))
    def manager_leaves(self, who: str) -> None:
        uid = self.uids.get(who)
        if uid is None or uid not in self.life.managers:
            return
        self.life.managers.discard(uid)
        data = self.codec.encode("team_leave_yes", t=self.team_id)
        self._act("leave", self.bot.tap(uid, data))

    # -- the desk --------------------------------------------------------------------------

    @rule(outcome=st.sampled_from(["asleep", "ambulance", "unreachable", "call"]))
    def desk_acts(self, outcome: str) -> None:
        """Staff at the desk act on the resident's open case, if she has one: a call, or an
        outcome (found safe, 救急搬送, still unreachable)."""

        async def acting() -> None:
            case_id = await self._staff_on_her_case()
            if case_id is None:
                return
            client = self.bot.client
            path = f"/admin/desk/{case_id}"
            form = (
                {"action": "call", "result": "no_answer"}
                if outcome == "call"
                else {"action": "close", "outcome": outcome}
            )
            token = await csrf(client, path)
            response = await client.post(
                path, data={"csrf_token": token, **form}, allow_redirects=False
            )
            assert response.status == 303, await response.text()
            await self.bot.settle()

        name = "desk_safe" if outcome == "asleep" else "desk"
        self._act(name, acting())

    async def _staff_on_her_case(self) -> int | None:
        """Her open case at the desk, if she has one, with the staff member signed in."""
        async with self.bot.repos() as repos:
            cases = [c for c in await repos.desk.queue() if c["member_id"] == self.member_id]
        if not cases:
            return None
        client = self.bot.client
        if (await client.get("/admin/desk", allow_redirects=False)).status != 200:
            assert await login(client, STAFF) == 200
        return int(cases[0]["id"])

    @precondition(lambda self: self.life.can_act)
    @rule()
    def her_door_opens(self) -> None:
        """Her door sensor pings (refused more than once a minute, and after 退会)."""

        async def pinging() -> None:
            self.clock.advance(timedelta(minutes=1))
            await self.bot.client.post(self.device)
            await self.bot.settle()

        self._act("activity", pinging())

    @rule()
    def desk_asks_the_partner(self) -> None:
        async def asking() -> None:
            case_id = await self._staff_on_her_case()
            if case_id is None:
                return
            client = self.bot.client
            path = f"/admin/desk/{case_id}/visits"
            token = await csrf(client, f"/admin/desk/{case_id}")
            data = {"csrf_token": token, "partner_id": str(self.partner_id)}
            response = await client.post(path, data=data, allow_redirects=False)
            assert response.status == 303, await response.text()
            await self.bot.settle()

        self._act("visit_asked", asking())

    @rule(outcome=st.sampled_from(["asleep", "hospital", "ambulance", "not_home"]))
    def partner_reports(self, outcome: str) -> None:
        """The partner's outcome, on the newest request she got (maybe closed by now)."""
        seen = self._alert_button(self.partner, t("visit.seen_button"))
        if seen is None:
            return
        decoded = self.codec.decode(seen)
        assert decoded is not None
        data = self.codec.encode("visit_out", v=decoded.integer("v") or 0, o=outcome)
        name = {"asleep": "desk_safe", "hospital": "desk_safe"}.get(outcome, "desk")
        self._act(name, self.bot.tap(self.partner, data))

    # -- time and the server ---------------------------------------------------------------

    def _today(self) -> date:
        return self.clock.now().astimezone(self.settings.timezone).date()

    @rule(hours=st.sampled_from([1, 3, 23, 24]))
    def time_passes(self, hours: int) -> None:
        self._act("time", self.bot.advance(timedelta(hours=hours)))

    @rule()
    def next_checkin_comes(self) -> None:
        async def to_next() -> None:
            async with self.bot.repos() as repos:
                member = await repos.members.get(self.member_id)
            due = member.next_due_at if member else None
            now = self.clock.now()
            if due is None or due <= now:
                due = now + timedelta(days=1)
            self.clock.set(due)
            await self.bot.sweep()

        self._act("time", to_next())

    @rule(steps=st.integers(1, 4))
    def silence(self, steps: int) -> None:
        """Nobody does anything while the ladder climbs: time moves to each next step of the
        open round (the re-send, the alert, the alert again, the desk) and the sweep acts."""

        async def climbing() -> None:
            for _ in range(steps):
                _, current = await self._stage()
                found = next_step(current, self.bot.services.timings) if current else None
                if found is None:
                    return
                self.clock.set(max(found[1], self.clock.now()) + timedelta(minutes=1))
                await self.bot.sweep()

        self._act("time", climbing())

    @rule()
    def restarts(self) -> None:
        async def restart() -> None:
            await self.bot.settle()
            await self.clients.pop().close()
            self.bot = await self._boot()
            await self.bot.sweep()

        self._act("time", restart())

    # -- the invariants, after every step --------------------------------------------------

    def _new_calls(self) -> list[Any]:
        calls = self.line.calls[self.seen :]
        self.seen = len(self.line.calls)
        return calls

    @invariant()
    def the_protocol_holds(self) -> None:
        if not hasattr(self, "before_stage"):
            return
        calls = self._new_calls()
        assert self.line.schema_errors == [], self.line.schema_errors
        self._keep_questions()
        stage, current = self.run(self._stage())
        sent = [(uid, m) for c in calls if c.status == 200 for uid, m in _delivered(c)]
        self._nobody_told_safe_unless_said(sent)
        self._help_reaches_every_manager(sent)
        self._words_reach_the_alerted(sent, stage)
        self._no_checkin_when_not_asked(calls)
        self._alerts_once_per_round()
        self._closed_stays_closed()
        self._safe_once_per_round(sent)
        self._a_case_stays_while_the_alert_is_open()
        self._one_call_a_round_and_only_after_the_resend()
        self._the_stage_is_what_the_protocol_decides(stage)
        self._every_open_stage_has_a_deadline(stage, current)
        if self.step_name in ("mistake", "asked", "repeat"):
            assert stage is self.before_stage, "a mistake is a word, never a close"
        self.before_stage = stage
        self.step_name = "none"  # a rule that did nothing leaves nothing to check

    def _nobody_told_safe_unless_said(self, sent: list[tuple[str, dict[str, Any]]]) -> None:
        for uid, message in sent:
            if uid == self.resident:
                continue
            text = message_text(message)
            if any(says(text, key) for key in SAYS_SAFE):
                steps = ("ok", "confirm", "desk_safe", "recovered")
                assert self.step_name in steps, (self.step_name, text)
                if self.step_name == "ok":
                    assert self.before_stage in ALERT_STAGES
                    assert self.before_stage not in HELP_STAGES, "an OK never ends a call for help"
                after, _ = self.run(self._stage())
                assert after not in ALERT_STAGES, "no safe while an alert of hers is open"

    def _the_stage_is_what_the_protocol_decides(self, stage: Stage) -> None:
        event = ONE_EVENT.get(self.step_name)
        if event is None:
            return
        decision = decide(self.before_stage, event)
        if decision is None:
            assert stage is self.before_stage, (self.step_name, self.before_stage, stage)
            return
        expected = Stage.IDLE if decision.closes else decision.after
        if stage is self.before_stage and stage is not expected:
            # Refused: a tap by someone no longer watching her, a card of a closed alert, a
            # help with nobody to tell. Nothing changed, which the other checks hold to.
            return
        if stage is not expected and event in (Event.HELP, Event.DISTRESS):
            # A call for help the desk takes at once (she is one it watches, or nobody does):
            # the protocol's escalation, in the same step.
            escalated = decide(expected, Event.ESCALATE)
            expected = escalated.after if escalated is not None else expected
        assert stage is expected, (self.step_name, self.before_stage, stage, expected)

    def _every_open_stage_has_a_deadline(self, stage: Stage, current: CheckinRound | None) -> None:
        """Nothing open waits on nobody: a step of time is always to come (an alert's own
        reminder, at the least)."""
        if current is None or stage not in OPEN_STAGES_OF_PROTOCOL:
            return
        assert next_step(current, self.bot.services.timings) is not None, (stage, current)

    def _one_call_a_round_and_only_after_the_resend(self) -> None:
        rounds = {r.id: r for r in self.run(self._rounds())}
        called = Counter(
            self.codec.decode(parse_qs(urlsplit(c.status_callback).query)["c"][0]).integer("r")
            for c in self.twilio.calls
        )
        for round_id, count in called.items():
            assert count == 1, f"round {round_id} called {count} times"
            checkin = rounds[round_id or 0]
            assert checkin.resent_at is not None and checkin.called_at is not None
            assert checkin.called_at >= checkin.resent_at
        assert self.twilio.errors == [], self.twilio.errors

    def _safe_once_per_round(self, sent: list[tuple[str, dict[str, Any]]]) -> None:
        """One step tells each manager the person is safe once at most."""
        told = Counter(
            uid
            for uid, message in sent
            if uid != self.resident and any(says(message_text(message), key) for key in SAYS_SAFE)
        )
        assert all(count == 1 for count in told.values()), told
        # ... and across steps: a round that told someone she is safe never does again.
        if told and self.before_round is not None:
            assert self.before_round.id not in self.safe_rounds, self.before_round
            self.safe_rounds.add(self.before_round.id)

    def _a_case_stays_while_the_alert_is_open(self) -> None:
        """A case at the desk closes only with the alert, or by the desk's own outcome: never
        does an open alert lose its case, nor a case outlive a safe answer."""
        stage, current = self.run(self._stage())

        async def cases() -> list[Any]:
            async with self.bot.repos() as repos:
                # 体調's cases are about what she said, and a case that nobody watches her any
                # more is about her team, not an alert: staff close them.
                rows = await repos.conn.fetch_all(
                    "SELECT round_id, closed_at, outcome FROM desk_cases"
                    " WHERE member_id = ? AND reason NOT IN ('unwell', 'unwatched')",
                    (self.member_id,),
                )
            return list(rows)

        for round_id, closed_at, outcome in self.run(cases()):
            if current is not None and round_id == current.id:
                if closed_at is not None:
                    assert outcome is not None
            elif closed_at is None:
                # The round closed: only a stop (block, 退会, pause) leaves the case open.
                rounds = {r.id: r for r in self.run(self._rounds())}
                closed = rounds[round_id]
                assert closed.state.value == "cancelled", (closed, stage)

    def _help_reaches_every_manager(self, sent: list[tuple[str, dict[str, Any]]]) -> None:
        if self.step_name not in ("help", "distress") or not self.life.managers:
            return
        urgent = {uid for uid, m in sent if t("alert.help_title") in message_text(m)}
        assert self.life.managers <= urgent, (self.life.managers, urgent)

    def _words_reach_the_alerted(
        self, sent: list[tuple[str, dict[str, Any]]], after: Stage
    ) -> None:
        if self.step_name != "message" or self.before_stage not in ALERT_STAGES:
            return
        assert after is self.before_stage, "a message never moves an alert"
        told = {
            uid
            for uid, m in sent
            if any(says(message_text(m), k) for k in ("words.body", "words.sticker"))
        }
        alerted = self.run(self._alerted_uids())
        assert alerted & self.life.managers <= told

    async def _alerted_uids(self) -> set[str]:
        assert self.before_round is not None
        async with self.bot.repos() as repos:
            ids = await repos.outbox.alerted_members(self.before_round.id)
            members = await repos.members.get_many(ids)
        return {m.line_user_id for m in members.values()}

    def _no_checkin_when_not_asked(self, calls: list[Any]) -> None:
        checkin_titles = (JA.t("checkin.title"), JA.t("checkin.resend_title"))
        for call in calls:
            if call.path.endswith("/reply") or call.status != 200:
                continue
            for uid, message in _delivered(call):
                asked = message_text(message).startswith(checkin_titles)
                if uid == self.resident and asked:
                    assert self.life.may_be_asked(self._today()), (self.life, self.step_name)

    def _alerts_once_per_round(self) -> None:
        counts: Counter[tuple[int, str, bool, bool]] = Counter()
        for uid in self.uids.values():
            for message in self.line.messages_to(uid):
                text = message_text(message)
                if not text.startswith((JA.t("alert.title"), JA.t("alert.again"))):
                    continue
                take = [a for a in postbacks_in(message) if a["label"] == t("alert.take_button")]
                decoded = self.codec.decode(take[0]["data"]) if take else None
                if decoded is None:
                    continue
                if JA.t("alert.not_found_lead") in text:
                    continue  # a taker who did not find her: every manager again, each time
                again = JA.t("alert.again") in text
                counts[(decoded.integer("r") or 0, uid, again, False)] += 1
        for key, count in counts.items():
            assert count == 1, f"an unanswered check-in alerted {key} {count} times"

    def _closed_stays_closed(self) -> None:
        rounds = self.run(self._rounds())
        for checkin in rounds:
            if checkin.id in self.life.closed_rounds:
                assert checkin.state not in OPEN_STATES, f"round {checkin.id} opened again"
            elif checkin.state not in OPEN_STATES:
                self.life.closed_rounds.add(checkin.id)


def _delivered(call: Any) -> list[tuple[str, dict[str, Any]]]:
    """(to whom, message) of a push, multicast or reply the fake LINE accepted."""
    if call.path.endswith("/reply"):
        recipients = ["(reply)"]
    elif call.path.endswith(("/push", "/multicast")):
        recipients = call.recipients
    else:
        return []
    return [(uid, m) for uid in recipients for m in call.body.get("messages") or []]


Lives.TestCase.settings = settings(
    max_examples=LIVES,
    stateful_step_count=STEPS,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    # A life costs about a second: shrinking a failure takes minutes, so CI reports the life
    # as found and a longer run (MIMAMORI_SHRINK=1) shrinks it to the fewest steps.
    phases=[Phase.explicit, Phase.reuse, Phase.generate]
    + ([Phase.shrink] if os.environ.get("MIMAMORI_SHRINK") == "1" else []),
)
TestLives = Lives.TestCase
