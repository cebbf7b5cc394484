"""The ways a telling reaches a person: LINE today, and the seam another channel plugs into.

A channel is a renderer and a sender. The outbox row is the unit: it names its channel, the
addresses in that channel's terms, the tellings and the retry key. Delivery hands the row to
its channel as a `Parcel`, and records the `SendResult` the channel answers with, so retry
keys, back-off and the exactly-once rules stay the outbox's whatever the channel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ground import messages
from ground.i18n import I18n
from ground.line_api import MULTICAST_LIMIT, LineApi, Outcome, SendResult
from ground.telling import Form, Telling

LINE = "line"
VOICE = "voice"  # a phone call (ground.voice)
# The line_user_id of a person watched by phone alone (registered by the desk): never a LINE
# id (LINE's begin with U), and never put in a LINE request, where one bad id would fail a
# whole multicast.
NOT_ON_LINE = "tel:"


def can_say(channel: str, tellings: Sequence[Telling]) -> bool:
    """A call can only ask its question with keys: a phone-only person is not rung to have a
    notice or a team's news read to her (each call costs, and startles). Other channels
    render every form."""
    return channel != VOICE or any(telling.form is Form.CALL for telling in tellings)


@dataclass(frozen=True)
class Parcel:
    """One outbox row as its channel sends it."""

    kind: str  # push (one address), multicast (several), broadcast (LINE: every friend)
    addresses: Sequence[str]
    tellings: Sequence[Telling]
    retry_key: str
    # A row written before tellings existed holds LINE's messages as they were built: an
    # upgrade in the middle of a wave sends them as written.
    prepared: Sequence[dict[str, Any]] = field(default_factory=tuple)


class Channel(Protocol):
    @property
    def name(self) -> str:
        """What an outbox row and a member's settings call it."""
        ...

    @property
    def batch_limit(self) -> int:
        """How many addresses one row may carry (a multicast); 1 where each is sent alone."""
        ...

    async def send(self, parcel: Parcel) -> SendResult:
        """Render the parcel's tellings and send them once; the same retry key again must
        not reach the person twice."""
        ...


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
