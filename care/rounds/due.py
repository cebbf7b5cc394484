"""Rounds whose next step of the ladder has come: the one read each step of the sweep makes
(the re-send, the alert, each next turn, the alert again, the desk), and when the next falls
due (the engine's wake-up).

One ladder, two sets of waits. A round a heat check named (care.broadcasts.heat: the heat
check's own round, or her regular round it found still waiting for her answer, the one most
at risk that day) climbs with the heat day's shorter waits (`heat_timings`); every other round
with the deployment's (`Services.timings`). Each round is read by the waits that are its own,
and stepped here only, so no round is stepped by two ladders. What each step does is the
protocol's (`care.rounds.protocol.decide`) alike.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from care.rounds.ladder import WAITS, Step, Timings, due_step
from care.services import Services, UnitOfWork
from storage.models import CheckinRound


def heat_timings(services: Services) -> Timings:
    """The heat day's ladder: the deployment's, with the shorter waits of its first rungs
    (asked again, then the alert). The settings never let them be longer than the regular
    ones (ground.settings), so a heat day never slows anyone's ladder."""
    settings = services.settings
    return replace(
        services.timings,
        resend_after=settings.heat_resend_after,
        alert_after=settings.heat_alert_after,
    )


def _ladders(services: Services, step: Step) -> list[tuple[Timings, bool | None]]:
    """The waits `step` is read with, and the rounds each is for (`heat`: those a heat check
    named, the others, or all when both ladders wait alike for it)."""
    regular, heat = services.timings, heat_timings(services)
    if not services.settings.heat_areas:
        # No heat checks here: one read, without asking each round whether a heat check named
        # it. (Had heat been turned off on an alert day, its rounds climb the regular ladder.)
        return [(regular, None)]
    if step not in regular.steps or regular.wait(step) == heat.wait(step):
        return [(regular, None)]
    return [(regular, False), (heat, True)]


async def rounds_due(work: UnitOfWork, step: Step, limit: int) -> tuple[list[CheckinRound], int]:
    """(the rounds due for `step` now, how many were read): a full batch read means more may
    wait, whatever the rule then kept."""
    wait = WAITS[step]
    due: list[CheckinRound] = []
    read = 0
    for timings, heat in _ladders(work.services, step):
        since = timings.waiting_since_at_most(step, work.now)
        rounds = await work.repos.rounds.waiting(
            wait.state, wait.since, since, limit, wait.untaken, wait.called, heat
        )
        due += [r for r in rounds if due_step(r, timings, work.now) is step]
        read = max(read, len(rounds))
    return due, read


async def next_due_at(work: UnitOfWork, step: Step) -> datetime | None:
    """When the first check-in round waiting for `step` gets it, each by its own waits."""
    wait = WAITS[step]
    found = []
    for timings, heat in _ladders(work.services, step):
        since = await work.repos.rounds.earliest_waiting(
            wait.state, wait.since, wait.untaken, wait.called, heat
        )
        if since is not None:
            found.append(timings.due_at(step, since))
    return min(found) if found else None
