"""No watch stops in silence: what keeps the service from doing its work, and who is told.

LINE refusing the sends (the access token revoked: 401; the month's messages spent: 429
"monthly limit") or the sweeps falling behind is an alarm, one a cause, kept in the database
so that every instance and every restart agree. While one is open every console page says so
at the top, /healthz answers 503 naming it, and the operator gets one e-mail when it begins and
one when it ends, however many sends fail meanwhile."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from ground.channels import LINE, Outcome, SendResult
from ground.i18n import Locale
from storage.alarms import Alarm

if TYPE_CHECKING:
    from care.services import UnitOfWork


class Cause(StrEnum):
    LINE_TOKEN = "line_token"  # LINE refuses the channel access token (401)
    LINE_QUOTA = "line_quota"  # LINE's monthly message limit is reached (429)
    SWEEPS_BEHIND = "sweeps_behind"  # what fell due is not done (check-ins, the ladder, sends)


LINE_CAUSES = (Cause.LINE_TOKEN, Cause.LINE_QUOTA)
# Something due this long and not done is the sweeps falling behind (never less than three
# sweeps' interval): the 07:00 wave of a large city takes a minute or two, not ten.
BEHIND_AT_LEAST = timedelta(minutes=10)


class OpenCauses:
    """This instance's idea of which causes are open: read from the database by the watch,
    and kept as sends raise and clear them. It spares a send that went through a write to
    say so when nothing was wrong (the 07:00 wave's multicasts)."""

    def __init__(self) -> None:
        self.causes: frozenset[str] = frozenset()
        # Until the database was read, a cause may be open (raised before a restart): the
        # first LINE send that goes through ends LINE's causes whatever this says.
        self.known = False


def cause_of(outcome: Outcome) -> Cause | None:
    """The cause a send's answer shows, if any (other failures are the row's own)."""
    if outcome is Outcome.UNAUTHORIZED:
        return Cause.LINE_TOKEN
    if outcome is Outcome.QUOTA:
        return Cause.LINE_QUOTA
    return None


def behind_after(sweep_interval: timedelta) -> timedelta:
    return max(BEHIND_AT_LEAST, 3 * sweep_interval)


def sweeps_behind(now: datetime, due: datetime | None, limit: timedelta) -> bool | None:
    """Whether the sweeps are behind, given the earliest moment something falls due: True
    past the limit, False once within half of it, None in between (as it was): a wave that
    hovers at the limit raises and clears nothing."""
    late = now - due if due is not None else timedelta(0)
    if late > limit:
        return True
    if late <= limit / 2:
        return False
    return None


async def note_send(work: UnitOfWork, channel: str, result: SendResult) -> None:
    """In the unit of work that records an outbox row's answer: a refusal of LINE's opens its
    cause; a LINE send that went through ends both (LINE takes the token and has messages)."""
    if channel != LINE:
        return
    hint = work.services.alarms
    cause = cause_of(result.outcome)
    if cause is not None and cause not in hint.causes:
        await work.repos.alarms.raise_(cause, work.now, result.detail)
        hint.causes |= {cause}
    elif result.outcome is Outcome.DELIVERED and (
        not hint.known or hint.causes & set(LINE_CAUSES)
    ):
        await work.repos.alarms.clear(list(LINE_CAUSES), work.now)
        hint.causes -= set(LINE_CAUSES)
        hint.known = True


async def check_sweeps(work: UnitOfWork, due: datetime | None) -> list[Alarm]:
    """The watch's look: open or end SWEEPS_BEHIND by what is due and not done; -> the open
    alarms, which this instance now knows."""
    limit = behind_after(work.services.settings.sweep_interval)
    behind = sweeps_behind(work.now, due, limit)
    alarms = work.repos.alarms
    if behind:
        late = int((work.now - due).total_seconds() // 60) if due else 0
        await alarms.raise_(Cause.SWEEPS_BEHIND, work.now, f"due since {late} min")
    elif behind is False:
        await alarms.clear([Cause.SWEEPS_BEHIND], work.now)
    found = await alarms.open()
    work.services.alarms.causes = frozenset(alarm.cause for alarm in found)
    work.services.alarms.known = True
    return found


def operator_mail(locale: Locale, service: str, alarm: Alarm, ended: bool) -> tuple[str, str]:
    """(subject, body) of the operator's e-mail: a cause began, or it ended."""
    cause = alarm.cause
    values = {
        "service": service,
        "title": locale.t(f"admin.operator_mail.title.{cause}"),
        "what": locale.t(f"admin.health.{cause}"),
        "fix": locale.t(f"admin.operator_mail.fix.{cause}"),
        "after": locale.t(f"admin.operator_mail.after.{cause}"),
        "since": locale.when(alarm.raised_at),
        "until": locale.when(alarm.cleared_at),
        "detail": alarm.detail,
    }
    kind = "ended" if ended else "started"
    return locale.t(f"admin.operator_mail.subject_{kind}", **values), locale.t(
        f"admin.operator_mail.body_{kind}", **values
    )
