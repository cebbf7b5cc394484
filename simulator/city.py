"""A stand-in for the city's own system behind its LINE account (a vendor's 防災情報・ごみ・申請
bot): what mimamori forwards to when it runs in front of it on a shared account, and what the
tests use to see that the city's system keeps working unchanged.

It does what such a system does with LINE's webhook: it checks the signature with the channel
secret (through the SDK's own validator, as a vendor's code would), takes each event once by
its webhookEventId, and answers 「ごみの日」 with LINE's reply API. It can be taken down (503)
to play an outage.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from linebot.v3.webhook import WebhookParser

ASKS_GARBAGE_DAY = ("ごみの日", "ゴミの日", "garbage day")
# The city's own words (not mimamori's): its vendor wrote them.
GARBAGE_DAY_ANSWER = "【市からのお知らせ】燃えるごみは 月・木、資源ごみは 水 です。"


@dataclass
class CitySystem:
    channel_secret: str
    line_url: str | None = None  # the LINE API it replies through (the fake LINE's)
    access_token: str = "city-system-token"
    url: str = ""  # where it listens, once started (the URL mimamori forwards to)
    down: bool = False
    bodies: list[dict[str, Any]] = field(default_factory=list)  # every body it took
    events: list[dict[str, Any]] = field(default_factory=list)  # each event, once
    refused: int = 0  # bodies whose signature did not verify
    attempts: int = 0  # requests that came, taken or not
    replies_sent: int = 0
    user_agents: set[str] = field(default_factory=set)

    def make_app(self) -> web.Application:
        app = web.Application()
        self.add_routes(app, "/webhook")
        return app

    def add_routes(self, app: web.Application, path: str) -> None:
        """On an app of its own (the tests) or beside the stand-in LINE (the simulator)."""
        self._parser = WebhookParser(self.channel_secret)
        app.router.add_post(path, self._webhook)

    def event_ids(self) -> list[str]:
        return [event["webhookEventId"] for event in self.events]

    def types(self) -> list[str]:
        return [event["type"] for event in self.events]

    async def _webhook(self, request: web.Request) -> web.Response:
        self.attempts += 1
        if self.down:
            return web.Response(status=503, text="maintenance")
        text = await request.text()
        signature = request.headers.get("X-Line-Signature", "")
        if not self._parser.signature_validator.validate(text, signature):
            self.refused += 1
            return web.Response(status=400, text="invalid signature")
        self.user_agents.add(request.headers.get("User-Agent", ""))
        body = json.loads(text)
        self.bodies.append(body)
        seen = set(self.event_ids())
        for event in body["events"]:
            if event["webhookEventId"] in seen:
                continue  # LINE may redeliver: a vendor's system takes each event once
            self.events.append(event)
            await self._answer(event)
        return web.json_response({})

    async def _answer(self, event: dict[str, Any]) -> None:
        message = event.get("message") or {}
        words = str(message.get("text", "")).strip().lower()
        token = event.get("replyToken")
        if self.line_url is None or not token or words not in ASKS_GARBAGE_DAY:
            return
        reply = {"replyToken": token, "messages": [{"type": "text", "text": GARBAGE_DAY_ANSWER}]}
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"{self.line_url}/v2/bot/message/reply",
                json=reply,
                headers={"Authorization": f"Bearer {self.access_token}"},
            ) as response,
        ):
            if response.status == 200:
                self.replies_sent += 1
