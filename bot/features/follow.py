"""follow / unfollow: registering a person, and stopping everything when they block the bot."""

from __future__ import annotations

import logging

from linebot.v3.webhooks import FollowEvent, UnfollowEvent

from bot import messages
from bot.deps import EventContext
from bot.features.menu import main_menu
from bot.router import Router, from_person
from scheduler import checkins
from scheduler.schedule import first_due
from storage.repositories import unit_of_work

log = logging.getLogger("mimamori.follow")
router = Router("follow")


@router.on(FollowEvent, from_person)
async def on_follow(ctx: EventContext) -> None:
    member = ctx.member
    assert member is not None  # the dispatcher registers the person first
    now = ctx.deps.clock.now()
    schedule = checkins.schedule_of(member)
    async with unit_of_work(ctx.deps.db) as repos:
        if schedule is not None:
            # Back from a block: start again from the next hour, not from the missed ones.
            await repos.members.set_next_due(
                member.id, first_due(schedule, now, ctx.deps.settings.timezone)
            )
    returning = ctx.event.follow.is_unblocked if ctx.event.follow else False
    key = "follow.welcome_back" if returning else "follow.greeting"
    ctx.reply(messages.text(ctx.t(key, member_id=member.id)), main_menu(ctx))


@router.on(UnfollowEvent, from_person)
async def on_unfollow(ctx: EventContext) -> None:
    member = ctx.member
    if member is None:
        return
    now = ctx.deps.clock.now()
    async with unit_of_work(ctx.deps.db) as repos:
        await repos.members.block(member.id)
        told = await checkins.stop_checkins(
            repos, ctx.deps.checkin_context, member, "unfollow", now
        )
    log.info("member %s blocked the bot; %d managers told", member.id, told)
