"""One rule for every send that a person or the city starts, on every surface: テスト送信 (chat,
My page), roll-calls (chat, console, the JMA feed) and notices (console).

Nothing here is a check-in or an alert: those are the service itself and always go. What a
person or an admin can start is held to a rate (per person tested, per team asked) and to what
the month's quota leaves, counted with every re-ask before it starts, and written to the audit
log, whose rows are what the rate counts. Without it any LINE user could spend the month's
quota and so stop every check-in and alert of the city.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from care.errors import Refusal, Refused
from care.services import Services, UnitOfWork


@dataclass(frozen=True)
class Rate:
    times: int
    per: timedelta


# By what a send is counted (its `scope`) and how often it may go. Roll-calls and notices from
# the console and the JMA feed are the city's own and held by the quota alone.
RATES: dict[str, Rate] = {
    "test_sent": Rate(3, timedelta(hours=24)),  # per person tested, whoever asks
    "rollcall_chat": Rate(2, timedelta(hours=24)),  # per team, started by its manager
}
# And by who starts it, whatever they count by: teams are free to make, so a rate per team
# alone let one LINE account with eight teams start sixteen roll-calls a day.
RATES_BY_STARTER: dict[str, Rate] = {
    "rollcall_chat": Rate(2, timedelta(hours=24)),
    # Teams cost nothing to make, and each brings its own invite codes and its own roll-call
    # allowance: a family needs one or two, a person making dozens a day is up to something.
    "team_created": Rate(5, timedelta(hours=24)),
    # Each join is told to the team (care.rounds.notify.tell_team): joining and leaving over and
    # over would spend the month's quota, and carry a name of the joiner's choosing to everyone.
    "team_joined": Rate(5, timedelta(hours=24)),
    # A watcher's note to the others during an alert (care.rounds.notes): a few lines while
    # they find her, not a chat room on the city's quota.
    "alert_note": Rate(10, timedelta(hours=24)),
}


@dataclass(frozen=True)
class Spend:
    action: str  # the audit action: test_sent, rollcall_chat, rollcall_console, rollcall_jma...
    actor: str  # who started it: 会員ID n, an admin's name, 気象庁
    scope: str  # what the rate counts by: member:n, team:n, or "" for none
    messages: int  # what it costs against the month's quota, re-asks included
    detail: str = ""


def with_reasks(recipients: int, reasks: int) -> int:
    """A roll-call costs its recipients once, and again for each re-ask to the silent (all of
    them, at worst)."""
    return recipients * (1 + max(0, reasks))


async def spend(
    work: UnitOfWork, spend: Spend, quota_left: int | None, partial: bool = False
) -> int:
    """Allow the send, or refuse it (too often; the quota cannot cover it and no partial send
    was agreed). -> the messages it may use: all, or what the quota leaves when partial."""
    rate = RATES.get(spend.action)
    if rate is not None:
        since = work.now - rate.per
        if await work.repos.admin.audited_since(spend.action, spend.scope, since) >= rate.times:
            raise Refused(Refusal.TOO_OFTEN, times=rate.times)
    await _held_by_starter(work, spend.action, spend.actor)
    allowed = spend.messages
    if quota_left is not None and spend.messages > quota_left:
        if not partial:
            raise Refused(Refusal.QUOTA_SHORT, need=spend.messages, left=max(0, quota_left))
        allowed = max(0, quota_left)
    detail = f"{spend.detail} ({allowed} of {spend.messages} messages)".strip()
    await work.repos.admin.audit(
        spend.actor, spend.action, detail, work.now, spend.scope, spend.messages
    )
    return allowed


async def made(work: UnitOfWork, action: str, actor: str, detail: str = "") -> None:
    """Something a person made that sends nothing (a team): held to its rate by who makes it,
    and audited, the row being what the rate counts."""
    await _held_by_starter(work, action, actor)
    await work.repos.admin.audit(actor, action, detail, work.now)


async def _held_by_starter(work: UnitOfWork, action: str, actor: str) -> None:
    by_starter = RATES_BY_STARTER.get(action)
    if by_starter is not None:
        since = work.now - by_starter.per
        started = await work.repos.admin.audited_by_since(action, actor, since)
        if started >= by_starter.times:
            raise Refused(Refusal.TOO_OFTEN, times=by_starter.times)


async def quota_left(services: Services) -> int | None:
    """What the month's quota leaves, asked of LINE before any unit of work opens (None: no
    limit, or LINE did not say)."""
    if services.settings.unlimited_messages:
        return None  # nothing is refused for quota on a plan without one
    quota = await services.message_quota()
    if quota is None or quota.limit is None:
        return None
    return quota.limit - quota.used
