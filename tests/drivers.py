"""What the tests drive the service with, shared by many of them: a person's chat flows, My
page sessions, the console's login, a group, the clock moved to a moment in Tokyo, faults put
into the database, and the texts they look for. Test modules import from here, never from each
other."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pyotp
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient, TestServer

from admin.passwords import hash_password
from admin.second_factor import seal
from care.members.invites import qr_path
from care.rounds.protocol import Stage, stage_of
from care.services import SERVICES
from scheduler.heat import HeatPoller
from scheduler.storms import StormPoller
from storage.database import POSTGRESQL
from storage.models import Member, Role, StaffRole
from storage.rollcalls import RollCall
from tests import line_webhook as hook
from tests.conftest import LOGIN_CHANNEL, Bot
from tests.fake_line import postbacks_in
from tests.wording import EN, JA, pattern, said, says, t

TOKYO = ZoneInfo("Asia/Tokyo")
CODE = re.compile(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}")


def invite_codes_in(texts: list[str]) -> dict[str, str]:
    """{'user': code, 'manager': code} from the invite messages of the last replies."""
    found: dict[str, str] = {}
    for text in texts:
        match = CODE.search(text)
        if not match:
            continue
        for role in ("user", "manager"):
            for locale in (JA, EN):
                role_name = locale.t(f"role_name.{role}")
                for key in ("invite.share", "invite.share_without_link"):
                    if says(text, key, locale, role=role_name, code=match.group()):
                        found[role] = match.group()
    return found


async def create_team(bot: Bot, uid: str, name: str, as_user: bool) -> dict[str, str]:
    """Menu -> チームを作る -> name -> role; returns the team's invite codes (the one sent,
    then the other role's, asked for with its button)."""
    await bot.tap_action(uid, "team_new")
    await bot.say(uid, name)
    await bot.tap_reply_button(uid, t("team.as_user") if as_user else t("team.as_manager"))
    codes = invite_codes_in(bot.line.reply_texts()[-1:])
    own = "user" if as_user else "manager"
    await bot.tap_reply_button(uid, t(f"invite.show_other.{own}"))
    codes.update(invite_codes_in(bot.line.reply_texts()[-1:]))
    return codes


async def join(bot: Bot, uid: str, code: str) -> None:
    """Send the code, then confirm on the card that explains the role."""
    await bot.say(uid, t("invite.prefill", code=code))
    await bot.tap_reply_button(uid, t("invite.accept"))


async def watched_resident(bot: Bot, resident: str, managers: list[str]) -> tuple[str, list[str]]:
    """A resident who creates a team as its user, with each manager joining it."""
    uid = await bot.follow(resident)
    codes = await create_team(bot, uid, f"{resident}の家族", as_user=True)
    manager_ids = []
    for manager in managers:
        mid = await bot.follow(manager)
        await join(bot, mid, codes["manager"])
        manager_ids.append(mid)
    return uid, manager_ids


def passing_fault(dialect: str, event_id: str) -> list[str]:
    """A trigger that refuses to mark one event handled (on SQLite its row is written first
    when it is handled; on PostgreSQL it landed there)."""
    marked = "UPDATE OF processed_at" if dialect == POSTGRESQL else "INSERT"
    return disk_fault(
        dialect,
        "passing_fault",
        f"BEFORE {marked} ON webhook_events",
        f"NEW.event_id = '{event_id}'",
    )


async def passing_fault_ends(bot: Bot) -> None:
    """The fault passes, and the retry the dispatcher scheduled is brought forward."""
    from bot.dispatch import DISPATCHER

    async with bot.repos() as repos:
        await repos.conn.execute(
            "DROP TRIGGER passing_fault"
            + (" ON webhook_events" if repos.conn.dialect == POSTGRESQL else "")
        )
    bot.app[DISPATCHER].submit()
    await bot.settle()


async def area_team(bot: Bot, name: str, users: int, start: int = 0) -> tuple[int, list[str]]:
    """An area team (made by the staff) with `users` residents and no managers."""
    now = bot.clock.now()
    uids = []
    async with bot.repos() as repos:
        team = await repos.teams.create(name, 1, 9, now, kept=True)
        for number in range(start, start + users):
            uid = hook.user_id(f"{name}-{number}")
            member, _ = await repos.members.register(uid, f"{name} {number}", "ja", now)
            await repos.teams.add_member(team.id, member.id, Role.USER, now)
            uids.append(uid)
    return team.id, uids


