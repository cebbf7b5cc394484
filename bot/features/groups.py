"""つながり in the chat: the bot in a LINE group (or room), set up and used from the group."""

from __future__ import annotations

import logging

from linebot.v3.webhooks import (
    JoinEvent,
    LeaveEvent,
    MemberJoinedEvent,
    MemberLeftEvent,
    MessageEvent,
    PostbackEvent,
)

from bot import messages
from bot.deps import EventContext
from bot.features.schedule import chosen_schedule, interval_question, schedule_saved
from bot.router import Router, group_action, in_group, text_of
from scheduler.group_rounds import group_schedule
from scheduler.schedule import first_due
from storage.models import ChatGroup
from storage.repositories import unit_of_work

log = logging.getLogger("mimamori.groups")
router = Router("groups")


def chat_of(ctx: EventContext) -> tuple[str, str]:
    """(chat type, LINE id) of the group or room the event comes from."""
    source = ctx.event.source
    if source.type == "room":
        return "room", source.room_id
    return "group", source.group_id


def tapper(ctx: EventContext) -> str | None:
    # LINE promises a group userId only on messages; postbacks usually carry it, not always.
    return getattr(ctx.event.source, "user_id", None)


async def current_group(ctx: EventContext) -> ChatGroup:
    """The group the event comes from, recorded on first sight if its join was never seen."""
    chat_type, chat_id = chat_of(ctx)
    async with unit_of_work(ctx.deps.db) as repos:
        group = await repos.groups.by_chat_id(chat_id)
    if group is not None and group.active:
        return group
    name = await ctx.deps.line.group_name(chat_id) if chat_type == "group" else ""
    async with unit_of_work(ctx.deps.db) as repos:
        group, _ = await repos.groups.joined(chat_id, chat_type, name, ctx.deps.clock.now())
    return group


async def learn_member(ctx: EventContext, group: ChatGroup, user_id: str) -> str:
    """Remember a member of the group (LINE cannot list them); returns their display name."""
    async with unit_of_work(ctx.deps.db) as repos:
        known = await repos.groups.member(group.id, user_id)
    if known is not None and known.display_name:
        return known.display_name
    name = await ctx.deps.line.chat_member_name(group.chat_type, group.line_chat_id, user_id)
    async with unit_of_work(ctx.deps.db) as repos:
        await repos.groups.learn_member(group.id, user_id, name, ctx.deps.clock.now())
    return name or ctx.t("group.unnamed")


def group_menu(ctx: EventContext, group: ChatGroup) -> messages.Message:
    codec = ctx.deps.postbacks

    def item(key: str, action_name: str) -> messages.QuickItem:
        label = ctx.t(key)
        return label, codec.encode(action_name), label

    items = [item("group.menu.schedule", "g_sched"), item("group.menu.status", "g_status")]
    if group.interval_days is not None:
        items.append(
            item("group.menu.resume", "g_resume")
            if group.paused
            else item("group.menu.pause", "g_pause")
        )
    items += [
        item(
            "group.menu.quiet_off" if group.quiet_when_all_ok else "group.menu.quiet_on", "g_quiet"
        ),
        item(
            "group.menu.restrict_off" if group.restricted else "group.menu.restrict_on",
            "g_restrict",
        ),
        item("group.menu.help", "g_help"),
    ]
    return messages.text(ctx.t("group.menu_prompt"), items)


async def may_change(ctx: EventContext, group: ChatGroup) -> str | None:
    """The member allowed to change the group's settings, or None with the reply why not."""
    user_id = tapper(ctx)
    if user_id is None:
        ctx.reply(messages.text(ctx.t("group.needs_message")))
        return None
    if group.restricted and group.starter_user_id not in (None, user_id):
        ctx.reply(messages.text(ctx.t("group.only_starter")))
        return None
    await learn_member(ctx, group, user_id)
    return user_id


