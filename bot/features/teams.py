"""Teams from the chat: create (name it, pick a role), list, members, leave, rotate codes."""

from __future__ import annotations

import json

from linebot.v3.webhooks import MessageEvent, PostbackEvent

from bot.context import EventContext, PersonContext
from bot.features.invites import invite_messages, one_invitation
from bot.router import Router, action, from_person, text_of
from care.members import invites, sharing, teams
from care.members.teams import TEAM_NAME_MAX, clean_team_name
from care.rounds import devices, reassurance
from care.rounds.notify import display_name
from ground import messages
from storage.models import Member, Role, Team

router = Router("teams")

TEAM_LIST_MAX = 12  # quick replies, leaving one for the menu


def _dialog(member: Member | None) -> dict[str, str]:
    if member is None or not member.dialog:
        return {}
    try:
        value = json.loads(member.dialog)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _cancel_item(ctx: EventContext) -> messages.QuickItem:
    return (ctx.t("menu.cancel"), ctx.services.postbacks.encode("cancel"), ctx.t("menu.cancel"))


@router.on(PostbackEvent, action("team_new"))
async def ask_team_name(ctx: PersonContext) -> None:
    repos = ctx.work.repos
    await repos.members.set_dialog(ctx.member.id, json.dumps({"await": "team_name"}))
    ctx.reply(messages.text(ctx.t("team.ask_name", max=TEAM_NAME_MAX), [_cancel_item(ctx)]))


@router.on(
    MessageEvent,
    lambda ctx: from_person(ctx) and _dialog(ctx.member).get("await") == "team_name",
)
async def receive_team_name(ctx: PersonContext) -> None:
    name = clean_team_name(text_of(ctx) or "")
    if name is None:
        ctx.reply(messages.text(ctx.t("team.bad_name", max=TEAM_NAME_MAX), [_cancel_item(ctx)]))
        return
    repos = ctx.work.repos
    dialog = json.dumps({"await": "team_role", "name": name}, ensure_ascii=False)
    await repos.members.set_dialog(ctx.member.id, dialog)
    codec = ctx.services.postbacks
    items = [
        (label, codec.encode("team_create", r=role.value), label)
        for role in Role
        for label in [ctx.t(f"team.as_{role.value}")]
    ]
    ctx.reply(messages.text(ctx.t("team.ask_role", team=name), [*items, _cancel_item(ctx)]))


@router.on(PostbackEvent, action("team_create"))
async def create_team(ctx: PersonContext) -> None:
    member = ctx.member
    assert ctx.postback is not None
    name = _dialog(member).get("name")
    role_value = ctx.postback.get("r")
    if not name or role_value not in (Role.USER.value, Role.MANAGER.value):
        ctx.reply(messages.text(ctx.t("team.no_pending")))
        return
    role = Role(role_value)
    work = ctx.work
    created = await teams.create_team(work, name, founder=member, role=role)
    await work.repos.members.set_dialog(member.id, None)
    team = created.team
    schedule = (
        created.schedule_started[0] if created.schedule_started else teams.DEFAULT_TEAM_SCHEDULE
    )
    ctx.reply(
        messages.text(
            ctx.t(
                f"team.created.{role.value}",
                team=team.name,
                schedule=ctx.locale.schedule(schedule.interval_days, schedule.hour),
            )
        )
    )
    # A user who made the team invites a manager next, and the other way round: that one
    # invitation, to forward; the rest on request.
    other = Role.MANAGER if role is Role.USER else Role.USER
    ctx.reply(one_invitation(ctx, team, created.invites, other))


@router.on(PostbackEvent, action("note_menu"))
async def ask_note(ctx: PersonContext) -> None:
    codec = ctx.services.postbacks
    current = ctx.t("note.every_day" if ctx.member.daily_note else "note.only_problems")
    items = [
        (label, codec.encode("note", v=value), label)
        for value, key in ((1, "note.every_day"), (0, "note.only_problems"))
        for label in [ctx.t(key)]
    ]
    ctx.reply(messages.text(ctx.t("note.choose", current=current), items))


@router.on(PostbackEvent, action("note"))
async def choose_note(ctx: PersonContext) -> None:
    assert ctx.postback is not None
    every_day = ctx.postback.integer("v") == 1
    work = ctx.work
    await reassurance.choose(work, ctx.member, every_day)
    ctx.reply(messages.text(ctx.t("note.saved_on" if every_day else "note.saved_off")))


