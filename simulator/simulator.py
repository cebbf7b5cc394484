"""People, phones and a clock for the local LINE simulator.

Each person acts through the same doors LINE uses: signed webhooks posted to the bot's
/callback, LIFF ID tokens checked by the stand-in platform. What the bot sends reaches the
people's chat panes through the platform, as LINE would deliver it.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

import aiohttp
from defusedxml import ElementTree

from ground.clock import FakeClock
from simulator import webhooks
from simulator.line.state import Call
from simulator.platform import LinePlatform
from simulator.qr import read_qr
from simulator.telephone import PlacedCall, TwilioStandIn, as_written

log = logging.getLogger("mimamori.simulator")

TOKEN_LIFETIME = timedelta(days=400)  # the demo's clock may run far ahead
DEVICE_LABEL = "玄関のセンサー"


@dataclass
class Person:
    key: str
    name: str
    uid: str
    language: str = "ja"
    following: bool = False


@dataclass
class GroupChat:
    key: str
    name: str
    gid: str
    members: list[str] = field(default_factory=list)
    bot_in: bool = False


@dataclass
class Ring:
    """A call to a landline, as its handset shows it: what the bot's voice says, and what the
    person did (pressed a key, or let it ring until the network gave up)."""

    sid: str
    number: str  # as people write it: 03-1234-5678
    at: str
    spoken: list[str]
    heard: list[str] = field(default_factory=list)  # what the voice said after a key
    ended: str = ""  # "", or how it ended (completed, no-answer)
    rang_at: datetime | None = None  # on the demo's clock
    timeout: int = 60  # seconds it rings before Twilio calls it no-answer (the call's Timeout)
    answered: bool = False

    def shown(self) -> dict[str, Any]:
        return {
            "sid": self.sid,
            "number": self.number,
            "at": self.at,
            "spoken": self.spoken,
            "heard": self.heard,
            "ended": self.ended,
            "timeout": self.timeout,
        }


def _seconds(timeout: str | None) -> int:
    """A call's Timeout as Twilio reads it: 60 when not given, at most 600."""
    try:
        return min(600, max(1, int(timeout or 60)))
    except ValueError:
        return 60


class _BotDoor:
    """The bot's URL, as the stand-in Twilio posts to it by path."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self._session, self._base = session, base

    def post(self, path: str, *, data: Any, headers: dict[str, str]) -> Any:
        return self._session.post(self._base + path, data=data, headers=headers)


@dataclass
class Bubble:
    """One message in a chat pane, in the shapes LINE shows."""

    sender: str  # "bot", or the key of the person who wrote it
    at: str
    text: str = ""
    kind: str = "text"  # text, card, image
    buttons: list[dict[str, str]] = field(default_factory=list)
    quick: list[dict[str, str]] = field(default_factory=list)
    image: str = ""
    flex: dict[str, Any] | None = None  # the Flex message's boxes, as the page draws them


def bubble_from(message: dict[str, Any], at: str) -> Bubble:
    """A LINE message object as the chat pane shows it."""
    quick = [_action(item["action"]) for item in message.get("quickReply", {}).get("items", [])]
    if message.get("type") == "image":
        return Bubble("bot", at, kind="image", image=message["originalContentUrl"], quick=quick)
    if message.get("type") == "flex":
        texts: list[str] = []
        actions: list[dict[str, Any]] = []
        drawn = _drawn(message.get("contents"), texts, actions)
        return Bubble(
            "bot",
            at,
            text="\n".join(texts),
            kind="card",
            buttons=[_action(a) for a in actions],
            quick=quick,
            flex=drawn,
        )
    return Bubble("bot", at, text=str(message.get("text", "")), quick=quick)


def _action(action: dict[str, Any]) -> dict[str, str]:
    found = {"label": str(action.get("label", "")), "type": str(action.get("type", ""))}
    if action.get("type") == "postback":
        found["data"] = str(action.get("data", ""))
        found["shown"] = str(action.get("displayText", action.get("label", "")))
    elif action.get("type") == "uri":
        found["uri"] = str(action.get("uri", ""))
    return found


# What the page needs to draw a Flex message as LINE does: each kind of component with the
# properties that change how it looks. Anything else is left out (the schema check has already
# said whether LINE would take it).
_DRAWN = {
    "bubble": ("size", "direction", "styles"),
    "carousel": (),
    "box": (
        "layout", "spacing", "margin", "flex", "backgroundColor", "borderColor", "borderWidth",
        "cornerRadius", "paddingAll", "paddingTop", "paddingBottom", "paddingStart",
        "paddingEnd", "justifyContent", "alignItems", "width", "height",
    ),
    "text": (
        "text", "size", "weight", "color", "wrap", "align", "margin", "flex", "style",
        "decoration", "maxLines",
    ),
    "span": ("text", "size", "weight", "color", "style", "decoration"),
    "button": ("style", "color", "height", "margin", "flex", "gravity"),
    "separator": ("margin", "color"),
    "filler": ("flex",),
    "spacer": ("size",),
    "image": ("url", "size", "aspectRatio", "aspectMode", "margin", "flex", "align"),
    "icon": ("url", "size", "margin"),
}  # fmt: skip
_BLOCKS = ("header", "hero", "body", "footer")


def _drawn(node: Any, texts: list[str], actions: list[dict[str, Any]]) -> dict[str, Any] | None:
    """A Flex component as the page draws it, collecting its words (the chat's text, which
    tests and the tour read) and its actions on the way: a component with an action carries
    `act`, its index in the bubble's buttons."""
    if not isinstance(node, dict) or node.get("type") not in _DRAWN:
        return None
    kind = node["type"]
    drawn: dict[str, Any] = {"type": kind}
    drawn.update({key: node[key] for key in _DRAWN[kind] if key in node})
    if kind == "text" and node.get("text"):
        texts.append(str(node["text"]))
    elif kind == "text" and isinstance(node.get("contents"), list):
        texts.append("".join(str(span.get("text", "")) for span in node["contents"]))
    if isinstance(node.get("action"), dict):
        drawn["act"] = len(actions)
        actions.append(node["action"])
    if kind == "bubble":
        for block in _BLOCKS:
            part = _drawn(node.get(block), texts, actions)
            if part is not None:
                drawn[block] = part
    elif isinstance(node.get("contents"), list):
        parts = [_drawn(child, texts, actions) for child in node["contents"]]
        drawn["contents"] = [part for part in parts if part is not None]
    return drawn


