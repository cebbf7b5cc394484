"""What happens to check-in rounds, as units of work over the repositories.

Each function runs inside the caller's transaction: the state change and the messages it
causes (recorded in the outbox) commit together or not at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot import messages
from bot.i18n import I18n, Locale
from bot.line_api import MULTICAST_LIMIT
from bot.postback import PostbackCodec
from scheduler.ladder import LadderTimings, Step, due_step
from scheduler.schedule import Schedule, first_due, slots_passed
from storage.models import CheckinRound, Member, Role, RoundState, Team
from storage.repositories import Repositories


@dataclass(frozen=True)
class CheckinContext:
    i18n: I18n
    postbacks: PostbackCodec
    timezone: ZoneInfo
    # https://liff.line.me/{LIFF id}: My page inside LINE, when the deployment has one.
    my_page_url: str | None = None


def schedule_of(member: Member) -> Schedule | None:
    if member.interval_days is None or member.checkin_hour is None:
        return None
    return Schedule(member.interval_days, member.checkin_hour)


def ok_postback(ctx: CheckinContext, slot_at: datetime) -> str:
    # Identifies the slot, not the person: one multicast carries the same button to everyone
    # due at that moment, and the server resolves the round of whoever taps.
    return ctx.postbacks.encode("ok", t=int(slot_at.timestamp()))


async def open_due_rounds(
    repos: Repositories, ctx: CheckinContext, now: datetime, limit: int
) -> int:
    """Open a round for every member whose check-in is due; returns how many members were due.

    After downtime a member gets one check-in for the latest missed slot, not one per slot.
    A slot that comes while the member's previous round is still open is skipped: the open
    round's re-send and alert already stand for it.
    """
    due = await repos.members.due(now, limit)
    next_due: list[tuple[int, datetime]] = []
    openings: list[tuple[int, datetime]] = []
    for member in due:
        schedule = schedule_of(member)
        if schedule is None or member.next_due_at is None:
            continue
        latest, following = slots_passed(schedule, member.next_due_at, now, ctx.timezone)
        next_due.append((member.id, following))
        openings.append((member.id, latest))
    await repos.members.set_next_due_many(next_due)
    # The constraints skip a member whose round is still open, or whose slot already has one.
    await repos.rounds.open_unless_open(openings, now)
    return len(due)


async def resend_unanswered(
    repos: Repositories, timings: LadderTimings, now: datetime, limit: int
) -> int:
    """Rounds with no OK `resend_after` since their check-in reached LINE get it again."""
    rounds = await repos.rounds.awaiting_resend(now - timings.resend_after, limit)
    for checkin in rounds:
        if due_step(checkin, timings, now) is Step.RESEND:
            await repos.rounds.set_state(checkin.id, RoundState.RESENT, now)
    return len(rounds)


async def alert_unanswered(
    repos: Repositories, ctx: CheckinContext, timings: LadderTimings, now: datetime, limit: int
) -> int:
    """Rounds with no OK `alert_after` since the re-send reached LINE alert the managers."""
    rounds = await repos.rounds.awaiting_alert(now - timings.alert_after, limit)
    members = await repos.members.get_many([r.member_id for r in rounds])
    for checkin in rounds:
        if due_step(checkin, timings, now) is not Step.ALERT:
            continue
        await repos.rounds.set_state(checkin.id, RoundState.ALERTED, now)
        await alert_managers(repos, ctx, members[checkin.member_id], checkin, now)
    return len(rounds)


async def alert_managers(
    repos: Repositories, ctx: CheckinContext, member: Member, checkin: CheckinRound, now: datetime
) -> int:
    """Tell every manager watching the member that no OK came; returns how many were told."""

    def build(locale: Locale) -> list[messages.Message]:
        body = locale.t(
            "alert.body",
            name=display_name(locale, member),
            member_id=member.id,
            slot=locale.when(checkin.slot_at),
            last_ok=locale.when(member.last_ok_at),
        )
        details = (
            locale.t("alert.details_button"),
            ctx.postbacks.encode("member", m=member.id),
            locale.t("alert.details_button"),
        )
        links = []
        if ctx.my_page_url:
            # The manager's team page lists the person, with their My page one tap away.
            links.append((locale.t("alert.my_page_button"), f"{ctx.my_page_url}/teams"))
        return [messages.card(locale.t("alert.title"), body, [details], links)]

    return await notify_managers(repos, ctx, member, "alert", build, now, round_id=checkin.id)


async def notify_managers(
    repos: Repositories,
    ctx: CheckinContext,
    member: Member,
    purpose: str,
    build: Callable[[Locale], list[messages.Message]],
    now: datetime,
    round_id: int | None = None,
    only: Sequence[int] | None = None,
) -> int:
    managers = await repos.teams.managers_watching(member.id)
    if only is not None:
        managers = [manager for manager in managers if manager.id in only]
    for manager in managers:
        await repos.outbox.add(
            kind="push",
            recipients=[manager.line_user_id],
            messages=build(ctx.i18n.get(manager.language)),
            purpose=purpose,
            now=now,
            round_id=round_id,
            recipient_member_id=manager.id,
        )
    return len(managers)


async def tell_team(
    repos: Repositories,
    ctx: CheckinContext,
    team: Team,
    subject: Member,
    role: Role,
    key: str,
    now: datetime,
) -> int:
    """Everyone else in the team hears who joined or left it, and as what: 見守り, not 監視."""
    others = [m for m in await repos.teams.members_of(team.id) if m.id != subject.id and m.active]
    for other in others:
        locale = ctx.i18n.get(other.language)
        body = locale.t(
            key,
            name=display_name(locale, subject),
            team=team.name,
            role=locale.t(f"role_name.{role.value}"),
        )
        await repos.outbox.add(
            kind="push",
            recipients=[other.line_user_id],
            messages=[messages.text(body)],
            purpose=key,
            now=now,
            recipient_member_id=other.id,
        )
    return len(others)


async def leave_team(
    repos: Repositories,
    ctx: CheckinContext,
    team: Team,
    member: Member,
    role: Role,
    now: datetime,
) -> None:
    """The member leaves; the others in the team hear it (an emptied team goes away)."""
    await tell_team(repos, ctx, team, member, role, "team.left_notice", now)
    await repos.teams.remove_member(team.id, member.id, now)


async def close_open_round(
    repos: Repositories, ctx: CheckinContext, member: Member, reason: str, now: datetime
) -> CheckinRound | None:
    """A sign of life closes the member's open round; after an alert the managers who were
    alerted hear that the person is safe. Returns the round closed, if one was open."""
    checkin = await repos.rounds.open_round(member.id)
    await repos.members.set_last_ok(member.id, now)
    if checkin is None:
        return None
    await repos.rounds.close(checkin.id, RoundState.ANSWERED, reason, now)
    if checkin.state is RoundState.ALERTED:
        alerted = await repos.outbox.alerted_members(checkin.id)

        def build(locale: Locale) -> list[messages.Message]:
            body = locale.t(
                "safe.body",
                name=display_name(locale, member),
                member_id=member.id,
                at=locale.when(now),
            )
            return [messages.text(body)]

        await notify_managers(
            repos, ctx, member, "safe", build, now, round_id=checkin.id, only=alerted
        )
    return checkin


async def stop_checkins(
    repos: Repositories,
    ctx: CheckinContext,
    member: Member,
    reason: str,
    now: datetime,
    until: datetime | None = None,
) -> int:
    """Check-ins end, for good or `until` a moment (blocked, stopped, paused, left): the open
    round is cancelled and every manager watching hears it, so silence is never mistaken for
    safety. Returns how many managers were told."""
    await cancel_open_round(repos, member, reason, now)

    def build(locale: Locale) -> list[messages.Message]:
        text = locale.t(
            f"stopped.{reason}",
            name=display_name(locale, member),
            member_id=member.id,
            until=locale.when(until),
        )
        return [messages.text(text)]

    return await notify_managers(repos, ctx, member, reason, build, now)


async def cancel_open_round(
    repos: Repositories, member: Member, reason: str, now: datetime
) -> None:
    checkin = await repos.rounds.open_round(member.id)
    if checkin is not None:
        await repos.rounds.close(checkin.id, RoundState.CANCELLED, reason, now)


async def set_schedule(
    repos: Repositories, ctx: CheckinContext, member: Member, schedule: Schedule, now: datetime
) -> datetime:
    """A new schedule starts at its next hour; an open round runs its ladder to the end."""
    next_due = first_due(schedule, now, ctx.timezone)
    await repos.members.set_schedule(member.id, schedule.interval_days, schedule.hour, next_due)
    return next_due


def display_name(locale: Locale, member: Member) -> str:
    return member.display_name or locale.t("member.unnamed", member_id=member.id)


async def record_checkin_messages(
    repos: Repositories, ctx: CheckinContext, now: datetime, resend: bool, limit: int
) -> int:
    """Write the check-in (or re-send) of rounds that have none yet into the outbox.

    Same slot, same language -> same message: one multicast per 500 recipients, across
    however many batches opened the rounds. Returns how many rounds got their message.
    """
    rounds = await repos.rounds.without_message(resend, limit)
    members = await repos.members.get_many([r.member_id for r in rounds])
    groups: dict[tuple[datetime, str], list[tuple[Member, int]]] = defaultdict(list)
    for checkin in rounds:
        member = members[checkin.member_id]
        groups[(checkin.slot_at, ctx.i18n.get(member.language).language)].append(
            (member, checkin.id)
        )
    for (slot_at, language), entries in groups.items():
        locale = ctx.i18n.get(language)
        quote = locale.quote_of_the_day(slot_at.astimezone(ctx.timezone).date())
        title = "checkin.resend_title" if resend else "checkin.title"
        message = messages.checkin(
            locale, ok_postback(ctx, slot_at), quote, title, "checkin.instruction"
        )
        for start in range(0, len(entries), MULTICAST_LIMIT):
            chunk = entries[start : start + MULTICAST_LIMIT]
            outbox_id = await repos.outbox.add(
                kind="multicast" if len(chunk) > 1 else "push",
                recipients=[member.line_user_id for member, _ in chunk],
                messages=[message],
                purpose="resend" if resend else "checkin",
                now=now,
            )
            await repos.rounds.attach_outbox([r for _, r in chunk], outbox_id, resend)
    return len(rounds)
