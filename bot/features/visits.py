"""A partner's answers to a visit request in the chat: 向かいます, 確認しました, what they
found."""

from __future__ import annotations

from linebot.v3.webhooks import PostbackEvent

from bot.context import PersonContext
from bot.router import Router, action
from care import partners
from ground import messages
from ground.telling import Telling

router = Router("visits")


@router.on(PostbackEvent, action("visit_go"))
async def on_going(ctx: PersonContext) -> None:
    assert ctx.postback is not None
    await partners.going(ctx.work, ctx.member, ctx.postback.integer("v"))
    ctx.reply(messages.text(ctx.t("visit.going_thanks")))


@router.on(PostbackEvent, action("visit_seen"))
async def on_seen(ctx: PersonContext) -> None:
    """確認しました: the outcomes to choose from, as a card (more than a quick reply shows
    well)."""
    assert ctx.postback is not None
    request = await partners.seen(ctx.work, ctx.member, ctx.postback.integer("v"))
    choices = partners.outcome_choices(ctx.work, ctx.locale, request.visit.id)
    card = Telling.card(
        ctx.locale.language, ctx.t("visit.what_found"), ctx.t("visit.pick"), choices
    )
    ctx.reply(messages.render(card, ctx.locale))


@router.on(PostbackEvent, action("visit_out"))
async def on_found(ctx: PersonContext) -> None:
    assert ctx.postback is not None
    outcome = ctx.postback.get("o")
    await partners.found(ctx.work, ctx.member, ctx.postback.integer("v"), outcome)
    key = "visit.recorded_open" if outcome == partners.NOT_HOME else "visit.recorded"
    ctx.reply(messages.text(ctx.t(key)))
