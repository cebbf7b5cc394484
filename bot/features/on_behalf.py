"""Her はい or いいえ to what the staff asked to do for her (care.members.on_behalf)."""

from __future__ import annotations

from linebot.v3.webhooks import PostbackEvent

from bot.context import PersonContext
from bot.router import Router, action
from care.members import on_behalf
from ground import messages

router = Router("on_behalf")


@router.on(PostbackEvent, action("behalf"))
async def answered(ctx: PersonContext) -> None:
    assert ctx.postback is not None
    said = await on_behalf.answer(
        ctx.work, ctx.member, ctx.postback.integer("q"), ctx.postback.integer("y") == 1
    )
    ctx.reply(messages.text(ctx.t(said.said, **said.values)))
