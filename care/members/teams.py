"""Teams: create one, leave it, and the staff's adding and removing of managers."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from care.broadcasts import budget
from care.errors import Refusal, Refused
from care.members import invites, sharing
from care.rounds import alerts, checkins, taking
from care.rounds.alone import tell_the_alone, watched_by
from care.rounds.notify import display_name, tell_member, tell_team
from care.rounds.schedule import Schedule
from care.services import UnitOfWork
from storage.models import Invite, Member, Role, Team

TEAM_NAME_MAX = 30
DEFAULT_TEAM_SCHEDULE = Schedule(interval_days=1, hour=9)


def clean_team_name(text: str) -> str | None:
    """The name as it will be shown (NFKC, single spaces), or None when it cannot be one."""
    return clean_name(text, TEAM_NAME_MAX)


def clean_name(text: str, limit: int) -> str | None:
    """A name typed into a form, as it will be shown and said (NFKC, single spaces); None when
    empty, longer than `limit` or holding control characters."""
    name = " ".join(unicodedata.normalize("NFKC", text).split())
    if not 1 <= len(name) <= limit:
        return None
    if any(unicodedata.category(char).startswith("C") for char in name):
        return None
    return name


@dataclass(frozen=True)
class TeamCreated:
    team: Team
    invites: dict[Role, Invite]
    # The founder's schedule when joining as a user started their check-ins, and its first one.
    schedule_started: tuple[Schedule, datetime] | None = None


async def create_team(
    work: UnitOfWork,
    name: str,
    founder: Member | None = None,
    role: Role = Role.MANAGER,
    schedule: Schedule = DEFAULT_TEAM_SCHEDULE,
) -> TeamCreated:
    """A team with its invite codes. A person founds it as its first member; the staff make
    one for an area without members, kept while it is empty (it waits for its people)."""
    clean = clean_team_name(name)
    if clean is None:
        raise Refused(Refusal.INVALID_NAME)
    if founder is not None:  # the staff's teams are the city's own, held by nothing
        await budget.made(work, "team_created", f"会員ID {founder.id}")
    team = await work.repos.teams.create(
        clean, schedule.interval_days, schedule.hour, work.now, kept=founder is None
    )
    started = None
    if founder is not None:
        await work.repos.teams.add_member(team.id, founder.id, role, work.now)
        if role is Role.USER and founder.interval_days is None:
            started = (schedule, await checkins.start_schedule(work, founder, schedule))
    return TeamCreated(team, await invites.ensure_invites(work, team), started)


async def membership(work: UnitOfWork, member: Member, team_id: int | None) -> tuple[Team, Role]:
    """The team and the person's role in it; refused unless they are in it."""
    team = await work.repos.teams.get(team_id) if team_id else None
    role = await work.repos.teams.role_of(team.id, member.id) if team else None
    if team is None or role is None:
        raise Refused(Refusal.NOT_MEMBER)
    return team, role


async def team_by_id(work: UnitOfWork, team_id: int | None) -> Team:
    team = await work.repos.teams.get(team_id) if team_id else None
    if team is None:
        raise Refused(Refusal.NO_SUCH_TEAM)
    return team


async def leave_team(work: UnitOfWork, team: Team, member: Member, role: Role) -> None:
    """The member leaves; the others in the team hear it (an emptied team goes away), and
    anyone nobody watches now is told so (care.rounds.alone)."""
    if role is Role.USER and await alerts.alert_open(work, member):
        # Leaving would take away everyone who can close it (as 退会 would).
        raise Refused(Refusal.ALERT_OPEN)
    watched = await watched_by(work, member) if role is Role.MANAGER else []
    await tell_team(work, team, member, role, "team.left_notice")
    await work.repos.teams.remove_member(team.id, member.id, work.now)
    # The alert they had taken is nobody's first; then whoever is alone is told (and the desk
    # takes an alert nobody can go to).
    await taking.taker_gone(work, member)
    await tell_the_alone(work, watched, member)


