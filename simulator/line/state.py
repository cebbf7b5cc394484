"""The stand-in LINE's state: what it has recorded, what tests set up on it and read from it,
and how each call is recorded, checked against LINE's rules and answered."""

from __future__ import annotations

import json
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from simulator.line.messages import message_text
from simulator.line.schema import (
    MESSAGE_PATHS,
    RETRY_KEY_PATHS,
    UUID_RE,
    OpenApiRequest,
    deep_errors,
    limits,
    messaging_api,
)


@dataclass
class Call:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    status: int = 0
    at: float = field(default_factory=time.monotonic)  # when the platform got it

    @property
    def retry_key(self) -> str | None:
        return self.headers.get("X-Line-Retry-Key")

    @property
    def recipients(self) -> list[str]:
        """Whom a push or multicast goes to (a push names one)."""
        to = self.body["to"]
        return to if isinstance(to, list) else [to]


@dataclass
class Failure:
    path: str
    status: int
    body: dict[str, Any]
    accept: bool  # LINE took the request but the answer went wrong
    raw: bytes | None = None  # an answer that is not the JSON asked for, sent as it is


@dataclass
class PlatformState:
    """What the stand-in knows and has been told: every call, the accepted retry keys and
    reply tokens, profiles, tokens, rich menus, the webhook settings, and the failures a test
    asked for. Each area of LINE's API (simulator/line/) answers from it."""

    bot_basic_id: str = "@mimamori-test"
    calls: list[Call] = field(default_factory=list)
    schema_errors: list[str] = field(default_factory=list)
    profiles: dict[str, dict[str, str]] = field(default_factory=dict)
    group_names: dict[str, str] = field(default_factory=dict)
    # (group or room id, user id) -> display name, as the member profile APIs answer
    chat_members: dict[tuple[str, str], str] = field(default_factory=dict)
    accepted_keys: set[str] = field(default_factory=set)
    used_reply_tokens: set[str] = field(default_factory=set)
    failures: deque[Failure] = field(default_factory=deque)
    url: str = ""
    # LINE Login: ID tokens the fake knows, and the clock their expiry is judged by.
    id_tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    # Answer 200 whatever the audience, so the server's own audience check is what refuses.
    lenient_audience: bool = False
    # LINE Login's access tokens (token -> user id), as LIFF's getAccessToken gives them, and
    # the users whose authorization of the app was revoked (POST /user/v1/deauthorize).
    access_tokens: dict[str, str] = field(default_factory=dict)
    login_channel_tokens: set[str] = field(default_factory=set)
    deauthorized: list[str] = field(default_factory=list)
    # Told of every message the platform accepted for delivery (the simulator's chat panes).
    listeners: list[Callable[[Call], None]] = field(default_factory=list)
    quota: dict[str, Any] = field(default_factory=lambda: {"type": "none"})
    quota_used: int = 0
    chat_member_counts: dict[str, int] = field(default_factory=dict)
    # Seconds LINE takes to answer a push or multicast (a slow day, or a crash test's window).
    send_delay: float = 0.0
    # The channel's webhook settings, as the LINE Developers console holds them.
    webhook_endpoint: str = ""
    webhook_active: bool = False
    # What the webhook test answers: None means "try it" (POST to the endpoint for real).
    webhook_test_status: int | None = None
    channel_secret: str = ""  # signs the webhook test, as LINE does
    # Rich menus: id -> the menu object and its image; who has which linked; the default.
    rich_menus: dict[str, dict[str, Any]] = field(default_factory=dict)
    rich_menu_images: dict[str, bytes] = field(default_factory=dict)
    linked_rich_menus: dict[str, str] = field(default_factory=dict)
    default_rich_menu: str | None = None
    rich_menu_aliases: dict[str, str] = field(default_factory=dict)  # alias id -> menu id

    def issue_id_token(
        self, user_id: str, name: str, channel_id: str, lifetime: timedelta = timedelta(hours=1)
    ) -> str:
        token = "idtoken-" + uuid.uuid4().hex
        issued = self.now()
        self.id_tokens[token] = {
            "iss": "https://access.line.me",
            "sub": user_id,
            "aud": channel_id,
            "name": name,
            "iat": int(issued.timestamp()),
            "exp": int((issued + lifetime).timestamp()),
        }
        return token

    def issue_access_token(self, user_id: str) -> str:
        """A user's LINE Login access token (what LIFF's getAccessToken returns)."""
        token = "access-" + uuid.uuid4().hex
        self.access_tokens[token] = user_id
        return token

    # --- what tests set up -------------------------------------------------------------
    def add_profile(self, user_id: str, name: str, language: str = "ja") -> None:
        self.profiles[user_id] = {"userId": user_id, "displayName": name, "language": language}

    def fail_next(
        self,
        path: str,
        status: int,
        times: int = 1,
        *,
        body: dict[str, Any] | None = None,
        accept: bool = False,
        raw: bytes | None = None,
    ) -> None:
        """The next `times` calls to `path` are answered `status` with `body` (or with `raw`
        bytes that claim to be JSON: an answer that does not parse, as a proxy's error page)."""
        for _ in range(times):
            self.failures.append(
                Failure(path, status, body or {"message": "fake failure"}, accept, raw)
            )

    def add_city_menu(
        self, alias: str, menu: dict[str, Any] | None = None, image: bytes = b"city"
    ) -> str:
        """The city's own menu on a shared account, made by its vendor: the default, with an
        alias. -> its id."""
        menu_id = f"richmenu-city-{uuid.uuid4().hex}"
        self.rich_menus[menu_id] = menu or {"name": "city", "areas": []}
        self.rich_menu_images[menu_id] = image
        self.rich_menu_aliases[alias] = menu_id
        self.default_rich_menu = menu_id
        return menu_id

    # --- what tests read -----------------------------------------------------------------
    def delivered(self, path: str) -> list[Call]:
        """Accepted calls to `path` (200 only: a 409 repeats one already counted)."""
        return [c for c in self.calls if c.path == path and c.status == 200]

    @property
    def pushes(self) -> list[Call]:
        return self.delivered("/v2/bot/message/push")

    @property
    def multicasts(self) -> list[Call]:
        return self.delivered("/v2/bot/message/multicast")

    @property
    def broadcasts(self) -> list[Call]:
        return self.delivered("/v2/bot/message/broadcast")

    @property
    def replies(self) -> list[Call]:
        return self.delivered("/v2/bot/message/reply")

    def messages_to(self, user_id: str) -> list[dict[str, Any]]:
        """Every message LINE accepted for delivery to one person, by push or multicast."""
        found = []
        for call in self.pushes + self.multicasts:
            if user_id in call.recipients:
                found.extend(call.body["messages"])
        return found

    def texts_to(self, user_id: str) -> list[str]:
        return [message_text(m) for m in self.messages_to(user_id)]

    def reply_texts(self) -> list[str]:
        return [message_text(m) for call in self.replies for m in call.body["messages"]]

    def to_chat(self, chat_id: str) -> list[str]:
        """What was pushed into a group or room, flattened to text."""
        return [
            message_text(m)
            for c in self.pushes
            if c.body["to"] == chat_id
            for m in c.body["messages"]
        ]

    def rich_menu_of(self, user_id: str) -> dict[str, Any] | None:
        """The rich menu a person sees: their own linked one, else the default."""
        menu_id = self.linked_rich_menus.get(user_id, self.default_rich_menu)
        return self.rich_menus.get(menu_id) if menu_id else None

    def clear(self) -> None:
        self.calls.clear()

    # --- what every area's handlers share: record the call, check it, answer -------------
    async def record(self, request: web.Request) -> tuple[Call, web.Response | None]:
        raw = await request.read()
        headers = dict(request.headers)
        body = json.loads(raw) if raw else None
        call = Call(request.method, request.path, headers, body)
        self.calls.append(call)
        errors = self._check(request, raw, body)
        if errors:
            self.schema_errors.extend(f"{request.method} {request.path}: {e}" for e in errors)
            return call, self.answer(call, 400, {"message": "; ".join(errors)})
        # A failure is asked for by path, or by route for paths with an id in them.
        failure = self.take_failure(request.path) or self.take_failure(
            request.match_info.route.resource.canonical
            if request.match_info.route.resource
            else ""
        )
        key = call.retry_key
        if key and key in self.accepted_keys:
            return call, self.answer(call, 409, {"message": "The retry key is already accepted"})
        if failure is not None:
            if failure.accept and key:
                self.accepted_keys.add(key)
            if failure.accept and request.path == "/v2/bot/message/reply":
                self.used_reply_tokens.add(body["replyToken"])
            if failure.raw is not None:
                call.status = failure.status
                return call, web.Response(
                    body=failure.raw, status=failure.status, content_type="application/json"
                )
            return call, self.answer(call, failure.status, failure.body)
        if key:
            self.accepted_keys.add(key)
        return call, None

    def answer(self, call: Call, status: int, body: dict[str, Any]) -> web.Response:
        call.status = status
        if status == 200 and call.path in MESSAGE_PATHS:
            for listener in self.listeners:
                listener(call)
        return web.json_response(body, status=status)

    def take_failure(self, path: str) -> Failure | None:
        for failure in list(self.failures):
            if failure.path == path:
                self.failures.remove(failure)
                return failure
        return None

    def _check(self, request: web.Request, raw: bytes, body: Any) -> list[str]:
        errors = []
        try:
            messaging_api().validate_request(
                OpenApiRequest(
                    request.method.lower(),
                    request.path,
                    dict(request.headers),
                    raw or None,
                    dict(request.match_info),
                )
            )
        except Exception as error:  # the validator's own error types vary by version
            detail = getattr(error, "__cause__", None) or error
            errors.append(f"{type(error).__name__}: {str(detail)[:500]}")
        key = request.headers.get("X-Line-Retry-Key")
        if key is not None and (request.path not in RETRY_KEY_PATHS or not UUID_RE.match(key)):
            errors.append(f"X-Line-Retry-Key not allowed here or not a UUID: {key}")
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            errors.append("no bearer token")
        if isinstance(body, dict):
            errors.extend(limits(body))
            for index, message in enumerate(body.get("messages", [])):
                errors.extend(deep_errors(message, "Message", f"messages[{index}]"))
        return errors
