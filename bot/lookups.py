"""What LINE tells about the people and groups of a batch of webhook events.

A batch is handled in one transaction (its effects and its "processed" marks commit together),
so LINE is asked beforehand (`prefetch`) and what it said is remembered for the batch: no LINE
call holds the database. A handler that needs something the prefetch did not ask would call LINE
inside the transaction, which fails in the tests (`strict_transactions`): ask it in `prefetch`.

Everything asked here only decorates (a name, the basic id of an invite link, the quota a
test send is held to): none of it may fail an event. LINE refusing or answering what does not
parse is taken as "LINE did not say" (`ground.line_api`); anything else that goes wrong in a
look-up is logged with what it was, counted, and the batch goes on without it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any, TypeVar

from care.broadcasts import budget
from care.services import Services
from ground.line_platform import Profile

log = logging.getLogger("mimamori.lookups")

QUOTA_BOUND = ("test_send", "rc_start")  # postbacks whose sends the quota must cover

T = TypeVar("T")


def _source(event: Any) -> tuple[str | None, str | None, str | None]:
    """(chat type, chat id, user id) of an event's source; chat type "user" for 1:1."""
    source = getattr(event, "source", None)
    kind = getattr(source, "type", None)
    user_id = getattr(source, "user_id", None)
    if kind == "group":
        return "group", source.group_id, user_id  # type: ignore[union-attr]
    if kind == "room":
        return "room", source.room_id, user_id  # type: ignore[union-attr]
    return kind, None, user_id


class Lookups:
    def __init__(self, services: Services) -> None:
        self._line = services.line
        self._services = services
        self._profiles: dict[str, Profile | None] = {}
        self._group_names: dict[str, str] = {}
        self._member_names: dict[tuple[str, str, str], str] = {}
        self.quota_left: int | None = None  # the month's quota left, for sends people start

    async def prefetch(self, events: list[Any]) -> None:
        """Ask LINE, at once, for what handling these events will need."""
        profiles: set[str] = set()
        groups: set[str] = set()
        members: set[tuple[str, str, str]] = set()
        async with self._services.reading_repositories(brief=True) as repos:
            people = [uid for kind, _, uid in map(_source, events) if kind == "user" and uid]
            known = await repos.members.known(people) if people else set()
            for event in events:
                chat_type, chat_id, user_id = _source(event)
                if chat_type == "user" and user_id:
                    if event.type == "follow" or (
                        user_id not in known and event.type != "unfollow"
                    ):
                        profiles.add(user_id)
                    continue
                if chat_type not in ("group", "room") or chat_id is None:
                    continue
                group = await repos.groups.by_chat_id(chat_id)
                if chat_type == "group" and (group is None or not group.active):
                    groups.add(chat_id)
                joined = getattr(getattr(event, "joined", None), "members", None) or []
                for uid in [user_id, *(getattr(m, "user_id", None) for m in joined)]:
                    if not uid:
                        continue
                    known_member = await repos.groups.member(group.id, uid) if group else None
                    if known_member is None or not known_member.display_name:
                        members.add((chat_type, chat_id, uid))
        await asyncio.gather(
            # invite links: known after the first time
            self._soft("bot_info", "the basic id", self._line.bot_basic_id(), None),
            self._soft("quota", "the month's quota", self._quota_if_asked(events), None),
            *(self._soft_profile(uid) for uid in profiles),
            *(self._soft_group_name(gid) for gid in groups),
            *(self._soft_member_name(*key) for key in members),
        )

    async def _soft(self, lookup: str, what: str, asked: Awaitable[T], fallback: T) -> T:
        """A decorating look-up that cannot fail the batch: what goes wrong is logged with
        what was asked, counted, and `fallback` is what LINE is taken to have said (and is
        remembered for the batch, so that no handler asks again inside its transaction)."""
        try:
            return await asked
        except Exception:
            log.exception("look-up of %s failed; the events go on without it", what)
            self._services.metrics.lookups_failed.labels(lookup).inc()
            return fallback

    async def _soft_profile(self, user_id: str) -> None:
        if await self._soft("profile", f"the profile of {user_id}", self.profile(user_id), None):
            return
        self._profiles.setdefault(user_id, None)

    async def _soft_group_name(self, group_id: str) -> None:
        asked = self.group_name(group_id)
        if not await self._soft("group_name", f"the name of group {group_id}", asked, ""):
            self._group_names.setdefault(group_id, "")

    async def _soft_member_name(self, chat_type: str, chat_id: str, user_id: str) -> None:
        asked = self.member_name(chat_type, chat_id, user_id)
        if not await self._soft("member_name", f"the name of {user_id} in {chat_id}", asked, ""):
            self._member_names.setdefault((chat_type, chat_id, user_id), "")

    async def _quota_if_asked(self, events: list[Any]) -> None:
        """テスト送信 and a chat's roll-call are held to the month's quota
        (care.broadcasts.budget): what it leaves is asked now, outside the batch's transaction,
        and only when one is asked."""
        for event in events:
            data = getattr(getattr(event, "postback", None), "data", None)
            decoded = self._services.postbacks.decode(data) if data else None
            if decoded is not None and decoded.action in QUOTA_BOUND:
                self.quota_left = await budget.quota_left(self._services)
                return

    async def profile(self, user_id: str) -> Profile | None:
        if user_id not in self._profiles:
            self._profiles[user_id] = await self._line.profile(user_id)
        return self._profiles[user_id]

    async def group_name(self, group_id: str) -> str:
        if group_id not in self._group_names:
            self._group_names[group_id] = await self._line.group_name(group_id)
        return self._group_names[group_id]

    async def member_name(self, chat_type: str, chat_id: str, user_id: str) -> str:
        key = (chat_type, chat_id, user_id)
        if key not in self._member_names:
            self._member_names[key] = await self._line.chat_member_name(*key)
        return self._member_names[key]
