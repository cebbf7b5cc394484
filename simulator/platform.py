"""A stand-in for the LINE platform on loopback: the Messaging API, LINE Login's token check
and the LIFF SDK. It records every call, checks each against LINE's own OpenAPI file, keeps
LINE's retry-key rules, and answers 429, 500 or 409 when told to.

The tests use it as their fake LINE; `mimamori demo` uses it as the LINE that the simulator's
people talk to. The bot talks to it over HTTP exactly as it talks to LINE.
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from aiohttp import ClientError, ClientSession, web
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_schema_validator import OAS30Validator
from werkzeug.datastructures import Headers, ImmutableMultiDict

OPENAPI_DIR = Path(__file__).resolve().parent / "line-openapi"
MESSAGING_API = OPENAPI_DIR / "messaging-api.yml"
MESSAGE_PATHS = (
    "/v2/bot/message/push",
    "/v2/bot/message/multicast",
    "/v2/bot/message/reply",
    "/v2/bot/message/broadcast",
)
RETRY_KEY_PATHS = (
    "/v2/bot/message/push",
    "/v2/bot/message/multicast",
    "/v2/bot/message/broadcast",
)
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


@functools.cache
def messaging_api() -> OpenAPI:
    return OpenAPI.from_file_path(str(MESSAGING_API))


@functools.cache
def _spec() -> dict[str, Any]:
    return yaml.safe_load(MESSAGING_API.read_text("utf-8"))


@functools.cache
def _validator(name: str) -> OAS30Validator:
    return OAS30Validator({**_spec(), "$ref": f"#/components/schemas/{name}"})


def _properties(name: str) -> dict[str, Any]:
    """A schema's properties, including those it takes through allOf."""
    schema = _spec()["components"]["schemas"][name]
    found: dict[str, Any] = {}
    for part in schema.get("allOf", []):
        if "$ref" in part:
            found.update(_properties(part["$ref"].rsplit("/", 1)[1]))
        found.update(part.get("properties", {}))
    found.update(schema.get("properties", {}))
    return found


def deep_errors(node: Any, name: str, path: str) -> list[str]:
    """Validate `node` as schema `name`, following discriminators all the way down.

    openapi-core stops at a discriminated base (a Flex bubble inside a message, a box inside a
    bubble, an action inside a button), so this walks each polymorphic level itself.
    """
    schema = _spec()["components"]["schemas"][name]
    discriminator = schema.get("discriminator")
    if discriminator and isinstance(node, dict):
        kind = node.get(discriminator["propertyName"])
        ref = discriminator.get("mapping", {}).get(kind)
        if ref is None:
            return [f"{path}: {kind!r} is not a known {name}"]
        name = ref.rsplit("/", 1)[1]
    errors = [f"{path}: {error.message[:200]}" for error in _validator(name).iter_errors(node)]
    if not isinstance(node, dict):
        return errors
    for key, sub in _properties(name).items():
        if key not in node:
            continue
        if "$ref" in sub:
            errors += deep_errors(node[key], sub["$ref"].rsplit("/", 1)[1], f"{path}.{key}")
        elif sub.get("type") == "array" and "$ref" in sub.get("items", {}):
            item_name = sub["items"]["$ref"].rsplit("/", 1)[1]
            for index, item in enumerate(node[key]):
                errors += deep_errors(item, item_name, f"{path}.{key}[{index}]")
    return errors