async def start_roll_call(bot: Bot, **form: Any) -> int:
    """From the console: preview, then send; -> the roll-call's id."""
    token = await csrf(bot.client, "/admin/rollcalls")
    data = {"csrf_token": token, "resend_minutes": "0", "resends": "0", "close_hours": "24"}
    data.update({k: v for k, v in form.items() if not isinstance(v, list)})
    body = [(k, str(v)) for k, v in data.items()]
    body += [(k, str(item)) for k, v in form.items() if isinstance(v, list) for item in v]
    preview = await (await bot.client.post("/admin/rollcalls/preview", data=body)).text()
    assert 'id="cost"' in preview
    response = await bot.client.post("/admin/rollcalls", data=body, allow_redirects=False)
    assert response.status == 303, await response.text()
    await bot.settle()
    return int(response.headers["Location"].rsplit("/", 1)[1])


def answer_button(bot: Bot, uid: str, answer: str) -> str:
    label = t(f"rollcall.{answer}")
    for message in reversed(bot.line.messages_to(uid)):
        for action in postbacks_in(message):
            if action["label"] == label:
                return action["data"]
    raise AssertionError(f"no {label!r} for {uid}")


def button(bot: Bot, uid: str, label: str) -> str:
    """The postback data of the newest button labelled `label` that LINE delivered to uid."""
    for message in reversed(bot.line.messages_to(uid)):
        for action in postbacks_in(message):
            if action["label"] == label:
                return action["data"]
    raise AssertionError(f"no {label!r} button for {uid}")


async def alerted(bot: Bot, managers: list[str]) -> tuple[str, list[str]]:
    """A resident who did not answer: the managers have the alert (11/25 12:00)."""
    resident, ids = await watched_resident(bot, "resident", managers)
    await run_to(bot, tokyo(11, 24, 9))
    await run_to(bot, tokyo(11, 25, 9))
    await run_to(bot, tokyo(11, 25, 12))
    for manager in ids:
        assert any(ALERT in text for text in bot.line.texts_to(manager))
    return resident, ids


class Group:
    """A LINE group (or room) with people in it, driven through signed webhooks."""

    def __init__(self, bot: Bot, name: str, room: bool = False) -> None:
        self.bot = bot
        self.name = name
        self.room = room
        self.chat_id = hook.group_id(name) if not room else "R" + hook.group_id(name)[1:]
        if not room:
            bot.line.group_names[self.chat_id] = name

    def source(self, uid: str | None) -> dict[str, Any]:
        return hook.in_room(self.chat_id, uid) if self.room else hook.in_group(self.chat_id, uid)

    def person(self, name: str) -> str:
        uid = hook.user_id(name)
        self.bot.line.chat_members[(self.chat_id, uid)] = name
        return uid

    async def join(self) -> None:
        await self.bot.post(hook.join(self.source(None), self.bot.clock.now()))

    async def leave(self) -> None:
        await self.bot.post(hook.leave(self.source(None), self.bot.clock.now()))

    async def say(self, uid: str, words: str) -> None:
        await self.bot.post(hook.text(uid, words, self.bot.clock.now(), source=self.source(uid)))

    async def tap(self, uid: str | None, data: str) -> None:
        await self.bot.post(
            hook.postback(uid or "", data, self.bot.clock.now(), source=self.source(uid))
        )

    async def tap_button(self, uid: str, label: str) -> None:
        for action in self.bot.last_reply_postbacks(uid):
            if action["label"] == label:
                await self.tap(uid, action["data"])
                return
        raise AssertionError(
            f"no {label!r} in {[a['label'] for a in self.bot.last_reply_postbacks(uid)]}"
        )

    async def members_join(self, *uids: str) -> None:
        await self.bot.post(
            hook.member_joined(self.source(None), list(uids), self.bot.clock.now())
        )

    async def members_leave(self, *uids: str) -> None:
        await self.bot.post(hook.member_left(self.source(None), list(uids), self.bot.clock.now()))

    async def set_daily(self, uid: str, hour: int = 9) -> None:
        await self.tap(uid, self.bot.codec.encode("g_sched"))
        await self.tap_button(uid, t("schedule.interval_choice", days=1))
        await self.tap_button(uid, t("schedule.am") if hour < 12 else t("schedule.pm"))
        await self.tap_button(uid, t("schedule.hour_choice", hour=hour))

    def posts(self) -> list[str]:
        return self.bot.line.to_chat(self.chat_id)

    def checkin_posts(self) -> list[str]:
        return [p for p in self.posts() if p.startswith(t("group.checkin_title"))]

    def reports(self) -> list[str]:
        return [p for p in self.posts() if not p.startswith(t("group.checkin_title"))]

    def answer_data(self, label: str, index: int = -1) -> str:
        """The postback of the button labelled `label` on the `index`-th post."""
        calls = [
            c
            for c in self.bot.line.pushes
            if c.body["to"] == self.chat_id and c.body["messages"][0]["type"] == "flex"
        ]
        message = calls[index].body["messages"][0]
        return next(a["data"] for a in postbacks_in(message) if a["label"] == label)

    def ok_data(self, index: int = -1) -> str:
        calls = [
            c
            for c in self.bot.line.pushes
            if c.body["to"] == self.chat_id and c.body["messages"][0]["type"] == "flex"
        ]
        message = calls[index].body["messages"][0]
        return next(a["data"] for a in postbacks_in(message) if a["label"] == "OK")


