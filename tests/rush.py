"""The 07:00 rush against a real `mimamori serve` process: residents seeded in its database,
the process started (and killed), signed OK taps fired at it as LINE sends them, and what LINE
does when a webhook got no 200 (it sends the same event again, marked as a redelivery).

Shared by the crash tests (tests/test_rush.py) and the benchmark (bench/taps.py).
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import ClientError, ClientSession, ClientTimeout, TCPConnector

from care.rounds.schedule import Schedule, first_due
from ground.postback import PostbackCodec
from storage.database import database_for, to_db
from tests import line_webhook as hook

ROOT = Path(__file__).resolve().parents[1]
SECRET = "rush-channel-secret"
TOKYO = ZoneInfo("Asia/Tokyo")
TOKYO_HOUR = 7
SCHEDULE = Schedule(1, TOKYO_HOUR)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Resident:
    number: int
    uid: str
    manager_uid: str | None


async def seed(
    path: Path | str,
    count: int,
    now: datetime,
    *,
    state: str = "open",
    managers: bool = False,
    due: bool = False,
) -> list[Resident]:
    """`count` residents whose 07:00 check-in went out an hour ago (a round in `state`), each
    with a manager of their own (`managers`) who was alerted when the state is "alerted".
    With `due`, no round yet: their check-in is due now (a wave)."""
    db = database_for(path)
    await db.open()
    slot = now - timedelta(hours=1)
    residents = [
        Resident(
            n, hook.user_id(f"resident-{n}"), hook.user_id(f"manager-{n}") if managers else None
        )
        for n in range(count)
    ]
    next_due = now - timedelta(minutes=1) if due else first_due(SCHEDULE, now, TOKYO)
    async with db.transaction() as conn:
        await conn.executemany(
            "INSERT INTO members (line_user_id, display_name, language, registered_at,"
            " interval_days, checkin_hour, next_due_at) VALUES (?, ?, 'ja', ?, 1, ?, ?)",
            [
                (r.uid, f"resident {r.number}", to_db(now), TOKYO_HOUR, to_db(next_due))
                for r in residents
            ],
        )
        if not due:
            # The 07:00 check-in, as the outbox recorded it when LINE accepted it.
            sent = await conn.fetch_one(
                "INSERT INTO outbox (kind, recipients, messages, retry_key, purpose, state,"
                " attempts, next_attempt_at, created_at, sent_at)"
                " VALUES ('multicast', '[]', '[]', ?, 'checkin', 'sent', 1, ?, ?, ?) RETURNING id",
                (str(uuid.uuid4()), to_db(slot), to_db(slot), to_db(slot)),
            )
            await conn.execute(
                "INSERT INTO checkin_rounds (member_id, slot_at, state, opened_at, sent_at,"
                " alerted_at, checkin_outbox_id) SELECT id, ?, ?, ?, ?, ?, ? FROM members",
                (
                    to_db(slot),
                    state,
                    to_db(slot),
                    to_db(slot),
                    to_db(now) if state == "alerted" else None,
                    sent[0],
                ),
            )
        if managers:
            await _seed_managers(conn, residents, now, alerted=state == "alerted")
    await db.close()
    return residents


async def _seed_managers(
    conn: Any, residents: list[Resident], now: datetime, alerted: bool
) -> None:
    stamp = to_db(now)
    for resident in residents:
        assert resident.manager_uid is not None
        (manager,) = await conn.fetch_one(
            "INSERT INTO members (line_user_id, display_name, language, registered_at)"
            " VALUES (?, ?, 'ja', ?) RETURNING id",
            (resident.manager_uid, f"manager {resident.number}", stamp),
        )
        (team,) = await conn.fetch_one(
            "INSERT INTO teams (name, default_interval_days, default_hour, created_at)"
            " VALUES (?, 1, ?, ?) RETURNING id",
            (f"family {resident.number}", TOKYO_HOUR, stamp),
        )
        user_id = resident.number + 1  # members were inserted first, in order
        await conn.executemany(
            "INSERT INTO team_members (team_id, member_id, role, joined_at, consented_at)"
            " VALUES (?, ?, ?, ?, ?)",
            [
                (team, user_id, "user", stamp, stamp),
                (team, manager, "manager", stamp, None),
            ],
        )
        if alerted:
            # The alert went out: the managers who got it are the ones told the person is safe.
            await conn.execute(
                "INSERT INTO outbox (kind, recipients, messages, retry_key, purpose, round_id,"
                " recipient_member_id, state, attempts, next_attempt_at, created_at, sent_at)"
                " VALUES ('push', ?, '[]', ?, 'alert', (SELECT id FROM checkin_rounds"
                " WHERE member_id = ?), ?, 'sent', 1, ?, ?, ?)",
                (
                    f'["{resident.manager_uid}"]',
                    str(uuid.uuid4()),
                    user_id,
                    manager,
                    stamp,
                    stamp,
                    stamp,
                ),
            )


def ok_tap(resident: Resident, now: datetime) -> dict[str, Any]:
    """The resident's tap on the OK button of the check-in that went out at 07:00."""
    slot = now - timedelta(hours=1)
    data = PostbackCodec(SECRET).encode("ok", t=int(slot.timestamp()))
    return hook.postback(resident.uid, data, now)


