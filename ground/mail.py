"""E-mail to the operator, through the deployment's SMTP server (MIMAMORI_SMTP_*).

The standard library's smtplib, in a thread: a few e-mails a month (a cause begins, it ends)
need no client of their own, and STARTTLS, implicit TLS and login are all there. Never inside
a unit of work: an SMTP server that answers slowly would hold the database's writer."""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from ground.transactions import INSIDE_TRANSACTION

log = logging.getLogger("mimamori.mail")

TIMEOUT_SECONDS = 20
STARTTLS, IMPLICIT_TLS, PLAIN = "starttls", "tls", "off"


class MailInTransaction(RuntimeError):
    """An e-mail was to be sent while a unit of work was open."""


class MailFailed(Exception):
    """The SMTP server could not be reached, or refused the e-mail."""


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    security: str = STARTTLS  # starttls, tls (implicit, port 465) or off
    user: str | None = None
    password: str | None = field(default=None, repr=False)


class Mailer:
    def __init__(
        self,
        settings: MailSettings,
        *,
        strict: bool = False,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        """`strict`: an e-mail inside a unit of work fails (the tests) instead of being
        logged. `tls_context`: whom to trust (the system's certificates by default)."""
        self._settings = settings
        self._strict = strict
        self._tls = tls_context

    async def send(self, subject: str, body: str) -> None:
        """Send one e-mail to every recipient; MailFailed if the server did not take it."""
        if INSIDE_TRANSACTION.get():
            if self._strict:
                raise MailInTransaction(f"e-mail {subject!r} inside a transaction")
            log.warning("e-mail sent inside a transaction: %s", subject)
        message = self._message(subject, body)
        try:
            await asyncio.to_thread(self._send, message)
        except (OSError, smtplib.SMTPException) as error:
            raise MailFailed(f"{type(error).__name__}: {error}") from error

    def _message(self, subject: str, body: str) -> EmailMessage:
        message = EmailMessage()
        message["Subject"] = subject
        message["From"] = self._settings.sender
        message["To"] = ", ".join(self._settings.recipients)
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=self._settings.sender.rpartition("@")[2])
        message.set_content(body)
        return message

    def _send(self, message: EmailMessage) -> None:
        s = self._settings
        context = self._tls or ssl.create_default_context()
        if s.security == IMPLICIT_TLS:
            server: smtplib.SMTP = smtplib.SMTP_SSL(
                s.host, s.port, timeout=TIMEOUT_SECONDS, context=context
            )
        else:
            server = smtplib.SMTP(s.host, s.port, timeout=TIMEOUT_SECONDS)
        with server:
            if s.security == STARTTLS:
                server.starttls(context=context)
            if s.user:
                server.login(s.user, s.password or "")
            server.send_message(message)