@dataclass
class _OpenApiRequest:
    """openapi-core's request protocol over what the fake received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    path_params: dict[str, str]
    content_type: str = "application/json"
    host_url: str = "https://api.line.me"

    @property
    def parameters(self) -> RequestParameters:
        return RequestParameters(
            query=ImmutableMultiDict(),
            header=Headers(self.headers),
            cookie=ImmutableMultiDict(),
            path=self.path_params,
        )

    @property
    def full_url_pattern(self) -> str:
        return self.host_url + self.path


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
class LinePlatform:
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

    def clear(self) -> None:
        self.calls.clear()

    # --- the server ----------------------------------------------------------------------
    def make_app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v2/bot/message/push", self._push)
        app.router.add_post("/v2/bot/message/multicast", self._multicast)
        app.router.add_post("/v2/bot/message/reply", self._reply)
        app.router.add_post("/v2/bot/message/broadcast", self._broadcast)
        app.router.add_get("/v2/bot/message/quota", self._quota)
        app.router.add_get("/v2/bot/message/quota/consumption", self._quota_consumption)
        app.router.add_get("/v2/bot/group/{groupId}/members/count", self._member_count)
        app.router.add_get("/v2/bot/room/{roomId}/members/count", self._member_count)
        app.router.add_get("/v2/bot/profile/{userId}", self._profile)
        app.router.add_get("/v2/bot/info", self._bot_info)
        app.router.add_get("/v2/bot/channel/webhook/endpoint", self._get_webhook)
        app.router.add_get("/v2/bot/richmenu/alias/list", self._alias_list)
        app.router.add_post("/v2/bot/richmenu/alias", self._create_alias)
        app.router.add_post("/v2/bot/richmenu/alias/{richMenuAliasId}", self._update_alias)
        app.router.add_delete("/v2/bot/richmenu/alias/{richMenuAliasId}", self._delete_alias)
        app.router.add_post("/v2/bot/richmenu", self._create_rich_menu)
        app.router.add_post("/v2/bot/richmenu/{richMenuId}/content", self._rich_menu_image)
        app.router.add_delete("/v2/bot/richmenu/{richMenuId}", self._delete_rich_menu)
        app.router.add_post("/v2/bot/user/all/richmenu/{richMenuId}", self._default_rich_menu)
        app.router.add_post("/v2/bot/richmenu/bulk/link", self._bulk_link)
        app.router.add_post("/v2/bot/channel/webhook/test", self._test_webhook)
        app.router.add_post("/oauth2/v2.1/verify", self._verify_id_token)
        app.router.add_post("/oauth2/v3/token", self._login_channel_token)
        app.router.add_post("/user/v1/deauthorize", self._deauthorize)
        app.router.add_get("/v2/profile", self._login_profile)
        app.router.add_get("/liff-sdk.js", self._liff_sdk)
        app.router.add_get("/v2/bot/group/{groupId}/summary", self._group_summary)
        app.router.add_get("/v2/bot/group/{groupId}/member/{userId}", self._group_member)
        app.router.add_get("/v2/bot/room/{roomId}/member/{userId}", self._room_member)
        return app

    async def _record(self, request: web.Request) -> tuple[Call, web.Response | None]:
        raw = await request.read()
        headers = dict(request.headers)
        body = json.loads(raw) if raw else None
        call = Call(request.method, request.path, headers, body)
        self.calls.append(call)
        errors = self._check(request, raw, body)
        if errors:
            self.schema_errors.extend(f"{request.method} {request.path}: {e}" for e in errors)
            return call, self._answer(call, 400, {"message": "; ".join(errors)})
        # A failure is asked for by path, or by route for paths with an id in them.
        failure = self._take_failure(request.path) or self._take_failure(
            request.match_info.route.resource.canonical
            if request.match_info.route.resource
            else ""
        )
        key = call.retry_key
        if key and key in self.accepted_keys:
            return call, self._answer(call, 409, {"message": "The retry key is already accepted"})
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
            return call, self._answer(call, failure.status, failure.body)
        if key:
            self.accepted_keys.add(key)
        return call, None

    def _answer(self, call: Call, status: int, body: dict[str, Any]) -> web.Response:
        call.status = status
        if status == 200 and call.path in MESSAGE_PATHS:
            for listener in self.listeners:
                listener(call)
        return web.json_response(body, status=status)

    def _take_failure(self, path: str) -> Failure | None:
        for failure in list(self.failures):
            if failure.path == path:
                self.failures.remove(failure)
                return failure
        return None

    def _check(self, request: web.Request, raw: bytes, body: Any) -> list[str]:
        errors = []
        try:
            messaging_api().validate_request(
                _OpenApiRequest(
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

    async def _push(self, request: web.Request) -> web.Response:
        call, refused = await self._record(request)
        if refused:
            return refused
        sent = [{"id": uuid.uuid4().hex[:18], "quoteToken": "q"} for _ in call.body["messages"]]
        return await self._slow(self._answer(call, 200, {"sentMessages": sent}))

    async def _multicast(self, request: web.Request) -> web.Response:
        call, refused = await self._record(request)
        if refused:
            return refused
        return await self._slow(self._answer(call, 200, {}))

    async def _slow(self, accepted: web.Response) -> web.Response:
        """LINE has taken the message (it is delivered); its answer comes `send_delay` later,
        and may never reach a sender that died meanwhile."""
        await asyncio.sleep(self.send_delay)
        return accepted

    async def _broadcast(self, request: web.Request) -> web.Response:
        call, refused = await self._record(request)
        return refused or self._answer(call, 200, {})

    async def _quota(self, request: web.Request) -> web.Response:
        call, refused = await self._record(request)
        return refused or self._answer(call, 200, self.quota)

    async def _quota_consumption(self, request: web.Request) -> web.Response:
        call, refused = await self._record(request)
        return refused or self._answer(call, 200, {"totalUsage": self.quota_used})

    async def _member_count(self, request: web.Request) -> web.Response:
        call, refused = await self._record(request)
        chat_id = request.match_info.get("groupId") or request.match_info["roomId"]
        return refused or self._answer(
            call, 200, {"count": self.chat_member_counts.get(chat_id, 0)}
        )

    async def _reply(self, request: web.Request) -> web.Response:
        call, refused = await self._record(request)
        if refused:
            return refused
        token = call.body["replyToken"]
        if token in self.used_reply_tokens:
            return self._answer(call, 400, {"message": "Invalid reply token"})
        self.used_reply_tokens.add(token)
        sent = [{"id": uuid.uuid4().hex[:18]} for _ in call.body["messages"]]
        return self._answer(call, 200, {"sentMessages": sent})

    async def _profile(self, request: web.Request) -> web.Response:
        call, refused = await self._record(request)
        if refused:
            return refused
        profile = self.profiles.get(request.match_info["userId"])
        if profile is None:
            return self._answer(call, 404, {"message": "Not found"})
        return self._answer(call, 200, profile)

    async def _group_summary(self, request: web.Request) -> web.Response:
        call, refused = await self._record(request)
        if refused:
            return refused
        group_id = request.match_info["groupId"]
        if group_id not in self.group_names:
            return self._answer(call, 404, {"message": "Not found"})
        return self._answer(
            call, 200, {"groupId": group_id, "groupName": self.group_names[group_id]}
        )

    async def _group_member(self, request: web.Request) -> web.Response:
        return await self._chat_member(request, request.match_info["groupId"])

    async def _room_member(self, request: web.Request) -> web.Response:
        return await self._chat_member(request, request.match_info["roomId"])

    async def _chat_member(self, request: web.Request, chat_id: str) -> web.Response:
        call, refused = await self._record(request)
        if refused:
            return refused
        user_id = request.match_info["userId"]
        name = self.chat_members.get((chat_id, user_id))
        if name is None:
            return self._answer(call, 404, {"message": "Not found"})
        return self._answer(call, 200, {"userId": user_id, "displayName": name})

    def to_chat(self, chat_id: str) -> list[str]:
        """What was pushed into a group or room, flattened to text."""
        return [
            message_text(m)
            for c in self.pushes
            if c.body["to"] == chat_id
            for m in c.body["messages"]
        ]

    async def _verify_id_token(self, request: web.Request) -> web.Response:
        """LINE Login's verify endpoint (not in the Messaging API's OpenAPI file)."""
        form = await request.post()
        call = Call(request.method, request.path, dict(request.headers), dict(form))
        self.calls.append(call)
        token, client_id = form.get("id_token"), form.get("client_id")
        if not token or not client_id:
            return self._answer(call, 400, {"error": "invalid_request"})
        claims = self.id_tokens.get(str(token))
        if claims is None:
            return self._answer(
                call, 400, {"error": "invalid_request", "error_description": "Invalid IdToken."}
            )
        if claims["aud"] != client_id and not self.lenient_audience:
            return self._answer(
                call,
                400,
                {"error": "invalid_request", "error_description": "Invalid IdToken Audience."},
            )
        if claims["exp"] <= self.now().timestamp():
            return self._answer(
                call, 400, {"error": "invalid_request", "error_description": "IdToken expired."}
            )
        return self._answer(call, 200, claims)

    async def _login_channel_token(self, request: web.Request) -> web.Response:
        """LINE Login's stateless channel access token (client credentials, 15 minutes)."""
        form = await request.post()
        shown = {k: ("***" if k == "client_secret" else str(v)) for k, v in form.items()}
        call = Call(request.method, request.path, dict(request.headers), shown)
        self.calls.append(call)
        failure = self._take_failure(request.path)
        if failure is not None:
            return self._answer(call, failure.status, failure.body)
        if form.get("grant_type") != "client_credentials" or not form.get("client_secret"):
            return self._answer(call, 400, {"error": "invalid_request"})
        token = "login-channel-" + uuid.uuid4().hex
        self.login_channel_tokens.add(token)
        return self._answer(
            call, 200, {"token_type": "Bearer", "access_token": token, "expires_in": 900}
        )

    async def _deauthorize(self, request: web.Request) -> web.Response:
        """LINE Login's 連動アプリの認可取り消し: 204 with no body, as LINE answers."""
        raw = await request.read()
        body = json.loads(raw) if raw else None
        call = Call(request.method, request.path, dict(request.headers), body)
        self.calls.append(call)
        failure = self._take_failure(request.path)
        if failure is not None:
            return self._answer(call, failure.status, failure.body)
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if bearer not in self.login_channel_tokens:
            return self._answer(call, 401, {"message": "Authentication failed"})
        user = self.access_tokens.pop(str((body or {}).get("userAccessToken")), None)
        if user is None:
            return self._answer(call, 400, {"message": "The access token is invalid"})
        self.deauthorized.append(user)
        call.status = 204
        return web.Response(status=204)

    async def _login_profile(self, request: web.Request) -> web.Response:
        """LINE Login's profile of an access token's user (GET /v2/profile)."""
        call = Call(request.method, request.path, dict(request.headers), None)
        self.calls.append(call)
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ")
        user = self.access_tokens.get(bearer)
        if user is None:
            return self._answer(call, 401, {"message": "invalid token"})
        return self._answer(call, 200, {"userId": user, "displayName": user})

    async def _liff_sdk(self, request: web.Request) -> web.Response:
        """A stand-in for LINE's LIFF SDK: logged in, with the token a test put on the page."""
        return web.Response(text=LIFF_STAND_IN, content_type="application/javascript")

    def rich_menu_of(self, user_id: str) -> dict[str, Any] | None:
        """The rich menu a person sees: their own linked one, else the default."""
        menu_id = self.linked_rich_menus.get(user_id, self.default_rich_menu)
        return self.rich_menus.get(menu_id) if menu_id else None

    async def _create_rich_menu(self, request: web.Request) -> web.Response:
        call, refused = await self._record(request)
        if refused:
            return refused
        menu_id = f"richmenu-{uuid.uuid4().hex}"
        self.rich_menus[menu_id] = call.body
        return self._answer(call, 200, {"richMenuId": menu_id})

    async def _rich_menu_image(self, request: web.Request) -> web.Response:
        # Binary, on LINE's data host: checked here as LINE checks it, not as JSON.
        raw = await request.read()
        call = Call(request.method, request.path, dict(request.headers), {"bytes": len(raw)})
        self.calls.append(call)
        menu = self.rich_menus.get(request.match_info["richMenuId"])
        problems = []
        if menu is None:
            return self._answer(call, 404, {"message": "Not found"})
        if request.content_type not in ("image/png", "image/jpeg"):
            problems.append(f"content type {request.content_type}")
        if len(raw) > 1024 * 1024:
            problems.append(f"{len(raw)} bytes, over 1 MB")
        size = menu["size"]
        if raw[:8] != b"\x89PNG\r\n\x1a\n" or (
            int.from_bytes(raw[16:20], "big"),
            int.from_bytes(raw[20:24], "big"),
        ) != (size["width"], size["height"]):
            problems.append("not a PNG of the menu's size")
        if request.match_info["richMenuId"] in self.rich_menu_images:
            problems.append("an image was uploaded already")
        if problems:
            self.schema_errors.extend(f"rich menu image: {p}" for p in problems)
            return self._answer(call, 400, {"message": "; ".join(problems)})
        self.rich_menu_images[request.match_info["richMenuId"]] = raw
        return self._answer(call, 200, {})

    async def _delete_rich_menu(self, request: web.Request) -> web.Response:
        call, refused = await self._record(request)
        if refused:
            return refused
        if self.rich_menus.pop(request.match_info["richMenuId"], None) is None:
            return self._answer(call, 404, {"message": "Not found"})
        return self._answer(call, 200, {})

    async def _default_rich_menu(self, request: web.Request) -> web.Response:
        call, refused = await self._record(request)
        if refused:
            return refused
        menu_id = request.match_info["richMenuId"]
        if menu_id not in self.rich_menu_images:
            # LINE refuses a menu without its image.
            return self._answer(call, 400, {"message": "must upload richmenu image"})
        self.default_rich_menu = menu_id
        return self._answer(call, 200, {})

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

    async def _alias_list(self, request: web.Request) -> web.Response:
        call, refused = await self._record(request)
        aliases = [
            {"richMenuAliasId": alias, "richMenuId": menu_id}
            for alias, menu_id in self.rich_menu_aliases.items()
        ]
        return refused or self._answer(call, 200, {"aliases": aliases})

    async def _create_alias(self, request: web.Request) -> web.Response:
        call, refused = await self._record(request)
        if refused:
            return refused
        assert call.body is not None
        alias, menu_id = call.body["richMenuAliasId"], call.body["richMenuId"]
        if alias in self.rich_menu_aliases:
            return self._answer(call, 400, {"message": "conflict richmenu alias id"})
        if menu_id not in self.rich_menu_images:
            return self._answer(call, 400, {"message": "richmenu not found or no image"})
        self.rich_menu_aliases[alias] = menu_id
        return self._answer(call, 200, {})

    async def _update_alias(self, request: web.Request) -> web.Response:
        call, refused = await self._record(request)
        if refused:
            return refused
        assert call.body is not None
        alias = request.match_info["richMenuAliasId"]
        if alias not in self.rich_menu_aliases:
            return self._answer(call, 404, {"message": "Not found"})
        if call.body["richMenuId"] not in self.rich_menu_images:
            return self._answer(call, 400, {"message": "richmenu not found or no image"})
        self.rich_menu_aliases[alias] = call.body["richMenuId"]
        return self._answer(call, 200, {})

    async def _delete_alias(self, request: web.Request) -> web.Response:
        call, refused = await self._record(request)
        if refused:
            return refused
        if self.rich_menu_aliases.pop(request.match_info["richMenuAliasId"], None) is None:
            return self._answer(call, 404, {"message": "Not found"})
        return self._answer(call, 200, {})

    async def _bulk_link(self, request: web.Request) -> web.Response:
        call, refused = await self._record(request)
        if refused:
            return refused
        assert call.body is not None
        menu_id = call.body["richMenuId"]
        if menu_id not in self.rich_menu_images:
            return self._answer(call, 400, {"message": "must upload richmenu image"})
        for user_id in call.body["userIds"]:
            self.linked_rich_menus[user_id] = menu_id
        return self._answer(call, 202, {})

    async def _get_webhook(self, request: web.Request) -> web.Response:
        call, refused = await self._record(request)
        body = {"endpoint": self.webhook_endpoint, "active": self.webhook_active}
        return refused or self._answer(call, 200, body)

    async def _test_webhook(self, request: web.Request) -> web.Response:
        call, refused = await self._record(request)
        if refused:
            return refused
        status = self.webhook_test_status
        if status is None:
            # LINE's test posts an empty, signed-looking event list to the endpoint.
            try:
                from simulator import webhooks  # it reads this module's OpenAPI files

                payload = json.dumps({"destination": "U" + "f" * 32, "events": []}).encode()
                signature = webhooks.sign(payload, self.channel_secret)
                async with (
                    ClientSession() as session,
                    session.post(
                        self.webhook_endpoint,
                        data=payload,
                        headers={
                            "X-Line-Signature": signature,
                            "Content-Type": "application/json",
                        },
                    ) as answer,
                ):
                    status = answer.status
            except (OSError, ClientError):
                status = 0
        body = {
            "success": status == 200,
            "timestamp": datetime.now(UTC).isoformat(),
            "statusCode": status,
            "reason": "OK" if status == 200 else "ERROR_STATUS_CODE",
            "detail": str(status),
        }
        return self._answer(call, 200, body)

    async def _bot_info(self, request: web.Request) -> web.Response:
        call, refused = await self._record(request)
        if refused:
            return refused
        return self._answer(
            call,
            200,
            {
                "userId": "U" + "f" * 32,
                "basicId": self.bot_basic_id,
                "displayName": "mimamori",
                "chatMode": "bot",
                "markAsReadMode": "auto",
            },
        )


