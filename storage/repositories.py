"""All repositories over one transaction's connection."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from storage.admin import AdminRepository
from storage.database import Database
from storage.groups import GroupRepository
from storage.inbox import InboxRepository
from storage.members import MemberRepository
from storage.outbox import OutboxRepository
from storage.rounds import RoundRepository
from storage.stats import StatsRepository
from storage.teams import TeamRepository


@dataclass(frozen=True)
class Repositories:
    members: MemberRepository
    teams: TeamRepository
    rounds: RoundRepository
    outbox: OutboxRepository
    inbox: InboxRepository
    groups: GroupRepository
    admin: AdminRepository
    stats: StatsRepository


@asynccontextmanager
async def unit_of_work(db: Database) -> AsyncIterator[Repositories]:
    """One transaction: everything done through the yielded repositories commits together."""
    async with db.transaction() as conn:
        yield Repositories(
            members=MemberRepository(conn),
            teams=TeamRepository(conn),
            rounds=RoundRepository(conn),
            outbox=OutboxRepository(conn),
            inbox=InboxRepository(conn),
            groups=GroupRepository(conn),
            admin=AdminRepository(conn),
            stats=StatsRepository(conn),
        )
