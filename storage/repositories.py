"""All repositories over one transaction's connection."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from ground.transactions import INSIDE_TRANSACTION
from storage.admin import AdminRepository
from storage.alarms import AlarmRepository
from storage.calls import CallRepository
from storage.database import Connection, Database
from storage.desk import DeskRepository
from storage.devices import DeviceRepository
from storage.disclosure import DisclosureRepository
from storage.forwards import ForwardRepository
from storage.groups import GroupRepository
from storage.heat import HeatRepository
from storage.members import MemberRepository
from storage.on_behalf import StaffRequestRepository
from storage.outbox import OutboxRepository
from storage.partners import PartnerRepository
from storage.quakes import QuakeRepository
from storage.retention import RetentionRepository
from storage.rich_menus import RichMenuRepository
from storage.rollcalls import RollCallRepository
from storage.roster import RosterImportRepository, RosterRepository
from storage.rounds import RoundRepository
from storage.stats import StatsRepository
from storage.storms import StormRepository
from storage.teams import TeamRepository
from storage.webhook_events import ArrivalsRepository, HandledEventsRepository


@dataclass(frozen=True)
class Repositories:
    members: MemberRepository
    teams: TeamRepository
    rounds: RoundRepository
    desk: DeskRepository
    partners: PartnerRepository
    outbox: OutboxRepository
    handled: HandledEventsRepository
    forwards: ForwardRepository
    groups: GroupRepository
    admin: AdminRepository
    stats: StatsRepository
    rich_menus: RichMenuRepository
    rollcalls: RollCallRepository
    roster: RosterRepository
    roster_imports: RosterImportRepository
    quakes: QuakeRepository
    storms: StormRepository
    calls: CallRepository
    devices: DeviceRepository
    alarms: AlarmRepository
    on_behalf: StaffRequestRepository
    disclosure: DisclosureRepository
    retention: RetentionRepository
    heat: HeatRepository
    conn: Connection

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """A part of the transaction that an exception undoes alone (one webhook event of a
        batch: a handler that fails leaves the others' changes in place)."""
        name = f"part_{next(_SAVEPOINTS)}"
        await self.conn.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            await self.conn.execute(f"ROLLBACK TO {name}")
            await self.conn.execute(f"RELEASE {name}")
            raise
        await self.conn.execute(f"RELEASE {name}")


_SAVEPOINTS = itertools.count()


@asynccontextmanager
async def unit_of_work(db: Database, brief: bool = False) -> AsyncIterator[Repositories]:
    """One transaction: everything done through the yielded repositories commits together.
    Marked for the LINE client, which refuses to call out while it is open. `brief`: see
    `Database.transaction`."""
    async with db.transaction(brief) as conn:
        token = INSIDE_TRANSACTION.set(True)
        try:
            yield _over(conn, db.call_key)
        finally:
            INSIDE_TRANSACTION.reset(token)


@asynccontextmanager
async def reading(db: Database, brief: bool = False) -> AsyncIterator[Repositories]:
    """A transaction that only reads (`Database.reading`): no writer's lock, and a write
    through the yielded repositories raises `ReadOnly`. Marked as a unit of work is: nothing
    slow is called while it is open."""
    async with db.reading(brief) as conn:
        token = INSIDE_TRANSACTION.set(True)
        try:
            yield _over(conn, db.call_key)
        finally:
            INSIDE_TRANSACTION.reset(token)


@asynccontextmanager
async def claims(db: Database) -> AsyncIterator[Repositories]:
    """A short transaction that only claims work (`Database.claims`), marked as a unit of work
    is: nothing slow is called while it is open."""
    async with db.claims() as conn:
        token = INSIDE_TRANSACTION.set(True)
        try:
            yield _over(conn, db.call_key)
        finally:
            INSIDE_TRANSACTION.reset(token)


@asynccontextmanager
async def arrivals(db: Database) -> AsyncIterator[ArrivalsRepository]:
    """A transaction where webhook events land (`Database.arrivals`)."""
    async with db.arrivals() as conn:
        yield ArrivalsRepository(conn)


def _over(conn: Connection, call_key: bytes) -> Repositories:
    return Repositories(
        members=MemberRepository(conn),
        teams=TeamRepository(conn),
        rounds=RoundRepository(conn),
        desk=DeskRepository(conn),
        partners=PartnerRepository(conn),
        outbox=OutboxRepository(conn, call_key),
        handled=HandledEventsRepository(conn),
        forwards=ForwardRepository(conn),
        groups=GroupRepository(conn),
        admin=AdminRepository(conn),
        stats=StatsRepository(conn),
        rich_menus=RichMenuRepository(conn),
        rollcalls=RollCallRepository(conn),
        roster=RosterRepository(conn),
        roster_imports=RosterImportRepository(conn),
        quakes=QuakeRepository(conn),
        storms=StormRepository(conn),
        calls=CallRepository(conn, call_key),
        devices=DeviceRepository(conn),
        alarms=AlarmRepository(conn),
        on_behalf=StaffRequestRepository(conn),
        heat=HeatRepository(conn),
        disclosure=DisclosureRepository(conn),
        retention=RetentionRepository(conn),
        conn=conn,
    )
