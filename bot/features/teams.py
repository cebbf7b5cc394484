"""Teams from the chat: create (name it, pick a role), list, members, leave, rotate codes."""

from __future__ import annotations

import json
import unicodedata

from linebot.v3.webhooks import MessageEvent, PostbackEvent

from bot import messages
from bot.deps import EventContext
from bot.features.invites import ensure_invites, invite_messages
from bot.router import Router, action, from_person, text_of
from scheduler import checkins
from scheduler.schedule import Schedule
from storage.models import Member, Role, Team
from storage.repositories import Repositories, unit_of_work

router = Router("teams")

TEAM_NAME_MAX = 30
TEAM_LIST_MAX = 12  # quick replies, leaving one for the menu
DEFAULT_TEAM_SCHEDULE = Schedule(interval_days=1, hour=9)


def _dialog(member: Member | None) -> dict[str, str]:
    if member is None or not member.dialog:
        return {}
    try:
        value = json.loads(member.dialog)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def clean_team_name(text: str) -> str | None:
    name = " ".join(unicodedata.normalize("NFKC", text).split())
    if not 1 <= len(name) <= TEAM_NAME_MAX:
        return None
    if any(unicodedata.category(char).startswith("C") for char in name):
        return None
    return name


def _cancel_item(ctx: EventContext) -> messages.QuickItem:
    return (ctx.t("menu.cancel"), ctx.deps.postbacks.encode("cancel"), ctx.t("menu.cancel"))


@router.on(PostbackEvent, action("team_new"))
async def ask_team_name(ctx: EventContext) -> None:
    assert ctx.member is not None
    async with unit_of_work(ctx.deps.db) as repos:
        await repos.members.set_dialog(ctx.member.id, json.dumps({"await": "team_name"}))
    ctx.reply(messages.text(ctx.t("team.ask_name", max=TEAM_NAME_MAX), [_cancel_item(ctx)]))


@router.on(
    MessageEvent,
    lambda ctx: from_person(ctx) and _dialog(ctx.member).get("await") == "team_name",
)
async def receive_team_name(ctx: EventContext) -> None:
    assert ctx.member is not None
    name = clean_team_name(text_of(ctx) or "")
    if name is None:
        ctx.reply(messages.text(ctx.t("team.bad_name", max=TEAM_NAME_MAX), [_cancel_item(ctx)]))
        return
    async with unit_of_work(ctx.deps.db) as repos:
        dialog = json.dumps({"await": "team_role", "name": name}, ensure_ascii=False)
        await repos.members.set_dialog(ctx.member.id, dialog)
    codec = ctx.deps.postbacks
    items = [
        (label, codec.encode("team_create", r=role.value), label)
        for role in Role
        for label in [ctx.t(f"team.as_{role.value}")]
    ]
    ctx.reply(messages.text(ctx.t("team.ask_role", team=name), [*items, _cancel_item(ctx)]))


@router.on(PostbackEvent, action("team_create"))
async def create_team(ctx: EventContext) -> None:
    member = ctx.member
    assert member is not None and ctx.postback is not None
    name = _dialog(member).get("name")
    role_value = ctx.postback.get("r")
    if not name or role_value not in (Role.USER.value, Role.MANAGER.value):
        ctx.reply(messages.text(ctx.t("team.no_pending")))
        return
    role = Role(role_value)
    now = ctx.deps.clock.now()
    default = DEFAULT_TEAM_SCHEDULE
    async with unit_of_work(ctx.deps.db) as repos:
        team = await repos.teams.create(name, default.interval_days, default.hour, now)
        await repos.teams.add_member(team.id, member.id, role, now)
        await repos.members.set_dialog(member.id, None)
        if role is Role.USER and member.interval_days is None:
            await checkins.set_schedule(repos, ctx.deps.checkin_context, member, default, now)
        invites = await ensure_invites(repos, team, now)
    ctx.reply(
        messages.text(
            ctx.t(
                f"team.created.{role.value}",
                team=team.name,
                schedule=ctx.locale.schedule(default.interval_days, default.hour),
            )
        )
    )
    # A user who made the team invites a manager next, and the other way round.
    other = Role.MANAGER if role is Role.USER else Role.USER
    ctx.reply(*(await invite_messages(ctx, team, invites, first_qr=other))[:4])


@router.on(PostbackEvent, action("teams"))
async def list_teams(ctx: EventContext) -> None:
    assert ctx.member is not None
    async with unit_of_work(ctx.deps.db) as repos:
        teams = await repos.teams.teams_of(ctx.member.id)
    if not teams:
        ctx.reply(messages.text(ctx.t("team.none")))
        return
    lines = [
        ctx.t("team.list_line", team=t.name, role=ctx.t(f"role_name.{r.value}")) for t, r in teams
    ]
    codec = ctx.deps.postbacks
    items = [(t.name, codec.encode("team", t=t.id), t.name) for t, _ in teams[:TEAM_LIST_MAX]]
    ctx.reply(messages.text(ctx.t("team.list", lines="\n".join(lines)), items))


