"""The one services object every surface reaches the service layer through, and the unit of
work that every action runs in."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from aiohttp import web

from care.health import OpenCauses
from care.rounds.ladder import Timings
from ground.channels import LINE, Channel, Quota
from ground.clock import Clock
from ground.i18n import I18n, Locale
from ground.line_platform import LinePlatform
from ground.metrics import Metrics
from ground.postback import PostbackCodec
from ground.settings import Settings
from storage.calls import call_key
from storage.database import Database
from storage.repositories import Repositories, arrivals, claims, reading, unit_of_work
from storage.webhook_events import ArrivalsRepository


class Bell:
    """Rung to wake whoever listens: the outbox's sender (a unit of work that wrote to the
    outbox rings after it commits, so no surface has to remember to), the sweep (a step fell
    due at once), the dispatcher (events put back)."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[], None]] = []

    def listen(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def ring(self) -> None:
        for listener in self._listeners:
            listener()


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    line: LinePlatform  # LINE itself, for what is asked of it besides sending
    clock: Clock
    i18n: I18n
    postbacks: PostbackCodec
    timings: Timings
    # How tellings reach people, by name: LINE always, and whatever else the deployment has.
    channels: Mapping[str, Channel] = field(default_factory=dict)
    deliveries: Bell = field(default_factory=Bell)
    # Rung when a step of the ladder fell due at once (a call that settled nothing): the
    # scheduler sweeps now rather than at its interval.
    sweeps: Bell = field(default_factory=Bell)
    metrics: Metrics = field(default_factory=Metrics)
    # Rung when stored webhook events wait to be handled again (those set aside, put back
    # from the console): the dispatcher drains.
    events: Bell = field(default_factory=Bell)
    # Which of the service's alarms this instance knows open (care.health).
    alarms: OpenCauses = field(default_factory=OpenCauses)

    @classmethod
    def build(
        cls,
        settings: Settings,
        db: Database,
        line: LinePlatform,
        clock: Clock,
        channels: Sequence[Channel],
    ) -> Services:
        """The one place the services are put together (the app's start-up and tools);
        `channels`: LINE's, and whatever else the deployment has."""
        # Every teller registered before any decision is carried (the modules import this one).
        from care import tellers  # noqa: F401

        named = {channel.name: channel for channel in channels}
        if LINE not in named:
            raise ValueError("the services need LINE's channel")
        i18n = I18n.load(settings.timezone, settings.locale_overrides)
        db.call_key = call_key(settings.channel_secret)
        return cls(
            settings=settings,
            db=db,
            line=line,
            clock=clock,
            i18n=i18n,
            channels=named,
            postbacks=PostbackCodec(settings.channel_secret),
            timings=Timings(
                settings.resend_after,
                settings.alert_after,
                settings.group_report_after,
                settings.realert_after,
                settings.desk_after,
                settings.desk_unwell,
                settings.taken_check_after,
                settings.alert_remind_every,
            ),
        )

    @property
    def timezone(self) -> ZoneInfo:
        return self.settings.timezone

    async def message_quota(self) -> Quota | None:
        """The month's messages as the plan counts them: LINE's figures, with no limit on the
        地方公共団体プラン (MIMAMORI_MESSAGE_PLAN=unlimited), whatever LINE's answer says of
        one. Asked of LINE: never inside a unit of work."""
        found = await self.line.quota()
        if self.settings.unlimited_messages and found is not None:
            return Quota(None, found.used)
        return found

    @property
    def my_page_url(self) -> str | None:
        """https://liff.line.me/{LIFF id}: My page inside LINE, when the deployment has one."""
        liff_id = self.settings.liff_id
        return f"https://liff.line.me/{liff_id}" if liff_id else None

    def locale(self, language: str | None) -> Locale:
        return self.i18n.get(language)

    @asynccontextmanager
    async def unit_of_work(self, brief: bool = False) -> AsyncIterator[UnitOfWork]:
        """One transaction over the repositories, with the moment it acts at. What it wrote
        to the outbox is sent once it has committed. `brief`: its statements each touch a few
        rows by key (a batch of webhook events; `Database.transaction`).

        It does not nest: code that runs inside one (a chat handler, in the batch's) is handed
        that one and uses it. A second, opened inside, would be a transaction of its own that
        commits while the first may still be undone, or waits for the writer the first holds.
        """
        if _CURRENT.get() is not None:
            raise NestedUnitOfWork(
                "a unit of work is open already: use the one handed to you (ctx.work)"
            )
        async with unit_of_work(self.db, brief) as repos, self._current(repos) as work:
            yield work
        if repos.outbox.added:
            self.deliveries.ring()

    @asynccontextmanager
    async def reading(self, brief: bool = False) -> AsyncIterator[UnitOfWork]:
        """A unit of work that only reads (a page, the figures, a lookup): it waits for no
        writer and holds none up, and cannot write (`Database.reading`; a write raises
        `storage.database.ReadOnly`). It sees what had committed when it began. Anything
        that may write, even a line of the audit log or a time last seen, belongs in
        `unit_of_work`. It does not nest, either way."""
        if _CURRENT.get() is not None:
            raise NestedUnitOfWork("a unit of work is open already: use the one handed to you")
        async with reading(self.db, brief) as repos, self._current(repos) as work:
            yield work

    @asynccontextmanager
    async def claims(self) -> AsyncIterator[UnitOfWork]:
        """A short transaction that only claims work for this instance (outbox rows, stored
        webhook events); on PostgreSQL it does not wait for the writer. It does not nest, in
        a unit of work or another claim, nor does either open inside it."""
        if _CURRENT.get() is not None:
            raise NestedUnitOfWork("a unit of work or a claim is open already")
        async with claims(self.db) as repos, self._current(repos) as work:
            yield work

    @asynccontextmanager
    async def _current(self, repos: Repositories) -> AsyncIterator[UnitOfWork]:
        """The unit of work open in this task, while it is (so that none opens inside it)."""
        work = UnitOfWork(repos, self, self.clock.now())
        token = _CURRENT.set(work)
        try:
            yield work
        finally:
            _CURRENT.reset(token)

    @asynccontextmanager
    async def arrivals(self) -> AsyncIterator[ArrivalsRepository]:
        """Where webhook events land before LINE is answered, and wait to be handled: never
        behind a unit of work (`Database.arrivals`)."""
        async with arrivals(self.db) as repo:
            yield repo

    @property
    def instance(self) -> str:
        """This process, as it signs the work it claims."""
        return self.db.instance

    @asynccontextmanager
    async def repositories(self, brief: bool = False) -> AsyncIterator[Repositories]:
        """A unit of work for reads and bookkeeping that no rule of the service governs (the
        console's figures, sessions, the audit log)."""
        async with self.unit_of_work(brief) as work:
            yield work.repos

    @asynccontextmanager
    async def reading_repositories(self, brief: bool = False) -> AsyncIterator[Repositories]:
        """`reading()`'s repositories, for what only reads outside the rules of the service
        (the console's figures, /metrics)."""
        async with self.reading(brief) as work:
            yield work.repos


class NestedUnitOfWork(RuntimeError):
    """`unit_of_work()` inside another: a programming error, never a refusal of the rules."""


@dataclass(frozen=True)
class UnitOfWork:
    repos: Repositories
    services: Services
    now: datetime

    def locale(self, language: str | None) -> Locale:
        return self.services.i18n.get(language)


_CURRENT: ContextVar[UnitOfWork | None] = ContextVar("mimamori_unit_of_work", default=None)

# The key under which every web surface (webhook, My page, admin console) finds the services.
SERVICES = web.AppKey("services", Services)
