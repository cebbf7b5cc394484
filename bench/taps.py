"""The 07:00 rush: thousands of signed OK taps at `mimamori serve`, beside a bare aiohttp app.

Both run as separate processes on loopback; the same taps go to both with the same number of
connections. mimamori's replies go to a stand-in LINE in this process that answers at once and
counts them (LINE forbids load tests against its platform). Prints figures; asserts nothing.

    .venv/bin/python -m bench.taps --taps 5000 --connections 32 --residents 20000
    .venv/bin/python -m bench.taps --database postgresql://.../empty_db --instances 2

With `--database postgres`, a private PostgreSQL cluster (Debian's package, fsync on) is made
for the run. With several instances, the taps are spread over them round-robin.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web

from bench.bare_sender import measured
from bench.cpu import CpuMeter, per_unit_us
from bench.inprocess import in_process
from bench.standins import REPLIES_PER_SECOND, BenchGround, add_database_option, bench_ground
from bench.wave import SeededState
from care.services import SERVICES
from ground.postback import PostbackCodec
from scheduler.engine import ENGINE
from simulator import webhooks
from storage.database import is_postgres
from tests import line_webhook as hook
from tests.rush import ROOT, SECRET, Burst, Resident, Server, fire, free_port, ok_tap, seed

# Free text from a resident: her words go to her managers (a sign of life, never safety) and
# she is answered; the second kind of event the 07:00 rush brings.
FREE_TEXT = "おはようございます。今日は病院に行ってきます"


def free_text(resident: Resident, now: datetime) -> dict[str, object]:
    return webhooks.text(resident.uid, FREE_TEXT, now)


async def sample(pid: int, folder: Path, number: int) -> asyncio.subprocess.Process:
    """py-spy sampling one instance until told to stop: where its CPU goes. Only the thread
    holding the interpreter is sampled (`--gil`): py-spy counted a thread waiting on
    aiosqlite's queue as busy. SQLite's own work, done without the interpreter, is not in the
    samples (it is in the CPU figure)."""
    return await asyncio.create_subprocess_exec(
        "py-spy",
        "record",
        "--pid",
        str(pid),
        "--format",
        "raw",
        "--threads",
        "--gil",
        "--rate",
        "200",
        "--output",
        str(folder / f"instance-{number}.txt"),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )


async def bare_app(loop: str) -> tuple[asyncio.subprocess.Process, str]:
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.bare",
        "--port",
        str(port),
        "--secret",
        SECRET,
        *(["--uvloop"] if loop == "uvloop" else []),
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    url = f"http://127.0.0.1:{port}"
    probe = Server(Path("/nonexistent/db"), "", port=port)
    await probe.wait_healthy()
    return process, url


async def bare_replies(line_url: str, count: int, loop: str) -> dict[str, float]:
    """bench/bare_sender.py posting `count` replies to the stand-in LINE: what answering an
    event costs any aiohttp program (its CPU, measured by itself)."""
    return await measured(line_url, ["--replies", str(count)], loop)


def describe(name: str, burst: Burst, taps: int) -> str:
    latencies = sorted(burst.latencies)
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    rate = len(burst.acknowledged) / burst.elapsed
    return (
        f"{name:<28}{rate:>8.0f}/s  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms"
        f"  ({len(burst.acknowledged)}/{taps} answered 200)"
    )


async def main(
    taps: int,
    connections: int,
    residents: int,
    new_connections: bool,
    database: str | None,
    instances: int,
    line_latency: float,
    kind: str = "ok",
    profile: Path | None = None,
    loop: str = "uvloop",
) -> None:
    async with bench_ground("taps", database, line_latency) as ground:
        target: Path | str = ground.database or ground.workdir / "taps.db"
        now = datetime.now(UTC)
        seeded = await seed(target, residents, now)
        event_of = ok_tap if kind == "ok" else free_text
        events = [event_of(resident, now) for resident in seeded[:taps]]
        await _rush(
            ground,
            target,
            events,
            Rush(connections, new_connections, instances, kind, loop, profile),
            f"{residents} residents",
            ("mimamori", "serve"),
        )


async def main_seeded(
    target: str,
    taps: int,
    connections: int,
    runs: int,
    kind: str,
    loop: str,
    profile: Path | None = None,
) -> None:
    """`runs` rushes on the seed at `target` (bench/seed.py), each on the seed as it was: the
    wave of its earliest slot sent (bench/wave.py's, in this process), then `taps` of the
    residents it reached answer an hour later at a server whose clock stands there."""
    for number in range(1, runs + 1):
        async with bench_ground("taps", target) as ground:
            async with in_process(ground) as bot:
                kept = SeededState(bot.app)
                slot, due = await kept.restore()
                bot.clock.set(slot)
                await bot.app[ENGINE].plan_due()
                await bot.app[ENGINE].deliver()
                await bot.app[ENGINE].idle()
                tappers = await _reached(bot.app, kept.marks["checkin_rounds"], due, taps)
            now = slot + timedelta(hours=1)
            answer = PostbackCodec(SECRET).encode("ok", t=int(slot.timestamp()))
            events = [
                hook.postback(uid, answer, now)
                if kind == "ok"
                else webhooks.text(uid, FREE_TEXT, now)
                for uid in tappers
            ]
            print(f"run {number} of {runs}")
            try:
                await _rush(
                    ground,
                    target,
                    events,
                    Rush(connections, False, 1, kind, loop, profile),
                    f"a seed of {kept.described}, after its wave of {due:,}",
                    ("bench.serve_at", now.isoformat(), "--loop", loop),
                )
            finally:
                async with in_process(ground) as bot:
                    await SeededState(bot.app).restore()


async def _reached(app: web.Application, after: int, due: int, taps: int) -> list[str]:
    """The LINE ids of `taps` residents the wave opened a round for (rounds past id `after`),
    spread over the whole wave rather than its first batch."""
    stride = max(1, due // taps)
    async with app[SERVICES].reading_repositories() as repos:
        rows = await repos.conn.fetch_all(
            "SELECT m.line_user_id FROM checkin_rounds AS r JOIN members AS m"
            " ON m.id = r.member_id WHERE r.id > ? AND (r.id - ?) % ? = 0"
            " AND m.line_user_id IS NOT NULL ORDER BY r.id LIMIT ?",
            (after, after, stride, taps),
        )
    if len(rows) < taps:
        raise SystemExit(f"the wave reached {len(rows)} residents to tap, not {taps}")
    return [uid for (uid,) in rows]


def times(figure: float, reference: float) -> str:
    # A few dozen events can take less CPU than the clock's tick: no ratio then.
    return f"{figure / reference:.1f} ×" if reference else "(too short a run to divide)"


@dataclass(frozen=True)
class Rush:
    connections: int
    new_connections: bool
    instances: int
    kind: str
    loop: str
    profile: Path | None


async def _rush(
    ground: BenchGround,
    target: Path | str,
    events: list[dict[str, object]],
    rush: Rush,
    described: str,
    command: tuple[str, ...],
) -> None:
    """The events fired at a bare aiohttp app, the bare replies posted, then the same events
    at `rush.instances` servers (`python -m` + `command`) on `target`: figures printed."""
    line = ground.line
    connections, instances, loop, profile = (
        rush.connections,
        rush.instances,
        rush.loop,
        rush.profile,
    )
    taps = len(events)
    process, bare_url = await bare_app(loop)
    try:
        bare_cpu = CpuMeter([process.pid])
        bare_cpu.start()
        bare = await fire(bare_url, events, connections, new_connections=rush.new_connections)
        bare_cpu.stop()
    finally:
        process.terminate()
        await process.wait()

    bare_reply = await bare_replies(ground.line_url, len(events), loop)
    line.replies = line.refused = 0
    line.all_replied.clear()

    # LINE's limits are the channel's: each instance paces itself to its share.
    shared = {"MIMAMORI_INSTANCES": str(instances), "MIMAMORI_EVENT_LOOP": loop}
    servers = [
        Server(
            target,
            ground.line_url,
            folder=ground.workdir,
            extra_env=shared,
            command=command,
            log_file=Path(log) if (log := os.environ.get("BENCH_SERVER_LOG")) else None,
        )
        for _ in range(instances)
    ]
    for server in servers:
        await server.start()
    server_cpu = CpuMeter(s.process.pid for s in servers if s.process is not None)
    if profile:
        os.makedirs(profile, exist_ok=True)
    spies = (
        [await sample(pid, profile, n) for n, pid in enumerate(server_cpu.pids)]
        if (profile)
        else []
    )
    try:
        server_cpu.start()
        began = time.perf_counter()
        line.replies_expected = len(events)
        bursts = await asyncio.gather(
            *(
                fire(
                    server.url,
                    events[number::instances],
                    max(1, connections // instances),
                    new_connections=rush.new_connections,
                )
                for number, server in enumerate(servers)
            )
        )
        await asyncio.wait_for(line.all_replied.wait(), 120)
        end_to_end = time.perf_counter() - began
        server_cpu.stop()
    finally:
        for spy in spies:
            spy.send_signal(signal.SIGINT)
            await spy.wait()
        for server in servers:
            await server.stop()
    burst = Burst(
        acknowledged=set().union(*(b.acknowledged for b in bursts)),
        latencies=[latency for b in bursts for latency in b.latencies],
        elapsed=max(b.elapsed for b in bursts),
    )

    bare_rate = len(bare.acknowledged) / bare.elapsed
    rate = len(burst.acknowledged) / burst.elapsed
    handled = line.replies / end_to_end
    reuse = "a new connection per request" if rush.new_connections else "connections kept open"
    engine = f"PostgreSQL, {instances} instance(s)" if is_postgres(str(target)) else "SQLite"
    what = "OK taps" if rush.kind == "ok" else "free-text messages"
    line_latency = line.latency
    print(
        f"{taps} signed {what}, {connections} connections ({reuse}), {described},"
        f" {engine}, LINE answering in {line_latency * 1000:.0f} ms, {loop}'s event loop"
    )
    bare_us = per_unit_us(bare_cpu.seconds, len(bare.acknowledged))
    server_us = per_unit_us(server_cpu.seconds, line.replies)
    print(
        f"{'CPU per event (headline)':<28}{server_us:>8.0f} µs  mimamori, end to end, every"
        f" thread of {instances} instance(s); bare aiohttp {bare_us:.0f} µs a request:"
        f" {times(server_us, bare_us)}"
    )
    reply_us = per_unit_us(bare_reply["cpu"], int(bare_reply["replies"]) or taps)
    floor_us = bare_us + reply_us
    print(
        f"{'':<28}floor: an aiohttp program that only takes the request ({bare_us:.0f} µs)"
        f" and posts a reply ({reply_us:.0f} µs) spends {floor_us:.0f} µs:"
        f" mimamori {times(server_us, floor_us)} that"
    )
    print(
        f"{'':<28}of which in the kernel: mimamori"
        f" {per_unit_us(server_cpu.system, line.replies):.0f} µs,"
        f" bare {per_unit_us(bare_cpu.system, len(bare.acknowledged)):.0f} µs"
    )
    print(describe("bare aiohttp (signature only)", bare, taps))
    print(describe("mimamori: acknowledged", burst, taps))
    print(f"{'':<28}{rate / bare_rate:>9.0%} of the bare app's rate")
    print(
        f"{'mimamori: handled end to end':<28}{handled:>8.0f}/s  ({line.replies} replies"
        f" counted by the stand-in LINE in {end_to_end:.2f} s; {handled / bare_rate:.0%}"
        " of the bare app's rate)"
    )
    print(
        f"{'':<28}{handled / REPLIES_PER_SECOND:>9.0%} of LINE's limit for replies"
        f" ({REPLIES_PER_SECOND}/s); {line.refused} refused by it (429)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--taps", type=int, default=5000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--residents", type=int, default=20000)
    parser.add_argument(
        "--new-connections", action="store_true", help="open a connection for every request"
    )
    add_database_option(parser)
    parser.add_argument("--instances", type=int, default=1, help="mimamori serve processes")
    parser.add_argument(
        "--kind", choices=("ok", "text"), default="ok", help="OK taps, or free-text messages"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="a folder for py-spy's samples of each instance (collapsed stacks, raw format)",
    )
    parser.add_argument(
        "--loop",
        choices=("uvloop", "asyncio"),
        default="uvloop",
        help="the event loop of mimamori and of the bare references (the server's default)",
    )
    parser.add_argument(
        "--line-latency",
        type=float,
        default=0.0,
        help="milliseconds the stand-in LINE takes to answer (LINE across a network)",
    )
    parser.add_argument(
        "--seeded",
        metavar="PATH|URL",
        help="a seed bench/seed.py made (an SQLite file or a postgresql:// URL): the rush an"
        " hour after its earliest slot's wave, on the seed as it was each run (--residents,"
        " --database, --instances and --new-connections unused)",
    )
    parser.add_argument(
        "--runs", type=int, default=1, help="with --seeded: rushes, each on the seed as it was"
    )
    args = parser.parse_args()
    if args.seeded:
        asyncio.run(
            main_seeded(
                args.seeded,
                args.taps,
                args.connections,
                args.runs,
                args.kind,
                args.loop,
                args.profile,
            )
        )
        raise SystemExit(0)
    if args.instances > 1 and not args.database:
        parser.error("several instances share a PostgreSQL database: give --database")
    asyncio.run(
        main(
            args.taps,
            args.connections,
            args.residents,
            args.new_connections,
            args.database,
            args.instances,
            args.line_latency / 1000,
            args.kind,
            args.profile,
            args.loop,
        )
    )
