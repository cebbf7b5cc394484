"""The LINE Messaging API boundary: every call the bot makes to LINE goes through here."""

from __future__ import annotations

import logging
import time
import urllib.request
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import orjson
from linebot.v3.messaging import (
    ApiException,
    AsyncApiClient,
    AsyncMessagingApi,
    Configuration,
)

from ground.channels import Outcome, Quota, SendResult
from ground.line_platform import Profile
from ground.rate_limiter import RateLimiter
from ground.transactions import INSIDE_TRANSACTION, LineCallInTransaction, SlowCallInTransaction

log = logging.getLogger("mimamori.line")

REQUEST_TIMEOUT_SECONDS = 10
MULTICAST_LIMIT = 500  # recipients per multicast request
MULTICAST_PER_SECOND = 200
PUSH_PER_SECOND = 2000
# LINE allows 2,000 replies a second. It counts them as they arrive, bunched by the network
# (the limiter keeps this process's own bunching out of any one second), so they are paced a
# little below that (bench/taps.py counts the 429s LINE's limit would give); one that is
# refused anyway is tried again.
REPLY_PER_SECOND = 1900
# Connections kept open to LINE: its 2,000 requests a second, each answered within about 50 ms,
# keep 100 busy (the SDK's own default is 5 per CPU core: 10 on a 2-core machine, which caps
# replies at the 07:00 rush near 200 a second once LINE is 50 ms away).
CONNECTIONS = 100
RICH_MENU_LINK_LIMIT = 500  # users per bulk link request
# Linking is no hurry and LINE publishes no figure of its own for it: stay far below the rest.
RICH_MENU_LINKS_PER_SECOND = 10

_TRANSPORT_ERRORS = (TimeoutError, OSError, aiohttp.ClientError)
# An answer that did not parse as what was asked (a proxy's error page, a changed shape): the
# SDK's models raise pydantic's ValidationError (a ValueError), json's errors, or worse.
_UNPARSED = (ValueError, TypeError, KeyError, AttributeError)
# A look-up that only decorates (a profile, a group's name, the basic id, the quota) fails
# soft on either: the caller goes on without it.
_LOOKUP_ERRORS = (ApiException, *_TRANSPORT_ERRORS, *_UNPARSED)


