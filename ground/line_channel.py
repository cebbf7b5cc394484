"""LINE as a channel: an outbox row rendered as LINE's messages and sent with its retry key."""

from __future__ import annotations

from typing import Any

from ground import messages
from ground.channels import LINE, NOT_ON_LINE, Outcome, Parcel, SendResult
from ground.i18n import I18n
from ground.line_api import MULTICAST_LIMIT, LineApi


class LineChannel:
    """LINE's Messaging API: push, multicast (500 a request) and broadcast, with LINE's own
    retry key; tellings are rendered as text, cards and the check-in's Flex bubble."""

    name = LINE
    batch_limit = MULTICAST_LIMIT

    def __init__(self, line: LineApi, i18n: I18n) -> None:
        self._line = line
        self._i18n = i18n

    def render(self, parcel: Parcel) -> list[dict[str, Any]]:
        rendered = [
            messages.render(telling, self._i18n.get(telling.language))
            for telling in parcel.tellings
        ]
        return [*parcel.prepared, *rendered]

    async def send(self, parcel: Parcel) -> SendResult:
        content = self.render(parcel)
        addresses = [a for a in parcel.addresses if not a.startswith(NOT_ON_LINE)]
        if parcel.kind != "broadcast" and not addresses:
            return SendResult(Outcome.REJECTED, "nobody on LINE: watched by phone alone")
        if parcel.kind == "multicast":
            return await self._line.multicast(addresses, content, parcel.retry_key)
        if parcel.kind == "broadcast":
            return await self._line.broadcast(content, parcel.retry_key)
        return await self._line.push(addresses[0], content, parcel.retry_key)
