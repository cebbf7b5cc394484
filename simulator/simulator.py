"""People, phones and a clock for the local LINE simulator.

Each person acts through the same doors LINE uses: signed webhooks posted to the bot's
/callback, LIFF ID tokens checked by the stand-in platform. What the bot sends reaches the
people's chat panes through the platform, as LINE would deliver it.
"""

from __future__ import annotations

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
from simulator.telephone import PlacedCall, TwilioStandIn

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
    person did (pressed a key, or let it ring)."""

    sid: str
    number: str
    at: str
    spoken: list[str]
    heard: list[str] = field(default_factory=list)  # what the voice said after a key
    ended: str = ""  # "", or how it ended (completed, no-answer)


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


def bubble_from(message: dict[str, Any], at: str) -> Bubble:
    """A LINE message object as the chat pane shows it."""
    quick = [_action(item["action"]) for item in message.get("quickReply", {}).get("items", [])]
    if message.get("type") == "image":
        return Bubble("bot", at, kind="image", image=message["originalContentUrl"], quick=quick)
    if message.get("type") == "flex":
        texts, actions = _flex(message.get("contents"))
        return Bubble(
            "bot",
            at,
            text="\n".join(texts),
            kind="card",
            buttons=[_action(a) for a in actions],
            quick=quick,
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


def _flex(node: Any) -> tuple[list[str], list[dict[str, Any]]]:
    texts: list[str] = []
    actions: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if node.get("type") == "text":
            texts.append(str(node.get("text", "")))
        if isinstance(node.get("action"), dict):
            actions.append(node["action"])
        for key, value in node.items():
            if key != "action":
                more_texts, more_actions = _flex(value)
                texts += more_texts
                actions += more_actions
    elif isinstance(node, list):
        for item in node:
            more_texts, more_actions = _flex(item)
            texts += more_texts
            actions += more_actions
    return texts, actions


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
        self.devices: dict[str, str] = {}  # person key -> the path their device pings

    def attach_telephone(self, telephone: TwilioStandIn) -> None:
        """Landlines: the calls the bot places through the stand-in Twilio ring here."""
        self.telephone = telephone
        telephone.listeners.append(self._rang)

    def _rang(self, call: PlacedCall) -> None:
        self.rings.append(Ring(call.sid, call.to, self._stamp(), call.spoken()))

    def _call(self, sid: str) -> tuple[Ring, PlacedCall]:
        assert self.telephone is not None
        ring = next(r for r in self.rings if r.sid == sid)
        return ring, next(c for c in self.telephone.calls if c.sid == sid)

    async def press_key(self, sid: str, digits: str) -> None:
        """The person picks up and presses a key; the voice answers, and she hangs up."""
        ring, call = self._call(sid)
        if ring.ended:
            return
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
        await self._sweep()

    async def advance_to_next_due(self) -> datetime | None:
        due = await self._next_due()
        if due is not None and due > self.clock.now():
            self.clock.set(due)
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
            "landline": [vars(ring) for ring in self.rings],
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
