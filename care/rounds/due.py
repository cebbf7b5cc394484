"""Rounds whose next step of the ladder has come: the one read each step of the sweep makes
(the re-send, the alert, each next turn, the alert again, the desk)."""

from __future__ import annotations

from care.rounds.ladder import WAITS, Step, due_step
from care.services import UnitOfWork
from storage.models import CheckinRound


async def rounds_due(work: UnitOfWork, step: Step, limit: int) -> tuple[list[CheckinRound], int]:
    """(the rounds due for `step` now, how many were read): a full batch read means more may
    wait, whatever the rule then kept."""
    wait, timings = WAITS[step], work.services.timings
    since = timings.waiting_since_at_most(step, work.now)
    rounds = await work.repos.rounds.waiting(
        wait.state, wait.since, since, limit, wait.untaken, wait.called
    )
    return [r for r in rounds if due_step(r, timings, work.now) is step], len(rounds)
