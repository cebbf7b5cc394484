"""The main menu, help, and the answer to anything the bot did not understand."""

from __future__ import annotations

from linebot.v3.webhooks import MessageEvent, PostbackEvent

from bot.context import EventContext, PersonContext
from bot.router import Router, action, from_person
from care.members import people
from ground import messages
from ground.rich_menu import TAB_BACK

router = Router("menu")


def main_menu(ctx: EventContext, prompt_key: str = "menu.prompt") -> messages.Message:
    codec = ctx.services.postbacks
    items = [
        (ctx.t("menu.schedule"), codec.encode("sched"), ctx.t("menu.schedule")),
        (ctx.t("menu.status"), codec.encode("status"), ctx.t("menu.status")),
        (ctx.t("menu.new_team"), codec.encode("team_new"), ctx.t("menu.new_team")),
        (ctx.t("menu.teams"), codec.encode("teams"), ctx.t("menu.teams")),
        (ctx.t("menu.join"), codec.encode("join_help"), ctx.t("menu.join")),
        (ctx.t("menu.help"), codec.encode("help"), ctx.t("menu.help")),
        # Only where the city reads the heat alerts: nothing to opt in to otherwise.
        *(
            [(ctx.t("heat41.menu"), codec.encode("heat"), ctx.t("heat41.menu"))]
            if ctx.services.settings.heat_areas
            else []
        ),
        (ctx.t("menu.language"), codec.encode("lang_ask"), ctx.t("menu.language")),
    ]
    return messages.text(ctx.t(prompt_key), items)


@router.on(PostbackEvent, action("lang_ask"))
async def ask_language(ctx: PersonContext) -> None:
    """ことば: each language named in itself, so anyone finds theirs."""
    codec = ctx.services.postbacks
    items = [
        (name, codec.encode("lang", v=language), name)
        for language in ctx.services.i18n.languages
        for name in [ctx.services.i18n.get(language).t("language.name")]
    ]
    ctx.reply(messages.text(ctx.t("language.ask"), items))


@router.on(PostbackEvent, action("lang"))
async def choose_language(ctx: PersonContext) -> None:
    assert ctx.postback is not None
    member = await people.choose_language(ctx.work, ctx.member, ctx.postback.get("v"))
    locale = ctx.services.i18n.get(member.language)
    ctx.reply(messages.text(locale.t("language.saved", name=locale.t("language.name"))))


@router.on(PostbackEvent, action("menu"))
async def on_menu(ctx: PersonContext) -> None:
    ctx.reply(main_menu(ctx))


@router.on(PostbackEvent, action("help"))
async def on_help(ctx: PersonContext) -> None:
    ctx.reply(messages.text(ctx.t("help.body")), main_menu(ctx))


@router.on(PostbackEvent, action("join_help"))
async def on_join_help(ctx: PersonContext) -> None:
    ctx.reply(messages.text(ctx.t("invite.how_to_join")))


@router.on(PostbackEvent, action(TAB_BACK))
async def on_tab_back(ctx: PersonContext) -> None:
    """The city's tab led back to the city's menu: LINE has switched it; nothing to say."""


@router.on(PostbackEvent, action("cancel"))
async def on_cancel(ctx: PersonContext) -> None:
    if ctx.member.dialog is not None:
        repos = ctx.work.repos
        await repos.members.set_dialog(ctx.member.id, None)
    ctx.reply(main_menu(ctx, "menu.cancelled"))


@router.on(MessageEvent, from_person)
async def on_anything_else(ctx: PersonContext) -> None:
    # A sign of life was already acknowledged by the check-in observer; add the menu only
    # when the person seems to be looking for something.
    if not ctx.replies:
        ctx.reply(main_menu(ctx))