LIFF_STAND_IN = """
(function () {
  // The simulator opens My page with #sim_token=...: keep it for this tab, out of the address.
  var match = /sim_token=([^&]+)/.exec(location.hash);
  if (match) {
    sessionStorage.setItem("mimamori-sim-token", decodeURIComponent(match[1]));
    history.replaceState(null, "", location.pathname + location.search);
  }
})();
window.liff = {
  init: function (config) {
    if (!config || !config.liffId) return Promise.reject(new Error("no liffId"));
    return Promise.resolve();
  },
  isLoggedIn: function () { return true; },
  login: function () {},
  isInClient: function () { return true; },
  getIDToken: function () {
    return window.__TEST_ID_TOKEN || sessionStorage.getItem("mimamori-sim-token") || null;
  },
  getAccessToken: function () { return window.__TEST_ACCESS_TOKEN || null; },
  closeWindow: function () {}
};
"""


def limits(body: dict[str, Any]) -> list[str]:
    """LINE's documented limits that the OpenAPI file does not carry."""
    errors = []
    to = body.get("to")
    if isinstance(to, list) and not 1 <= len(to) <= 500:
        errors.append(f"multicast to {len(to)} recipients")
    for message in body.get("messages", []):
        if message.get("type") == "flex" and len(message.get("altText", "")) > 1500:
            errors.append("altText over 1500")
        items = message.get("quickReply", {}).get("items", [])
        if len(items) > 13:
            errors.append(f"{len(items)} quick reply items")
        for item in items:
            errors.extend(_action_limits(item["action"], 20))
        for action in _flex_actions(message.get("contents")):
            errors.extend(_action_limits(action, 40))
        if message.get("type") == "text" and len(message.get("text", "")) > 5000:
            errors.append("text over 5000")
    return errors


