"""Webhook events set aside after failing their tries: a person's tap or words not yet acted on.

The dispatcher sets an event aside (taken, so that it holds up nobody) with why it failed;
the console lists them (when, which kind, from whom as 会員ID, the error: never the words) and
puts them back, when staff say the cause is fixed, to be handled as if they had just come."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ground import json_codec

if TYPE_CHECKING:
    from care.services import Services, UnitOfWork

LISTED = 200
KINDS = (
    "message",
    "postback",
    "follow",
    "unfollow",
    "join",
    "leave",
    "memberJoined",
    "memberLeft",
    "scrubbed",
)


@dataclass(frozen=True)
class Listed:
    received_at: datetime
    set_aside_at: datetime
    kind: str  # one of KINDS, or "other"
    member_id: int | None  # 会員ID, when the sender is a member
    failure: str


def _read(payload: str) -> dict[str, Any]:
    try:
        event = json_codec.read(payload)
    except (ValueError, RecursionError):
        return {}
    return event if isinstance(event, dict) else {}


def kind_of(payload: str) -> str:
    kind = str(_read(payload).get("type", ""))
    return kind if kind in KINDS else "other"


def sender_of(payload: str) -> str | None:
    source = _read(payload).get("source")
    user = source.get("userId") if isinstance(source, dict) else None
    return str(user) if user else None


def failure_of(error: BaseException, payload: str) -> str:
    """Why an event failed, as kept with it: the exception and its message, without the words
    the person sent should the message quote them (the console shows no one's words)."""
    said = f"{type(error).__name__}: {error}"
    message = _read(payload).get("message")
    words = message.get("text") if isinstance(message, dict) else None
    if isinstance(words, str) and words.strip():
        said = said.replace(words, "…")
    return said


async def listed(work: UnitOfWork) -> list[Listed]:
    repos = work.repos
    events = await repos.handled.set_aside_events(LISTED)
    senders = {user for e in events if (user := sender_of(e.payload))}
    members = await repos.members.by_line_ids(sorted(senders)) if senders else {}
    found = []
    for event in events:
        member = members.get(sender_of(event.payload) or "")
        found.append(
            Listed(
                event.received_at,
                event.set_aside_at,
                kind_of(event.payload),
                member.id if member else None,
                event.failure,
            )
        )
    return found


async def put_back(services: Services) -> int:
    """Every event set aside is handled again, in the order they came; -> how many. One that
    fails its tries again is set aside again."""
    async with services.unit_of_work() as work:
        back = await work.repos.handled.put_back()
    if back and services.db.arrivals_apart:
        # On SQLite they wait in the arrivals' file of their own (a crash before this finds
        # them unhandled in webhook_events at start-up, and carries them itself).
        async with services.arrivals() as arrivals:
            await arrivals.carry(back)
    if back:
        services.events.ring()
    return len(back)
