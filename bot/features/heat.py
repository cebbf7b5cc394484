"""暑い日の確認 from the chat: what it is and whether she gets it, one tap to start or stop
(the menu's item, or the buttons of the card it answers with)."""

from __future__ import annotations

from linebot.v3.webhooks import PostbackEvent

from bot.context import PersonContext
from bot.router import Router, action
from care.broadcasts import heat
from ground import messages

router = Router("heat")


@router.on(PostbackEvent, action("heat"))
async def on_heat(ctx: PersonContext) -> None:
    """Without a value: where she stands, with the button that changes it. With on or off:
    that choice, said back."""
    assert ctx.postback is not None
    if not ctx.services.settings.heat_areas:
        ctx.reply(messages.text(ctx.t("heat41.off_alerts")))
        return
    value = ctx.postback.get("v")
    work = ctx.work
    if value in ("on", "off"):
        await heat.set_opted_in(work, ctx.member, value == "on")
        ctx.reply(
            messages.text(ctx.t("heat41.turned_on" if value == "on" else "heat41.turned_off"))
        )
        return
    if value is not None:
        ctx.reply(messages.text(ctx.t("postback.invalid")))
        return
    opted_in, at_risk = await work.repos.heat.watch_of(ctx.member.id)
    codec = ctx.services.postbacks
    body = ctx.t("heat41.about_on" if opted_in else "heat41.about_off")
    if at_risk:
        body = f"{body}\n{ctx.t('heat41.at_risk')}"
    key = "heat41.off_button" if opted_in else "heat41.on_button"
    data = codec.encode("heat", v="off" if opted_in else "on")
    ctx.reply(messages.card(ctx.t("heat41.menu"), body, [(ctx.t(key), data, ctx.t(key))]))
