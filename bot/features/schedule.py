"""Choosing one's check-in interval and hour from quick replies; pausing, resuming, stopping."""

from __future__ import annotations

from datetime import datetime, timedelta

from linebot.v3.webhooks import PostbackEvent

from bot.context import EventContext, GroupContext, PersonContext
from bot.router import Router, action, group_action
from care import people
from care.schedule import INTERVALS, Schedule, paused_on
from ground import messages

PAUSE_CHOICES = (3, 7, 14, 30)  # days: a person in hospital need not pick a date

router = Router("schedule")


def interval_question(
    ctx: EventContext, prefix: str, current: str, extra: list[messages.QuickItem]
) -> messages.Message:
    """Step 1 of 3: the interval. `prefix` tells a group's flow ("g_") from a person's ("")."""
    codec = ctx.services.postbacks
    items = [
        (label, codec.encode(f"{prefix}sched_i", i=days), label)
        for days in INTERVALS
        for label in [ctx.locale.t("schedule.interval_choice", days=days)]
    ]
    return messages.text(ctx.t("schedule.ask_interval", current=current), items + extra)


def schedule_saved(
    ctx: EventContext, scope: str, schedule: Schedule, next_due: datetime, round_open: bool
) -> messages.Message:
    """The confirmation of a new schedule (`scope`: "schedule" for a person, "group")."""
    text = ctx.t(
        f"{scope}.saved",
        schedule=ctx.locale.schedule(schedule.interval_days, schedule.hour),
        next=ctx.locale.when(next_due),
    )
    if round_open:
        # The round already under way keeps its ladder (or its report) to the end.
        text += "\n" + ctx.t(f"{scope}.open_round_continues")
    return messages.text(text)


def _prefix(ctx: EventContext) -> str:
    assert ctx.postback is not None
    return "g_" if ctx.postback.action.startswith("g_") else ""


@router.on(PostbackEvent, action("sched"))
async def ask_interval(ctx: PersonContext) -> None:
    member = ctx.member
    codec = ctx.services.postbacks
    extra = []
    if member.interval_days is not None:
        today = ctx.services.clock.now().astimezone(ctx.services.timezone).date()
        if paused_on(member.paused_until, today):
            label = ctx.t("pause.resume_button")
            extra.append((label, codec.encode("resume"), label))
        else:
            label = ctx.t("pause.button")
            extra.append((label, codec.encode("pause_ask"), label))
        stop = ctx.t("schedule.stop")
        extra.append((stop, codec.encode("sched_stop"), stop))
        test = ctx.t("test.button")
        extra.append((test, codec.encode("test_send"), test))
    current = ctx.locale.schedule(member.interval_days, member.checkin_hour)
    ctx.reply(interval_question(ctx, "", current, extra))


@router.on(PostbackEvent, action("sched_i"))
@router.on(PostbackEvent, group_action("g_sched_i"))
async def ask_half_day(ctx: GroupContext) -> None:
    """Step 2 of 3: 24 hours do not fit LINE's 13 quick replies, so morning or afternoon."""
    assert ctx.postback is not None
    days = ctx.postback.integer("i")
    if days not in INTERVALS:
        ctx.reply(messages.text(ctx.t("postback.invalid")))
        return
    codec, name = ctx.services.postbacks, f"{_prefix(ctx)}sched_h"
    items = [
        (ctx.t("schedule.am"), codec.encode(name, i=days, p=0), ctx.t("schedule.am")),
        (ctx.t("schedule.pm"), codec.encode(name, i=days, p=12), ctx.t("schedule.pm")),
    ]
    ctx.reply(messages.text(ctx.t("schedule.ask_half"), items))


@router.on(PostbackEvent, action("sched_h"))
@router.on(PostbackEvent, group_action("g_sched_h"))
async def ask_hour(ctx: GroupContext) -> None:
    """Step 3 of 3: the hour."""
    assert ctx.postback is not None
    days, start = ctx.postback.integer("i"), ctx.postback.integer("p")
    if days not in INTERVALS or start not in (0, 12):
        ctx.reply(messages.text(ctx.t("postback.invalid")))
        return
    codec, name = ctx.services.postbacks, f"{_prefix(ctx)}sched_set"
    items = [
        (label, codec.encode(name, i=days, h=hour), label)
        for hour in range(start, start + 12)
        for label in [ctx.t("schedule.hour_choice", hour=hour)]
    ]
    ctx.reply(messages.text(ctx.t("schedule.ask_hour"), items))


def chosen_schedule(ctx: EventContext) -> Schedule | None:
    """The schedule a sched_set postback carries, or None (and the reply saying so)."""
    assert ctx.postback is not None
    days, hour = ctx.postback.integer("i"), ctx.postback.integer("h")
    try:
        return Schedule(-1 if days is None else days, -1 if hour is None else hour)
    except ValueError:
        ctx.reply(messages.text(ctx.t("postback.invalid")))
        return None


@router.on(PostbackEvent, action("sched_set"))
async def set_schedule(ctx: PersonContext) -> None:
    member = ctx.member
    schedule = chosen_schedule(ctx)
    if schedule is None:
        return
    work = ctx.work
    next_due = await people.set_schedule(work, member, schedule)
    open_round = await work.repos.rounds.open_round(member.id)
    ctx.reply(schedule_saved(ctx, "schedule", schedule, next_due, open_round is not None))


@router.on(PostbackEvent, action("sched_stop"))
async def stop_checkins(ctx: PersonContext) -> None:
    member = ctx.member
    work = ctx.work
    await people.stop(work, member)
    ctx.reply(messages.text(ctx.t("schedule.stopped")))


@router.on(PostbackEvent, action("pause_ask"))
async def ask_pause(ctx: PersonContext) -> None:
    """How long to pause (入院・旅行): a few periods, counted from today."""
    codec = ctx.services.postbacks
    items = [
        (label, codec.encode("pause", d=days), label)
        for days in PAUSE_CHOICES
        for label in [ctx.t("pause.for_days", days=days)]
    ]
    cancel = ctx.t("menu.cancel")
    ctx.reply(
        messages.text(ctx.t("pause.ask"), [*items, (cancel, codec.encode("cancel"), cancel)])
    )


@router.on(PostbackEvent, action("pause"))
async def pause(ctx: PersonContext) -> None:
    member = ctx.member
    assert ctx.postback is not None
    days = ctx.postback.integer("d")
    if days not in PAUSE_CHOICES:
        ctx.reply(messages.text(ctx.t("postback.invalid")))
        return
    today = ctx.services.clock.now().astimezone(ctx.services.timezone).date()
    until = today + timedelta(days=days)
    work = ctx.work
    resume_at = await people.pause(work, member, until)
    text = ctx.t("pause.saved", until=ctx.locale.day(until), next=ctx.locale.when(resume_at))
    ctx.reply(messages.text(text))


@router.on(PostbackEvent, action("resume"))
async def resume(ctx: PersonContext) -> None:
    member = ctx.member
    # Not paused: care.people refuses (pause.not_paused), as it does for My page.
    work = ctx.work
    next_at = await people.resume(work, member)
    ctx.reply(messages.text(ctx.t("pause.resumed", next=ctx.locale.when(next_at))))
