"""The references for the benchmarks' sends: a loop that only builds and posts, and reports
the CPU it used doing so.

    python -m bench.bare_sender --line URL --bodies FILE [--uvloop]
    python -m bench.bare_sender --line URL --replies N [--uvloop]

With --bodies (bench/wave.py), the wave's multicasts as the server sent them (recipients,
messages, retry key), one JSON object per line, posted at LINE's pace (200 a second); each is
built again from Python objects before it is posted, as a sender must. With --replies
(bench/taps.py), N replies of one text each (what an OK tap is answered with), 32 at a time:
what answering an event costs any aiohttp program, the floor under mimamori's own reply.
Prints one JSON object: CPU seconds (user + system, every thread), requests LINE accepted,
and the wall time from the first post to the last answer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
from pathlib import Path

import aiohttp
import orjson

MULTICASTS_PER_SECOND = 200
ROOT = Path(__file__).resolve().parents[1]  # where `-m bench.bare_sender` is found


async def send(line_url: str, bodies: list[dict[str, object]]) -> dict[str, float]:
    url = f"{line_url}/v2/bot/message/multicast"
    accepted = 0

    async def post(session: aiohttp.ClientSession, body: dict[str, object]) -> None:
        nonlocal accepted
        headers = {
            "Authorization": "Bearer bench",
            "Content-Type": "application/json",
            "X-Line-Retry-Key": str(body["retry_key"]),
        }
        payload = orjson.dumps({"to": body["to"], "messages": body["messages"]})
        async with session.post(url, data=payload, headers=headers) as answer:
            await answer.read()
            accepted += answer.status == 200

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as session:
        cpu, began = time.process_time(), time.monotonic()
        posts = []
        for number, body in enumerate(bodies):
            # LINE's pace: the same floor the server keeps to.
            delay = began + number / MULTICASTS_PER_SECOND - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            posts.append(asyncio.create_task(post(session, body)))
        await asyncio.gather(*posts)
        return {
            "cpu": time.process_time() - cpu,
            "multicasts": accepted,
            "elapsed": time.monotonic() - began,
        }


async def reply(line_url: str, count: int) -> dict[str, float]:
    url = f"{line_url}/v2/bot/message/reply"
    accepted = 0
    text = "ありがとうございます。次の確認は 12月1日(火) 7:00 です。"
    turns = asyncio.Semaphore(32)

    async def post(session: aiohttp.ClientSession, number: int) -> None:
        nonlocal accepted
        headers = {"Authorization": "Bearer bench", "Content-Type": "application/json"}
        body = {"replyToken": f"bare-{number}", "messages": [{"type": "text", "text": text}]}
        async with turns, session.post(url, data=orjson.dumps(body), headers=headers) as answer:
            await answer.read()
            accepted += answer.status == 200

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=100)) as session:
        cpu, began = time.process_time(), time.monotonic()
        await asyncio.gather(*(post(session, number) for number in range(count)))
        return {
            "cpu": time.process_time() - cpu,
            "replies": accepted,
            "elapsed": time.monotonic() - began,
        }


async def measured(line_url: str, what: list[str], loop: str) -> dict[str, float]:
    """This module as a process of its own (its CPU apart from the caller's), on `loop`,
    posting `what` (`--bodies FILE` or `--replies N`) to the stand-in LINE: its figures."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.bare_sender",
        "--line",
        line_url,
        *what,
        *(["--uvloop"] if loop == "uvloop" else []),
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
    )
    output, _ = await process.communicate()
    return dict(json.loads(output))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--line", required=True)
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--bodies", type=Path, help="multicasts to post again, one a line")
    what.add_argument("--replies", type=int, help="how many replies to post")
    parser.add_argument("--uvloop", action="store_true")
    arguments = parser.parse_args()
    if arguments.bodies:
        lines = arguments.bodies.read_text("utf-8").splitlines()
        bodies = [json.loads(line) for line in lines if line]
        sending = send(arguments.line, bodies)
    else:
        sending = reply(arguments.line, arguments.replies)
    if arguments.uvloop:
        import uvloop

        figures = uvloop.run(sending)
    else:
        figures = asyncio.run(sending)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