@router.on(PostbackEvent, action("teams"))
async def list_teams(ctx: PersonContext) -> None:
    repos = ctx.work.repos
    found = await repos.teams.teams_of(ctx.member.id)
    if not found:
        ctx.reply(messages.text(ctx.t("team.none")))
        return
    lines = [
        ctx.t("team.list_line", team=t.name, role=ctx.t(f"role_name.{r.value}")) for t, r in found
    ]
    codec = ctx.services.postbacks
    items = [(t.name, codec.encode("team", t=t.id), t.name) for t, _ in found[:TEAM_LIST_MAX]]
    if any(role is Role.MANAGER for _, role in found):
        # A manager chooses how they hear: a daily note too, or only when something is wrong.
        label = ctx.t("note.menu")
        items = [*items[: TEAM_LIST_MAX - 1], (label, codec.encode("note_menu"), label)]
    ctx.reply(messages.text(ctx.t("team.list", lines="\n".join(lines)), items))


@router.on(PostbackEvent, action("invite_menu"))
async def invite_from_menu(ctx: PersonContext) -> None:
    """招待する on the rich menu: one team's invites at once; with several, the list first."""
    work = ctx.work
    found = await work.repos.teams.teams_of(ctx.member.id)
    only = found[0][0] if len(found) == 1 else None
    if only is not None and not invites.may_hand_out(only, found[0][1]):
        ctx.reply(messages.text(ctx.t("area_codes.staff_only", team=only.name)))
        return
    codes = await invites.ensure_invites(work, only) if only else None
    if only is None or codes is None:
        await list_teams(ctx)
        return
    ctx.reply(*await invite_messages(ctx, only, codes))


def _team_id(ctx: EventContext) -> int | None:
    assert ctx.postback is not None
    return ctx.postback.integer("t")


