"""follow / unfollow: registering a person, and stopping everything when they block the bot; and
「見守り」, how a person starts on a city's shared account (where a follow enrols nobody)."""

from __future__ import annotations

import logging

from linebot.v3.webhooks import FollowEvent, MessageEvent, UnfollowEvent

from bot.context import EventContext, PersonContext
from bot.features.menu import main_menu
from bot.router import Router, from_person, text_of
from bot.shared_account import start_words
from care.members import people, schedules
from ground import messages
from storage.models import Member

log = logging.getLogger("mimamori.follow")
router = Router("follow")


@router.on(FollowEvent, from_person)
async def on_follow(ctx: PersonContext) -> None:
    member = ctx.member
    work = ctx.work
    member = await people.come_back(work, member)
    returning = ctx.event.follow.is_unblocked if ctx.event.follow else False
    if returning:
        ctx.reply(messages.text(ctx.t("follow.welcome_back", member_id=member.id)), main_menu(ctx))
        return
    ctx.reply(first_steps(ctx, member, "follow.greeting"), main_menu(ctx))


def first_steps(ctx: EventContext, member: Member, key: str) -> messages.Message:
    """The greeting: what happens next, and one tap to begin (毎日 朝9時), or the family sets
    it. Someone who has a schedule already hears only where things stand."""
    codec = ctx.services.postbacks
    body = ctx.t(key, member_id=member.id)
    if member.interval_days is not None:
        return messages.text(body)
    start, family = ctx.t("follow.start_button"), ctx.t("follow.family_button")
    first = schedules.USUAL_SCHEDULES[0]
    buttons = [
        (start, codec.encode("sched_set", i=first.interval_days, h=first.hour), start),
        (family, codec.encode("sched_family"), family),
    ]
    return messages.card(ctx.t("follow.greeting_title"), body, buttons)


@router.on(UnfollowEvent, from_person)
async def on_unfollow(ctx: PersonContext) -> None:
    member = ctx.member
    told = await people.block(ctx.work, member)
    log.info("member %s blocked the bot; %d managers told", member.id, told)


def _asks_to_start(ctx: EventContext) -> bool:
    text = text_of(ctx)
    if not from_person(ctx) or ctx.member.dialog or text is None:
        return False
    return text.strip().lower() in start_words(ctx.services.i18n)


@router.on(MessageEvent, _asks_to_start)
async def on_start(ctx: PersonContext) -> None:
    """「見守り」: what the service does and the person's 会員ID, then the menu (on a shared
    account this is where a person starts; on mimamori's own, the greeting again)."""
    member = await people.come_back(ctx.work, ctx.member)
    ctx.reply(first_steps(ctx, member, "shared.greeting"), main_menu(ctx))