class Simulator:
    def __init__(
        self,
        platform: LinePlatform,
        clock: FakeClock,
        bot_url: str,
        channel_secret: str,
        login_channel_id: str,
        sweep: Callable[[], Awaitable[None]],
        next_due: Callable[[], Awaitable[datetime | None]],
        timezone: Any,
        settle: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.platform = platform
        self.clock = clock
        self.bot_url = bot_url.rstrip("/")
        self._secret = channel_secret
        self._login_channel = login_channel_id
        self._sweep = sweep
        self._next_due = next_due
        self._tz = timezone
        self._settle = settle
        self.people: dict[str, Person] = {}
        self.groups: dict[str, GroupChat] = {}
        self.logs: dict[str, list[Bubble]] = {}
        self._reply_chats: dict[str, str] = {}
        self.switched_menus: dict[str, str] = {}  # uid -> the menu a tab switched to
        self._session: aiohttp.ClientSession | None = None
        platform.listeners.append(self._delivered)
        self.telephone: TwilioStandIn | None = None
        self.rings: list[Ring] = []
        # How long an unanswered landline rings, in real seconds; None: the call's own Timeout,
        # as Twilio waits (a test makes it short).
        self.ring_seconds: float | None = None
        self._ring_timers: dict[str, asyncio.TimerHandle] = {}
        self._ringing_out: set[asyncio.Task[None]] = set()
        self.devices: dict[str, str] = {}  # person key -> the path their device pings
        # The tour's lines for the audience: what is happening and why, one per step.
        self.narration: list[str] = []
        # The console's door and the demo's account, shown on the page (the demo sets it).
        self.console: Callable[[], dict[str, str]] | None = None

    def attach_telephone(self, telephone: TwilioStandIn) -> None:
        """Landlines: the calls the bot places through the stand-in Twilio ring here."""
        self.telephone = telephone
        telephone.listeners.append(self._rang)

    def _rang(self, call: PlacedCall) -> None:
        timeout = _seconds(call.form.get("Timeout"))
        ring = Ring(
            call.sid,
            as_written(call.to),
            self._stamp(),
            call.spoken(),
            rang_at=self.clock.now(),
            timeout=timeout,
        )
        self.rings.append(ring)
        # Nobody picks up: after its Timeout the network gives up, and Twilio reports
        # no-answer to the call's status callback, as it would for a real phone left ringing.
        wait = timeout if self.ring_seconds is None else self.ring_seconds
        handle = asyncio.get_running_loop().call_later(wait, self._rings_out, call.sid)
        self._ring_timers[call.sid] = handle

    def _rings_out(self, sid: str) -> None:
        self._ring_timers.pop(sid, None)
        task = asyncio.get_running_loop().create_task(self.hang_up(sid, "no-answer"))
        self._ringing_out.add(task)
        task.add_done_callback(self._ringing_out.discard)

    def _stop_timer(self, sid: str) -> None:
        handle = self._ring_timers.pop(sid, None)
        if handle is not None:
            handle.cancel()

    async def _end_rings_passed(self) -> None:
        """The demo's clock moved on: a call still ringing past its Timeout has ended by now
        (no-answer, or completed if she had picked up), and the bot hears so before the
        sweep acts on the time that passed."""
        now = self.clock.now()
        for ring in list(self.rings):
            if ring.ended or ring.rang_at is None:
                continue
            if ring.rang_at + timedelta(seconds=ring.timeout) <= now:
                await self.hang_up(ring.sid, "completed" if ring.answered else "no-answer")

    def narrate(self, line: str) -> None:
        self.narration.append(line)

    def _call(self, sid: str) -> tuple[Ring, PlacedCall]:
        assert self.telephone is not None
        ring = next(r for r in self.rings if r.sid == sid)
        return ring, next(c for c in self.telephone.calls if c.sid == sid)

    async def press_key(self, sid: str, digits: str) -> None:
        """The person picks up and presses a key; the voice answers, and she hangs up."""
        ring, call = self._call(sid)
        if ring.ended:
            return
        self._stop_timer(sid)
        ring.answered = True
        if not call.status_callback:
            # A call that only speaks (a number's verification code): no key goes anywhere.
            ring.ended = "completed"
            return
        assert self.telephone is not None and self._session is not None
        door = _BotDoor(self._session, self.bot_url)
        async with await self.telephone.press(door, call, digits) as response:
            answer = await response.text()
        ring.heard = [say.text or "" for say in ElementTree.fromstring(answer).iter("Say")]
        if response.status == 200 and "<Gather" not in answer:
            await self.hang_up(sid, "completed")

    async def hang_up(self, sid: str, status: str = "no-answer") -> None:
        """The call ends: answered and hung up, or rung out with nobody there."""
        ring, call = self._call(sid)
        if ring.ended:
            return
        self._stop_timer(sid)
        ring.ended = status
        if not call.status_callback:
            return  # a call that only speaks asks for no report of its end
        assert self.telephone is not None and self._session is not None
        door = _BotDoor(self._session, self.bot_url)
        async with await self.telephone.end(door, call, status):
            pass
        await self.settle()

    async def device(self, key: str) -> int:
        """The person's door sensor: linked on its first use (through My page, as she would
        with her own token), then each press is a movement. -> the status its ping got."""
        assert self._session is not None
        if key not in self.devices:
            person = self.people[key]
            token = self.platform.issue_id_token(
                person.uid, person.name, self._login_channel, TOKEN_LIFETIME
            )
            async with self._session.post(
                f"{self.bot_url}/liff/api/me/devices",
                json={"label": DEVICE_LABEL, "counts_as_ok": True},
                headers={"Authorization": f"Bearer {token}"},
            ) as response:
                if response.status != 200:
                    return response.status
                self.devices[key] = urlsplit((await response.json())["url"]).path
        async with self._session.post(self.bot_url + self.devices[key]) as response:
            status = response.status
        await self.settle()
        return status

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()

    async def close(self) -> None:
        for sid in list(self._ring_timers):
            self._stop_timer(sid)
        for task in list(self._ringing_out):
            task.cancel()
        if self._session is not None:
            await self._session.close()

    # --- people and groups --------------------------------------------------------------
    def add_person(self, name: str, language: str = "ja") -> Person:
        key = f"p{len(self.people) + 1}"
        person = Person(
            key, name.strip()[:20] or key, webhooks.user_id(f"sim-{key}-{name}"), language
        )
        self.people[key] = person
        self.platform.add_profile(person.uid, person.name, language)
        self.logs[person.uid] = []
        return person

    def add_group(self, name: str, member_keys: list[str]) -> GroupChat:
        key = f"g{len(self.groups) + 1}"
        group = GroupChat(key, name.strip()[:30] or key, webhooks.group_id(f"sim-{key}-{name}"))
        self.groups[key] = group
        self.platform.group_names[group.gid] = group.name
        self.logs[group.gid] = []
        for member in member_keys:
            self._seat(group, member)
        return group

    def _seat(self, group: GroupChat, person_key: str) -> None:
        person = self.people[person_key]
        if person_key not in group.members:
            group.members.append(person_key)
        self.platform.chat_members[(group.gid, person.uid)] = person.name
        self.platform.chat_member_counts[group.gid] = len(group.members)

    # --- what a person does ---------------------------------------------------------------
    async def follow(self, key: str) -> None:
        person = self.people[key]
        unblocked = any(b.sender == "bot" for b in self.logs[person.uid])
        person.following = True
        await self._post(person.uid, webhooks.follow(person.uid, self.clock.now(), unblocked))

    async def block(self, key: str) -> None:
        person = self.people[key]
        person.following = False
        await self._post(person.uid, webhooks.unfollow(person.uid, self.clock.now()))

    async def say(self, key: str, text: str, group_key: str | None = None) -> None:
        person, chat, source = self._where(key, group_key)
        self._log(chat, Bubble(key, self._stamp(), text=text[:5000]))
        await self._post(chat, webhooks.text(person.uid, text[:5000], self.clock.now(), source))

    async def tap(self, key: str, data: str, shown: str, group_key: str | None = None) -> None:
        person, chat, source = self._where(key, group_key)
        if shown:
            self._log(chat, Bubble(key, self._stamp(), text=shown))
        await self._post(chat, webhooks.postback(person.uid, data, self.clock.now(), source))

    async def switch_menu(self, key: str, alias: str, data: str) -> None:
        """A richmenuswitch tile: the phone shows the alias's menu, and LINE sends the bot a
        postback saying so (its data, and the alias switched to)."""
        person = self.people[key]
        target = self.platform.rich_menu_aliases.get(alias)
        status = "SUCCESS" if target else "RICHMENU_ALIAS_ID_NOTFOUND"
        if target:
            self.switched_menus[person.uid] = target
        event = webhooks.postback(person.uid, data, self.clock.now())
        event["postback"]["params"] = {"newRichMenuAliasId": alias, "status": status}
        await self._post(person.uid, event)

    async def scan(self, image_url: str) -> str | None:
        """Read a QR code image as a phone camera would; returns what it says."""
        assert self._session is not None
        async with self._session.get(image_url) as response:
            if response.status != 200:
                return None
            return read_qr(await response.read())

    @staticmethod
    def opened_link(link: str) -> str | None:
        """The text LINE types into the chat when an oaMessage link is opened."""
        parts = urlsplit(link)
        if parts.netloc == "line.me" and parts.path.startswith("/R/oaMessage/"):
            return unquote(parts.query)
        return None

    def my_page(self, key: str, path: str = "/liff/") -> str:
        """My page as this person, with a token the stand-in platform will vouch for."""
        person = self.people[key]
        token = self.platform.issue_id_token(
            person.uid, person.name, self._login_channel, TOKEN_LIFETIME
        )
        return f"{self.bot_url}{path}#sim_token={token}"

    def liff_path(self, uri: str) -> str | None:
        """https://liff.line.me/{LIFF id}/teams -> /liff/teams on the bot."""
        match = re.match(r"^https://liff\.line\.me/[^/]+(/.*)?$", uri)
        if not match:
            return None
        return "/liff" + (match.group(1) or "/")

    async def bot_joins(self, group_key: str) -> None:
        group = self.groups[group_key]
        group.bot_in = True
        await self._post(
            group.gid, webhooks.join(webhooks.in_group(group.gid, None), self.clock.now())
        )

    async def bot_leaves(self, group_key: str) -> None:
        group = self.groups[group_key]
        group.bot_in = False
        await self._post(
            group.gid, webhooks.leave(webhooks.in_group(group.gid, None), self.clock.now())
        )

    async def member_joins(self, group_key: str, person_key: str) -> None:
        group = self.groups[group_key]
        self._seat(group, person_key)
        if group.bot_in:
            uid = self.people[person_key].uid
            await self._post(
                group.gid,
                webhooks.member_joined(
                    webhooks.in_group(group.gid, None), [uid], self.clock.now()
                ),
            )

    async def settle(self) -> None:
        """Let the bot finish what was started outside the chats (the console's forms)."""
        if self._settle is not None:
            await self._settle()

    # --- time ---------------------------------------------------------------------------
    async def advance(self, delta: timedelta) -> None:
        self.clock.advance(delta)
        await self._end_rings_passed()
        await self._sweep()

    async def advance_to_hour(self, hour: int) -> None:
        """To the next time the demo's local clock shows `hour`:00."""
        now = self.clock.now().astimezone(self._tz)
        then = now.replace(hour=hour, minute=0, second=0, microsecond=0)
        if then <= now:
            then += timedelta(days=1)
        await self.advance(then - now)

    async def advance_to_next_due(self) -> datetime | None:
        due = await self._next_due()
        if due is not None and due > self.clock.now():
            self.clock.set(due)
        await self._end_rings_passed()
        await self._sweep()
        return due

    # --- plumbing -----------------------------------------------------------------------
    def _where(self, key: str, group_key: str | None) -> tuple[Person, str, dict[str, Any]]:
        person = self.people[key]
        if group_key is None:
            return person, person.uid, webhooks.person(person.uid)
        group = self.groups[group_key]
        return person, group.gid, webhooks.in_group(group.gid, person.uid)

    async def _post(self, chat: str, event: dict[str, Any]) -> None:
        assert self._session is not None
        if "replyToken" in event:
            self._reply_chats[event["replyToken"]] = chat
        payload = webhooks.body(event, validate=False)
        async with self._session.post(
            f"{self.bot_url}/callback",
            data=payload,
            headers={
                "X-Line-Signature": webhooks.sign(payload, self._secret),
                "Content-Type": "application/json",
            },
        ) as response:
            if response.status != 200:
                log.warning("the bot answered %s to a %s", response.status, event["type"])
        if self._settle is not None:
            # Let the bot finish answering, so each pane shows the reply before the next step.
            await self._settle()

    def _delivered(self, call: Call) -> None:
        body = call.body or {}
        if call.path.endswith("/reply"):
            chats = [self._reply_chats.pop(body.get("replyToken", ""), "")]
        elif call.path.endswith("/broadcast"):
            chats = [p.uid for p in self.people.values() if p.following]
        else:
            to = body.get("to")
            chats = [str(chat) for chat in to] if isinstance(to, list) else [str(to)]
        stamp = self._stamp()
        for chat in chats:
            if chat in self.logs:
                for message in body.get("messages", []):
                    self._log(chat, bubble_from(message, stamp))

    def _log(self, chat: str, bubble: Bubble) -> None:
        self.logs.setdefault(chat, []).append(bubble)

    def _stamp(self) -> str:
        local = self.clock.now().astimezone(self._tz)
        return f"{local.month}/{local.day} {local.hour}:{local.minute:02d}"

    def rich_menu_view(self, uid: str) -> dict[str, Any] | None:
        """The tiles a phone shows under its chat: the image, and where each tap lands (the
        menu a richmenuswitch tab showed, else the linked one, else the default)."""
        menu_id = self.switched_menus.get(uid) or self.platform.linked_rich_menus.get(
            uid, self.platform.default_rich_menu
        )
        menu = self.platform.rich_menus.get(menu_id) if menu_id else None
        if menu is None or menu_id not in self.platform.rich_menu_images:
            return None
        width, height = menu["size"]["width"], menu["size"]["height"]
        return {
            "image": f"/api/richmenu/{menu_id}.png",
            # Its size, so the page keeps its room before the picture loads (the chat above
            # does not shrink under what it shows).
            "width": width,
            "height": menu["size"]["height"],
            "bar": menu.get("chatBarText", ""),
            "areas": [
                {
                    "left": 100 * area["bounds"]["x"] / width,
                    "width": 100 * area["bounds"]["width"] / width,
                    # Two rows (the tab's large menu): each tile's row, as a share of the height.
                    "top": 100 * area["bounds"]["y"] / height,
                    "height": 100 * area["bounds"]["height"] / height,
                    "action": {
                        "type": area["action"]["type"],
                        "label": area["action"].get("label", ""),
                        "data": area["action"].get("data", ""),
                        "shown": area["action"].get("displayText", ""),
                        "uri": area["action"].get("uri", ""),
                        "alias": area["action"].get("richMenuAliasId", ""),
                        "text": area["action"].get("text", ""),
                    },
                }
                for area in menu["areas"]
            ],
        }

    def state(self) -> dict[str, Any]:
        local = self.clock.now().astimezone(self._tz)
        return {
            "now": local.strftime("%Y-%m-%d %H:%M"),
            "people": [
                {
                    "key": p.key,
                    "name": p.name,
                    "following": p.following,
                    "chat": [vars(b) for b in self.logs[p.uid]],
                    "rich_menu": self.rich_menu_view(p.uid) if p.following else None,
                }
                for p in self.people.values()
            ],
            "landline": [ring.shown() for ring in self.rings],
            "narration": self.narration,
            "console": self.console() if self.console is not None else None,
            "devices": sorted(self.devices),
            "groups": [
                {
                    "key": g.key,
                    "name": g.name,
                    "bot_in": g.bot_in,
                    "members": g.members,
                    "chat": [vars(b) for b in self.logs[g.gid]],
                }
                for g in self.groups.values()
            ],
        }
