"""A partner in the chat: the one-time code that makes this LINE theirs (or, of the same form,
the code on the city's letter to a person on its roster), and their answers to a visit
request (向かいます, 確認しました, what they found)."""

from __future__ import annotations

from linebot.v3.webhooks import MessageEvent, PostbackEvent

from bot.context import EventContext, PersonContext
from bot.refusals import refusal_message
from bot.router import Router, action, from_person, text_of
from care.desk import partners
from care.errors import Refused
from care.roster import letters
from ground import link_codes, messages
from ground.telling import Telling

router = Router("visits")


def _code_in(ctx: EventContext) -> bool:
    text = text_of(ctx)
    return text is not None and link_codes.find_code(text) is not None


@router.on(MessageEvent, lambda ctx: from_person(ctx) and _code_in(ctx))
async def code_sent(ctx: PersonContext) -> None:
    """The code the console showed for a partner, sent from their own LINE: requests come
    here from now on. The reply names the partner as the desk registered them (nothing of
    anyone else)."""
    code = link_codes.find_code(text_of(ctx) or "")
    # The city's letter to a person on its roster carries a code of the same form.
    person = await letters.link_by_code(ctx.work, ctx.member, code) if code else None
    if isinstance(person, letters.Declined):
        ctx.reply(refusal_message(ctx.locale, Refused(person.refusal)))
        return
    if person is not None:
        ctx.reply(messages.text(ctx.t("register41.joined")))
        return
    partner = await partners.link_by_code(ctx.work, ctx.member, code)
    ctx.reply(messages.text(ctx.t("visit.linked", name=partner.name)))


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
