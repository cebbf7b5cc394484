"""What handlers receive: one frozen dependencies object and the context of one event."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.clock import Clock
from bot.i18n import I18n, Locale
from bot.line_api import LineApi
from bot.messages import Message
from bot.postback import Postback, PostbackCodec
from bot.settings import Settings
from scheduler.checkins import CheckinContext
from scheduler.engine import CheckinEngine
from storage.database import Database
from storage.models import Member

REPLY_LIMIT = 5  # messages in one reply


@dataclass(frozen=True)
class Deps:
    settings: Settings
    db: Database
    line: LineApi
    clock: Clock
    i18n: I18n
    postbacks: PostbackCodec
    engine: CheckinEngine

    @property
    def checkin_context(self) -> CheckinContext:
        return self.engine.context


@dataclass
class EventContext:
    """One webhook event on its way through the router.

    Handlers add messages to `replies`; the dispatcher sends them as one reply (free of quota)
    once the event is handled, then sends whatever the handlers recorded in the outbox.
    """

    deps: Deps
    event: Any
    member: Member | None = None
    postback: Postback | None = None
    replies: list[Message] = field(default_factory=list)

    @property
    def locale(self) -> Locale:
        return self.deps.i18n.get(self.member.language if self.member else None)

    def reply(self, *messages: Message) -> None:
        self.replies.extend(messages)

    def t(self, key: str, **values: Any) -> str:
        return self.locale.t(key, **values)