class LineCallFailed(Exception):
    """A call LINE refused or could not be reached for (status 0: not reached)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status


class LineApi:
    def __init__(self, client: AsyncApiClient, share: int = 1, strict: bool = False) -> None:
        """`share`: how many instances send for this channel; each keeps to that share of
        LINE's limits, which are the channel's. `strict`: a call to LINE inside a unit of work
        fails (the tests) instead of being logged (`ground.transactions`)."""
        # The SDK's session trusts the environment, so aiohttp looks ~/.netrc up, in a thread,
        # before every request: at the 07:00 rush that cost a third of the server's time per
        # OK tap (bench/taps.py). Sessions of our own on the SDK's connection pool do not; a
        # proxy from the environment still applies (see `configuration`).
        rest = client.rest_client
        self._sdk_session = rest.pool_manager
        self._strict = strict
        # The SDK's typed calls (profiles, names, quota) are watched by a trace hook; the sends
        # (`_call`) look themselves: a trace on every reply cost a tenth of the reply's CPU.
        guard = aiohttp.TraceConfig()
        guard.on_request_start.append(self._outside_transactions)
        rest.pool_manager = aiohttp.ClientSession(
            connector=self._sdk_session.connector, connector_owner=False, trace_configs=[guard]
        )
        self._session = aiohttp.ClientSession(
            connector=self._sdk_session.connector,
            connector_owner=False,
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS),
            skip_auto_headers=("User-Agent",),
        )
        self._api = AsyncMessagingApi(client)
        self._multicast_rate = RateLimiter(MULTICAST_PER_SECOND / share)
        self._push_rate = RateLimiter(PUSH_PER_SECOND / share)
        self._reply_rate = RateLimiter(REPLY_PER_SECOND / share)
        self._bot_basic_id: str | None = None
        self._bot_user_id: str | None = None
        # Told of each look-up that failed soft, by name (the app counts them in /metrics).
        self.on_lookup_failed: Callable[[str], None] = lambda lookup: None
        self._basic_id_retry_at = 0.0
        self._link_rate = RateLimiter(RICH_MENU_LINKS_PER_SECOND / share)
        configuration = client.configuration
        self._host = configuration.host.rstrip("/")
        self._proxy = configuration.proxy
        self._headers = {
            "Authorization": f"Bearer {configuration.access_token}",
            "User-Agent": client.user_agent,
        }
        # LINE's own host sends images to api-data.line.me; a stand-in takes them itself.
        self._data_host = (
            "https://api-data.line.me" if self._host == "https://api.line.me" else self._host
        )

    @staticmethod
    def configuration(base_url: str, access_token: str) -> Configuration:
        configuration = Configuration(host=base_url.rstrip("/"), access_token=access_token)
        configuration.connection_pool_maxsize = CONNECTIONS
        # The environment's proxy for LINE's host (HTTPS_PROXY, NO_PROXY), given explicitly.
        address = urlsplit(base_url)
        if not urllib.request.proxy_bypass(address.hostname or ""):
            configuration.proxy = urllib.request.getproxies().get(address.scheme)
        return configuration

    @classmethod
    @asynccontextmanager
    async def opened(
        cls, base_url: str, access_token: str, share: int = 1, strict: bool = False
    ) -> AsyncIterator[LineApi]:
        """A client for the length of a block; made inside the running loop, as the SDK's
        aiohttp session must be."""
        async with AsyncApiClient(cls.configuration(base_url, access_token)) as client:
            line = cls(client, share, strict)
            try:
                yield line
            finally:
                await line.close()

    async def _outside_transactions(
        self, session: aiohttp.ClientSession, context: Any, params: aiohttp.TraceRequestStartParams
    ) -> None:
        self._look_outside_transactions(params.method, params.url.path)

    def _look_outside_transactions(self, method: str, path: str) -> None:
        if not INSIDE_TRANSACTION.get():
            return
        if self._strict:
            raise LineCallInTransaction(f"{method} {path} inside a transaction")
        log.warning("LINE called inside a transaction: %s %s", method, path)

    async def close(self) -> None:
        """Close the SDK's own session (it owns the connection pool)."""
        await self._session.close()
        await self._sdk_session.close()

    async def push(self, to: str, messages: list[dict[str, Any]], retry_key: str) -> SendResult:
        await self._push_rate.wait()
        body = {"to": to, "messages": messages}
        return await self._send(self._post("/v2/bot/message/push", body, retry_key))

    async def multicast(
        self, to: list[str], messages: list[dict[str, Any]], retry_key: str
    ) -> SendResult:
        if not 1 <= len(to) <= MULTICAST_LIMIT:
            raise ValueError(f"a multicast takes 1-{MULTICAST_LIMIT} recipients, got {len(to)}")
        await self._multicast_rate.wait()
        body = {"to": to, "messages": messages}
        return await self._send(self._post("/v2/bot/message/multicast", body, retry_key))

    async def broadcast(self, messages: list[dict[str, Any]], retry_key: str) -> SendResult:
        """To every friend of the account (notices to everyone). LINE allows 60 an hour."""
        body = {"messages": messages}
        return await self._send(self._post("/v2/bot/message/broadcast", body, retry_key))

    def _post(self, path: str, body: dict[str, Any], retry_key: str | None = None) -> Any:
        """A send, on the SDK's connection pool, with the JSON as it is. The SDK's request
        models validate and re-serialise every message and recipient, and its client sanitises
        the body again: at the 07:00 rush that was about half of the server's CPU per OK tap's
        reply, and a third of a 100,000-person wave's (bench/). LINE checks the request (so
        does the tests' stand-in, against LINE's OpenAPI file) and refuses a bad one with a
        400 that the outbox records."""
        return self._call("POST", path, body, retry_key=retry_key, answer=False)

    async def quota(self) -> Quota | None:
        """This month's message quota (None: no limit) and what has been used of it."""
        try:
            limit = await self._api.get_message_quota(_request_timeout=REQUEST_TIMEOUT_SECONDS)
            used = await self._api.get_message_quota_consumption(
                _request_timeout=REQUEST_TIMEOUT_SECONDS
            )
        except _LOOKUP_ERRORS as error:
            self._lookup_failed("quota", "the month's quota", error)
            return None
        limited = str(getattr(limit.type, "value", limit.type)) == "limited"
        return Quota(limit.value if limited else None, used.total_usage)

    async def chat_member_count(self, chat_type: str, chat_id: str) -> int | None:
        """How many people a push to this group or room reaches (and counts against quota)."""
        try:
            if chat_type == "room":
                answer = await self._api.get_room_member_count(
                    chat_id, _request_timeout=REQUEST_TIMEOUT_SECONDS
                )
            else:
                answer = await self._api.get_group_member_count(
                    chat_id, _request_timeout=REQUEST_TIMEOUT_SECONDS
                )
        except _LOOKUP_ERRORS as error:
            self._lookup_failed("member_count", f"member count of {chat_id}", error)
            return None
        return answer.count

    async def reply(self, reply_token: str, messages: list[dict[str, Any]]) -> SendResult:
        """A reply (free of quota; a token is good once, for about a minute)."""
        await self._reply_rate.wait()
        body = {"replyToken": reply_token, "messages": messages}
        return await self._send(self._post("/v2/bot/message/reply", body))

    async def profile(self, user_id: str) -> Profile | None:
        try:
            answer = await self._api.get_profile(user_id, _request_timeout=REQUEST_TIMEOUT_SECONDS)
        except _LOOKUP_ERRORS as error:
            self._lookup_failed("profile", f"profile of {user_id}", error)
            return None
        return Profile(answer.user_id, answer.display_name, answer.language)

    async def group_name(self, group_id: str) -> str:
        """The group's name from the group summary API ('' when it cannot be had)."""
        try:
            summary = await self._api.get_group_summary(
                group_id, _request_timeout=REQUEST_TIMEOUT_SECONDS
            )
        except _LOOKUP_ERRORS as error:
            self._lookup_failed("group_name", f"summary of group {group_id}", error)
            return ""
        return summary.group_name

    async def chat_member_name(self, chat_type: str, chat_id: str, user_id: str) -> str:
        """A group or room member's display name ('' when it cannot be had, e.g. they left)."""
        try:
            if chat_type == "room":
                profile = await self._api.get_room_member_profile(
                    chat_id, user_id, _request_timeout=REQUEST_TIMEOUT_SECONDS
                )
            else:
                profile = await self._api.get_group_member_profile(
                    chat_id, user_id, _request_timeout=REQUEST_TIMEOUT_SECONDS
                )
        except _LOOKUP_ERRORS as error:
            self._lookup_failed("member_name", f"profile of {user_id} in {chat_id}", error)
            return ""
        return profile.display_name

    async def bot_basic_id(self) -> str | None:
        """The account's basic id (@xxxx), for links that open the chat; cached once known.
        Asked outside any unit of work (before a batch, before My page's transaction); while
        LINE does not answer it is asked again at most once a minute."""
        if self._bot_basic_id is None and time.monotonic() >= self._basic_id_retry_at:
            try:
                info = await self._api.get_bot_info(_request_timeout=REQUEST_TIMEOUT_SECONDS)
                basic_id, user_id = info.basic_id, info.user_id
            except _LOOKUP_ERRORS as error:
                self._lookup_failed("bot_info", "bot info (the basic id)", error)
                self._basic_id_retry_at = time.monotonic() + 60
                return None
            self._bot_basic_id = basic_id
            self._bot_user_id = user_id
        return self._bot_basic_id

    async def bot_user_id(self) -> str | None:
        """The account's own user id: a webhook body's `destination`. Asked as the basic id is."""
        await self.bot_basic_id()
        return self._bot_user_id

    def _lookup_failed(self, lookup: str, what: str, error: BaseException) -> None:
        """A look-up that only decorates failed or did not parse: logged with what it was
        and why, counted, and the caller goes on without it."""
        unparsed = isinstance(error, _UNPARSED)
        log.warning(
            "%s not available (%s): %s; going on without it",
            what,
            "LINE's answer did not parse" if unparsed else "LINE refused it or was not reached",
            _describe(error),
        )
        self.on_lookup_failed(lookup)

    @property
    def known_basic_id(self) -> str | None:
        """The basic id if already known: read inside a unit of work, never asked there."""
        return self._bot_basic_id

    # --- rich menus (`mimamori richmenu`) ------------------------------------------------

    async def create_rich_menu(self, menu: dict[str, Any], image_png: bytes) -> str:
        """Create a rich menu and upload its image. -> its id; LineCallFailed otherwise."""
        answer = await self._checked(self._call("POST", "/v2/bot/richmenu", menu))
        menu_id = str(answer["richMenuId"])
        # The image goes to LINE's data host (api-data.line.me), as raw bytes.
        await self._checked(
            self._call(
                "POST",
                f"/v2/bot/richmenu/{menu_id}/content",
                image_png,
                host=self._data_host,
                content_type="image/png",
            )
        )
        return menu_id

    async def set_default_rich_menu(self, menu_id: str) -> None:
        await self._checked(self._call("POST", f"/v2/bot/user/all/richmenu/{menu_id}"))

    async def delete_rich_menu(self, menu_id: str) -> None:
        await self._checked(self._call("DELETE", f"/v2/bot/richmenu/{menu_id}"))

    async def rich_menu_aliases(self) -> dict[str, str]:
        """alias id: rich menu id, of every alias the account has (the city's included)."""
        answer = await self._checked(self._call("GET", "/v2/bot/richmenu/alias/list"))
        return {a["richMenuAliasId"]: a["richMenuId"] for a in answer.get("aliases", [])}

    async def set_rich_menu_alias(self, alias: str, menu_id: str, exists: bool) -> None:
        """Point `alias` at a menu: made, or moved when it `exists`."""
        if exists:
            body = {"richMenuId": menu_id}
            await self._checked(self._call("POST", f"/v2/bot/richmenu/alias/{alias}", body))
        else:
            body = {"richMenuAliasId": alias, "richMenuId": menu_id}
            await self._checked(self._call("POST", "/v2/bot/richmenu/alias", body))

    async def delete_rich_menu_alias(self, alias: str) -> None:
        await self._checked(self._call("DELETE", f"/v2/bot/richmenu/alias/{alias}"))

    async def link_rich_menu(self, menu_id: str, user_ids: list[str]) -> SendResult:
        """Link one menu to up to 500 people (LINE's bulk link)."""
        if not 1 <= len(user_ids) <= RICH_MENU_LINK_LIMIT:
            raise ValueError(f"a bulk link takes 1-{RICH_MENU_LINK_LIMIT} users")
        await self._link_rate.wait()
        body = {"richMenuId": menu_id, "userIds": user_ids}
        return await self._send(self._call("POST", "/v2/bot/richmenu/bulk/link", body))

    async def _call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        host: str | None = None,
        content_type: str = "application/json",
        retry_key: str | None = None,
        answer: bool = True,
    ) -> Any:
        """A call outside the SDK's typed API: the JSON answer (`answer`), or ApiException."""
        self._look_outside_transactions(method, path)
        headers = dict(self._headers)
        data: Any = None
        if isinstance(body, bytes):
            headers["Content-Type"] = content_type
            data = body
        elif body is not None:
            headers["Content-Type"] = "application/json"
            data = orjson.dumps(body)
        if retry_key is not None:
            headers["X-Line-Retry-Key"] = retry_key
        url = f"{host or self._host}{path}"
        async with self._session.request(
            method, url, data=data, headers=headers, proxy=self._proxy
        ) as response:
            text = await response.read()
            if response.status >= 300:
                failed = ApiException(status=response.status, reason=response.reason)
                failed.body = text.decode("utf-8", errors="replace")
                raise failed
            if not answer:
                return None
            return orjson.loads(text) if text.strip() else {}

    # --- the setup check (`mimamori check`): answers as they are, failures raised ----------

    async def bot_info(self) -> tuple[str, str]:
        """(display name, basic id); LineCallFailed if the token is not accepted."""
        info = await self._checked(
            self._api.get_bot_info(_request_timeout=REQUEST_TIMEOUT_SECONDS)
        )
        return info.display_name, info.basic_id

    async def webhook_endpoint(self) -> tuple[str, bool]:
        """(the webhook URL LINE has, whether LINE sends to it)."""
        info = await self._checked(
            self._api.get_webhook_endpoint(_request_timeout=REQUEST_TIMEOUT_SECONDS)
        )
        return info.endpoint, bool(info.active)

    async def test_webhook(self) -> tuple[bool, str]:
        """LINE's own test of the webhook: (it answered 200, what LINE said)."""
        answer = await self._checked(
            self._api.test_webhook_endpoint(_request_timeout=REQUEST_TIMEOUT_SECONDS)
        )
        said = f"{answer.status_code} {answer.reason}: {answer.detail}".strip()
        return bool(answer.success), said

    async def _checked(self, call: Any) -> Any:
        try:
            return await call
        except (ApiException, *_TRANSPORT_ERRORS) as error:
            raise LineCallFailed(getattr(error, "status", None) or 0, _describe(error)) from error

    async def _send(self, call: Any) -> SendResult:
        try:
            await call
        except ApiException as error:
            return _classify(error)
        except _TRANSPORT_ERRORS as error:
            return SendResult(Outcome.RETRY, _describe(error))
        except SlowCallInTransaction:
            raise  # a programming error, never a send to try again: it must fail the tests
        except Exception as error:
            # Unknown failure: retrying with the same retry key cannot send twice.
            log.exception("unexpected error calling LINE")
            return SendResult(Outcome.RETRY, _describe(error))
        return SendResult(Outcome.DELIVERED)


def _classify(error: ApiException) -> SendResult:
    status = error.status or 0
    body = str(error.body or "")[:300]
    if status == 409:
        return SendResult(Outcome.DELIVERED, "409: accepted before with this retry key")
    if status == 429:
        if "monthly limit" in body.lower():
            return SendResult(Outcome.QUOTA, f"429: {body}")
        return SendResult(Outcome.RATE_LIMITED, f"429: {body}")
    if status == 401:
        # A revoked or mistyped token: every send fails alike until the operator puts a good
        # one in. Dropped, the check-ins and alerts of those hours would be lost for good.
        return SendResult(Outcome.UNAUTHORIZED, f"401: {body}")
    if status >= 500 or status == 0:
        return SendResult(Outcome.RETRY, f"{status}: {body}")
    return SendResult(Outcome.REJECTED, f"{status}: {body}")


def _describe(error: BaseException) -> str:
    if isinstance(error, ApiException):
        return f"{error.status}: {str(error.body or '')[:200]}"
    return f"{type(error).__name__}: {error}"
