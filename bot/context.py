"""What a chat handler receives: one webhook event, the batch's transaction, and who it is from.

The dispatcher opens one unit of work for a batch of events and hands it to every handler in
`ctx.work` (as aiogram's outer middleware hands its session); a handler never opens one of its
own, and `Services.unit_of_work()` refuses to nest. So, inside a handler:

- **No LINE call.** The transaction holds the database's writer; LINE may take seconds, and
  every webhook batch would wait. What a handler needs from LINE (profiles, group names and
  sizes, the account's basic id, the quota left) was asked before the batch, in `ctx.lookups`.
  A call made anyway fails in the tests (`strict_transactions`) and is logged in production.
- **No tasks, no side effects outside the database.** When a handler refuses or fails, the
  batch is undone and applied again, each event in a savepoint of its own: anything a handler
  did besides writing through `ctx.work` would happen twice. Messages to anyone else go to the
  outbox (`care.rounds.notify`), which sends them after the commit; the answer to this event goes
  in `ctx.reply(...)`, sent as LINE's free reply after the commit.
- **A refusal is an exception**: raise `care.errors.Refused`; the event's changes are undone
  and the person is told why (`bot.refusals`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.lookups import Lookups
from care.services import Services, UnitOfWork
from ground.i18n import Locale
from ground.messages import Message
from ground.postback import Postback
from storage.models import Member


@dataclass(kw_only=True)
class EventContext:
    """One webhook event on its way through the router, in the batch's unit of work.

    Handlers add messages to `replies`; the dispatcher sends them as one reply (free of quota)
    once the batch has committed. What the service layer wrote to the outbox leaves on its own.
    """

    services: Services
    event: Any
    lookups: Lookups
    work: UnitOfWork
    postback: Postback | None = None
    replies: list[Message] = field(default_factory=list)
    outcome: str = "handled"  # refused, failed, unhandled: counted in /metrics

    @property
    def language(self) -> str | None:
        return None

    @property
    def locale(self) -> Locale:
        return self.services.i18n.get(self.language)

    def reply(self, *messages: Message) -> None:
        self.replies.extend(messages)

    def t(self, key: str, **values: Any) -> str:
        return self.locale.t(key, **values)


@dataclass(kw_only=True)
class PersonContext(EventContext):
    """An event from one person's 1:1 chat with the bot: the member is always there (the
    dispatcher registers a newcomer before any handler runs)."""

    member: Member

    @property
    def language(self) -> str | None:
        return self.member.language


@dataclass(kw_only=True)
class GroupContext(EventContext):
    """An event from a LINE group or room (つながり): the chat, and who sent it when LINE says."""

    chat_type: str  # "group" or "room"
    chat_id: str
    sender: str | None  # LINE promises a user id only on messages
