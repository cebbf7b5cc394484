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

from bot.context import GroupContext
from bot.features.schedule import chosen_schedule, interval_question, schedule_saved
from bot.router import Router, group_action, in_group, text_of
from care.groups import membership as groups
from care.rounds.checkins import ANSWERS
from ground import messages
from storage.models import ChatGroup

log = logging.getLogger("mimamori.groups")
router = Router("groups")


def tapper(ctx: GroupContext) -> str | None:
    # LINE promises a group userId only on messages; postbacks usually carry it, not always.
    return ctx.sender


async def current_group(ctx: GroupContext) -> ChatGroup:
    """The group the event comes from, recorded on first sight if its join was never seen."""
    chat_id = ctx.chat_id
    return await groups.group_of(
        ctx.work, ctx.chat_type, chat_id, lambda: ctx.lookups.group_name(chat_id)
    )


async def learn_member(ctx: GroupContext, group: ChatGroup, user_id: str) -> str:
    """Remember a member of the group (LINE cannot list them); returns their display name."""
    name = await groups.learn_member(
        ctx.work,
        group,
        user_id,
        lambda: ctx.lookups.member_name(group.chat_type, group.line_chat_id, user_id),
    )
    return name or ctx.t("group.unnamed")


def group_menu(ctx: GroupContext, group: ChatGroup) -> messages.Message:
    """The settings as they are, each with the button that changes it, on one card."""
    codec = ctx.services.postbacks

    def item(key: str, action_name: str) -> messages.QuickItem:
        label = ctx.t(key)
        return label, codec.encode(action_name), label

    items = [item("group.menu.schedule", "g_sched")]
    if group.interval_days is not None:
        items.append(
            item("group.menu.resume", "g_resume")
            if group.paused
            else item("group.menu.pause", "g_pause")
        )
    items += [
        item("group.menu.change_summary", "g_summary"),
        item("group.menu.change_quiet", "g_quiet"),
        item("group.menu.change_restrict", "g_restrict"),
        item("group.menu.help", "g_help"),
    ]
    return messages.card(ctx.t("group.menu_title"), group_settings(ctx, group), items)


def group_settings(ctx: GroupContext, group: ChatGroup) -> str:
    """Every setting of the group as it stands now."""
    return ctx.t("group.settings", **_setting_values(ctx, group))


def _setting_values(ctx: GroupContext, group: ChatGroup) -> dict[str, str]:
    """Each setting in words, for the settings card and the status alike."""
    if group.interval_days is None:
        schedule, next_at = ctx.t("schedule.none"), ctx.t("group.not_set_short")
    else:
        schedule = ctx.locale.schedule(group.interval_days, group.checkin_hour)
        next_at = (
            ctx.t("group.paused_short") if group.paused else ctx.locale.when(group.next_due_at)
        )
    return {
        "schedule": schedule,
        "next": next_at,
        "who": ctx.t(f"group.who_changes.{'starter' if group.restricted else 'anyone'}"),
        "quiet": ctx.t(f"group.report_when_all_ok.{'off' if group.quiet_when_all_ok else 'on'}"),
        "summary": ctx.t(f"group.summary.{'on' if group.summary_only else 'off'}"),
    }


async def member_tapping(ctx: GroupContext, group: ChatGroup) -> str | None:
    """The member behind a settings tap, learnt; None (with the reply why) when LINE did not
    say who tapped."""
    user_id = tapper(ctx)
    if user_id is None:
        ctx.reply(messages.text(ctx.t("group.needs_message")))
        return None
    await learn_member(ctx, group, user_id)
    return user_id


@router.on(JoinEvent, in_group)
async def on_join(ctx: GroupContext) -> None:
    chat_type, chat_id = ctx.chat_type, ctx.chat_id
    name = await ctx.lookups.group_name(chat_id) if chat_type == "group" else ""
    work = ctx.work
    group, next_at = await groups.bot_joined(work, chat_id, chat_type, name)
    if next_at is not None and group.interval_days is not None:
        text = ctx.t(
            "group.welcome_back",
            schedule=ctx.locale.schedule(group.interval_days, group.checkin_hour),
            next=ctx.locale.when(next_at),
        )
        ctx.reply(messages.text(text), group_menu(ctx, group))
        return
    ctx.reply(messages.text(ctx.t("group.intro")), group_menu(ctx, group))


@router.on(LeaveEvent, in_group)
async def on_leave(ctx: GroupContext) -> None:
    chat_id = ctx.chat_id
    work = ctx.work
    await groups.bot_left(work, chat_id)
    log.info("removed from %s; its data is kept for the retention period", chat_id)


@router.on(MemberJoinedEvent, in_group)
async def on_members_joined(ctx: GroupContext) -> None:
    group = await current_group(ctx)
    for joined in ctx.event.joined.members:
        if getattr(joined, "user_id", None):
            await learn_member(ctx, group, joined.user_id)
    if group.interval_days is not None:
        schedule = ctx.locale.schedule(group.interval_days, group.checkin_hour)
        ctx.reply(messages.text(ctx.t("group.member_welcome", schedule=schedule)))


@router.on(MemberLeftEvent, in_group)
async def on_members_left(ctx: GroupContext) -> None:
    group = await current_group(ctx)
    left = [m.user_id for m in ctx.event.left.members if getattr(m, "user_id", None)]
    work = ctx.work
    await groups.forget_members(work, group, left)


