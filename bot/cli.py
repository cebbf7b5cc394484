"""`mimamori serve`: the command line entry point."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from aiohttp import web

from bot.app import create_app
from bot.clock import SystemClock
from bot.i18n import LocaleError
from bot.settings import Settings, SettingsError, read_dotenv


def load_settings(dotenv: Path = Path(".env")) -> Settings:
    # The environment wins over the .env file.
    return Settings.from_env({**read_dotenv(dotenv), **os.environ})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mimamori", description="mimamori LINE bot server")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the web server and the check-in scheduler")
    serve.add_argument("--env-file", type=Path, default=Path(".env"))
    args = parser.parse_args(argv)

    try:
        settings = load_settings(args.env_file)
    except SettingsError as error:
        print(f"mimamori: invalid setting {error}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=os.environ.get("MIMAMORI_LOG_LEVEL", "INFO").upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # One line per sweep is noise; APScheduler's warnings and errors still show.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    try:
        app = create_app(settings, clock=SystemClock())
    except LocaleError as error:
        print(f"mimamori: invalid setting MIMAMORI_LOCALE_OVERRIDES: {error}", file=sys.stderr)
        return 2
    # run_app turns SIGTERM and SIGINT into a graceful shutdown: cleanup contexts run,
    # the sweep in flight and queued webhook events finish.
    web.run_app(app, host=settings.host, port=settings.port, print=None, shutdown_timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