async def _team_for(ctx: EventContext, repos: Repositories) -> tuple[Team, Role] | None:
    """The team named by the postback, if the person is in it; otherwise reply why not."""
    assert ctx.member is not None and ctx.postback is not None
    team_id = ctx.postback.integer("t")
    team = await repos.teams.get(team_id) if team_id else None
    role = await repos.teams.role_of(team.id, ctx.member.id) if team else None
    if team is None or role is None:
        ctx.reply(messages.text(ctx.t("team.not_member")))
        return None
    return team, role


@router.on(PostbackEvent, action("team"))
async def show_team(ctx: EventContext) -> None:
    async with unit_of_work(ctx.deps.db) as repos:
        found = await _team_for(ctx, repos)
        if found is None:
            return
        team, role = found
        users = await repos.teams.members_of(team.id, Role.USER)
        managers = await repos.teams.members_of(team.id, Role.MANAGER)
    codec = ctx.deps.postbacks
    body = ctx.t(
        "team.card",
        role=ctx.t(f"role_name.{role.value}"),
        users=len(users),
        managers=len(managers),
        schedule=ctx.locale.schedule(team.default_interval_days, team.default_hour),
    )
    buttons = [
        (
            ctx.t("team.invite_button"),
            codec.encode("team_invite", t=team.id),
            ctx.t("team.invite_button"),
        ),
        (
            ctx.t("team.members_button"),
            codec.encode("team_members", t=team.id),
            ctx.t("team.members_button"),
        ),
        (
            ctx.t("team.leave_button"),
            codec.encode("team_leave", t=team.id),
            ctx.t("team.leave_button"),
        ),
    ]
    ctx.reply(messages.card(team.name, body, buttons))


@router.on(PostbackEvent, action("team_invite"))
async def show_invites(ctx: EventContext) -> None:
    now = ctx.deps.clock.now()
    async with unit_of_work(ctx.deps.db) as repos:
        found = await _team_for(ctx, repos)
        if found is None:
            return
        team, _ = found
        invites = await ensure_invites(repos, team, now)
    ctx.reply(*await invite_messages(ctx, team, invites))


@router.on(PostbackEvent, action("team_rotate"))
async def rotate_invite(ctx: EventContext) -> None:
    """A new code for one role; the old one stops working at once."""
    assert ctx.postback is not None
    role_value = ctx.postback.get("r")
    now = ctx.deps.clock.now()
    async with unit_of_work(ctx.deps.db) as repos:
        found = await _team_for(ctx, repos)
        if found is None:
            return
        team, _ = found
        if role_value not in (Role.USER.value, Role.MANAGER.value):
            ctx.reply(messages.text(ctx.t("postback.invalid")))
            return
        await repos.teams.revoke_invites(team.id, Role(role_value), now)
        invites = await ensure_invites(repos, team, now)
    ctx.reply(messages.text(ctx.t("invite.rotated", role=ctx.t(f"role_name.{role_value}"))))
    ctx.reply(*(await invite_messages(ctx, team, invites, first_qr=Role(role_value)))[:4])


@router.on(PostbackEvent, action("team_members"))
async def list_members(ctx: EventContext) -> None:
    """Managers see each user's last OK and whether an alert is open; users see who watches."""
    async with unit_of_work(ctx.deps.db) as repos:
        found = await _team_for(ctx, repos)
        if found is None:
            return
        team, role = found
        users = await repos.teams.members_of(team.id, Role.USER)
        managers = await repos.teams.members_of(team.id, Role.MANAGER)
        lines = []
        if role is Role.MANAGER:
            for user in users:
                current = await repos.rounds.open_round(user.id)
                state = current.state.value if current else "none"
                lines.append(
                    ctx.t(
                        "team.user_line",
                        name=checkins.display_name(ctx.locale, user),
                        member_id=user.id,
                        last_ok=ctx.locale.when(user.last_ok_at),
                        state=ctx.t(f"status.round.{state}"),
                    )
                )
    if role is Role.USER:
        lines = [
            ctx.t("team.manager_line", name=checkins.display_name(ctx.locale, m)) for m in managers
        ]
    key = f"team.members.{role.value}"
    body = ctx.t(key, team=team.name, lines="\n".join(lines) or ctx.t("team.members_none"))
    ctx.reply(messages.text(body))


@router.on(PostbackEvent, action("team_leave"))
async def confirm_leave(ctx: EventContext) -> None:
    async with unit_of_work(ctx.deps.db) as repos:
        found = await _team_for(ctx, repos)
    if found is None:
        return
    team, role = found
    codec = ctx.deps.postbacks
    ctx.reply(
        messages.card(
            ctx.t("team.leave_title"),
            ctx.t(f"team.leave_confirm.{role.value}", team=team.name),
            [
                (
                    ctx.t("team.leave_yes"),
                    codec.encode("team_leave_yes", t=team.id),
                    ctx.t("team.leave_yes"),
                ),
                (ctx.t("menu.cancel"), codec.encode("cancel"), ctx.t("menu.cancel")),
            ],
        )
    )


@router.on(PostbackEvent, action("team_leave_yes"))
async def leave(ctx: EventContext) -> None:
    member = ctx.member
    assert member is not None
    now = ctx.deps.clock.now()
    async with unit_of_work(ctx.deps.db) as repos:
        found = await _team_for(ctx, repos)
        if found is None:
            return
        team, role = found
        await checkins.leave_team(repos, ctx.deps.checkin_context, team, member, role, now)
    ctx.reply(messages.text(ctx.t("team.left", team=team.name)))