SHOTS = Path(__file__).resolve().parents[1] / "test-output" / "screenshots"

MULTICAST = "/v2/bot/message/multicast"

REPLY = "/v2/bot/message/reply"


async def until(condition: Callable[[], bool], seconds: float = 60) -> None:
    """Wait (bounded) for another process to get somewhere: it has no hook to await."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the server")
        await asyncio.sleep(0.02)


PASSWORD = "a long enough passphrase"

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


# The second factor every test account is enrolled with (add_admin), as an authenticator app
# on the staff member's phone would hold it.
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


async def add_admin(
    bot: Bot,
    name: str = "city-staff",
    role: StaffRole = StaffRole.OPERATOR,
    second_factor: bool = True,
) -> None:
    """A console account; enrolled with TOTP_SECRET (stored sealed, as an enrolment stores it)
    unless second_factor=False."""
    async with bot.repos() as repos:
        await repos.admin.add(name, hash_password(PASSWORD), bot.clock.now(), role)
        if second_factor:
            admin = await repos.admin.by_name(name)
            assert admin is not None
            sealed = seal(bot.settings.channel_secret, admin.id, TOTP_SECRET)
            await repos.admin.set_second_factor(admin.id, sealed)


async def totp_code(client: TestClient, name: str, secret: str = TOTP_SECRET) -> str:
    """The code the staff member's app shows at the fake clock's time. A code is taken once:
    when this account signed in already in this 30-second step, the next step's code (which
    the service takes, one step either side) is what a person would wait a moment for."""
    services = client.app[SERVICES]
    now = services.clock.now()
    async with services.repositories() as repos:
        admin = await repos.admin.by_name(name)
    totp = pyotp.TOTP(secret)
    step = totp.timecode(now)
    if admin is not None and admin.totp_last_step is not None:
        step = max(step, admin.totp_last_step + 1)
    assert step <= totp.timecode(now) + 1, "signed in too often in one minute: move the clock"
    return totp.generate_otp(step)


async def login(client: TestClient, name: str = "city-staff", password: str = PASSWORD) -> int:
    """Both steps of the console's sign-in, as a person does them: the password, then the code
    from the app (or, for an account without one that must have one, the enrolment: the secret
    read off the page, its first code). -> the status of the last page."""
    page = await (await client.get("/admin/login")).text()
    token = CSRF.search(page)
    assert token is not None
    response = await client.post(
        "/admin/login", data={"name": name, "password": password, "csrf_token": token.group(1)}
    )
    if response.url.path == "/admin/login/code":
        return await post_code(client, await response.text(), await totp_code(client, name))
    if response.url.path == "/admin/login/enrol":
        page = await response.text()
        secret = ENROL_SECRET.search(page)
        assert secret is not None
        code = await totp_code(client, name, secret.group(1).replace(" ", ""))
        return await post_code(client, page, code, "/admin/login/enrol")
    return response.status


def another_browser(bot: Bot) -> TestClient:
    """A second person's browser on the same server (its own cookies). Close its session, not
    the client: the server is the bot's."""
    return TestClient(bot.client.server)


ENROL_SECRET = re.compile(r'<code id="enrol-secret">([A-Z2-7 ]+)</code>')


async def post_code(
    client: TestClient, page: str, code: str, path: str = "/admin/login/code"
) -> int:
    """The code step's form, with this code."""
    token = CSRF.search(page)
    assert token is not None
    response = await client.post(path, data={"code": code, "csrf_token": token.group(1)})
    return response.status


async def csrf(client: TestClient, path: str = "/admin/") -> str:
    token = CSRF.search(await (await client.get(path)).text())
    assert token is not None
    return token.group(1)


async def exported(
    client: TestClient,
    path: str,
    purpose: str = "city_report",
    text: str = "the city's yearly review of the service",
) -> Any:
    """A file of people's details from the console: its form, then the purpose stated (what
    運用管理 does, admin/exports.py export_form); -> the response."""
    token = await csrf(client, path)
    form = {"csrf_token": token, "purpose": purpose, "purpose_text": text}
    return await client.post(path, data=form)


CHECKIN = JA.t("checkin.title")

RESEND = JA.t("checkin.resend_title")

