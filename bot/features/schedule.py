"""Choosing one's check-in interval and hour from quick replies; pausing, resuming, stopping."""

from __future__ import annotations

from datetime import datetime, timedelta

from linebot.v3.webhooks import PostbackEvent

from bot.context import EventContext, GroupContext, PersonContext
from bot.router import Router, action, group_action
from care.members import people, schedules
from care.rounds import alerts, status
from care.rounds.notify import display_name
from care.rounds.schedule import INTERVALS, Schedule
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
    ctx: EventContext,
    scope: str,
    schedule: Schedule,
    next_due: datetime,
    round_open: bool,
    nobody_hears: bool = False,
) -> messages.Message:
    """The confirmation of a new schedule (`scope`: "schedule" for a person, "group");
    `nobody_hears`: no watcher and no desk would hear of a missed one, and she is told so."""
    text = ctx.t(
        f"{scope}.saved",
        schedule=ctx.locale.schedule(schedule.interval_days, schedule.hour),
        next=ctx.locale.when(next_due),
    )
    if round_open:
        # The round already under way keeps its ladder (or its report) to the end.
        text += "\n" + ctx.t(f"{scope}.open_round_continues")
    if nobody_hears:
        # No promise of watchers she does not have: what happens if she does not answer.
        text += "\n\n" + ctx.t("checkin.nobody_hears")
    return messages.text(text)


def _prefix(ctx: EventContext) -> str:
    assert ctx.postback is not None
    return "g_" if ctx.postback.action.startswith("g_") else ""


@router.on(PostbackEvent, action("sched"))
async def schedule_card(ctx: PersonContext) -> None:
    """安否確認の設定: where things stand, and every choice as a big button on one card (the
    usual times, お休み or 再開, 止める, テスト送信); 「ほかの時間」 opens the three steps."""
    member = ctx.member
    codec = ctx.services.postbacks
    state = await status.state_of(ctx.work, member)
    buttons: list[messages.QuickItem] = [
        (c.label, c.data, c.label) for c in schedules.schedule_choices(ctx.work, ctx.locale)
    ]
    more = ctx.t("schedule.more")
    buttons.append((more, codec.encode("sched_more"), more))
    if member.interval_days is not None:
        buttons.append(_pause_or_resume(ctx, state))
        stop = ctx.t("schedule.stop")
        buttons.append((stop, codec.encode("sched_stop"), stop))
        test = ctx.t("test.button")
        buttons.append((test, codec.encode("test_send"), test))
    body = ctx.t(
        "schedule.card_body",
        current=ctx.locale.schedule(member.interval_days, member.checkin_hour),
        next=status.describe_checkins(ctx.locale, state),
    )
    ctx.reply(messages.card(ctx.t("schedule.card_title"), body, buttons))


def _pause_or_resume(ctx: EventContext, state: status.CheckinState) -> messages.QuickItem:
    codec = ctx.services.postbacks
    if state.paused:
        label = ctx.t("pause.resume_button")
        return (label, codec.encode("resume"), label)
    label = ctx.t("pause.button")
    return (label, codec.encode("pause_ask"), label)


@router.on(PostbackEvent, action("sched_more"))
async def ask_interval(ctx: PersonContext) -> None:
    """Any other schedule: the interval, then morning or afternoon, then the hour."""
    member = ctx.member
    current = ctx.locale.schedule(member.interval_days, member.checkin_hour)
    ctx.reply(interval_question(ctx, "", current, []))


@router.on(PostbackEvent, action("sched_family"))
async def let_family_choose(ctx: PersonContext) -> None:
    """家族に設定してもらう: the managers may set her time; they are asked now, or as they
    join her team."""
    told = await schedules.let_managers_schedule(ctx.work, ctx.member)
    if told:
        names = "、".join(display_name(ctx.locale, m) for m in told)
        ctx.reply(messages.text(ctx.t("schedule.family_asked", names=names)))
        return
    label = ctx.t("menu.new_team")
    team = (label, ctx.services.postbacks.encode("team_new"), label)
    ctx.reply(messages.text(ctx.t("schedule.family_waiting"), [team]))


@router.on(PostbackEvent, action("pause_menu"))
async def pause_menu(ctx: PersonContext) -> None:
    """お休み・再開 on the menu: the way back when resting, else the lengths to rest for."""
    state = await status.state_of(ctx.work, ctx.member)
    if state.paused:
        label, data, shown = _pause_or_resume(ctx, state)
        body = ctx.t("pause.now", state=status.describe_checkins(ctx.locale, state))
        ctx.reply(messages.card(ctx.t("pause.title"), body, [(label, data, shown)]))
        return
    await ask_pause(ctx)


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
    assert ctx.postback is not None
    if ctx.postback.get("m"):
        # A manager, for a person who asked them to (家族に設定してもらう).
        person, next_due = await schedules.schedule_for(
            work, member, ctx.postback.integer("m"), schedule
        )
        text = ctx.t(
            "schedule.set_for",
            name=display_name(ctx.locale, person),
            schedule=ctx.locale.schedule(schedule.interval_days, schedule.hour),
            next=ctx.locale.when(next_due),
        )
        ctx.reply(messages.text(text))
        return
    next_due = await schedules.set_schedule(work, member, schedule)
    open_round = await work.repos.rounds.open_round(member.id)
    alone = await people.heard_by_nobody(work, member)
    ctx.reply(schedule_saved(ctx, "schedule", schedule, next_due, open_round is not None, alone))


