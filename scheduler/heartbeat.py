"""An instance's heartbeat: while it lives it renews its claims (stored webhook events it is
handling, outbox rows it is sending), so the lease can be short. When an instance dies, another
takes its events, and the replies it kept and never sent, within the lease (20 s by default) and
a beat, while their reply tokens are still good: each beat also asks for a look at what waits."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from care.services import Services

log = logging.getLogger("mimamori.heartbeat")


class Heartbeat:
    def __init__(self, services: Services) -> None:
        self._services = services
        self._task: asyncio.Task[None] | None = None
        self._listeners: list[Callable[[], None]] = []

    def after_beat(self, listener: Callable[[], None]) -> None:
        """Called after each beat (the chat's drain: a dead instance's events and replies)."""
        self._listeners.append(listener)

    async def beat(self) -> None:
        """Renew this instance's claims for one more lease from now."""
        services = self._services
        until = services.clock.now() + services.settings.claim_lease
        async with services.claims() as work:
            await work.repos.outbox.renew_claims(services.instance, until)
        async with services.arrivals() as arrivals:
            await arrivals.renew_claims(services.instance, until)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        # Three beats a lease: one late beat never lets a live instance's claims lapse.
        every = self._services.settings.claim_lease.total_seconds() / 3
        while True:
            await asyncio.sleep(every)
            try:
                await self.beat()
            except Exception:
                log.exception("claims not renewed; trying again at the next beat")
            for listener in self._listeners:
                listener()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
