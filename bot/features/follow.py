"""follow / unfollow: registering a person, and stopping everything when they block the bot."""

from __future__ import annotations

import logging

from linebot.v3.webhooks import FollowEvent, UnfollowEvent

from bot.context import PersonContext
from bot.features.menu import main_menu
from bot.router import Router, from_person
from care import people
from ground import messages

log = logging.getLogger("mimamori.follow")
router = Router("follow")


@router.on(FollowEvent, from_person)
async def on_follow(ctx: PersonContext) -> None:
    member = ctx.member
    work = ctx.work
    member = await people.come_back(work, member)
    returning = ctx.event.follow.is_unblocked if ctx.event.follow else False
    key = "follow.welcome_back" if returning else "follow.greeting"
    ctx.reply(messages.text(ctx.t(key, member_id=member.id)), main_menu(ctx))


@router.on(UnfollowEvent, from_person)
async def on_unfollow(ctx: PersonContext) -> None:
    member = ctx.member
    told = await people.block(ctx.work, member)
    log.info("member %s blocked the bot; %d managers told", member.id, told)