ALERT = JA.t("alert.title")

MINUTE = timedelta(minutes=1)


def tokyo(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TOKYO).astimezone(UTC)


def checkins_to(bot: Bot, uid: str) -> list[str]:
    return [t for t in bot.line.texts_to(uid) if t.startswith((CHECKIN, RESEND))]


def ok_data(bot: Bot, uid: str, index: int = -1) -> str:
    """The OK button's postback data on the `index`-th check-in the person received."""
    messages = [
        m
        for m in bot.line.messages_to(uid)
        if m.get("type") == "flex" and any(a.get("label") == "OK" for a in postbacks_in(m))
    ]
    return next(a["data"] for a in postbacks_in(messages[index]) if a["label"] == "OK")


async def run_to(bot: Bot, moment: datetime) -> None:
    bot.clock.set(moment)
    await bot.sweep()


class Page:
    """One person's My page session: their ID token on every call."""

    def __init__(self, bot: Bot, uid: str, name: str = "someone") -> None:
        self.bot = bot
        self.uid = uid
        self.name = name
        self.token = ""
        self.renew()

    def renew(self) -> None:
        """A new ID token, as LIFF gives when the page is opened again later."""
        self.token = self.bot.line.issue_id_token(self.uid, self.name, LOGIN_CHANNEL)

    async def call(
        self, method: str, path: str, body: Any = None, **headers: str
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.token}", **headers}
        response = await self.bot.client.request(method, path, json=body, headers=headers)
        await self.bot.settle()
        data = await response.json() if response.content_type == "application/json" else None
        return response.status, data

    async def accept_terms(self) -> None:
        assert (await self.call("POST", "/liff/api/terms", {}))[0] == 200


async def page_for(bot: Bot, name: str, terms: bool = True) -> Page:
    page = Page(bot, await bot.follow(name), name)
    if terms:
        await page.accept_terms()
    return page


def disk_fault(dialect: str, name: str, timing: str, when: str = "") -> list[str]:
    """A trigger `name` that fails a write as a full disk would, in each engine's own words:
    `timing` says which ("BEFORE DELETE ON arrivals"), `when` narrows it to some rows."""
    if dialect == POSTGRESQL:
        return [
            "CREATE OR REPLACE FUNCTION disk_trouble() RETURNS trigger LANGUAGE plpgsql AS"
            " $$ BEGIN RAISE EXCEPTION 'disk trouble'; END; $$",
            f"CREATE TRIGGER {name} {timing} FOR EACH ROW"
            + (f" WHEN ({when})" if when else "")
            + " EXECUTE FUNCTION disk_trouble()",
        ]
    return [
        f"CREATE TRIGGER {name} {timing}"
        + (f" WHEN {when}" if when else "")
        + " BEGIN SELECT RAISE(ABORT, 'disk trouble'); END"
    ]


async def history_of_a_week(bot: Bot) -> tuple[str, str]:
    """A resident's week: OKs after 5 min and 6 h, a day unwell, then no answer at all (the
    alert is still open)."""
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    answers = {24: ("ok", 5), 25: ("ok", 360), 26: ("unwell", 30)}
    for day, (value, minutes) in answers.items():
        await run_to(bot, tokyo(11, day, 9))
        bot.clock.advance(timedelta(minutes=minutes))
        label = t("checkin.ok_button") if value == "ok" else t("checkin.unwell_button")
        await bot.tap(resident, button(bot, resident, label))
    for moment in (tokyo(11, 27, 9), tokyo(11, 28, 9), tokyo(11, 28, 12)):
        await run_to(bot, moment)
    return resident, son


async def member_of(bot: Bot, uid: str) -> Member:
    """The member a LINE user is, as the database has them."""
    async with bot.repos() as repos:
        member = await repos.members.by_line_id(uid)
    assert member is not None
    return member


async def team_of(bot: Bot, uid: str) -> int:
    """The one team the person is in."""
    member = await member_of(bot, uid)
    async with bot.repos() as repos:
        ((team, _),) = await repos.teams.teams_of(member.id)
    return team.id


async def staff_signed_in(bot: Bot, name: str = "desk-a") -> None:
    """A console account for the desk's staff member, signed in on the bot's client."""
    await add_admin(bot, name)
    assert await login(bot.client, name) == 200


