"""The reference for bench/wave.py: a loop that only builds and posts the same multicasts to
the stand-in LINE, at LINE's pace (200 a second), and reports the CPU it used doing so.

    python -m bench.bare_sender --line URL --bodies FILE [--uvloop]

FILE holds the wave's multicasts as the server sent them (recipients, messages, retry key),
one JSON object per line; each is built again from Python objects before it is posted, as a
sender must. Prints one JSON object: CPU seconds (user + system, every thread), multicasts
accepted, and the wall time from the first post to the last answer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

import aiohttp
import orjson

MULTICASTS_PER_SECOND = 200


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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--line", required=True)
    parser.add_argument("--bodies", type=Path, required=True)
    parser.add_argument("--uvloop", action="store_true")
    arguments = parser.parse_args()
    lines = arguments.bodies.read_text("utf-8").splitlines()
    bodies = [json.loads(line) for line in lines if line]
    if arguments.uvloop:
        import uvloop

        figures = uvloop.run(send(arguments.line, bodies))
    else:
        figures = asyncio.run(send(arguments.line, bodies))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
