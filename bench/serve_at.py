"""`mimamori serve` with its clock held at one moment and its scheduler not started: the server
a resident's tap reaches on a seeded history (bench/taps.py --seeded).

A seed's morning is not today's: with the system's clock the sweep would find every resident of
the seed long overdue and send a wave (and re-sends, and alerts) in the middle of the rush it is
meant to measure. Everything else is `mimamori serve`'s: the same settings from the
environment, the same app, the same frozen start-up heap, the same event loop and access log.

    .venv/bin/python -m bench.serve_at 2026-11-23T22:00:00+00:00
"""

from __future__ import annotations

import argparse
import os
from datetime import datetime

from ground.clock import FakeClock
from ground.logs import setup_logging
from mimamori.cli import load_settings, run_server
from server.app import create_app
from server.heap import freeze_startup_heap


def serve_at(moment: datetime, loop: str) -> None:
    settings = load_settings()
    setup_logging(
        os.environ.get("MIMAMORI_LOG_LEVEL", "INFO"),
        os.environ.get("MIMAMORI_LOG_FORMAT", "text") == "json",
    )
    app = create_app(settings, clock=FakeClock(moment), run_scheduler=False)
    app.on_startup.append(freeze_startup_heap)
    run_server(app, settings, loop)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "moment", type=datetime.fromisoformat, help="the clock, ISO 8601 with offset"
    )
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    args = parser.parse_args()
    serve_at(args.moment, args.loop)
