"""Invite codes in the chat: show them, rotate them, and join a team with one after consent."""

from __future__ import annotations

from datetime import datetime

from linebot.v3.webhooks import MessageEvent, PostbackEvent

from bot import invite_codes, messages
from bot.deps import EventContext
from bot.i18n import Locale
from bot.line_api import LineApi
from bot.router import Router, action, from_person, in_group, text_of
from scheduler import checkins
from scheduler.schedule import Schedule
from storage.models import Invite, Member, Role, Team
from storage.repositories import Repositories, unit_of_work

router = Router("invites")


def _code_in(ctx: EventContext) -> bool:
    text = text_of(ctx)
    return text is not None and invite_codes.find_code(text) is not None


async def ensure_invites(repos: Repositories, team: Team, now: datetime) -> dict[Role, Invite]:
    invites = {}
    for role in Role:
        invite = await repos.teams.active_invite(team.id, role)
        if invite is None:
            invite = await repos.teams.create_invite(team.id, role, invite_codes.new_code(), now)
        invites[role] = invite
    return invites


async def invite_link(line: LineApi, locale: Locale, code: str) -> str | None:
    """The line.me link that opens the bot's chat with the code typed in (None while the
    account's basic id is unknown)."""
    basic_id = await line.bot_basic_id()
    if basic_id is None:
        return None
    return invite_codes.chat_link(basic_id, locale.t("invite.prefill", code=code))


def share_text(locale: Locale, team: Team, role: Role, code: str, link: str | None) -> str:
    """The invitation a person forwards: the team, the role and what it means, link and code."""
    return locale.t(
        "invite.share" if link else "invite.share_without_link",
        team=team.name,
        role=locale.t(f"role_name.{role.value}"),
        meaning=locale.t(f"role_meaning.{role.value}"),
        link=link or "",
        code=code,
    )


async def invite_messages(
    ctx: EventContext, team: Team, invites: dict[Role, Invite], first_qr: Role = Role.USER
) -> list[messages.Message]:
    """The intro, a forwardable text per role, and per role a QR code image (`first_qr`'s
    first) when the server has a public URL LINE can fetch images from."""
    codec = ctx.deps.postbacks
    rotate = [
        (label, codec.encode("team_rotate", t=team.id, r=role.value), label)
        for role in Role
        for label in [ctx.t(f"invite.rotate.{role.value}")]
    ]
    found: list[messages.Message] = [messages.text(ctx.t("invite.intro", team=team.name), rotate)]
    images: list[messages.Message] = []
    for role in Role:
        code = invites[role].code
        link = await invite_link(ctx.deps.line, ctx.locale, code)
        found.append(messages.text(share_text(ctx.locale, team, role, code, link)))
        if ctx.deps.settings.public_url:
            image = messages.image(f"{ctx.deps.settings.public_url}/invites/{code}.png")
            images.insert(0 if role is first_qr else len(images), image)
    return found + images


@router.on(MessageEvent, lambda ctx: in_group(ctx) and _code_in(ctx))
async def code_in_group(ctx: EventContext) -> None:
    ctx.reply(messages.text(ctx.t("invite.not_in_group")))


@router.on(MessageEvent, lambda ctx: from_person(ctx) and _code_in(ctx))
async def code_sent(ctx: EventContext) -> None:
    """Show what the code is for and ask before joining (a user agrees to be watched)."""
    member = ctx.member
    assert member is not None
    code = invite_codes.find_code(text_of(ctx) or "")
    assert code is not None
    async with unit_of_work(ctx.deps.db) as repos:
        found = await _usable(ctx, repos, code, member)
    if found is None:
        return
    team, invite = found
    role = invite.role.value
    body = ctx.t(
        "invite.confirm",
        team=team.name,
        role=ctx.t(f"role_name.{role}"),
        meaning=ctx.t(f"role_meaning.{role}"),
    )
    codec = ctx.deps.postbacks
    ctx.reply(
        messages.card(
            ctx.t("invite.confirm_title"),
            body,
            [
                (ctx.t("invite.accept"), codec.encode("join", c=code), ctx.t("invite.accept")),
                (ctx.t("invite.decline"), codec.encode("cancel"), ctx.t("invite.decline")),
            ],
        )
    )


@router.on(PostbackEvent, action("join"))
async def join(ctx: EventContext) -> None:
    member = ctx.member
    assert member is not None and ctx.postback is not None
    code = invite_codes.normalise(ctx.postback.get("c") or "")
    now = ctx.deps.clock.now()
    async with unit_of_work(ctx.deps.db) as repos:
        found = await _usable(ctx, repos, code, member) if code else None
        if found is None:
            if code is None:
                ctx.reply(messages.text(ctx.t("invite.unknown")))
            return
        team, invite = found
        await repos.teams.add_member(team.id, member.id, invite.role, now)
        text = ctx.t(f"invite.joined.{invite.role.value}", team=team.name)
        if invite.role is Role.USER and member.interval_days is None:
            schedule = Schedule(team.default_interval_days, team.default_hour)
            next_due = await checkins.set_schedule(
                repos, ctx.deps.checkin_context, member, schedule, now
            )
            text += "\n" + ctx.t(
                "invite.schedule_started",
                schedule=ctx.locale.schedule(schedule.interval_days, schedule.hour),
                next=ctx.locale.when(next_due),
            )
        await checkins.tell_team(
            repos, ctx.deps.checkin_context, team, member, invite.role, "invite.joined_notice", now
        )
    ctx.reply(messages.text(text))


async def _usable(
    ctx: EventContext, repos: Repositories, code: str, member: Member
) -> tuple[Team, Invite] | None:
    """The team and invite behind an active code the person may still use; otherwise the
    reply saying why not (and None)."""
    invite = await repos.teams.invite(code)
    team = await repos.teams.get(invite.team_id) if invite else None
    if invite is None or invite.revoked_at is not None or team is None:
        ctx.reply(messages.text(ctx.t("invite.unknown")))
        return None
    role = await repos.teams.role_of(team.id, member.id)
    if role is not None:
        ctx.reply(
            messages.text(
                ctx.t("invite.already", team=team.name, role=ctx.t(f"role_name.{role.value}"))
            )
        )
        return None
    return team, invite