async def team_with_landline_resident(bot: Bot) -> tuple[int, str]:
    """A team made in the console (daily at 9:00), her registration from the paper form, and
    her son joining on LINE with the manager code. -> (her 会員ID, her son's LINE id)."""
    await staff_signed_in(bot)
    token = await csrf(bot.client, "/admin/teams")
    form = {"csrf_token": token, "name": "山田家", "interval_days": "1", "hour": "9"}
    assert (await bot.client.post("/admin/teams", data=form)).status == 200
    page = await (await bot.client.get("/admin/teams/1")).text()
    assert t("admin.team.by_phone_title") in page
    response = await bot.client.post(
        "/admin/teams/1",
        data={
            "csrf_token": token,
            "action": "register_by_phone",
            "name": "山田花子",
            "phone": "03-1234-5678",
            "language": "ja",
            "consented": "on",
        },
        allow_redirects=False,
    )
    assert response.status == 303, await response.text()
    member_id = int(response.headers["Location"].rsplit("/", 1)[1])
    son = await bot.follow("son")
    async with bot.repos() as repos:
        code = await repos.teams.active_invite(1, Role.MANAGER)
    assert code is not None
    await join(bot, son, code.code)
    return member_id, son


async def other_staff(
    bot: Bot, name: str = "desk-b", role: StaffRole = StaffRole.OPERATOR
) -> TestClient:
    """A second console account, signed in in its own browser (another_browser): what one
    account set, another confirms. Close its session when done."""
    await add_admin(bot, name, role)
    browser = another_browser(bot)
    assert await login(browser, name) == 200
    return browser


# axe-core's rules for WCAG 2.1 A and AA, and its best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
# What axe checked on each page, one JSON file a page: docs/accessibility/results.md (the
# JIS X 8341-3:2016 試験結果 a city publishes) is generated from them, so they are kept equal
# to what the tests' own axe runs find, and a change to a page that changes them is seen.
AXE_RECORDS = Path(__file__).resolve().parents[1] / "docs" / "accessibility" / "axe"
AXE_REWRITE = "MIMAMORI_A11Y_WRITE"
AXE_STRICT = "MIMAMORI_A11Y_STRICT"
AXE_REGENERATE = (
    f"{AXE_REWRITE}=1 MIMAMORI_TEST_BACKENDS=sqlite pytest tests/test_accessibility.py"
    " tests/test_console_roles_browser.py && python docs/accessibility/generate.py"
)
# Worst first: a criterion one rule fails is failed, whatever others pass.
_AXE_OUTCOMES = (
    ("violations", "failed"),
    ("incomplete", "incomplete"),
    ("passes", "passed"),
    ("inapplicable", "inapplicable"),
)
_CRITERION_TAG = re.compile(r"wcag(\d)(\d)(\d+)")


def axe_summary(response: dict[str, Any]) -> dict[str, Any]:
    """What axe checked on a page and how each check came out, by rule and by WCAG success
    criterion (1.1.1 …): no URLs, ids or counts, so the same page gives the same summary."""
    rules: dict[str, str] = {}
    criteria: dict[str, str] = {}
    beyond: list[str] = []  # failed best practices, which no criterion counts
    for kind, outcome in _AXE_OUTCOMES:
        for rule in response[kind]:
            rules.setdefault(rule["id"], outcome)
            tags = [found for tag in rule["tags"] if (found := _CRITERION_TAG.fullmatch(tag))]
            for found in tags:
                criteria.setdefault(".".join(found.groups()), outcome)
            if outcome == "failed" and not tags:
                beyond.append(rule["id"])
    return {
        "axe": response["testEngine"]["version"],
        "criteria": dict(sorted(criteria.items(), key=lambda c: _criterion_key(c[0]))),
        "best_practice_failed": sorted(beyond),
        "rules": dict(sorted(rules.items())),
    }


def _criterion_key(criterion: str) -> tuple[int, ...]:
    return tuple(int(part) for part in criterion.split("."))


