"""The service's watch over itself (care/health.py): once a minute, whether what fell due is
done (the sweeps are not behind), and the operator's e-mails that are due. Any instance can
look: the database is the truth, and each e-mail is claimed by one instance."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiohttp import web

from care import health
from care.services import Services
from ground.branding import load_branding
from ground.mail import Mailer, MailFailed
from scheduler.engine import CheckinEngine

log = logging.getLogger("mimamori.watch")

EVERY_SECONDS = 60


class HealthWatch:
    def __init__(
        self, services: Services, engine: CheckinEngine, mailer: Mailer | None = None
    ) -> None:
        self._services = services
        self._engine = engine
        self._mailer = mailer
        self._task: asyncio.Task[None] | None = None

    async def check(self) -> None:
        """Look once: the sweeps' lag, then the e-mails a cause's start or end calls for."""
        due = await self._engine.next_due()
        async with self._services.unit_of_work() as work:
            await health.check_sweeps(work, due)
        await self.mail_due()

    async def mail_due(self) -> int:
        """Send the e-mails due, each claimed first so that one instance sends it, outside
        any unit of work; one the server did not take is given back for the next look.
        Without SMTP settings nothing is claimed: the console and /healthz say it still."""
        if self._mailer is None:
            return 0
        services = self._services
        async with services.unit_of_work() as work:
            due = await work.repos.alarms.claim_mails(work.now)
        locale = services.i18n.get(None)
        name = load_branding(services.settings.branding).service_name
        sent = 0
        for alarm, ended in due:
            subject, body = health.operator_mail(locale, name, alarm, ended)
            try:
                await self._mailer.send(subject, body)
                sent += 1
            except MailFailed as failure:
                log.warning(
                    "operator e-mail on %s not sent (tried again): %s", alarm.cause, failure
                )
                async with services.unit_of_work() as work:
                    await work.repos.alarms.unclaim_mail(alarm.cause, ended)
        return sent

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(EVERY_SECONDS)
            try:
                await self.check()
            except Exception:
                log.exception("the service's health not checked; tried again in a minute")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


WATCH = web.AppKey("health_watch", HealthWatch)
