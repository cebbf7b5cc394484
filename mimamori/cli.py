"""`mimamori serve`: the command line entry point."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sqlite3
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from admin import accounts
from admin.passwords import hash_password, weak_password
from care.services import Services
from ground.clock import SystemClock
from ground.i18n import LocaleError
from ground.line_api import LineCallFailed
from ground.logs import RouteAccessLogger, setup_logging
from ground.rich_menu import TAB_ALIAS, RichMenuError
from ground.settings import Settings, SettingsError, database_setting, read_dotenv
from scheduler import rich_menus
from server.app import create_app, open_services
from server.heap import freeze_startup_heap
from server.readiness import check_deployment
from storage.backup import BackupError, check_copy, restore, take_backup
from storage.database import database_for, is_postgres
from storage.models import StaffRole
from storage.repositories import Repositories, unit_of_work


def load_settings(dotenv: Path = Path(".env")) -> Settings:
    # The environment wins over the .env file.
    return Settings.from_env({**read_dotenv(dotenv), **os.environ})


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "privacy-register":
        return print_privacy_register(args.env_file, args.language)
    if args.command == "migrate-to-postgres":
        return move_to_postgres(args.sqlite_file, args.url)
    if args.command == "admin":
        if args.admin_command == "add":
            return add_admin(args.name, args.env_file, args.role)
        if args.admin_command == "list":
            return list_admins(args.env_file)
        return change_admin(
            args.admin_command, args.name, args.env_file, getattr(args, "role", None)
        )
    if args.command == "richmenu":
        return rich_menus_at_line(args.env_file, args.remove)
    if args.command == "check":
        return check_readiness(args.env_file, args.test_webhook)
    if args.command == "backup":
        return backup_database(args.file, args.env_file)
    if args.command == "restore":
        return restore_database(args.file, args.env_file, args.check_only)
    if args.command == "demo":
        return start_demo(args.port, args.script)
    return serve(args.env_file)


def parser() -> argparse.ArgumentParser:
    """Every command, its arguments and its help, as `mimamori --help` lists them."""
    parser = argparse.ArgumentParser(prog="mimamori", description="mimamori LINE bot server")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the web server and the check-in scheduler")
    serve.add_argument("--env-file", type=Path, default=Path(".env"))
    demo = commands.add_parser(
        "demo", help="run the bot with a local LINE simulator (no LINE account needed)"
    )
    demo.add_argument(
        "--port", type=int, default=8080, help="the bot's port; the simulator's is +1"
    )
    demo.add_argument("--script", choices=["tour"], help="play a scripted tour by itself")
    admin = commands.add_parser("admin", help="manage admin console accounts")
    admin_commands = admin.add_subparsers(dest="admin_command", required=True)
    add = admin_commands.add_parser(
        "add", help="create an admin account (password asked twice, or one line on stdin)"
    )
    add.add_argument("name")
    # No default: an account that can do everything is never made by leaving a flag out.
    add.add_argument(
        "--role",
        required=True,
        metavar="{" + ",".join(role.value for role in StaffRole) + "}",
        help="operator (運用管理), desk (窓口), viewer (閲覧) or auditor (監査)",
    )
    add.add_argument("--env-file", type=Path, default=Path(".env"))
    listing = admin_commands.add_parser(
        "list", help="the accounts: role, second factor, disabled, last sign-in, open sessions"
    )
    listing.add_argument("--env-file", type=Path, default=Path(".env"))
    for command, text in ACCOUNT_COMMANDS.items():
        one = admin_commands.add_parser(command, help=text)
        one.add_argument("name")
        if command == "set-role":
            one.add_argument("role", help="operator, desk, viewer or auditor")
        one.add_argument("--env-file", type=Path, default=Path(".env"))
    richmenu = commands.add_parser(
        "richmenu", help="make the rich menus at LINE and link them to everyone by role"
    )
    richmenu.add_argument("--env-file", type=Path, default=Path(".env"))
    richmenu.add_argument(
        "--remove",
        action="store_true",
        help="take mimamori's menus (and its tab's alias) off LINE; nothing else is touched",
    )
    check = commands.add_parser("check", help="is this deployment ready? one line per check")
    check.add_argument("--env-file", type=Path, default=Path(".env"))
    check.add_argument(
        "--test-webhook", action="store_true", help="also ask LINE to test the webhook"
    )
    backup = commands.add_parser(
        "backup", help="copy the live database to FILE (safe while the server runs)"
    )
    backup.add_argument("file", type=Path)
    backup.add_argument("--env-file", type=Path, default=Path(".env"))
    restore = commands.add_parser(
        "restore", help="check FILE, then make it the database (stop the server first)"
    )
    restore.add_argument("file", type=Path)
    restore.add_argument("--env-file", type=Path, default=Path(".env"))
    restore.add_argument(
        "--check-only", action="store_true", help="only check FILE; change nothing"
    )
    move = commands.add_parser(
        "migrate-to-postgres",
        help="copy an SQLite deployment's data into an empty PostgreSQL database, checked by"
        " counts (stop the server first for the switch itself)",
    )
    move.add_argument("sqlite_file", type=Path)
    move.add_argument("url", help="postgresql://user:password@host:5432/database")
    paperwork = commands.add_parser(
        "privacy-register",
        help="print a draft 個人情報ファイル簿 (Markdown) from the schema and the settings in"
        " force",
    )
    paperwork.add_argument("--env-file", type=Path, default=Path(".env"))
    paperwork.add_argument("--language", default="ja", help="ja (default) or en")
    return parser


def serve(env_file: Path) -> int:
    """`mimamori serve`: the server until SIGTERM; the simulator when nothing is configured
    outside a container; one line saying what to fix when it cannot start."""
    env = {**read_dotenv(env_file), **os.environ}
    if not env.get("LINE_CHANNEL_SECRET") and not env.get("LINE_CHANNEL_ACCESS_TOKEN"):
        if env.get("MIMAMORI_IN_CONTAINER"):
            # The simulator listens on loopback, which nobody outside a container can reach.
            print(
                "mimamori: no LINE credentials: set LINE_CHANNEL_SECRET and"
                " LINE_CHANNEL_ACCESS_TOKEN (docker run --env-file .env); the simulator"
                " (`mimamori demo`) runs outside containers",
                file=sys.stderr,
            )
            return 2
        # Nothing configured: show the service with the simulator instead of failing.
        print(
            "mimamori: no LINE credentials configured; starting the local LINE simulator",
            file=sys.stderr,
        )
        return start_demo(int(env.get("MIMAMORI_PORT") or 8080), None)

    try:
        settings = load_settings(env_file)
    except SettingsError as error:
        print(f"mimamori: invalid setting {error}", file=sys.stderr)
        return 2
    problem = data_folder_problem(settings)
    if problem is not None:
        print(f"mimamori: {problem}", file=sys.stderr)
        return 2
    setup_logging(
        env.get("MIMAMORI_LOG_LEVEL", "INFO"), env.get("MIMAMORI_LOG_FORMAT", "text") == "json"
    )
    try:
        app = create_app(settings, clock=SystemClock())
    except LocaleError as error:
        print(f"mimamori: invalid setting MIMAMORI_LOCALE_OVERRIDES: {error}", file=sys.stderr)
        return 2
    # Last of the startup hooks: what the services opened is built by then.
    app.on_startup.append(freeze_startup_heap)
    app.on_startup.append(_said_started(settings))
    app.on_shutdown.append(_said_stopping)
    try:
        run_server(app, settings, env.get("MIMAMORI_EVENT_LOOP", "uvloop"))
    except OSError as error:
        # The port taken, a database file it may not open: one line saying what, not a trace.
        print(f"mimamori: cannot start: {error}", file=sys.stderr)
        return 2
    logging.getLogger("mimamori.server").info("stopped")
    return 0


def run_server(app: web.Application, settings: Settings, loop: str) -> None:
    """The app on its host and port until SIGTERM or SIGINT, which run_app turns into a
    graceful shutdown: cleanup contexts run, the sweep in flight and queued webhook events
    finish."""
    web.run_app(
        app,
        host=settings.host,
        port=settings.port,
        print=None,
        shutdown_timeout=30,
        access_log_class=RouteAccessLogger,
        loop=event_loop(loop),
    )


def data_folder_problem(settings: Settings) -> str | None:
    """Why the SQLite file cannot be made where MIMAMORI_DATABASE points (a volume the
    container's user may not write, a path through a file), in one sentence; None if it can."""
    if not isinstance(settings.database, Path):
        return None
    folder = settings.database.resolve().parent
    if not folder.is_dir():
        return f"MIMAMORI_DATABASE={settings.database}: {folder} is not a folder"
    if not os.access(folder, os.W_OK | os.X_OK):
        return (
            f"MIMAMORI_DATABASE={settings.database}: the user {os.getuid()} may not write in"
            f" {folder} (a container's volume must belong to the image's user)"
        )
    return None


def _said_started(settings: Settings) -> Callable[[web.Application], Awaitable[None]]:
    async def said(app: web.Application) -> None:
        database = settings.database
        where = database if isinstance(database, Path) else urlsplit(str(database)).hostname
        engine = "sqlite" if isinstance(database, Path) else "postgresql"
        logging.getLogger("mimamori.server").info(
            "listening on http://%s:%s, database %s (%s), calls %s",
            settings.host,
            settings.port,
            where,
            engine,
            "on" if settings.calls else "off",
        )

    return said


async def _said_stopping(app: web.Application) -> None:
    logging.getLogger("mimamori.server").info("stopping: finishing the work in flight")


def print_privacy_register(dotenv: Path, language: str) -> int:
    """The draft register for the city's 個人情報保護 officer; nothing is written anywhere."""
    from care.privacy.register import register
    from ground.i18n import I18n

    try:
        settings = load_settings(dotenv)
        i18n = I18n.load(settings.timezone, settings.locale_overrides)
    except (SettingsError, LocaleError) as error:
        print(f"mimamori: invalid setting {error}", file=sys.stderr)
        return 2
    print(register(settings, i18n.get(language)))
    return 0


def event_loop(name: str) -> asyncio.AbstractEventLoop:
    """uvloop unless told `asyncio`: at the 07:00 rush it took a sixth off the server's CPU
    per event (bench/taps.py). The tests run on asyncio's own loop, which stays a choice."""
    if name == "asyncio":
        return asyncio.new_event_loop()
    import uvloop

    return uvloop.new_event_loop()


def start_demo(port: int, script: str | None) -> int:
    from simulator.demo import run_demo

    setup_logging("INFO")
    asyncio.run(run_demo(port, script))
    return 0


# `mimamori admin COMMAND NAME`: each is audited as `cli:<the OS user>`.
ACCOUNT_COMMANDS = {
    "disable": "disable an account (it cannot sign in; its sessions end)",
    "enable": "enable a disabled account again",
    "remove": "remove an account (the audit log keeps its name; its sessions end)",
    "reset-password": "set a new password (asked twice, or one line on stdin), which its holder"
    " changes at the next sign-in; its sessions end",
    "reset-2fa": "forget the account's second factor and recovery codes (enrolled again at the"
    " next sign-in); its sessions end",
    "set-role": "change the account's role; its sessions end",
    "end-sessions": "end the account's open sessions (it may sign in again)",
}
CHANGE_OF_COMMAND = {
    "disable": accounts.DISABLE,
    "enable": accounts.ENABLE,
    "remove": accounts.REMOVE,
    "reset-password": accounts.RESET_PASSWORD,
    "reset-2fa": accounts.RESET_SECOND_FACTOR,
    "set-role": accounts.SET_ROLE,
    "end-sessions": accounts.END_SESSIONS,
}


def command_line_actor() -> str:
    """Who acted, as the audit log names a change made on the server's command line."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no user name in a bare container
        return f"cli:uid {os.getuid()}"


def add_admin(name: str, dotenv: Path, role_text: str) -> int:
    database = database_path(dotenv)
    try:
        role = accounts.role_named(role_text)
    except accounts.AccountRefused as refused:
        print(f"mimamori: {refused}", file=sys.stderr)
        return 2
    if not accounts.valid_name(name):
        print(f"mimamori: {accounts.AccountRefused('invalid_name')}", file=sys.stderr)
        return 2
    password = _password_or_refusal(name)
    if password is None:
        return 2
    try:
        asyncio.run(_store_admin(database, name, hash_password(password), role))
    except accounts.AccountRefused as refused:
        print(f"mimamori: {refused}", file=sys.stderr)
        return 2
    print(f"admin {name} ({role.value}) added to {database_for(database).target}")
    return 0


def _password_or_refusal(name: str) -> str | None:
    password = _new_password()
    if password is None:
        print("mimamori: the two passwords differ", file=sys.stderr)
        return None
    problem = weak_password(password, name)
    if problem:
        print(f"mimamori: password refused: {problem}", file=sys.stderr)
        return None
    return password


def list_admins(dotenv: Path) -> int:
    database = database_path(dotenv)
    found = asyncio.run(_with_repositories(database, lambda repos, now: repos.admin.accounts(now)))
    if not found:
        print("no admin accounts: add one with `mimamori admin add NAME --role operator`")
        return 0
    print("name\trole\tsecond factor\tstate\tlast sign-in (UTC)\topen sessions")
    for account in found:
        last = account.last_login_at.strftime("%Y-%m-%d %H:%M") if account.last_login_at else "-"
        print(
            f"{account.name}\t{account.role.value}"
            f"\t{'enrolled' if account.second_factor else 'none'}"
            f"\t{'disabled' if account.disabled else 'enabled'}\t{last}\t{account.open_sessions}"
        )
    return 0


def change_admin(command: str, name: str, dotenv: Path, role_text: str | None) -> int:
    database = database_path(dotenv)
    action = CHANGE_OF_COMMAND[command]
    role, password_hash = None, None
    try:
        if role_text is not None:
            role = accounts.role_named(role_text)
    except accounts.AccountRefused as refused:
        print(f"mimamori: {refused}", file=sys.stderr)
        return 2
    if action == accounts.RESET_PASSWORD:
        password = _password_or_refusal(name)
        if password is None:
            return 2
        password_hash = hash_password(password)
    actor = command_line_actor()

    async def act(repos: Repositories, now: datetime) -> accounts.Changed:
        return await accounts.change(
            repos, actor, name, action, now, role=role, password_hash=password_hash
        )

    try:
        done = asyncio.run(_with_repositories(database, act))
    except accounts.AccountRefused as refused:
        print(f"mimamori: {refused}", file=sys.stderr)
        return 2
    print(f"admin {name}: {command} done; sessions ended: {done.sessions_ended}")
    return 0


def rich_menus_at_line(dotenv: Path, remove: bool) -> int:
    """`mimamori richmenu`: make the menus (or, with --remove, take mimamori's away)."""
    try:
        settings = load_settings(dotenv)
        done = asyncio.run(_at_line(settings, rich_menus.remove if remove else rich_menus.install))
    except SettingsError as error:
        print(f"mimamori: invalid setting {error}", file=sys.stderr)
        return 2
    except (RichMenuError, LineCallFailed) as error:
        undone = "removed" if remove else "made"
        print(f"mimamori: rich menus not {undone}: {error}", file=sys.stderr)
        return 1
    if remove:
        print(f"removed {len(done)} rich menu(s) of mimamori's; no other menu was touched")
        return 0
    for kind, menu_id in dict(done).items():
        print(f"rich menu {kind}: {menu_id}")
    if settings.menus == "tab":
        print(f"the city's menu reaches it with a richmenuswitch to the alias {TAB_ALIAS!r}")
    else:
        print("the server links each person's menu at its next sweep (in batches of 500)")
    return 0


async def _at_line(settings: Settings, act: Callable[[Services], Awaitable[Any]]) -> Any:
    async with open_services(settings, SystemClock()) as services:
        return await act(services)


def check_readiness(dotenv: Path, test_webhook: bool) -> int:
    try:
        settings = load_settings(dotenv)
    except SettingsError as error:
        print(f"✗ settings: {error}\n    → fix it in {dotenv} or the environment")
        return 1
    findings = asyncio.run(check_deployment(settings, test_webhook=test_webhook))
    for finding in findings:
        print(finding.line())
    failed = sum(not finding.ok for finding in findings)
    print("ready" if not failed else f"{failed} to fix")
    return 1 if failed else 0


def database_path(dotenv: Path) -> Path | str:
    env = {**read_dotenv(dotenv), **os.environ}
    return database_setting(env.get("MIMAMORI_DATABASE"))


def sqlite_file(dotenv: Path, command: str) -> Path | None:
    """The SQLite file `backup` and `restore` work on; None (and a line saying what to use
    instead) when the deployment is on PostgreSQL."""
    database = database_path(dotenv)
    if isinstance(database, Path):
        return database
    print(
        f"mimamori: {command} copies an SQLite file; on PostgreSQL use pg_dump / pg_restore or"
        " your provider's point-in-time recovery",
        file=sys.stderr,
    )
    return None


def backup_database(target: Path, dotenv: Path) -> int:
    database = sqlite_file(dotenv, "backup")
    if database is None:
        return 2
    try:
        facts = take_backup(database, target)
    except (BackupError, OSError, sqlite3.Error) as error:
        print(f"mimamori: backup failed: {error}", file=sys.stderr)
        return 1
    print(
        f"backup written to {target}: schema {facts.schema_version},"
        f" {facts.members} members, {facts.rounds} check-in rounds"
    )
    return 0


def restore_database(copy: Path, dotenv: Path, check_only: bool) -> int:
    try:
        if check_only:
            facts, kept = check_copy(copy), None
        else:
            database = sqlite_file(dotenv, "restore")
            if database is None:
                return 2
            facts, kept = restore(copy, database, SystemClock().now())
    except (BackupError, OSError, sqlite3.Error) as error:
        print(f"mimamori: restore refused: {error}", file=sys.stderr)
        return 1
    summary = f"schema {facts.schema_version}, {facts.members} members, {facts.rounds} rounds"
    if check_only:
        print(f"{copy} is a sound copy: {summary}")
    else:
        print(f"restored {copy} ({summary})")
        if kept:
            print(f"the database it replaced is kept as {kept}")
    return 0


def move_to_postgres(sqlite_file: Path, url: str) -> int:
    from storage.postgres import redacted
    from storage.transfer import TransferError, migrate_to_postgres

    if not is_postgres(url):
        print("mimamori: the target must be a postgresql:// URL", file=sys.stderr)
        return 2
    try:
        moved = migrate_to_postgres(sqlite_file, url)
    except (TransferError, BackupError, OSError, sqlite3.Error) as error:
        print(f"mimamori: nothing copied: {error}", file=sys.stderr)
        return 1
    except Exception as error:  # the server refused: wrong password, no such database...
        print(f"mimamori: nothing copied: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    total = sum(moved.counts.values())
    print(
        f"copied {total} rows in {len(moved.counts)} tables to {redacted(url)};"
        " the counts match. Set MIMAMORI_DATABASE to that URL and start the server."
    )
    return 0


def _new_password() -> str | None:
    if not sys.stdin.isatty():
        # Scripts and containers: the password is the first line of standard input.
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    second = getpass.getpass("again: ")
    return first if first == second else None


async def _store_admin(
    database: Path | str, name: str, password_hash: str, role: StaffRole
) -> None:
    actor = command_line_actor()

    async def store(repos: Repositories, now: datetime) -> None:
        # The person at the server's command line chose this password: no change is asked.
        await accounts.add(repos, actor, name, password_hash, role, now, False)

    await _with_repositories(database, store)


async def _with_repositories(
    database: Path | str, work: Callable[[Repositories, datetime], Awaitable[Any]]
) -> Any:
    db = database_for(database)
    await db.open()
    try:
        async with unit_of_work(db) as repos:
            return await work(repos, SystemClock().now())
    finally:
        await db.close()


if __name__ == "__main__":
    sys.exit(main())
