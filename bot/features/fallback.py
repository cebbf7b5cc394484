"""Postbacks the bot did not sign or no longer knows: say so, change nothing."""

from __future__ import annotations

import logging

from linebot.v3.webhooks import PostbackEvent

from bot.context import PersonContext
from bot.router import Router, from_person
from ground import messages

log = logging.getLogger("mimamori.fallback")
router = Router("fallback")


@router.on(PostbackEvent, from_person)
async def unknown_postback(ctx: PersonContext) -> None:
    # Not the data itself: a forged or stale postback may carry anything, a person's words
    # included, and logs outlive 退会.
    log.warning("postback refused (%d characters)", len(ctx.event.postback.data or ""))
    ctx.reply(messages.text(ctx.t("postback.invalid")))