def _action_limits(action: dict[str, Any], label_limit: int) -> list[str]:
    errors = []
    if len(action.get("label", "")) > label_limit:
        errors.append(f"label over {label_limit}: {action['label']}")
    if len(action.get("data", "")) > 300:
        errors.append("postback data over 300")
    if len(action.get("displayText", "")) > 300:
        errors.append("displayText over 300")
    return errors


def _flex_actions(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        found = [node["action"]] if isinstance(node.get("action"), dict) else []
        for value in node.values():
            found.extend(_flex_actions(value))
        return found
    if isinstance(node, list):
        return [action for item in node for action in _flex_actions(item)]
    return []


def message_text(message: dict[str, Any]) -> str:
    """What a person reads in a message, flattened (text, or a Flex bubble's texts)."""
    if message.get("type") == "text":
        return message["text"]
    if message.get("type") == "flex":
        return "\n".join(_flex_texts(message["contents"]))
    return f"[{message.get('type')}]"


def _flex_texts(node: Any) -> list[str]:
    if isinstance(node, dict):
        texts = [node["text"]] if node.get("type") == "text" else []
        for key, value in node.items():
            if key != "action":
                texts.extend(_flex_texts(value))
        return texts
    if isinstance(node, list):
        return [text for item in node for text in _flex_texts(item)]
    return []


def postbacks_in(message: dict[str, Any]) -> list[dict[str, Any]]:
    """Every postback action a message offers (buttons and quick replies), in order."""
    actions = [item["action"] for item in message.get("quickReply", {}).get("items", [])]
    return _flex_actions(message.get("contents")) + actions