@router.on(JoinEvent, in_group)
async def on_join(ctx: EventContext) -> None:
    chat_type, chat_id = chat_of(ctx)
    name = await ctx.deps.line.group_name(chat_id) if chat_type == "group" else ""
    now = ctx.deps.clock.now()
    async with unit_of_work(ctx.deps.db) as repos:
        group, known = await repos.groups.joined(chat_id, chat_type, name, now)
        schedule = group_schedule(group)
        if known and schedule is not None and not group.paused:
            # Re-added within the retention period: carry on with the group's own settings.
            next_due = first_due(schedule, now, ctx.deps.settings.timezone)
            await repos.groups.set_next_due(group.id, next_due)
            ctx.reply(
                messages.text(
                    ctx.t(
                        "group.welcome_back",
                        schedule=ctx.locale.schedule(schedule.interval_days, schedule.hour),
                        next=ctx.locale.when(next_due),
                    )
                ),
                group_menu(ctx, group),
            )
            return
    ctx.reply(messages.text(ctx.t("group.intro")), group_menu(ctx, group))


@router.on(LeaveEvent, in_group)
async def on_leave(ctx: EventContext) -> None:
    _, chat_id = chat_of(ctx)
    async with unit_of_work(ctx.deps.db) as repos:
        group = await repos.groups.by_chat_id(chat_id)
        if group is not None:
            await repos.groups.left(group.id, ctx.deps.clock.now())
    log.info("removed from %s; its data is kept for the retention period", chat_id)


@router.on(MemberJoinedEvent, in_group)
async def on_members_joined(ctx: EventContext) -> None:
    group = await current_group(ctx)
    for joined in ctx.event.joined.members:
        if getattr(joined, "user_id", None):
            await learn_member(ctx, group, joined.user_id)
    if group.interval_days is not None:
        schedule = ctx.locale.schedule(group.interval_days, group.checkin_hour)
        ctx.reply(messages.text(ctx.t("group.member_welcome", schedule=schedule)))


@router.on(MemberLeftEvent, in_group)
async def on_members_left(ctx: EventContext) -> None:
    group = await current_group(ctx)
    async with unit_of_work(ctx.deps.db) as repos:
        for left in ctx.event.left.members:
            if getattr(left, "user_id", None):
                await repos.groups.forget_member(group.id, left.user_id)


@router.on(MessageEvent, in_group)
async def on_group_message(ctx: EventContext) -> None:
    """A message teaches the bot who is in the group; it is not an OK for either protocol."""
    group = await current_group(ctx)
    user_id = tapper(ctx)
    if user_id:
        await learn_member(ctx, group, user_id)
    words = {w.strip().lower() for w in ctx.t("group.menu_words").split(",")}
    if (text_of(ctx) or "").strip().lower() in words:
        ctx.reply(group_menu(ctx, group))


@router.on(PostbackEvent, group_action("gok"))
async def on_group_ok(ctx: EventContext) -> None:
    """Each OK is answered at once, by name, so the group sees who is fine (free: a reply)."""
    group = await current_group(ctx)
    user_id = tapper(ctx)
    if user_id is None:
        ctx.reply(messages.text(ctx.t("group.needs_message")))
        return
    name = await learn_member(ctx, group, user_id)
    now = ctx.deps.clock.now()
    async with unit_of_work(ctx.deps.db) as repos:
        # Any check-in button counts for the round open now: the tap shows they are fine today.
        open_round = await repos.groups.open_round(group.id)
        first = (
            await repos.groups.record_ok(open_round.id, group.id, user_id, now)
            if open_round is not None
            else None
        )
        group = await repos.groups.get(group.id) or group
    if first is None:
        nxt = ctx.locale.when(group.next_due_at) if group.next_due_at else ctx.t("schedule.none")
        ctx.reply(messages.text(ctx.t("group.ok_closed", name=name, next=nxt)))
        return
    local = now.astimezone(ctx.deps.settings.timezone)
    key = "group.ok" if first else "group.ok_again"
    ctx.reply(messages.text(ctx.t(key, name=name, month=local.month, day=local.day)))


@router.on(PostbackEvent, group_action("g_menu"))
async def on_group_menu(ctx: EventContext) -> None:
    ctx.reply(group_menu(ctx, await current_group(ctx)))


@router.on(PostbackEvent, group_action("g_help"))
async def on_group_help(ctx: EventContext) -> None:
    ctx.reply(messages.text(ctx.t("group.help")))


