"""Invite codes: one active code per team and role, rotated on request, and joining a team
with one (the user's joining is their consent to be watched: 見守り, not 監視)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from care.broadcasts import budget
from care.errors import Refusal, Refused
from care.members import schedules, sharing
from care.rounds import alerts, checkins
from care.rounds.notify import tell_team
from care.rounds.schedule import Schedule
from care.services import UnitOfWork
from ground import invite_codes, seals
from ground.i18n import Locale
from ground.line_platform import LinePlatform
from storage.models import Invite, Member, Role, Team


def expires_at(work: UnitOfWork, invite: Invite) -> datetime | None:
    """A manager code lets its holder watch someone: it lasts a week (by default); a user
    code, which only lets someone be watched, does not expire."""
    if invite.role is not Role.MANAGER:
        return None
    return invite.created_at + work.services.settings.manager_code_lifetime


def expired(work: UnitOfWork, invite: Invite) -> bool:
    ends = expires_at(work, invite)
    return ends is not None and ends <= work.now


async def ensure_invites(work: UnitOfWork, team: Team) -> dict[Role, Invite]:
    """The team's active code per role, made where there is none; an expired manager code
    is replaced, so asking for the invite again is how a team renews it."""
    found = {}
    for role in Role:
        invite = await work.repos.teams.active_invite(team.id, role)
        if invite is not None and expired(work, invite):
            await work.repos.teams.revoke_invites(team.id, role, work.now)
            invite = None
        if invite is None:
            invite = await work.repos.teams.create_invite(
                team.id, role, invite_codes.new_code(), work.now
            )
        found[role] = invite
    return found


def may_hand_out(team: Team, role: Role) -> bool:
    """Whether a member in `role` may see, share and renew the team's codes. In a staff's area
    team (町会, district) its users are neighbours the flyer brought in: a user holding the
    manager code could make anyone a watcher of every neighbour, and a new user code would
    kill the flyer's. There the codes are the staff's (console) and its managers' only."""
    return role is Role.MANAGER or not team.kept_when_empty


async def codes_for(work: UnitOfWork, team: Team, role: Role) -> dict[Role, Invite]:
    """The team's codes for a member in `role`; refused where they are not theirs to hand out."""
    if not may_hand_out(team, role):
        raise Refused(Refusal.NOT_ALLOWED)
    return await ensure_invites(work, team)


async def rotate_invite(work: UnitOfWork, team: Team, role: Role) -> dict[Role, Invite]:
    """A new code for one role; the old one stops working at once."""
    await work.repos.teams.revoke_invites(team.id, role, work.now)
    return await ensure_invites(work, team)


async def usable_invite(work: UnitOfWork, member: Member, code: str | None) -> tuple[Team, Invite]:
    """The team and invite behind an active code the person may still use; refused otherwise."""
    invite = await work.repos.teams.invite(code) if code else None
    team = await work.repos.teams.get(invite.team_id) if invite else None
    if invite is None or invite.revoked_at is not None or team is None:
        raise Refused(Refusal.UNKNOWN_CODE)
    if expired(work, invite):
        raise Refused(Refusal.CODE_EXPIRED)
    role = await work.repos.teams.role_of(team.id, member.id)
    if role is not None:
        raise Refused(Refusal.ALREADY_MEMBER, team=team.name, role=role)
    return team, invite


@dataclass(frozen=True)
class Joined:
    team: Team
    role: Role
    # A user without check-ins gets the team's default schedule, from its next hour.
    schedule_started: tuple[Schedule, datetime] | None = None


async def join_by_code(work: UnitOfWork, member: Member, code: str | None) -> Joined:
    """Join the team behind the code in the code's role; the rest of the team hears it."""
    team, invite = await usable_invite(work, member, code)
    await budget.made(work, "team_joined", f"会員ID {member.id}", f"team {team.id}")
    await work.repos.teams.add_member(team.id, member.id, invite.role, work.now)
    started = None
    if invite.role is Role.USER and member.interval_days is None:
        schedule = Schedule(team.default_interval_days, team.default_hour)
        started = (schedule, await checkins.start_schedule(work, member, schedule))
    await tell_team(work, team, member, invite.role, "invite.joined_notice")
    if invite.role is Role.MANAGER:
        await alerts.tell_newcomer(work, member)
        await sharing.ask_users(work, team, member)
        # Someone here asked their family to choose the time (家族に設定してもらう).
        for user in await work.repos.teams.members_of(team.id, Role.USER):
            if schedules.schedule_asked(user, work.now):
                await schedules.ask_manager_to_schedule(work, member, user)
    else:
        # The user joined on their own: the team's managers may see what they entered.
        for manager in await work.repos.teams.members_of(team.id, Role.MANAGER):
            await work.repos.teams.share_personal(member.id, manager.id, work.now)
    return Joined(team, invite.role, started)


def invite_link(line: LinePlatform, locale: Locale, code: str) -> str | None:
    """The line.me link that opens the bot's chat with the code typed in (None while the
    account's basic id is unknown). LINE is not asked here: the surfaces ask for the basic id
    before their unit of work (`LinePlatform.bot_basic_id`)."""
    basic_id = line.known_basic_id
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


# The QR image's address carries a seal over its code (ground.seals): a code nobody was shown
# is refused by the image surface without a look into the database, so a guessing crawl of
# /invites/{code}.png costs nothing and learns nothing.
_QR_PURPOSE = b"mimamori invite qr"


def qr_path(secret: str, code: str) -> str:
    """The invite's QR image, as the bot, My page and the console link to it."""
    return f"/invites/{code}.png?seal={seals.seal(secret, _QR_PURPOSE, code)}"


def qr_sealed(secret: str, code: str, claimed: str) -> bool:
    return seals.holds(secret, _QR_PURPOSE, code, claimed)