async def add_manager(work: UnitOfWork, team: Team, member_id: int | None) -> Member:
    """The staff name a manager by 会員ID: the person and the team hear it."""
    member = await work.repos.members.get(member_id) if member_id else None
    if member is None:
        raise Refused(Refusal.NO_SUCH_MEMBER)
    if await work.repos.teams.role_of(team.id, member.id) is not None:
        raise Refused(Refusal.ROLE_MISMATCH)
    await work.repos.teams.add_member(team.id, member.id, Role.MANAGER, work.now)
    await tell_member(work, member, "made_manager", "admin.made_manager_notice", team=team.name)
    await tell_team(work, team, member, Role.MANAGER, "invite.joined_notice")
    await alerts.tell_newcomer(work, member)
    # As when he joins with a code: each user decides whether he sees her details (one
    # given before he left holds no more: storage.teams.forget_ended_shares).
    await sharing.ask_users(work, team, member)
    return member


async def remove_manager(work: UnitOfWork, team: Team, member_id: int | None) -> Member:
    """The staff take a manager off a team: the rest of the team hears it, as when a manager
    leaves, and so does the person."""
    member = await work.repos.members.get(member_id) if member_id else None
    if member is None:
        raise Refused(Refusal.NO_SUCH_MEMBER)
    if await work.repos.teams.role_of(team.id, member.id) is not Role.MANAGER:
        raise Refused(Refusal.ROLE_MISMATCH)
    watched = await watched_by(work, member)
    await tell_team(work, team, member, Role.MANAGER, "team.removed.notice")
    await work.repos.teams.remove_member(team.id, member.id, work.now)
    # The alert they had taken is nobody's first; then whoever is alone is told (and the desk
    # takes an alert nobody can go to).
    await taking.taker_gone(work, member)
    await tell_the_alone(work, watched, member)
    await tell_member(work, member, "removed_manager", "team.removed.you", team=team.name)
    return member


async def watcher_of(work: UnitOfWork, user: Member, manager_id: int | None) -> Member:
    """A manager who watches `user` now (the one they may take off), or refused."""
    manager = await work.repos.members.get(manager_id) if manager_id else None
    if manager is None or not await work.repos.teams.is_manager_of(manager.id, user.id):
        raise Refused(Refusal.NOT_ALLOWED)
    return manager


async def stop_watching(work: UnitOfWork, user: Member, manager_id: int | None) -> Member:
    """The person takes a manager off watching them (見守り, not 監視): from now on that
    manager gets no alert, card, phone or memo of theirs, in any team they share; the manager
    hears it. -> the manager."""
    manager = await watcher_of(work, user, manager_id)
    await work.repos.teams.stop_watching(user.id, manager.id, work.now)
    await taking.taker_gone(work, manager)
    await tell_the_alone(work, [user], manager)
    locale = work.locale(manager.language)
    await tell_member(
        work, manager, "unwatched", "unwatch.notice", name=display_name(locale, user)
    )
    return manager


async def set_desk_watched(work: UnitOfWork, team: Team, watched: bool) -> None:
    """運営が見守る: the desk watches the team's users itself, for people with nobody else;
    their alerts are cases at once. Only where the deployment has a desk."""
    if watched and work.services.timings.desk_after is None:
        raise Refused(Refusal.NO_DESK)
    await work.repos.teams.set_desk_watched(team.id, watched)


TURNS = (1, 2, 3)  # who is told first, next, last
TURN_MINUTES = (10, 24 * 60)  # how long a turn may last


async def set_turn(work: UnitOfWork, team: Team, manager_id: int | None, turn: int | None) -> None:
    """A manager's place in the team's order: told in turn 1 (first), 2 or 3."""
    if turn not in TURNS:
        raise Refused(Refusal.INVALID_TURN)
    if manager_id is None or not await work.repos.teams.set_turn(team.id, manager_id, turn):
        raise Refused(Refusal.NOT_MEMBER)


async def set_turn_minutes(work: UnitOfWork, team: Team, minutes: int | None) -> None:
    """How long each turn lasts before the next is told (None: MIMAMORI_REALERT_AFTER)."""
    if minutes is not None and not TURN_MINUTES[0] <= minutes <= TURN_MINUTES[1]:
        raise Refused(Refusal.INVALID_TURN)
    await work.repos.teams.set_turn_minutes(team.id, minutes)
