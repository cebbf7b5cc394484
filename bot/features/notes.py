"""A note to the other watchers while an alert is open: asked for from her card (the alert's
詳しく見る), written as the next message, sent to the others with the alert's buttons."""

from __future__ import annotations

import json

from linebot.v3.webhooks import MessageEvent, PostbackEvent

from bot.context import EventContext, PersonContext
from bot.features import checkin
from bot.refusals import refusal_message
from bot.router import Router, action, from_person, text_of
from care.errors import Refusal, Refused
from care.rounds import notes
from care.rounds.notify import display_name
from ground import messages

router = Router("notes")

AWAIT = "alert_note"


def _awaited_round(ctx: EventContext) -> int | None:
    """The alert a note is being written about (the member's dialog), or None."""
    if not from_person(ctx) or not ctx.member.dialog:
        return None
    try:
        dialog = json.loads(ctx.member.dialog)
    except ValueError:
        return None
    if not isinstance(dialog, dict) or dialog.get("await") != AWAIT:
        return None
    round_id = dialog.get("r")
    return round_id if isinstance(round_id, int) else None


def _cancel(ctx: EventContext) -> messages.QuickItem:
    label = ctx.t("menu.cancel")
    return (label, ctx.services.postbacks.encode("cancel"), label)


@router.on(PostbackEvent, action("note_ask"))
async def ask_for_note(ctx: PersonContext) -> None:
    """見守る方へ一言: who will read it, and the next message is the note."""
    assert ctx.postback is not None
    alert = await notes.alert_for_note(ctx.work, ctx.member, ctx.postback.integer("r"))
    if not alert.others:
        name = display_name(ctx.locale, alert.person)
        ctx.reply(messages.text(ctx.t("first_minute.note.nobody", name=name)))
        return
    dialog = json.dumps({"await": AWAIT, "r": alert.round_id})
    await ctx.work.repos.members.set_dialog(ctx.member.id, dialog)
    names = "、".join(display_name(ctx.locale, m) for m in alert.others)
    text = ctx.t("first_minute.note.ask", names=names, max=notes.NOTE_MAX)
    ctx.reply(messages.text(text, [_cancel(ctx)]))


@router.on(MessageEvent, lambda ctx: _awaited_round(ctx) is not None)
async def write_note(ctx: PersonContext) -> None:
    """The note itself (before words of distress are looked for: a watcher writing that she
    「動けない」 is writing about her, not asking for help)."""
    note = notes.clean_note(text_of(ctx))
    if note is None:
        text = ctx.t("first_minute.note.too_long", max=notes.NOTE_MAX)
        ctx.reply(messages.text(text, [_cancel(ctx)]))
        return
    await ctx.work.repos.members.set_dialog(ctx.member.id, None)
    try:
        async with ctx.work.repos.savepoint():
            alert = await notes.send_note(ctx.work, ctx.member, _awaited_round(ctx), note)
    except Refused as refused:
        # The note cannot go: the dialog ends all the same (a refusal undoing its end kept
        # every later message a note, refused too). Once the alert itself is gone (closed, or
        # she is no longer theirs to watch) the dialog was stale, and words of distress are
        # the writer's own: they take the help path, as they would have without it.
        if refused.reason is not Refusal.TOO_OFTEN and checkin.distress(ctx):
            await checkin.words_of_distress(ctx)
            return
        ctx.reply(refusal_message(ctx.locale, refused))
        return
    if not alert.others:
        name = display_name(ctx.locale, alert.person)
        ctx.reply(messages.text(ctx.t("first_minute.note.nobody", name=name)))
        return
    names = "、".join(display_name(ctx.locale, m) for m in alert.others)
    ctx.reply(messages.text(ctx.t("first_minute.note.sent", names=names)))
