"""A stand-in SMTP server on loopback: the operator's mailbox as the tests see it.

It speaks as much ESMTP as smtplib uses (EHLO, STARTTLS, AUTH PLAIN, MAIL, RCPT, DATA, QUIT)
and keeps what it was given, so the server's own mailer is tested against a real socket."""

from __future__ import annotations

import asyncio
import base64
import email
import email.policy
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: EmailMessage
    tls: bool
    user: str | None

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        return str(self.message.get_content())


@dataclass
class FakeSmtp:
    tls: ssl.SSLContext | None = None  # offers STARTTLS with this context
    login: tuple[str, str] | None = None  # the one user and password AUTH takes
    refuse: int = 0  # the next this many e-mails are refused (451), as a busy server would
    received: list[Received] = field(default_factory=list)
    port: int = 0
    _server: asyncio.Server | None = None

    async def start(self) -> FakeSmtp:
        self._server = await asyncio.start_server(self._session, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        state: dict[str, object] = {"tls": False, "user": None, "rcpt": []}

        def say(line: str) -> None:
            writer.write(f"{line}\r\n".encode())

        say("220 fake.example ESMTP")
        try:
            while line := (await reader.readline()).decode().rstrip("\r\n"):
                verb, _, rest = line.partition(" ")
                verb = verb.upper()
                if verb in ("EHLO", "HELO"):
                    offers = ["8BITMIME"]
                    if self.tls and not state["tls"]:
                        offers.append("STARTTLS")
                    if self.login:
                        offers.append("AUTH PLAIN")
                    for offer in ["fake.example", *offers[:-1]]:
                        say(f"250-{offer}")
                    say(f"250 {offers[-1]}")
                elif verb == "STARTTLS" and self.tls:
                    say("220 go ahead")
                    await writer.drain()
                    await writer.start_tls(self.tls)
                    state["tls"] = True
                elif verb == "AUTH" and self.login:
                    _, user, password = base64.b64decode(rest.split()[1]).decode().split("\0")
                    if (user, password) == self.login:
                        state["user"] = user
                        say("235 accepted")
                    else:
                        say("535 wrong")
                elif verb == "MAIL":
                    if self.login and state["user"] is None:
                        say("530 authentication required")
                    elif self.refuse:
                        self.refuse -= 1
                        say("451 try again later")
                    else:
                        state["from"], state["rcpt"] = _address(rest), []
                        say("250 ok")
                elif verb == "RCPT":
                    state["rcpt"].append(_address(rest))  # type: ignore[attr-defined]
                    say("250 ok")
                elif verb == "DATA":
                    say("354 go on")
                    await writer.drain()
                    self.received.append(
                        Received(
                            str(state["from"]),
                            list(state["rcpt"]),  # type: ignore[call-overload]
                            await _data(reader),
                            bool(state["tls"]),
                            state["user"],  # type: ignore[arg-type]
                        )
                    )
                    say("250 queued")
                elif verb == "QUIT":
                    say("221 bye")
                    await writer.drain()
                    break
                else:
                    say("250 ok")
                await writer.drain()
        finally:
            writer.close()


def _address(rest: str) -> str:
    return rest.partition("<")[2].partition(">")[0]


async def _data(reader: asyncio.StreamReader) -> EmailMessage:
    lines = []
    while (line := await reader.readline()) != b".\r\n":
        lines.append(line[1:] if line.startswith(b"..") else line)
    message = email.message_from_bytes(b"".join(lines), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message
