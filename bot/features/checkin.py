"""Answers to check-ins: the OK button, any message as a sign of life, and one's status."""

from __future__ import annotations

from datetime import UTC, datetime

from linebot.v3.webhooks import MessageEvent, PostbackEvent

from bot import messages
from bot.deps import EventContext
from bot.router import Router, action, from_person
from scheduler import checkins
from storage.models import Member, RoundState
from storage.repositories import Repositories, unit_of_work

router = Router("checkin")


def _has_member(ctx: EventContext) -> bool:
    return from_person(ctx) and ctx.member is not None


@router.observe(MessageEvent, _has_member)
async def sign_of_life(ctx: EventContext) -> None:
    """A text or sticker from the person while a round is open counts as their answer."""
    member = ctx.member
    assert member is not None
    now = ctx.deps.clock.now()
    async with unit_of_work(ctx.deps.db) as repos:
        if await repos.rounds.open_round(member.id) is None:
            return
        closed = await checkins.close_open_round(
            repos, ctx.deps.checkin_context, member, "message", now
        )
    if closed is not None:
        _acknowledge(ctx, member, closed.state, "checkin.thanks_message")


@router.on(PostbackEvent, action("ok"))
async def on_ok(ctx: EventContext) -> None:
    """OK closes the person's open round, whichever check-in message the button was on:
    any tap proves they are there now. With no round open it only says thank you."""
    member = ctx.member
    assert member is not None and ctx.postback is not None
    slot_epoch = ctx.postback.integer("t")
    if slot_epoch is None:
        ctx.reply(messages.text(ctx.t("postback.invalid")))
        return
    now = ctx.deps.clock.now()
    async with unit_of_work(ctx.deps.db) as repos:
        closed = await checkins.close_open_round(
            repos, ctx.deps.checkin_context, member, "ok", now
        )
        member = await repos.members.get(member.id) or member
    if closed is None:
        tapped = datetime.fromtimestamp(slot_epoch, UTC)
        ctx.reply(
            messages.text(
                ctx.t("checkin.already", slot=ctx.locale.when(tapped), next=_next(ctx, member))
            )
        )
        return
    _acknowledge(ctx, member, closed.state, "checkin.thanks")


def _acknowledge(ctx: EventContext, member: Member, state: RoundState, key: str) -> None:
    ctx.reply(messages.text(ctx.t(key, next=_next(ctx, member))))
    if state is RoundState.ALERTED:
        ctx.reply(messages.text(ctx.t("checkin.managers_told")))


def _next(ctx: EventContext, member: Member) -> str:
    return ctx.locale.when(member.next_due_at) if member.next_due_at else ctx.t("schedule.none")


@router.on(PostbackEvent, action("status"))
async def on_status(ctx: EventContext) -> None:
    member = ctx.member
    assert member is not None
    async with unit_of_work(ctx.deps.db) as repos:
        ctx.reply(messages.text(await describe_member(ctx, repos, member, own=True)))


@router.on(PostbackEvent, action("member"))
async def on_member_details(ctx: EventContext) -> None:
    """A manager's look at a user of their team (the alert's button); nobody else's."""
    viewer = ctx.member
    assert viewer is not None and ctx.postback is not None
    member_id = ctx.postback.integer("m")
    async with unit_of_work(ctx.deps.db) as repos:
        member = await repos.members.get(member_id) if member_id else None
        allowed = member is not None and (
            member.id == viewer.id or await repos.teams.is_manager_of(viewer.id, member.id)
        )
        if member is None or not allowed:
            ctx.reply(messages.text(ctx.t("member.not_allowed")))
            return
        ctx.reply(
            messages.text(await describe_member(ctx, repos, member, own=member.id == viewer.id))
        )


async def describe_member(
    ctx: EventContext, repos: Repositories, member: Member, own: bool
) -> str:
    locale = ctx.locale
    current = await repos.rounds.open_round(member.id)
    state = current.state.value if current is not None else "none"
    managers = await repos.teams.managers_watching(member.id)
    if member.interval_days is None:
        watchers = ctx.t("status.no_checkins")
    elif managers:
        names = "、".join(checkins.display_name(locale, m) for m in managers)
        watchers = ctx.t("status.watchers", names=names)
    else:
        watchers = ctx.t("status.nobody_alerted")
    return ctx.t(
        "status.own" if own else "status.other",
        name=checkins.display_name(locale, member),
        member_id=member.id,
        registered=locale.when(member.registered_at),
        active=ctx.t(f"status.member.{member.status}"),
        schedule=locale.schedule(member.interval_days, member.checkin_hour),
        next=_next(ctx, member),
        last_ok=locale.when(member.last_ok_at),
        round=ctx.t(f"status.round.{state}"),
        watchers=watchers,
    )
