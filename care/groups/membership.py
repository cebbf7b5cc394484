"""つながり actions: the bot joins or leaves a group, the group's settings, and each OK."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from care.errors import Refusal, Refused
from care.groups.rounds import group_schedule
from care.rounds.schedule import Schedule, first_due
from care.services import UnitOfWork
from storage.models import ChatGroup

SETTINGS = ("restricted", "quiet_when_all_ok", "summary_only")


AskName = Callable[[], Awaitable[str]]


async def group_of(work: UnitOfWork, chat_type: str, chat_id: str, ask_name: AskName) -> ChatGroup:
    """The group an event comes from, recorded on first sight if its join was never seen
    (`ask_name` asks LINE for the group's name, only then)."""
    group = await work.repos.groups.by_chat_id(chat_id)
    if group is not None and group.active:
        return group
    name = await ask_name() if chat_type == "group" else ""
    group, _ = await work.repos.groups.joined(chat_id, chat_type, name, work.now)
    return group


async def learn_member(work: UnitOfWork, group: ChatGroup, user_id: str, ask_name: AskName) -> str:
    """Remember a member of the group (LINE cannot list them); -> their display name, or ""
    when LINE does not tell it."""
    known = await work.repos.groups.member(group.id, user_id)
    if known is not None and known.display_name:
        return known.display_name
    name = await ask_name()
    await work.repos.groups.learn_member(group.id, user_id, name, work.now)
    return name


async def forget_members(work: UnitOfWork, group: ChatGroup, user_ids: list[str]) -> None:
    """Members who left the group are no longer named in its reports."""
    for user_id in user_ids:
        await work.repos.groups.forget_member(group.id, user_id)


async def bot_joined(
    work: UnitOfWork, chat_id: str, chat_type: str, name: str
) -> tuple[ChatGroup, datetime | None]:
    """The bot is in the group. Re-added within the retention period, the group carries on
    with its own settings from the next hour. -> (group, its next check-in if it carries on)"""
    group, known = await work.repos.groups.joined(chat_id, chat_type, name, work.now)
    schedule = group_schedule(group)
    if not known or schedule is None or group.paused:
        return group, None
    next_at = first_due(schedule, work.now, work.services.timezone)
    await work.repos.groups.set_next_due(group.id, next_at)
    return group, next_at


async def bot_left(work: UnitOfWork, chat_id: str) -> None:
    """Removed from the group: the open round is cancelled, posts stop; the data is kept for
    the retention period (in case the bot is added back)."""
    group = await work.repos.groups.by_chat_id(chat_id)
    if group is not None:
        await work.repos.groups.left(group.id, work.now)


def may_change(group: ChatGroup, user_id: str, setting: str | None = None) -> None:
    """Refused unless `user_id` may change the group's settings (only the starter, when the
    group is restricted or when the restriction itself is changed)."""
    if (group.restricted or setting == "restricted") and group.starter_user_id not in (
        None,
        user_id,
    ):
        raise Refused(Refusal.ONLY_STARTER)


@dataclass(frozen=True)
class GroupScheduled:
    next_at: datetime
    round_open: bool  # the round under way keeps its report to the end


async def set_schedule(
    work: UnitOfWork, group: ChatGroup, schedule: Schedule, user_id: str
) -> GroupScheduled:
    """The group's interval and hour; whoever sets it first is its starter. Ends a pause."""
    may_change(group, user_id)
    next_at = first_due(schedule, work.now, work.services.timezone)
    await work.repos.groups.set_schedule(
        group.id, schedule.interval_days, schedule.hour, next_at, user_id
    )
    open_round = await work.repos.groups.open_round(group.id)
    return GroupScheduled(next_at, open_round is not None)


async def pause(work: UnitOfWork, group: ChatGroup, user_id: str) -> None:
    if group_schedule(group) is None:
        raise Refused(Refusal.GROUP_NOT_SET)
    may_change(group, user_id)
    await work.repos.groups.set_flag(group.id, "paused", True)


async def resume(work: UnitOfWork, group: ChatGroup, user_id: str) -> datetime:
    """Resuming starts from the next hour, not from the slots missed while paused."""
    schedule = group_schedule(group)
    if schedule is None:
        raise Refused(Refusal.GROUP_NOT_SET)
    may_change(group, user_id)
    await work.repos.groups.set_flag(group.id, "paused", False)
    next_at = first_due(schedule, work.now, work.services.timezone)
    await work.repos.groups.set_next_due(group.id, next_at)
    return next_at


async def toggle(work: UnitOfWork, group: ChatGroup, setting: str, user_id: str) -> bool:
    """Turn a group setting on or off; -> its new value. Whoever restricts an unset group
    becomes the one who may change it."""
    if setting not in SETTINGS:
        raise ValueError(f"unknown group setting {setting}")
    may_change(group, user_id, setting)
    value = not getattr(group, setting)
    await work.repos.groups.set_flag(group.id, setting, value)
    if setting == "restricted" and group.starter_user_id is None:
        await work.repos.groups.claim_starter(group.id, user_id)
    return value


@dataclass(frozen=True)
class GroupAnswer:
    first: bool | None  # True: counted; False: tapped again; None: no round open
    group: ChatGroup


async def answer(
    work: UnitOfWork, group: ChatGroup, user_id: str, value: str = "ok"
) -> GroupAnswer:
    """An answer in the group (OK, 少し体調が悪い, 助けてほしい) counts for the round open now,
    whichever post it was tapped on: the tap shows how the member is today."""
    open_round = await work.repos.groups.open_round(group.id)
    first = (
        await work.repos.groups.record_ok(open_round.id, group.id, user_id, work.now, value)
        if open_round is not None
        else None
    )
    return GroupAnswer(first, await work.repos.groups.get(group.id) or group)