def stop_tap(resident: Resident, now: datetime) -> dict[str, Any]:
    """安否確認を止める, and her yes to the question an open alert brings first (c=1): each
    time it is applied, the managers are told again."""
    return hook.postback(resident.uid, PostbackCodec(SECRET).encode("sched_stop", c=1), now)


@dataclass
class Server:
    """`mimamori serve` as a separate process on loopback."""

    database: Path | str  # an SQLite file or a postgresql:// URL
    line_url: str
    port: int = field(default_factory=free_port)
    process: asyncio.subprocess.Process | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    folder: Path | None = None  # its working folder (the SQLite file's, unless given)
    log_file: Path | None = None  # where its log goes (none: nowhere)
    # What `python -m` runs: `mimamori serve`, or a benchmark's stand-in of it.
    command: tuple[str, ...] = ("mimamori", "serve")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        folder = self.folder or Path(self.database).parent
        env = {
            "PATH": os.environ["PATH"],
            "PYTHONPATH": str(ROOT),
            "HOME": str(folder),
            "NO_PROXY": "127.0.0.1,localhost",
            "LINE_CHANNEL_SECRET": SECRET,
            "LINE_CHANNEL_ACCESS_TOKEN": "rush-token",
            "LINE_API_BASE_URL": self.line_url,
            "MIMAMORI_HOST": "127.0.0.1",
            "MIMAMORI_PORT": str(self.port),
            "MIMAMORI_DATABASE": str(self.database),
            **self.extra_env,
        }
        log = self.log_file.open("ab") if self.log_file else asyncio.subprocess.DEVNULL
        try:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                *self.command,
                cwd=folder,
                env=env,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=log,
            )
        finally:
            if self.log_file:
                log.close()  # type: ignore[union-attr]
        await self.wait_healthy()

    async def wait_healthy(self, seconds: float = 30) -> None:
        # Waiting for a child process to bind its port (bounded), not for the scheduler.
        deadline = time.monotonic() + seconds
        async with ClientSession() as session:
            while time.monotonic() < deadline:
                try:
                    async with session.get(self.url + "/healthz") as response:
                        if response.status == 200:
                            return
                except (OSError, ClientError):
                    pass
                await asyncio.sleep(0.05)
        raise AssertionError("the server did not start")

    def kill(self) -> None:
        """kill -9: no shutdown, no flushing, as a power cut or an OOM kill."""
        assert self.process is not None
        self.process.kill()

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await asyncio.wait_for(self.process.wait(), 30)


@dataclass
class Burst:
    """What a burst of webhook requests got back: which events LINE saw answered 200."""

    acknowledged: set[str] = field(default_factory=set)
    unanswered: list[dict[str, Any]] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)  # seconds, of the 200s
    first_sent: dict[str, float] = field(default_factory=dict)  # event id -> time.monotonic()
    elapsed: float = 0.0


async def fire(
    url: str,
    events: Sequence[dict[str, Any]],
    connections: int,
    *,
    secret: str = SECRET,
    burst: Burst | None = None,
    new_connections: bool = False,
) -> Burst:
    """POST each event as its own signed webhook, `connections` at a time; `burst` fills in
    as the answers come (a test can watch it). With `new_connections`, a connection per
    request, as a sender that does not keep connections open."""
    burst = burst if burst is not None else Burst()
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for event in events:
        queue.put_nowait(event)
    connector = TCPConnector(limit=connections, force_close=new_connections)
    timeout = ClientTimeout(total=10)

    async def worker(session: ClientSession) -> None:
        while not queue.empty():
            event = queue.get_nowait()
            body = hook.body(event, validate=False)
            burst.first_sent.setdefault(event["webhookEventId"], time.monotonic())
            began = time.perf_counter()
            try:
                async with session.post(
                    url + "/callback",
                    data=body,
                    headers={
                        "X-Line-Signature": hook.sign(body, secret),
                        "Content-Type": "application/json",
                    },
                ) as response:
                    await response.read()
                    ok = response.status == 200
            except (TimeoutError, OSError, ClientError):
                ok = False
            if ok:
                burst.acknowledged.add(event["webhookEventId"])
                burst.latencies.append(time.perf_counter() - began)
            else:
                burst.unanswered.append(event)

    began = time.perf_counter()
    async with ClientSession(connector=connector, timeout=timeout) as session:
        await asyncio.gather(*(worker(session) for _ in range(connections)))
    burst.elapsed = time.perf_counter() - began
    return burst
