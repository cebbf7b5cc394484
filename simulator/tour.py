"""The scripted tour: the 安否通知 ladder and a つながり round, played by the simulator's people.

Every step is something a person does in their pane (follow, tap a button the bot sent, open an
invite, scan a QR code) or a move of the clock; nothing reaches into the bot. Buttons are found
by the labels the bot's locale gives them, so a deployment's rewording plays the same tour.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from ground.i18n import Locale
from ground.rich_menu import TAB_ALIAS
from simulator.city import ASKS_GARBAGE_DAY
from simulator.console import PARTNER_CODE, Console
from simulator.simulator import Bubble, Simulator

log = logging.getLogger("mimamori.tour")

RESIDENT, DAUGHTER, SON, STAFF = "利用者（母）", "長女", "長男", "社協の職員"
MINSEI = "民生委員"
# A neighbour of hers with a landline and no LINE: the desk registers him from a paper form.
LANDLINE_RESIDENT, LANDLINE = "固定電話の利用者", "03-1234-5678"
NEIGHBOURS = ("近所の方A", "近所の方B", "近所の方C")
# On the city's 避難行動要支援者名簿 the demo imports (simulator/feeds/register.csv): no LINE,
# a landline; her 担当 is the 民生委員 of 三丁目.
REGISTER_PERSON, REGISTER_PHONE = "名簿の方A", "03-1234-5601"
REGISTER_CARER = "民生委員 三丁目"
GROUP = "三丁目の仲間"


Start = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class Feeds:
    """What a step may set off as the demo's buttons do: a stand-in feed publishes a
    document, and the bot's own poller reads it, as it would the real feed's."""

    quake: Start | None = None  # 気象庁's 震度速報 of 震度5強 in the demo's area
    storm: Start | None = None  # 気象庁's レベル４土砂災害危険警報 for the demo's municipality
    heat: Start | None = None  # 環境省's 17:00 alert file: an alert day (tomorrow from 17:00)


def seed(simulator: Simulator) -> None:
    """The cast: a resident, two relatives, a 社協 staff member, the area's 民生委員, a group
    of neighbours."""
    for name in (RESIDENT, DAUGHTER, SON, STAFF, MINSEI, *NEIGHBOURS):
        simulator.add_person(name)
    members = [key for key, person in simulator.people.items() if person.name in NEIGHBOURS]
    simulator.add_group(GROUP, members)


def key_of(simulator: Simulator, name: str) -> str:
    return next(key for key, person in simulator.people.items() if person.name == name)


MARK = "\x00"


def member_id_in(text: str, template: str) -> int:
    """The 会員ID the greeting gave a new friend (`template`: the greeting with MARK where
    the 会員ID goes)."""
    head, _, tail = template.partition(MARK)
    found = re.search(re.escape(head[-12:]) + r"(\d+)" + re.escape(tail[:8]), text)
    if found is None:
        raise LookupError("no 会員ID in the greeting")
    return int(found.group(1))


def find_action(bubbles: list[Bubble], label: str) -> dict[str, str]:
    """The newest button or quick reply with this label in a chat."""
    for bubble in reversed(bubbles):
        for action in bubble.buttons + bubble.quick:
            if action["label"] == label:
                return action
    raise LookupError(f"no button {label!r}")


class Tour:
    def __init__(
        self,
        simulator: Simulator,
        locale: Locale,
        pace: float = 1.5,
        console: Console | None = None,
        feeds: Feeds | None = None,
    ) -> None:
        self.sim = simulator
        self.t = locale.t
        self.pace = pace
        self.console = console
        self.feeds = feeds or Feeds()
        self.start_word = locale.t("shared.start_words").split(",")[0]
        self.minsei_id = 0  # the 民生委員's 会員ID, once she has one

    def say(self, step: str, **values: object) -> None:
        """The narration line of a step, on the phones page: what happens next, and why."""
        self.sim.narrate(self.t(f"simulator40.tour.{step}", **values))

    def chat(self, name: str) -> list[Bubble]:
        return self.sim.logs[self.sim.people[key_of(self.sim, name)].uid]

    async def pause(self) -> None:
        # For an audience: a moment to see each step. Tests play it at pace 0.
        await asyncio.sleep(self.pace)

    async def tap(self, name: str, label: str, group: str | None = None) -> None:
        key = key_of(self.sim, name)
        bubbles = self.sim.logs[self.sim.groups[group].gid] if group else self.chat(name)
        action = find_action(bubbles, label)
        await self.sim.tap(key, action["data"], action.get("shown", label), group)
        await self.pause()

    async def open_tab(self, name: str) -> None:
        """The city's tile that switches to mimamori's tab, as her phone shows it."""
        key = key_of(self.sim, name)
        view = self.sim.rich_menu_view(self.sim.people[key].uid) or {"areas": []}
        switch = next(
            a["action"]
            for a in view["areas"]
            if a["action"]["type"] == "richmenuswitch" and a["action"]["alias"] == TAB_ALIAS
        )
        await self.sim.switch_menu(key, switch["alias"], switch["data"])
        await self.pause()

    async def tile(self, name: str, label: str) -> None:
        """A tile of the menu under her chat."""
        key = key_of(self.sim, name)
        view = self.sim.rich_menu_view(self.sim.people[key].uid) or {"areas": []}
        action = next(a["action"] for a in view["areas"] if a["action"]["label"] == label)
        await self.sim.tap(key, action["data"], action["shown"] or label)
        await self.pause()

    async def run(self) -> None:
        await self.team_and_invites()
        await self.ladder()
        if self.console is not None:
            await self.the_desk(self.console)
        await self.group_round()
        if self.console is not None:
            await self.landline(self.console)
            if self.feeds.quake is not None:
                # (The register's person without LINE is rung too, and lets it ring.)
                await self.roll_call_by_phone(self.feeds.quake, "phone41.quake", to=LANDLINE)
        if self.feeds.heat is not None:
            await self.heat_day(self.feeds.heat)
        if self.feeds.storm is not None:
            await self.storm(self.feeds.storm)
        self.say("end")
        log.info("the tour is over")

    async def team_and_invites(self) -> None:
        """On the city's own LINE account: she follows it for the city's news and asks when
        the garbage goes out (the city's system answers); then she opens the city's 見守り
        tab, and mimamori greets her at once."""
        sim = self.sim
        self.say("city_follow")
        await sim.follow(key_of(sim, RESIDENT))
        await self.pause()
        self.say("garbage")
        await sim.say(key_of(sim, RESIDENT), ASKS_GARBAGE_DAY[0])
        await self.pause()
        self.say("open_tab")
        await self.open_tab(RESIDENT)
        # One tap to begin: every day at nine.
        self.say("start")
        await self.tap(RESIDENT, self.t("follow.start_button"))
        self.say("team")
        # 使い方 on the tab: what it does, and the menu (チームを作る among it).
        await self.tile(RESIDENT, self.t("richmenu.help"))
        await self.tap(RESIDENT, self.t("menu.new_team"))
        await sim.say(key_of(sim, RESIDENT), "わが家")
        await self.pause()
        await self.tap(RESIDENT, self.t("team.as_user"))
        # The daughter opens the invite link the resident forwarded to her.
        self.say("daughter")
        await sim.follow(key_of(sim, DAUGHTER))
        meaning = self.t("role_meaning.manager")
        share = next(b for b in self.chat(RESIDENT) if meaning in b.text and "line.me/" in b.text)
        link = next(word for word in share.text.split() if word.startswith("https://line.me/"))
        await sim.say(key_of(sim, DAUGHTER), sim.opened_link(link) or "")
        await self.pause()
        await self.tap(DAUGHTER, self.t("invite.accept"))
        # The son scans the QR code on his mother's phone.
        self.say("son")
        await sim.follow(key_of(sim, SON))
        await self.tap(RESIDENT, self.t("invite.show_qr"))
        qr = next(b for b in self.chat(RESIDENT) if b.kind == "image")
        read = await sim.scan(qr.image)
        await sim.say(key_of(sim, SON), sim.opened_link(read or "") or "")
        await self.pause()
        await self.tap(SON, self.t("invite.accept"))

    async def ladder(self) -> None:
        sim = self.sim
        self.say("checkin")
        await sim.advance_to_next_due()  # the check-in
        await self.pause()
        self.say("resend")
        await sim.advance(timedelta(days=1))  # no answer: sent again
        await self.pause()
        self.say("alert")
        await sim.advance(timedelta(hours=3))  # still none: the relatives are alerted
        await self.pause()
        # The daughter takes it; her brother hears she does, so they do not both drive over.
        self.say("take")
        await self.tap(DAUGHTER, self.t("alert.take_button"))
        await sim.advance(timedelta(minutes=30))
        # She writes back: her words reach them as hers, and the alert stays open; a message
        # is a sign of life, never a sign of safety.
        self.say("words")
        await sim.say(key_of(sim, RESIDENT), "ごめんなさい、昼寝をしていました")
        await self.pause()
        # Her own OK: only now do the relatives hear she is safe.
        self.say("ok")
        await self.tap(RESIDENT, self.t("checkin.ok_button"))

    async def the_desk(self, console: Console) -> None:
        """Another day, and nobody in the family can take it: the desk has a case, asks the
        area's 民生委員 (on LINE) to visit, and she finds the resident was asleep."""
        sim = self.sim
        self.say("partner")
        await sim.follow(key_of(sim, MINSEI))
        await sim.say(key_of(sim, MINSEI), self.start_word)  # for her 会員ID
        greeting = self.t("shared.greeting", member_id=MARK)
        bubble = next(b for b in self.chat(MINSEI) if b.sender == "bot")
        self.minsei_id = member_id_in(bubble.text, greeting)
        await console.sign_in()
        # The console shows her a one-time code; she sends it from her own LINE, which is how
        # her LINE becomes the partner's (staff type no 会員ID).
        page = await console.answer(
            "/partners",
            [("action", "add"), ("name", MINSEI), ("kind", "minsei"), ("area", "三丁目")]
            + [("line", "on")],
        )
        code = PARTNER_CODE.search(page)
        assert code is not None, "the console shows the partner's code"
        await sim.say(key_of(sim, MINSEI), code.group(1))
        await self.pause()
        self.say("nobody")
        await sim.advance_to_next_due()  # the check-in
        await sim.advance(timedelta(days=1))  # sent again
        await sim.advance(timedelta(hours=3))  # the family is alerted; both are at work
        await self.pause()
        self.say("desk")
        await sim.advance(timedelta(hours=1))  # alerted again
        await sim.advance(timedelta(hours=1))  # the desk has it, and the family hears so
        await self.pause()
        self.say("visit")
        await console.sign_in()
        case_id, partner_id = max(await console.open_cases()), max(await console.partner_ids())
        await console.post(f"/desk/{case_id}/visits", [("partner_id", str(partner_id))])
        await sim.settle()
        await self.pause()
        self.say("visited")
        await self.tap(MINSEI, self.t("visit.going_button"))
        await sim.advance(timedelta(minutes=20))
        await self.tap(MINSEI, self.t("visit.seen_button"))
        await self.tap(MINSEI, self.t("visit.outcome.asleep"))

    async def landline(self, console: Console) -> None:
        """A man who has no LINE and would never tap it: the desk registers him from his
        paper form in the 民生委員's area team, and his landline rings at check-in time. He
        is out the first day; the next day's call he answers with 1, and nobody is alarmed."""
        sim = self.sim
        self.say("landline")
        await self.register_landline(console)
        self.say("ring")
        await sim.advance_to_next_due()  # his phone rings: he is out
        await self.pause()
        self.say("no_answer")
        await sim.hang_up(sim.rings[-1].sid, "no-answer")
        await self.pause()
        self.say("answer")
        await sim.advance(timedelta(days=1))  # it rings again: he answers, and presses 1
        await self.pause()
        await sim.press_key(sim.rings[-1].sid, "1")
        await self.pause()

    async def roll_call_by_phone(
        self,
        start: Start,
        step: str,
        to: str | None = None,
        then: tuple[str, str] = ("phone41.rung", "phone41.safe"),
        **values: object,
    ) -> None:
        """A disaster's roll-call, started by a feed (`start`; `step` narrates it): the
        people on LINE get it in LINE, and a person with only a landline is rung with it (the
        call to `to`, or the last placed); she presses 1, 無事です, as the LINE button would
        say it (`then` narrates the ring and the key). A quake's, or a storm's."""
        sim = self.sim
        self.say(step, **values)
        rung = len(sim.rings)
        await start()
        await sim.settle()
        await self.pause()
        placed = [ring for ring in sim.rings[rung:] if to is None or ring.number == to]
        if not placed:
            raise LookupError("the roll-call rang no landline")
        self.say(then[0])
        await self.pause()
        await sim.press_key(placed[-1].sid, "1")
        self.say(then[1])
        await self.pause()

    async def heat_day(self, alert: Start) -> None:
        """A 熱中症警戒アラート day: she answers her check-in and asks for the heat check from
        the menu; at 17:00 the
        Ministry's file puts tomorrow under the alert; she answers her morning check-in, and
        at the city's hour the heat check comes, with its advice; her OK answers it."""
        sim = self.sim
        self.say("tour41.heat_opt_in")
        await self.answer_open_check_in()
        await self.tile(RESIDENT, self.t("richmenu.help"))
        await self.tap(RESIDENT, self.t("heat41.menu"))
        await self.tap(RESIDENT, self.t("heat41.on_button"))
        self.say("tour41.heat_alert")
        await sim.advance_to_hour(17)
        await alert()
        await self.pause()
        self.say("tour41.heat_morning")
        await sim.advance_to_hour(9)
        await sim.advance(timedelta(minutes=30))
        await self.answer_open_check_in()
        self.say("tour41.heat_check")
        title = self.t("heat41.title")
        for _ in range(6):  # the day's other steps (a landline's call, a group's post) first
            await sim.advance_to_next_due()
            if any(b.text.startswith(title) for b in self.chat(RESIDENT)):
                break
        else:
            raise LookupError("no heat check came")
        await self.pause()
        self.say("tour41.heat_answer")
        heat_card = [b for b in self.chat(RESIDENT) if b.text.startswith(title)]
        action = find_action(heat_card, self.t("checkin.ok_button"))
        await sim.tap(key_of(sim, RESIDENT), action["data"], action.get("shown", ""))
        await self.pause()

    async def answer_open_check_in(self) -> None:
        """Her newest check-in card's OK, as she taps it in the morning."""
        cards = [b for b in self.chat(RESIDENT) if b.text.startswith(self.t("checkin.title"))]
        if cards:
            action = find_action(cards[-1:], self.t("checkin.ok_button"))
            await self.sim.tap(key_of(self.sim, RESIDENT), action["data"], action.get("shown", ""))
            await self.pause()

    async def storm(self, warn: Start) -> None:
        """JMA's レベル４土砂災害危険警報 for the city starts a roll-call that names it; a
        person on the city's 避難行動要支援者名簿, with no LINE, is rung on her landline and
        presses 1; the tally by 担当 counts her safe for her 民生委員."""
        warning = self.t(
            "storm41.name",
            level=4,
            hazard=self.t("storm41.hazard.landslide"),
            rank=self.t("storm41.rank.level4"),
        )
        await self.roll_call_by_phone(
            warn,
            "tour41.storm",
            to=REGISTER_PHONE,
            then=("tour41.storm_rung", "tour41.storm_safe"),
            warning=warning,
        )
        self.say("tour41.storm_tally", carer=REGISTER_CARER)
        await self.pause()

    async def register_landline(self, console: Console) -> None:
        """The desk registers him from his paper form, in an area team of its own (the
        民生委員 watches it when she has joined)."""
        sim = self.sim
        await console.sign_in()
        team = await console.post(
            "/teams", [("name", "三丁目の見守り"), ("interval_days", "1"), ("hour", "9")]
        )
        team_path = team.removeprefix("/admin")
        if self.minsei_id:
            await console.post(
                team_path, [("action", "add_manager"), ("member_id", str(self.minsei_id))]
            )
        await console.post(
            team_path,
            [
                ("action", "register_by_phone"),
                ("name", LANDLINE_RESIDENT),
                ("phone", LANDLINE),
                ("language", "ja"),
                ("consented", "on"),
            ],
        )
        await sim.settle()
        await self.pause()

    async def group_round(self) -> None:
        sim = self.sim
        group = next(iter(sim.groups))
        second, third = (key_of(sim, name) for name in NEIGHBOURS[1:])
        self.say("group")
        await sim.bot_joins(group)
        await self.pause()
        await self.tap(NEIGHBOURS[0], self.t("group.menu.schedule"), group)
        await self.tap(NEIGHBOURS[0], self.t("schedule.interval_choice", days=1), group)
        await self.tap(NEIGHBOURS[0], self.t("schedule.am"), group)
        await self.tap(NEIGHBOURS[0], self.t("schedule.hour_choice", hour=9), group)
        await sim.say(second, "よろしくお願いします", group)
        await sim.say(third, "よろしく", group)
        self.say("group_post")
        await sim.advance_to_next_due()  # the post
        await self.pause()
        await self.tap(NEIGHBOURS[0], self.t("checkin.ok_button"), group)
        await self.tap(NEIGHBOURS[1], self.t("checkin.unwell_button"), group)
        self.say("group_report")
        await sim.advance(timedelta(hours=23))  # the report names who has not tapped
        await self.pause()