@router.on(MessageEvent, in_group)
async def on_group_message(ctx: GroupContext) -> None:
    """A message teaches the bot who is in the group; it is not an OK for either protocol."""
    group = await current_group(ctx)
    user_id = tapper(ctx)
    if user_id:
        await learn_member(ctx, group, user_id)
    words = {w.strip().lower() for w in ctx.t("group.menu_words").split(",")}
    if (text_of(ctx) or "").strip().lower() in words:
        ctx.reply(group_menu(ctx, group))


@router.on(PostbackEvent, group_action("gok"))
async def on_group_ok(ctx: GroupContext) -> None:
    """Each answer is shown at once, by name, so the group sees who is fine and who needs a
    call or a visit (free: a reply)."""
    assert ctx.postback is not None
    value = ctx.postback.get("v") or "ok"
    if value not in ANSWERS:
        ctx.reply(messages.text(ctx.t("postback.invalid")))
        return
    group = await current_group(ctx)
    user_id = tapper(ctx)
    if user_id is None:
        ctx.reply(messages.text(ctx.t("group.needs_message")))
        return
    name = await learn_member(ctx, group, user_id)
    work = ctx.work
    answered = await groups.answer(work, group, user_id, value)
    first, group = answered.first, answered.group
    day = ctx.locale.day(work.now.astimezone(ctx.services.timezone).date())
    if first is None and value == "help":
        # 助けてほしい counts at any moment, as in the 1:1 chat: the round is over, but the
        # group still hears she asks for help.
        ctx.reply(messages.text(ctx.t("group.answer_help", name=name, date=day)))
        return
    if first is None:
        nxt = ctx.locale.when(group.next_due_at) if group.next_due_at else ctx.t("schedule.none")
        ctx.reply(messages.text(ctx.t("group.ok_closed", name=name, next=nxt)))
        return
    if first and value == "ok" and group.summary_only:
        return  # the group asked for one summary after the round instead
    key = (
        "group.ok_again" if not first else "group.ok" if value == "ok" else f"group.answer_{value}"
    )
    ctx.reply(messages.text(ctx.t(key, name=name, date=day)))


@router.on(PostbackEvent, group_action("g_menu"))
async def on_group_menu(ctx: GroupContext) -> None:
    ctx.reply(group_menu(ctx, await current_group(ctx)))


@router.on(PostbackEvent, group_action("g_help"))
async def on_group_help(ctx: GroupContext) -> None:
    ctx.reply(messages.text(ctx.t("group.help")))


@router.on(PostbackEvent, group_action("g_sched"))
async def on_group_schedule(ctx: GroupContext) -> None:
    group = await current_group(ctx)
    user_id = await member_tapping(ctx, group)
    if user_id is None:
        return
    groups.may_change(group, user_id)
    current = ctx.locale.schedule(group.interval_days, group.checkin_hour)
    ctx.reply(interval_question(ctx, "g_", current, []))


@router.on(PostbackEvent, group_action("g_sched_set"))
async def on_group_schedule_set(ctx: GroupContext) -> None:
    group = await current_group(ctx)
    user_id = await member_tapping(ctx, group)
    schedule = chosen_schedule(ctx) if user_id else None
    if user_id is None or schedule is None:
        return
    work = ctx.work
    saved = await groups.set_schedule(work, group, schedule, user_id)
    ctx.reply(schedule_saved(ctx, "group", schedule, saved.next_at, saved.round_open))


@router.on(PostbackEvent, group_action("g_pause"))
@router.on(PostbackEvent, group_action("g_resume"))
async def on_pause_or_resume(ctx: GroupContext) -> None:
    assert ctx.postback is not None
    group = await current_group(ctx)
    if group.interval_days is None:
        ctx.reply(messages.text(ctx.t("group.not_set")))
        return
    user_id = await member_tapping(ctx, group)
    if user_id is None:
        return
    work = ctx.work
    if ctx.postback.action == "g_pause":
        await groups.pause(work, group, user_id)
        ctx.reply(messages.text(ctx.t("group.paused")))
        return
    next_at = await groups.resume(work, group, user_id)
    ctx.reply(messages.text(ctx.t("group.resumed", next=ctx.locale.when(next_at))))


_TOGGLES = {
    "g_restrict": "restricted",
    "g_quiet": "quiet_when_all_ok",
    "g_summary": "summary_only",
}


@router.on(PostbackEvent, group_action("g_quiet"))
@router.on(PostbackEvent, group_action("g_restrict"))
@router.on(PostbackEvent, group_action("g_summary"))
async def on_toggle(ctx: GroupContext) -> None:
    assert ctx.postback is not None
    group = await current_group(ctx)
    name = _TOGGLES[ctx.postback.action]
    user_id = await member_tapping(ctx, group)
    if user_id is None:
        return
    work = ctx.work
    value = await groups.toggle(work, group, name, user_id)
    state = "on" if value else "off"
    ctx.reply(messages.text(ctx.t(f"group.{name}.{state}")))


@router.on(PostbackEvent, group_action("g_status"))
async def on_group_status(ctx: GroupContext) -> None:
    group = await current_group(ctx)
    repos = ctx.work.repos
    members = await repos.groups.members(group.id)
    if group.interval_days is None:
        ctx.reply(messages.text(ctx.t("group.not_set")), group_menu(ctx, group))
        return
    values = _setting_values(ctx, group)
    ctx.reply(messages.text(ctx.t("group.status", members=len(members), **values)))


@router.on(PostbackEvent, in_group)
async def unknown_group_postback(ctx: GroupContext) -> None:
    log.warning("group postback refused: %.100r", ctx.event.postback.data)
    ctx.reply(messages.text(ctx.t("postback.invalid")))