@router.on(PostbackEvent, action("team"))
async def show_team(ctx: PersonContext) -> None:
    work = ctx.work
    team, role = await teams.membership(work, ctx.member, _team_id(ctx))
    users = await work.repos.teams.members_of(team.id, Role.USER)
    managers = await work.repos.teams.members_of(team.id, Role.MANAGER)
    codec = ctx.services.postbacks
    body = ctx.t(
        "team.card",
        role=ctx.t(f"role_name.{role.value}"),
        users=len(users),
        managers=len(managers),
        schedule=ctx.locale.schedule(team.default_interval_days, team.default_hour),
    )
    invite_button = (
        ctx.t("team.invite_button"),
        codec.encode("team_invite", t=team.id),
        ctx.t("team.invite_button"),
    )
    buttons = [
        *([invite_button] if invites.may_hand_out(team, role) else []),
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
    if role is Role.MANAGER:
        # A team's manager can ask everyone in it at once after a disaster.
        label = ctx.t("rollcall.start_button")
        buttons.insert(0, (label, codec.encode("rc_ask", t=team.id), label))
    ctx.reply(messages.card(team.name, body, buttons))


@router.on(PostbackEvent, action("team_invite"))
async def show_invites(ctx: PersonContext) -> None:
    work = ctx.work
    team, role = await teams.membership(work, ctx.member, _team_id(ctx))
    codes = await invites.codes_for(work, team, role)
    ctx.reply(*await invite_messages(ctx, team, codes))


@router.on(PostbackEvent, action("team_invite_one"))
async def show_one_invite(ctx: PersonContext) -> None:
    """One role's invitation (`q`: its QR code instead), for a member of the team only."""
    chosen = await _team_and_role(ctx)
    if chosen is None:
        return
    team, role = chosen
    assert ctx.postback is not None
    codes = await invites.ensure_invites(ctx.work, team)
    public_url = ctx.services.settings.public_url
    if ctx.postback.integer("q") == 1 and public_url:
        secret = ctx.services.settings.channel_secret
        ctx.reply(messages.image(public_url + invites.qr_path(secret, codes[role].code)))
        return
    ctx.reply(one_invitation(ctx, team, codes, role))


async def _team_and_role(ctx: PersonContext) -> tuple[Team, Role] | None:
    """The team (the caller's own) and the role a postback names; None, said so, when the
    role is not one."""
    assert ctx.postback is not None
    role_value = ctx.postback.get("r")
    team, own = await teams.membership(ctx.work, ctx.member, _team_id(ctx))
    await invites.codes_for(ctx.work, team, own)  # refused where they are not theirs
    if role_value not in (Role.USER.value, Role.MANAGER.value):
        ctx.reply(messages.text(ctx.t("postback.invalid")))
        return None
    return team, Role(role_value)


@router.on(PostbackEvent, action("team_rotate"))
async def rotate_invite(ctx: PersonContext) -> None:
    """A new code for one role; the old one stops working at once."""
    chosen = await _team_and_role(ctx)
    if chosen is None:
        return
    team, role = chosen
    codes = await invites.rotate_invite(ctx.work, team, role)
    ctx.reply(messages.text(ctx.t("invite.rotated", role=ctx.t(f"role_name.{role.value}"))))
    ctx.reply(*(await invite_messages(ctx, team, codes, first_qr=role))[:4])


@router.on(PostbackEvent, action("share_personal"))
async def share_personal(ctx: PersonContext) -> None:
    """The user's one tap that lets a new manager see their 氏名, 電話番号..."""
    assert ctx.postback is not None
    work = ctx.work
    manager = await sharing.allow(work, ctx.member, ctx.postback.integer("m"))
    ctx.reply(messages.text(ctx.t("sharing.allowed", name=display_name(ctx.locale, manager))))


@router.on(PostbackEvent, action("team_members"))
async def list_members(ctx: PersonContext) -> None:
    """Managers see each user's last OK and whether an alert is open; users see who watches."""
    work = ctx.work
    team, role = await teams.membership(work, ctx.member, _team_id(ctx))
    users = await work.repos.teams.members_of(team.id, Role.USER)
    managers = await work.repos.teams.members_of(team.id, Role.MANAGER)
    lines = []
    if role is Role.MANAGER:
        for user in users:
            current = await work.repos.rounds.open_round(user.id)
            state = current.state.value if current else "none"
            line = ctx.t(
                "team.user_line",
                name=display_name(ctx.locale, user),
                member_id=user.id,
                last_ok=ctx.locale.when(user.last_ok_at),
                state=ctx.t(f"status.round.{state}"),
            )
            movement = devices.last_movement(ctx.locale, user)
            lines.append(f"{line}\n{movement}" if movement else line)
    quick: list[messages.QuickItem] = []
    if role is Role.USER:
        lines = [ctx.t("team.manager_line", name=display_name(ctx.locale, m)) for m in managers]
        # The person may take any of them off watching them: one button each.
        codec = ctx.services.postbacks
        for manager in managers[: messages.QUICK_REPLY_LIMIT]:
            label = ctx.t("unwatch.button", name=display_name(ctx.locale, manager))
            quick.append((label, codec.encode("unwatch", m=manager.id), label))
    key = f"team.members.{role.value}"
    body = ctx.t(key, team=team.name, lines="\n".join(lines) or ctx.t("team.members_none"))
    ctx.reply(messages.text(body, quick or None))


@router.on(PostbackEvent, action("unwatch"))
async def ask_unwatch(ctx: PersonContext) -> None:
    """Taking a manager off: first, what it means, and a way back out."""
    assert ctx.postback is not None
    work = ctx.work
    manager = await teams.watcher_of(work, ctx.member, ctx.postback.integer("m"))
    name, codec = display_name(ctx.locale, manager), ctx.services.postbacks
    yes, cancel = ctx.t("unwatch.yes"), ctx.t("menu.cancel")
    items = [
        (yes, codec.encode("unwatch_yes", m=manager.id), yes),
        (cancel, codec.encode("cancel"), cancel),
    ]
    ctx.reply(messages.text(ctx.t("unwatch.confirm", name=name), items))


@router.on(PostbackEvent, action("unwatch_yes"))
async def unwatch(ctx: PersonContext) -> None:
    assert ctx.postback is not None
    work = ctx.work
    manager = await teams.stop_watching(work, ctx.member, ctx.postback.integer("m"))
    ctx.reply(messages.text(ctx.t("unwatch.done", name=display_name(ctx.locale, manager))))


@router.on(PostbackEvent, action("team_leave"))
async def confirm_leave(ctx: PersonContext) -> None:
    work = ctx.work
    team, role = await teams.membership(work, ctx.member, _team_id(ctx))
    codec = ctx.services.postbacks
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
async def leave(ctx: PersonContext) -> None:
    member = ctx.member
    work = ctx.work
    team, role = await teams.membership(work, member, _team_id(ctx))
    await teams.leave_team(work, team, member, role)
    ctx.reply(messages.text(ctx.t("team.left", team=team.name)))
