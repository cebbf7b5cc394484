"""Choosing one's check-in interval and hour from quick replies, or stopping check-ins."""

from __future__ import annotations

from linebot.v3.webhooks import PostbackEvent

from bot import messages
from bot.deps import EventContext
from bot.router import Router, action
from scheduler import checkins
from scheduler.schedule import INTERVALS, Schedule
from storage.repositories import unit_of_work

router = Router("schedule")


@router.on(PostbackEvent, action("sched"))
async def ask_interval(ctx: EventContext) -> None:
    codec = ctx.deps.postbacks
    items = [
        (label, codec.encode("sched_i", i=days), label)
        for days in INTERVALS
        for label in [ctx.locale.t("schedule.interval_choice", days=days)]
    ]
    if ctx.member is not None and ctx.member.interval_days is not None:
        items.append((ctx.t("schedule.stop"), codec.encode("sched_stop"), ctx.t("schedule.stop")))
    current = ctx.locale.schedule(
        ctx.member.interval_days if ctx.member else None,
        ctx.member.checkin_hour if ctx.member else None,
    )
    ctx.reply(messages.text(ctx.t("schedule.ask_interval", current=current), items))


@router.on(PostbackEvent, action("sched_i"))
async def ask_half_day(ctx: EventContext) -> None:
    assert ctx.postback is not None
    days = ctx.postback.integer("i")
    if days not in INTERVALS:
        ctx.reply(messages.text(ctx.t("postback.invalid")))
        return
    codec = ctx.deps.postbacks
    # 24 hours do not fit LINE's 13 quick replies: morning or afternoon first.
    items = [
        (ctx.t("schedule.am"), codec.encode("sched_h", i=days, p=0), ctx.t("schedule.am")),
        (ctx.t("schedule.pm"), codec.encode("sched_h", i=days, p=12), ctx.t("schedule.pm")),
    ]
    ctx.reply(messages.text(ctx.t("schedule.ask_half"), items))


@router.on(PostbackEvent, action("sched_h"))
async def ask_hour(ctx: EventContext) -> None:
    assert ctx.postback is not None
    days, start = ctx.postback.integer("i"), ctx.postback.integer("p")
    if days not in INTERVALS or start not in (0, 12):
        ctx.reply(messages.text(ctx.t("postback.invalid")))
        return
    codec = ctx.deps.postbacks
    items = [
        (label, codec.encode("sched_set", i=days, h=hour), label)
        for hour in range(start, start + 12)
        for label in [ctx.t("schedule.hour_choice", hour=hour)]
    ]
    ctx.reply(messages.text(ctx.t("schedule.ask_hour"), items))


@router.on(PostbackEvent, action("sched_set"))
async def set_schedule(ctx: EventContext) -> None:
    member = ctx.member
    assert member is not None and ctx.postback is not None
    days, hour = ctx.postback.integer("i"), ctx.postback.integer("h")
    try:
        schedule = Schedule(-1 if days is None else days, -1 if hour is None else hour)
    except ValueError:
        ctx.reply(messages.text(ctx.t("postback.invalid")))
        return
    now = ctx.deps.clock.now()
    async with unit_of_work(ctx.deps.db) as repos:
        next_due = await checkins.set_schedule(
            repos, ctx.deps.checkin_context, member, schedule, now
        )
        open_round = await repos.rounds.open_round(member.id)
    text = ctx.t(
        "schedule.saved",
        schedule=ctx.locale.schedule(schedule.interval_days, schedule.hour),
        next=ctx.locale.when(next_due),
    )
    if open_round is not None:
        text += "\n" + ctx.t("schedule.open_round_continues")
    ctx.reply(messages.text(text))


@router.on(PostbackEvent, action("sched_stop"))
async def stop_checkins(ctx: EventContext) -> None:
    member = ctx.member
    assert member is not None
    now = ctx.deps.clock.now()
    async with unit_of_work(ctx.deps.db) as repos:
        await repos.members.clear_schedule(member.id)
        await checkins.stop_checkins(repos, ctx.deps.checkin_context, member, "stopped", now)
    ctx.reply(messages.text(ctx.t("schedule.stopped")))
