"""The ways a telling reaches a person (LINE, a phone call), and the seam another channel plugs
into: nothing here knows LINE's client, so the phone and a test's gateway do not import it.

A channel is a renderer and a sender. The outbox row is the unit: it names its channel, the
addresses in that channel's terms, the tellings and the retry key. Delivery hands the row to
its channel as a `Parcel`, and records the `SendResult` the channel answers with, so retry
keys, back-off and the exactly-once rules stay the outbox's whatever the channel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from ground.telling import Form, Telling

LINE = "line"
VOICE = "voice"  # a phone call (ground.voice)
# The line_user_id of a person watched by phone alone (registered by the desk): never a LINE
# id (LINE's begin with U), and never put in a LINE request, where one bad id would fail a
# whole multicast.
NOT_ON_LINE = "tel:"


class Outcome(StrEnum):
    DELIVERED = "delivered"  # 200, or 409: the retry key was accepted before
    RETRY = "retry"  # 5xx, timeout, network: same key again later
    RATE_LIMITED = "rate_limited"  # 429 too many requests: back off
    QUOTA = "quota"  # 429 monthly limit reached: wait much longer, tell the operator
    UNAUTHORIZED = "unauthorized"  # 401 the access token is refused: kept until it is fixed
    REJECTED = "rejected"  # other 4xx: sending again will not help


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    detail: str = ""


@dataclass(frozen=True)
class Quota:
    limit: int | None  # None: the plan has no monthly limit
    used: int


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
