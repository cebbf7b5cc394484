"""follow / unfollow: registering a person, and stopping everything when they block the bot; and
「見守り」 or mimamori's tab of the city's menu, how a person starts on a city's shared account
(where a follow enrols nobody).

Her first minute is one message: the greeting card, its start button above the fold (no help
text, no menu of chips pushing it up); the menu is at the bottom of the chat already."""

from __future__ import annotations

import logging

from linebot.v3.webhooks import FollowEvent, MessageEvent, PostbackEvent, UnfollowEvent

from bot.context import EventContext, PersonContext
from bot.features.menu import main_menu
from bot.router import Router, from_person, text_of
from bot.shared_account import opens_our_tab, start_words
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
    if member.interval_days is None and await people.only_watches(work, member):
        # She wrote first (an invite link opens the chat before the account is added) and
        # joined as a watcher: adding the account now is no start of her own check-ins.
        ctx.reply(messages.text(ctx.t("first_minute.welcome_watcher", member_id=member.id)))
        return
    ctx.reply(first_steps(ctx, member, "follow.greeting"))


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
    """「見守り」: what the service does and the person's 会員ID with one tap to begin (on a
    shared account this is where a person starts; on mimamori's own, the greeting again).
    Someone who has begun hears where things stand, with the menu: they are looking for it."""
    member = await people.come_back(ctx.work, ctx.member)
    if member.interval_days is None:
        ctx.reply(first_steps(ctx, member, "shared.greeting"))
        return
    ctx.reply(first_steps(ctx, member, "shared.greeting"), main_menu(ctx))


def switched_to_tab(ctx: EventContext) -> bool:
    """LINE's postback for a richmenuswitch to mimamori's tab (the city's tile carries the
    city's own data; what says it is mimamori's is the alias switched to)."""
    if not isinstance(ctx.event, PostbackEvent) or not from_person(ctx):
        return False
    return opens_our_tab(ctx.event.postback.params)


@router.on(PostbackEvent, switched_to_tab)
async def on_tab(ctx: PersonContext) -> None:
    """She opened mimamori's tab of the city's menu: someone who has not begun is greeted at
    once, one card with the start button; someone who has hears nothing (the tab is what
    they came for: 元気です, お休み・再開)."""
    if ctx.member.interval_days is None:
        ctx.reply(first_steps(ctx, ctx.member, "shared.greeting"))