async def asked_first(ctx: PersonContext, what: str) -> bool:
    """Pausing or stopping while an alert about her is open: she is asked first, and told that
    the alert stays open until someone who watches her is sure (only her later check-ins
    rest). -> True when the question went out instead (her yes carries c=1)."""
    assert ctx.postback is not None
    if ctx.postback.integer("c") == 1 or not await alerts.alert_open(ctx.work, ctx.member):
        return False
    fields = {k: v for k, v in ctx.postback.fields.items() if k not in ("a", "s")}
    yes = ctx.t(f"pause.alert_open_{what}")
    cancel = ctx.t("menu.cancel")
    codec = ctx.services.postbacks
    items = [
        (yes, codec.encode(ctx.postback.action, c=1, **fields), yes),
        (cancel, codec.encode("cancel"), cancel),
    ]
    ctx.reply(messages.card(ctx.t("pause.alert_open_title"), ctx.t("pause.alert_open"), items))
    return True


@router.on(PostbackEvent, action("sched_stop"))
async def stop_checkins(ctx: PersonContext) -> None:
    member = ctx.member
    work = ctx.work
    if await asked_first(ctx, "stop"):
        return
    await schedules.stop(work, member)
    ctx.reply(messages.text(ctx.t("schedule.stopped")))


@router.on(PostbackEvent, action("pause_ask"))
async def ask_pause(ctx: PersonContext) -> None:
    """How long to rest (入院・旅行): a few lengths counted from today, or 退院するまで."""
    if ctx.member.interval_days is None:
        ctx.reply(messages.text(ctx.t("pause.no_checkins")))
        return
    codec = ctx.services.postbacks
    items = [
        (label, codec.encode("pause", d=days), label)
        for days in PAUSE_CHOICES
        for label in [ctx.t("pause.for_days", days=days)]
    ]
    until_home = ctx.t("pause.until_home")
    items.append((until_home, codec.encode("pause", o=1), until_home))
    cancel = ctx.t("menu.cancel")
    items.append((cancel, codec.encode("cancel"), cancel))
    ctx.reply(messages.card(ctx.t("pause.title"), ctx.t("pause.ask"), items))


@router.on(PostbackEvent, action("pause"))
async def pause(ctx: PersonContext) -> None:
    member = ctx.member
    assert ctx.postback is not None
    work = ctx.work
    if await asked_first(ctx, "pause"):
        return
    if ctx.postback.integer("o") == 1:
        await schedules.pause(work, member, None, open_ended=True)
        told = await _who_heard(ctx)
        ctx.reply(messages.text(ctx.t("pause.saved_open", told=told, back=way_back(ctx))))
        return
    days = ctx.postback.integer("d")
    if days not in PAUSE_CHOICES:
        ctx.reply(messages.text(ctx.t("postback.invalid")))
        return
    today = ctx.services.clock.now().astimezone(ctx.services.timezone).date()
    until = today + timedelta(days=days)
    resume_at = await schedules.pause(work, member, until)
    text = ctx.t(
        "pause.saved",
        until=ctx.locale.day(until),
        next=ctx.locale.when(resume_at),
        told=await _who_heard(ctx),
    )
    ctx.reply(messages.text(text))


async def _who_heard(ctx: PersonContext) -> str:
    """Who heard of her pause, truly: her watchers by name, or nobody (none watches her)."""
    watching = await ctx.work.repos.teams.managers_watching(ctx.member.id)
    if not watching:
        return ctx.t("first_minute.told.nobody")
    names = "、".join(display_name(ctx.locale, m) for m in watching)
    return ctx.t("first_minute.told.watchers", names=names)


def way_back(ctx: EventContext) -> str:
    """How she resumes, naming only what her kind of account shows her: the menu's
    お休み・再開 (mimamori's own menu, or its tab of the city's), else the weekly reminder's
    再開する button."""
    return ctx.t(f"first_minute.back.{ctx.services.settings.menus}")


@router.on(PostbackEvent, action("resume"))
async def resume(ctx: PersonContext) -> None:
    member = ctx.member
    # Not paused: care.members.people refuses (pause.not_paused), as it does for My page.
    work = ctx.work
    next_at = await schedules.resume(work, member)
    ctx.reply(messages.text(ctx.t("pause.resumed", next=ctx.locale.when(next_at))))
