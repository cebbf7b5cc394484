"""The channel's webhook settings as the LINE Developers console holds them, and its test,
which posts a signed, empty event list to the endpoint for real."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from aiohttp import ClientError, ClientSession, web

from simulator import webhooks
from simulator.line.state import PlatformState


class WebhookApi:
    def __init__(self, line: PlatformState) -> None:
        self.line = line

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/v2/bot/channel/webhook/endpoint", self.get_webhook),
            web.post("/v2/bot/channel/webhook/test", self.test_webhook),
        ]

    async def get_webhook(self, request: web.Request) -> web.Response:
        call, refused = await self.line.record(request)
        body = {"endpoint": self.line.webhook_endpoint, "active": self.line.webhook_active}
        return refused or self.line.answer(call, 200, body)

    async def test_webhook(self, request: web.Request) -> web.Response:
        call, refused = await self.line.record(request)
        if refused:
            return refused
        status = self.line.webhook_test_status
        if status is None:
            # LINE's test posts an empty, signed-looking event list to the endpoint.
            try:
                payload = json.dumps({"destination": "U" + "f" * 32, "events": []}).encode()
                signature = webhooks.sign(payload, self.line.channel_secret)
                async with (
                    ClientSession() as session,
                    session.post(
                        self.line.webhook_endpoint,
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
        return self.line.answer(call, 200, body)
