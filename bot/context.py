"""What a chat handler receives: the services and the context of one webhook event."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.lookups import Lookups
from care.services import Services
from ground.i18n import Locale
from ground.messages import Message
from ground.postback import Postback
from storage.models import Member

REPLY_LIMIT = 5  # messages in one reply


@dataclass
class EventContext:
    """One webhook event on its way through the router.

    Handlers add messages to `replies`; the dispatcher sends them as one reply (free of quota)
    once the event is handled. What the service layer wrote to the outbox leaves on its own.
    """

    services: Services
    event: Any
    lookups: Lookups
    member: Member | None = None
    postback: Postback | None = None
    replies: list[Message] = field(default_factory=list)
    outcome: str = "handled"  # refused, failed, unhandled: counted in /metrics

    @property
    def locale(self) -> Locale:
        return self.services.i18n.get(self.member.language if self.member else None)

    def reply(self, *messages: Message) -> None:
        self.replies.extend(messages)

    def t(self, key: str, **values: Any) -> str:
        return self.locale.t(key, **values)
