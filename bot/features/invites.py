"""Invite codes in the chat: show them, and join a team with one after consent."""

from __future__ import annotations

from linebot.v3.webhooks import MessageEvent, PostbackEvent

from bot.context import EventContext, GroupContext, PersonContext
from bot.router import Router, action, from_person, in_group, text_of
from care.members import invites
from ground import invite_codes, messages
from storage.models import Invite, Role, Team

router = Router("invites")


def _code_in(ctx: EventContext) -> bool:
    text = text_of(ctx)
    return text is not None and invite_codes.find_code(text) is not None


async def invite_messages(
    ctx: EventContext, team: Team, codes: dict[Role, Invite], first_qr: Role = Role.USER
) -> list[messages.Message]:
    """The intro, a forwardable text per role, and per role a QR code image (`first_qr`'s
    first) when the server has a public URL LINE can fetch images from."""
    services = ctx.services
    rotate = [
        (label, services.postbacks.encode("team_rotate", t=team.id, r=role.value), label)
        for role in Role
        for label in [ctx.t(f"invite.rotate.{role.value}")]
    ]
    found: list[messages.Message] = [messages.text(ctx.t("invite.intro", team=team.name), rotate)]
    images: list[messages.Message] = []
    for role in Role:
        code = codes[role].code
        found.append(messages.text(_share_text(ctx, team, role, code)))
        if services.settings.public_url:
            qr = invites.qr_path(services.settings.channel_secret, code)
            image = messages.image(f"{services.settings.public_url}{qr}")
            images.insert(0 if role is first_qr else len(images), image)
    return found + images


def one_invitation(
    ctx: EventContext, team: Team, codes: dict[Role, Invite], role: Role
) -> messages.Message:
    """The one invitation to forward (long press, 転送), with the QR code and the other
    role's invitation a tap away rather than sent unasked."""
    services = ctx.services
    codec = services.postbacks
    other = Role.USER if role is Role.MANAGER else Role.MANAGER
    quick: list[messages.QuickItem] = []
    if services.settings.public_url:
        label = ctx.t("invite.show_qr")
        quick.append((label, codec.encode("team_invite_one", t=team.id, r=role.value, q=1), label))
    label = ctx.t(f"invite.show_other.{other.value}")
    quick.append((label, codec.encode("team_invite_one", t=team.id, r=other.value), label))
    return messages.text(_share_text(ctx, team, role, codes[role].code), quick)


def _share_text(ctx: EventContext, team: Team, role: Role, code: str) -> str:
    link = invites.invite_link(ctx.services.line, ctx.locale, code)
    return invites.share_text(ctx.locale, team, role, code, link)


@router.on(MessageEvent, lambda ctx: in_group(ctx) and _code_in(ctx))
async def code_in_group(ctx: GroupContext) -> None:
    ctx.reply(messages.text(ctx.t("invite.not_in_group")))


@router.on(MessageEvent, lambda ctx: from_person(ctx) and _code_in(ctx))
async def code_sent(ctx: PersonContext) -> None:
    """Show what the code is for and ask before joining (a user agrees to be watched)."""
    member = ctx.member
    code = invite_codes.find_code(text_of(ctx) or "")
    assert code is not None  # the route's filter found it
    work = ctx.work
    team, invite = await invites.usable_invite(work, member, code)
    role = invite.role.value
    body = ctx.t(
        "invite.confirm",
        team=team.name,
        role=ctx.t(f"role_name.{role}"),
        meaning=ctx.t(f"role_meaning.{role}"),
    )
    if (
        invite.role is Role.MANAGER
        and member.interval_days is None
        and not ctx.services.settings.shared_account
    ):
        # On its own account LINE delivers the follow before the code the invite link filled
        # in: she saw the greeting's start first. Its button is not hers to press.
        body += "\n\n" + ctx.t(
            "first_minute.not_your_start",
            start=ctx.t("follow.start_button"),
            join=ctx.t("invite.accept"),
        )
    codec = ctx.services.postbacks
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
async def join(ctx: PersonContext) -> None:
    member = ctx.member
    assert ctx.postback is not None
    code = invite_codes.normalise(ctx.postback.get("c") or "")
    work = ctx.work
    joined = await invites.join_by_code(work, member, code)
    text = ctx.t(f"invite.joined.{joined.role.value}", team=joined.team.name)
    if joined.schedule_started is not None:
        schedule, next_due = joined.schedule_started
        text += "\n" + ctx.t(
            "invite.schedule_started",
            schedule=ctx.locale.schedule(schedule.interval_days, schedule.hour),
            next=ctx.locale.when(next_due),
        )
    ctx.reply(messages.text(text))