@router.on(PostbackEvent, group_action("g_sched"))
async def on_group_schedule(ctx: EventContext) -> None:
    group = await current_group(ctx)
    if await may_change(ctx, group) is None:
        return
    current = ctx.locale.schedule(group.interval_days, group.checkin_hour)
    ctx.reply(interval_question(ctx, "g_", current, []))


@router.on(PostbackEvent, group_action("g_sched_set"))
async def on_group_schedule_set(ctx: EventContext) -> None:
    group = await current_group(ctx)
    user_id = await may_change(ctx, group)
    schedule = chosen_schedule(ctx) if user_id else None
    if user_id is None or schedule is None:
        return
    now = ctx.deps.clock.now()
    next_due = first_due(schedule, now, ctx.deps.settings.timezone)
    async with unit_of_work(ctx.deps.db) as repos:
        await repos.groups.set_schedule(
            group.id, schedule.interval_days, schedule.hour, next_due, user_id
        )
        open_round = await repos.groups.open_round(group.id)
    ctx.reply(schedule_saved(ctx, "group", schedule, next_due, open_round is not None))


@router.on(PostbackEvent, group_action("g_pause"))
@router.on(PostbackEvent, group_action("g_resume"))
async def on_pause_or_resume(ctx: EventContext) -> None:
    assert ctx.postback is not None
    group = await current_group(ctx)
    schedule = group_schedule(group)
    if schedule is None:
        ctx.reply(messages.text(ctx.t("group.not_set")))
        return
    if await may_change(ctx, group) is None:
        return
    pause = ctx.postback.action == "g_pause"
    now = ctx.deps.clock.now()
    async with unit_of_work(ctx.deps.db) as repos:
        await repos.groups.set_flag(group.id, "paused", pause)
        if pause:
            ctx.reply(messages.text(ctx.t("group.paused")))
            return
        # Resuming starts from the next hour, not from the slots missed while paused.
        next_due = first_due(schedule, now, ctx.deps.settings.timezone)
        await repos.groups.set_next_due(group.id, next_due)
    ctx.reply(messages.text(ctx.t("group.resumed", next=ctx.locale.when(next_due))))


@router.on(PostbackEvent, group_action("g_quiet"))
@router.on(PostbackEvent, group_action("g_restrict"))
async def on_toggle(ctx: EventContext) -> None:
    assert ctx.postback is not None
    group = await current_group(ctx)
    restrict = ctx.postback.action == "g_restrict"
    user_id = await may_change(ctx, group)
    if user_id is None:
        return
    if restrict and group.starter_user_id not in (None, user_id):
        ctx.reply(messages.text(ctx.t("group.only_starter")))
        return
    name, value = (
        ("restricted", not group.restricted)
        if restrict
        else ("quiet_when_all_ok", not group.quiet_when_all_ok)
    )
    async with unit_of_work(ctx.deps.db) as repos:
        await repos.groups.set_flag(group.id, name, value)
        if restrict and group.starter_user_id is None:
            # Whoever restricts an unset group becomes the one who may change it.
            await repos.groups.claim_starter(group.id, user_id)
    state = "on" if value else "off"
    ctx.reply(messages.text(ctx.t(f"group.{name}.{state}")))


@router.on(PostbackEvent, group_action("g_status"))
async def on_group_status(ctx: EventContext) -> None:
    group = await current_group(ctx)
    async with unit_of_work(ctx.deps.db) as repos:
        members = await repos.groups.members(group.id)
    if group.interval_days is None:
        ctx.reply(messages.text(ctx.t("group.not_set")), group_menu(ctx, group))
        return
    ctx.reply(
        messages.text(
            ctx.t(
                "group.status",
                schedule=ctx.locale.schedule(group.interval_days, group.checkin_hour),
                next=ctx.t("group.paused_short")
                if group.paused
                else ctx.locale.when(group.next_due_at),
                members=len(members),
                who=ctx.t(f"group.who_changes.{'starter' if group.restricted else 'anyone'}"),
                quiet=ctx.t(
                    f"group.report_when_all_ok.{'off' if group.quiet_when_all_ok else 'on'}"
                ),
            )
        )
    )


@router.on(PostbackEvent, in_group)
async def unknown_group_postback(ctx: EventContext) -> None:
    log.warning("group postback refused: %.100r", ctx.event.postback.data)
    ctx.reply(messages.text(ctx.t("postback.invalid")))
