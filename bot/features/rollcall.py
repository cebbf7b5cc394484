"""災害時の安否確認 in the chat: answers (1:1 and in groups), a manager's 「状況」 and start."""

from __future__ import annotations

from linebot.v3.webhooks import MessageEvent, PostbackEvent

from bot.context import EventContext, GroupContext, PersonContext
from bot.features.groups import current_group, learn_member, tapper
from bot.router import Router, action, from_person, group_action, text_of
from care.broadcasts import rollcall
from care.members import teams
from ground import messages
from storage.models import Role

router = Router("rollcall")


def _answer(ctx: EventContext) -> str | None:
    assert ctx.postback is not None
    value = ctx.postback.get("v")
    return value if value in rollcall.ANSWERS else None


@router.on(PostbackEvent, action("rc"))
async def on_answer(ctx: PersonContext) -> None:
    assert ctx.postback is not None
    value = _answer(ctx)
    if value is None:
        ctx.reply(messages.text(ctx.t("postback.invalid")))
        return
    work = ctx.work
    told = await rollcall.answer(work, ctx.postback.integer("r"), ctx.member, value)
    ctx.reply(messages.text(ctx.t(f"rollcall.thanks_{value}", count=told)))


@router.on(PostbackEvent, group_action("grc"))
async def on_group_answer(ctx: GroupContext) -> None:
    """Answered by name in the group, as check-ins are."""
    assert ctx.postback is not None
    value = _answer(ctx)
    user_id = tapper(ctx)
    if value is None or user_id is None:
        ctx.reply(
            messages.text(ctx.t("postback.invalid" if value is None else "group.needs_message"))
        )
        return
    group = await current_group(ctx)
    name = await learn_member(ctx, group, user_id)
    work = ctx.work
    await rollcall.answer_in_group(work, ctx.postback.integer("r"), group, user_id, name, value)
    answer = ctx.t(f"rollcall.{value}")
    ctx.reply(messages.text(ctx.t("rollcall.group_answer", name=name, answer=answer)))


def _asks_status(ctx: EventContext) -> bool:
    if not from_person(ctx) or ctx.member.dialog:  # a team name is awaited, say
        return False
    words = {w.strip().lower() for w in ctx.t("rollcall.status_words").split(",")}
    return (text_of(ctx) or "").strip().lower() in words


@router.on(MessageEvent, _asks_status)
async def on_status(ctx: PersonContext) -> None:
    """「状況」: the tally of each open roll-call, for the teams the person manages."""
    lines = []
    work = ctx.work
    managed = {
        team.id: team
        for team, role in await work.repos.teams.teams_of(ctx.member.id)
        if role is Role.MANAGER
    }
    for call in await work.repos.rollcalls.recent():
        if not call.open or not managed:
            continue
        for team_id, team in managed.items():
            counts = (await rollcall.tally(work, call.id, {team_id})).counts
            if sum(counts.values()):
                lines.append(ctx.t("rollcall.status_line", team=team.name, **counts))
    ctx.reply(messages.text("\n".join(lines) or ctx.t("rollcall.status_none")))


@router.on(PostbackEvent, action("rc_ask"))
async def ask_start(ctx: PersonContext) -> None:
    """A team's manager starts a roll-call of that team: first, what it will do."""
    assert ctx.postback is not None
    team_id = ctx.postback.integer("t")
    work = ctx.work
    team = await teams.team_by_id(work, team_id)
    found = await rollcall.team_plan(work, ctx.member, team.id)
    yes, cancel = ctx.t("rollcall.start_yes"), ctx.t("menu.cancel")
    codec = ctx.services.postbacks
    ctx.reply(
        messages.text(
            ctx.t("rollcall.start_confirm", team=team.name, count=len(found.people)),
            [
                (yes, codec.encode("rc_start", t=team.id), yes),
                (cancel, codec.encode("cancel"), cancel),
            ],
        )
    )


@router.on(PostbackEvent, action("rc_start"))
async def start(ctx: PersonContext) -> None:
    assert ctx.postback is not None
    left = ctx.lookups.quota_left  # asked of LINE before the batch's transaction
    work = ctx.work
    found = await rollcall.start_for_team(work, ctx.member, ctx.postback.integer("t"), left)
    ctx.reply(messages.text(ctx.t("rollcall.started", count=len(found.people))))