async def axe_findings(page: Any, record: str | None = None) -> list[str]:
    """What axe-core (axe-playwright-python's copy) finds critical or serious on the page as
    it stands, one line each: the rule, and the first few places it fails. With `record`, the
    page's summary is also held against docs/accessibility/axe/<record>.json (rewritten
    instead when MIMAMORI_A11Y_WRITE=1), and a difference is one more finding."""
    from axe_playwright_python.async_playwright import Axe

    results = await Axe().run(
        page,
        options={"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]},
    )
    found = []
    for violation in results.response["violations"]:
        if violation.get("impact") in ("critical", "serious"):
            targets = [str(node["target"]) for node in violation["nodes"][:3]]
            found.append(f"{page.url} {violation['id']} ({violation['impact']}): {targets}")
    if record is not None:
        found += _held_to_record(record, axe_summary(results.response), page.url)
    return found


def _held_to_record(record: str, summary: dict[str, Any], url: str) -> list[str]:
    path = AXE_RECORDS / f"{record}.json"
    written = json.dumps(summary, ensure_ascii=False, indent=1) + "\n"
    if os.environ.get(AXE_REWRITE) == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(written, "utf-8")
        return []
    if not path.exists() or path.read_text("utf-8") != written:
        stale = f"{path.name} is not what axe found on {url}; regenerate: {AXE_REGENERATE}"
        # A record is evidence to publish, not a rule of the pages: a newer axe-core or
        # Chromium can judge a criterion it could not decide before. Only a page's own
        # critical or serious findings fail the suite; a stale record fails where asked.
        if os.environ.get(AXE_STRICT) == "1":
            return [stale]
        print(f"accessibility record out of date: {stale}", file=sys.stderr)
    return []


async def console_page(
    browser: Any, bot: Bot, name: str = "city-staff", role: StaffRole = StaffRole.OPERATOR
) -> tuple[Any, str]:
    """A new console account (of `role`) signed in in its own desktop browser context: (the
    page on the dashboard, the console's base URL)."""
    await add_admin(bot, name, role)
    context = await browser.new_context(viewport={"width": 1200, "height": 900}, locale="ja-JP")
    page = await context.new_page()
    base = str(bot.client.make_url("/admin")).rstrip("/")
    await page.goto(base + "/login")
    await page.fill("#name", name)
    await page.fill("#password", PASSWORD)
    await page.get_by_role("button", name=t("admin.login.submit")).click()
    await page.wait_for_url(base + "/login/code")
    await page.fill("#code", await totp_code(bot.client, name))
    await page.get_by_role("button", name=t("admin.signin.submit")).click()
    await page.wait_for_url(base + "/")
    return page, base


async def case_ids(bot: Bot) -> list[int]:
    async with bot.repos() as repos:
        return [case["id"] for case in await repos.desk.queue()]


async def act(bot: Bot, case_id: int, **form: str) -> tuple[int, str]:
    """A staff member's action on the case page, and what it sent delivered."""
    token = await csrf(bot.client, f"/admin/desk/{case_id}")
    response = await bot.client.post(
        f"/admin/desk/{case_id}", data={"csrf_token": token, **form}, allow_redirects=False
    )
    await bot.settle()
    return response.status, await response.text()


async def stage(bot: Bot, uid: str) -> Stage:
    """Where the person's newest round stands."""
    async with bot.repos() as repos:
        member = await repos.members.by_line_id(uid)
        assert member is not None
        rounds = await repos.rounds.of_member_since(member.id, tokyo(1, 1, 0))
    newest = max(rounds, key=lambda r: r.id, default=None)  # the last opened
    return stage_of(newest) if newest else Stage.IDLE


def told_safe(bot: Bot, manager: str) -> list[str]:
    """What told this manager the person is safe (her OK, a manager's confirmation)."""
    texts = bot.line.texts_to(manager)
    return said(texts, "safe.body") + said(texts, "alert.confirmed_notice")


def code_read_in(said_aloud: list[str]) -> str:
    """The verification code a call read out (care.rounds.verify), digit by digit, as she hears
    it: the digits' words are the locale's."""
    words = JA.t("calls.verify.digit_words").split(",")
    separator = JA.t("calls.verify.digit_separator")
    found = pattern("calls.verify.call_text").pattern.replace(".*?", "(.+?)", 1)
    match = re.search(found, said_aloud[0], re.S)
    assert match is not None, said_aloud
    return "".join(str(words.index(word)) for word in match.group(1).split(separator))


async def invite_qr(bot: Bot, code: str) -> ClientResponse:
    """An invite's QR image, asked for as the bot, My page and the console link to it."""
    return await bot.client.get(qr_path(bot.settings.channel_secret, code))


class JmaFeed:
    """A stand-in for one of JMA's Atom feeds (eqvol.xml, extra.xml) on loopback, serving
    recorded documents from `folder`: those published so far, newest first, as JMA lists them,
    each entry titled as `title_of(file)` says (the feed's title is what a poller filters on)."""

    def __init__(self, folder: Path, title_of: Callable[[str], str]) -> None:
        self.folder = folder
        self.title_of = title_of
        self.published: list[tuple[str, str]] = []  # (URL name, file)
        self.raw: dict[str, str] = {}  # URL name -> a body served as it is
        self.titles: dict[str, str] = {}  # URL name -> its entry's title, when given
        self.elsewhere: set[str] = set()  # names linked on another host
        self.fetched: list[str] = []
        self.url = ""

    def publish(self, file: str, name: str | None = None) -> None:
        self.published.insert(0, (name or file, file))

    def publish_raw(
        self, name: str, body: str | None, elsewhere: bool = False, title: str | None = None
    ) -> None:
        """A document as given (None: listed but missing), or linked on another host."""
        first = sorted(p.name for p in self.folder.glob("*.xml"))[0]
        self.published.insert(0, (name, first))
        if title is not None:
            self.titles[name] = title
        if body is not None:
            self.raw[name] = body
        else:
            self.raw.pop(name, None)
            self.published[0] = (name, "")
        if elsewhere:
            self.elsewhere.add(name)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/{feed}.xml", self.feed)
        app.router.add_get("/data/{name}", self.document)
        return app

    async def feed(self, request: web.Request) -> web.Response:
        entries = "".join(
            f"<entry><title>{self.titles.get(name) or self.title_of(file)}</title>"
            f"<id>urn:{name}</id><updated>2026-11-23T01:02:10Z</updated>"
            f'<link type="application/xml" href="{self._host(name)}/data/{name}"/></entry>'
            for name, file in self.published
        )
        body = f'<feed xmlns="http://www.w3.org/2005/Atom"><title>jma</title>{entries}</feed>'
        return web.Response(text=body, content_type="application/atom+xml")

    def _host(self, name: str) -> str:
        return self.url.replace("127.0.0.1", "localhost") if name in self.elsewhere else self.url

    async def document(self, request: web.Request) -> web.Response:
        files = dict(self.published)
        name = request.match_info["name"]
        self.fetched.append(name)
        if name in self.raw:
            return web.Response(text=self.raw[name], content_type="application/xml")
        if not files.get(name):
            raise web.HTTPNotFound()
        text = (self.folder / files[name]).read_text("utf-8")
        return web.Response(text=text, content_type="application/xml")


# 熱中症警戒アラート days (issue 41): the Ministry of the Environment's feeds, stood in on
# loopback with the sample documents of tests/heat/.
HEAT_DOCUMENTS = Path(__file__).resolve().parent / "heat"
HEAT_CITY = "130000"  # 東京都's 府県予報区


class HeatFeed:
    """The Ministry's alert files, one per issuing hour at its own URL (those not published
    are a 404), and one point's WBGT forecast at a fixed URL, whose contents the test sets
    as the Ministry publishes them (again, at the same place)."""

    def __init__(self) -> None:
        self.alerts: dict[str, str] = {}  # "YYYYMMDD_HH": a file of tests/heat/, or raw text
        self.wbgt = "yohou_44132.csv"
        self.url = ""

    def publish(self, stamp: str, document: str) -> None:
        self.alerts[stamp] = document

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/alert/dl/{year}/alert_{stamp}.csv", self.alert_file)
        app.router.add_get("/prev15WG/dl/yohou_{point}.csv", self.forecast)
        return app

    @staticmethod
    def _body(name: str) -> web.Response:
        if not name:
            raise web.HTTPNotFound()
        path = HEAT_DOCUMENTS / name
        body = path.read_bytes() if path.suffix == ".csv" and path.exists() else name.encode()
        return web.Response(body=body, content_type="text/csv")

    async def alert_file(self, request: web.Request) -> web.Response:
        stamp = request.match_info["stamp"]
        if not stamp.startswith(request.match_info["year"]):
            raise web.HTTPNotFound()
        return self._body(self.alerts.get(stamp, ""))

    async def forecast(self, request: web.Request) -> web.Response:
        if request.match_info["point"] != "44132":
            raise web.HTTPNotFound()
        return self._body(self.wbgt)


async def heat_bot(
    start_bot: Callable[..., Awaitable[Bot]],
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    **settings: object,
) -> tuple[HeatFeed, Bot, HeatPoller]:
    feed = HeatFeed()
    server = await aiohttp_server(feed.app())
    feed.url = str(server.make_url("")).rstrip("/")
    bot = await start_bot(
        heat_areas=frozenset({HEAT_CITY}),
        heat_alert_base=f"{feed.url}/alert/dl/",
        heat_wbgt_url=f"{feed.url}/prev15WG/dl/yohou_{{point}}.csv",
        heat_points=("44132",),
        **settings,
    )
    # A summer afternoon, the day before the alert day.
    await run_to(bot, tokyo(8, 2, 16, 0, year=2027))
    return feed, bot, HeatPoller(bot.services)


async def opt_in_from_the_chat(bot: Bot, uid: str) -> None:
    """The menu's item, then the card's button."""
    await bot.tap_action(uid, "menu")
    await bot.tap_reply_button(uid, t("heat41.menu"))
    assert says(bot.line.reply_texts()[-1], "heat41.about_off")
    await bot.tap_reply_button(uid, t("heat41.on_button"))
    assert says(bot.line.reply_texts()[-1], "heat41.turned_on")


async def answer_the_morning_check_in(bot: Bot, *uids: str) -> None:
    """Their team's daily 9:00 check-in, answered at 9:30: no regular round is open."""
    await run_to(bot, tokyo(8, 3, 9, 30, year=2027))
    for uid in uids:
        await bot.tap(uid, ok_data(bot, uid))


# The city's 避難行動要支援者名簿 (issue 41): a file uploaded and committed in the console.
REGISTER_SAMPLES = Path(__file__).resolve().parent / "register"


async def upload(client: TestClient, name: str, data: bytes | None = None) -> str:
    """The import's first step: the file chosen, its preview. -> the page."""
    token = await csrf(client, "/admin/roster/import")
    form = aiohttp.FormData()
    form.add_field("csrf_token", token)
    form.add_field("action", "preview")
    body = data if data is not None else (REGISTER_SAMPLES / name).read_bytes()
    form.add_field("file", body, filename=name, content_type="text/csv")
    response = await client.post("/admin/roster/import", data=form)
    return await response.text()


async def commit(client: TestClient, preview: str) -> tuple[int, str]:
    found = re.search(r'name="import_id" value="(\d+)"', preview)
    assert found is not None, preview
    token = await csrf(client, "/admin/roster/import")
    response = await client.post(
        "/admin/roster/import",
        data={"csrf_token": token, "action": "commit", "import_id": found.group(1)},
    )
    return response.status, await response.text()


async def imported(bot: Bot, name: str = "sample.csv") -> str:
    await add_admin(bot)
    assert await login(bot.client) == 200
    status, page = await commit(bot.client, await upload(bot.client, name))
    assert status == 200, page
    return page


async def roster(bot: Bot) -> dict[str, dict[str, object]]:
    async with bot.repos() as repos:
        return {p.roster_id: p.__dict__ for p in await repos.roster.everyone()}


# JMA's warnings (issue 41): the stand-in feed serving tests/jma/storm/.
STORM_DOCUMENTS = Path(__file__).resolve().parent / "jma" / "storm"
STORM_CITY = frozenset({"1310100"})  # 千代田区


def title_of(file: str) -> str:
    file = file.removeprefix("recorded/")
    if file.startswith("vpno50"):
        return "気象特別警報報知"
    if file.startswith("vpww53"):
        return "気象特別警報・警報・注意報"
    if file.startswith("vpww54"):
        return "気象警報・注意報（Ｈ２７）"
    if file.startswith("vxko"):
        return "指定河川洪水予報"
    hazard = {"vpww55": "大雨", "vpww56": "土砂", "vpww57": "高潮"}[file[:6]]
    return f"気象警報・注意報（Ｒ０６）（{hazard}）"


async def feed_and_bot(
    start_bot: Callable[..., Awaitable[Bot]],
    aiohttp_server: Callable[..., Awaitable[TestServer]],
    **settings: object,
) -> tuple[JmaFeed, Bot, StormPoller]:
    jma = JmaFeed(STORM_DOCUMENTS, title_of)
    server = await aiohttp_server(jma.app())
    jma.url = str(server.make_url("")).rstrip("/")
    feed = f"{jma.url}/extra.xml"
    settings.setdefault("storm_areas", STORM_CITY)
    bot = await start_bot(storm_feed_url=feed, **settings)
    return jma, bot, StormPoller(bot.services)


async def started_by_a_feed(bot: Bot) -> RollCall:
    """The roll-call a JMA feed (an earthquake, a warning) just started, with what every
    feed's has: everyone asked, the silent again each hour twice, a declared disaster."""
    async with bot.repos() as repos:
        call = (await repos.rollcalls.recent(1))[0]
    assert call.audience == "everyone" and call.disaster
    assert (call.resend_every_minutes, call.resends_left) == (60, 2)
    return call


def asked(bot: Bot, uid: str) -> int:
    return len(said(bot.line.texts_to(uid), "rollcall.title"))


async def linked_partner(bot: Bot, uid: str, name: str = "民生委員 東地区") -> int:
    """The register's 担当 (a 民生委員, as tests/register/sample.csv names them) added by the staff
    and linked to `uid`'s LINE by the code they were given. -> the partner's id."""
    from care.desk import partners

    async with bot.services.unit_of_work() as work:
        partner_id = await partners.add(work, name, "minsei", "", "", [], "staff")
        code = await partners.new_link_code(work, partner_id, "staff")
    await bot.say(uid, code)
    return partner_id


def storm_questions(bot: Bot, uid: str, hazard: str, level: int) -> list[str]:
    """The roll-call's questions she was sent that name this warning."""
    name = t(
        "storm41.name",
        level=level,
        hazard=t(f"storm41.hazard.{hazard}"),
        rank=t(f"storm41.rank.level{level}"),
    )
    return said(bot.line.texts_to(uid), "storm41.body", warning=name)
