"""`mimamori check`: is this deployment ready? One line per thing that must be right, each with
the fix in one sentence when it is not. LINE is asked where it can answer for itself."""

from __future__ import annotations

import asyncio
import sqlite3
import tomllib
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bot.forwarding import TIMEOUT, headers_for
from ground.branding import BANNER_NAMES, TERMS_NAMES
from ground.channels import Quota
from ground.line_api import LineApi, LineCallFailed
from ground.settings import Settings
from storage.arrivals import arrivals_path
from storage.database import known_migrations


@dataclass(frozen=True)
class Finding:
    ok: bool
    what: str
    fix: str = ""

    def line(self) -> str:
        mark = "✓" if self.ok else "✗"
        return f"{mark} {self.what}" + (f"\n    → {self.fix}" if self.fix else "")


async def check_deployment(settings: Settings, *, test_webhook: bool = False) -> list[Finding]:
    # In a thread: a server in this process may hold the write lock across an await.
    findings = [await asyncio.to_thread(check_database, settings.database)]
    findings.append(check_branding(settings.branding))
    findings += await check_line(settings, test_webhook)
    if settings.forward_url:
        findings.append(await check_forward(settings))
    findings.append(check_my_page(settings))
    findings.append(await check_public_url(settings.public_url))
    return findings


def check_database(target: Path | str) -> Finding:
    if isinstance(target, str):
        return check_postgres(target)
    path = target
    if not path.exists():
        return Finding(
            False,
            f"database {path}: not created yet",
            "start `mimamori serve` once (it creates and migrates it), or set MIMAMORI_DATABASE",
        )
    arrivals = Path(arrivals_path(path))
    shown = path
    try:
        conn = sqlite3.connect(path, timeout=2)
        try:
            applied = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
            _may_write(conn)
        finally:
            conn.close()
        if arrivals.exists():
            # Where webhook events land: the server made it; it must still be able to write it.
            shown = arrivals
            conn = sqlite3.connect(arrivals, timeout=2)
            try:
                _may_write(conn)
            finally:
                conn.close()
    except sqlite3.Error as error:
        return Finding(
            False,
            f"database {shown}: {error}",
            "let the server's user write the file and its folder (SQLite writes beside it)",
        )
    return schema_finding(str(path), applied)


def _may_write(conn: sqlite3.Connection) -> None:
    # A write lock taken and given back: the file and its folder are writable.
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("ROLLBACK")


def schema_finding(shown: str, applied: set[int]) -> Finding:
    """A writable database, on either engine: is its schema the one this code writes?"""
    missing = sorted(set(known_migrations()) - applied)
    if missing:
        return Finding(
            False,
            f"database {shown}: migrations {missing} not applied",
            "start `mimamori serve` (it applies them at start-up)",
        )
    return Finding(True, f"database {shown}: writable, schema {max(applied)} (current)")


def check_postgres(url: str) -> Finding:
    """A PostgreSQL database: reachable, migrated, and taking writes (not a read-only standby,
    and this role may write the tables)."""
    import psycopg

    from storage.postgres import redacted

    shown = redacted(url)
    try:
        with psycopg.connect(url, connect_timeout=5, autocommit=True) as conn:
            exists = conn.execute("SELECT to_regclass('schema_migrations')").fetchone()
            if exists is None or exists[0] is None:
                return Finding(
                    False,
                    f"database {shown}: not migrated yet",
                    "start `mimamori serve` once (it creates the tables)",
                )
            applied = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
            standby = conn.execute("SELECT pg_is_in_recovery()").fetchone()
            may_write = conn.execute(
                "SELECT has_table_privilege('outbox', 'INSERT, UPDATE')"
            ).fetchone()
    except psycopg.Error as error:
        return Finding(
            False,
            f"database {shown}: {str(error).strip()}",
            "check MIMAMORI_DATABASE (host, port, user, password, database) and that the"
            " server lets this host in",
        )
    if (standby and standby[0]) or not (may_write and may_write[0]):
        return Finding(
            False,
            f"database {shown}: read-only",
            "point MIMAMORI_DATABASE at the primary, with a role that owns the tables",
        )
    return schema_finding(shown, applied)


def check_branding(folder: Path | None) -> Finding:
    if folder is None:
        return Finding(True, "branding: the default (set MIMAMORI_BRANDING for the city's own)")
    missing = []
    if not any((folder / name).is_file() for name in BANNER_NAMES):
        missing.append("banner.png")
    if not any((folder / name).is_file() for name in TERMS_NAMES):
        missing.append("terms.md")
    service = folder / "service.toml"
    if not service.is_file():
        missing.append("service.toml")
    else:
        try:
            if "name" not in tomllib.loads(service.read_text("utf-8")):
                missing.append("service.toml: name")
        except tomllib.TOMLDecodeError as error:
            return Finding(False, f"branding {folder}: service.toml: {error}", "fix its syntax")
    if missing:
        return Finding(
            False,
            f"branding {folder}: lacks {', '.join(missing)} (the defaults show instead)",
            "add the city's own files to the folder",
        )
    return Finding(True, f"branding {folder}: banner, terms and service name present")


async def check_line(settings: Settings, test_webhook: bool) -> list[Finding]:
    async with LineApi.opened(settings.line_api_base_url, settings.channel_access_token) as line:
        return await _ask_line(line, settings, test_webhook)


async def _ask_line(line: LineApi, settings: Settings, test_webhook: bool) -> list[Finding]:
    try:
        name, basic_id = await line.bot_info()
    except LineCallFailed as failure:
        fix = (
            "issue a long-lived channel access token in the LINE Developers console"
            " (Messaging API tab) and set LINE_CHANNEL_ACCESS_TOKEN"
            if failure.status in (401, 403)
            else "check this machine reaches api.line.me (proxy, firewall)"
        )
        return [Finding(False, f"LINE did not accept the access token ({failure})", fix)]
    findings = [Finding(True, f"LINE accepts the access token: {name} ({basic_id})")]
    findings.extend(await _webhook_findings(line, settings, test_webhook))
    findings.append(_quota_finding(await line.quota(), settings))
    return findings


async def _webhook_findings(
    line: LineApi, settings: Settings, test_webhook: bool
) -> list[Finding]:
    """Where LINE sends webhooks, whether it is this server and switched on; LINE's own test
    of the endpoint when asked."""
    findings: list[Finding] = []
    expected = f"{settings.public_url}/callback" if settings.public_url else None
    try:
        endpoint, active = await line.webhook_endpoint()
    except LineCallFailed as failure:
        findings.append(Finding(False, f"webhook settings not readable ({failure})"))
    else:
        where = expected or "https://<this server>/callback"
        if not endpoint:
            findings.append(
                Finding(False, "LINE has no webhook URL", f"set it to {where} in LINE Developers")
            )
        elif expected and endpoint != expected:
            findings.append(
                Finding(False, f"LINE sends webhooks to {endpoint}", f"set it to {expected}")
            )
        elif not active:
            findings.append(
                Finding(
                    False,
                    f"webhook {endpoint} is switched off",
                    "turn on “Use webhook” in LINE Developers (Messaging API tab)",
                )
            )
        else:
            findings.append(Finding(True, f"webhook {endpoint}: in use"))
        if test_webhook and endpoint:
            findings.append(await _webhook_test(line))
    return findings


def _quota_finding(quota: Quota | None, settings: Settings) -> Finding:
    """The month's messages: unlimited, unread, without a limit, or how near the limit."""
    if quota is not None and settings.unlimited_messages:
        return Finding(True, f"message plan: unlimited (MIMAMORI_MESSAGE_PLAN); {quota.used} sent")
    if quota is None:
        return Finding(False, "message quota not readable from LINE")
    if quota.limit is None:
        return Finding(True, f"message quota: no monthly limit; {quota.used} used")
    near = quota.used >= quota.limit * 0.9
    return Finding(
        not near,
        f"message quota: {quota.used} of {quota.limit} used this month",
        "raise the plan in LINE Official Account Manager before check-ins stop" if near else "",
    )


async def check_forward(settings: Settings) -> Finding:
    """The city's system behind mimamori (MIMAMORI_FORWARD_URL) answers a signed body with no
    events, as LINE's own 検証 sends one: the same secret, the same shape."""
    url = settings.forward_url or ""
    body = b'{"destination":"","events":[]}'
    headers = headers_for(body, settings.channel_secret)
    try:
        async with (
            aiohttp.ClientSession(timeout=TIMEOUT) as session,
            session.post(url, data=body, headers=headers, allow_redirects=False) as response,
        ):
            status = response.status
    except (aiohttp.ClientError, TimeoutError) as error:
        return Finding(
            False,
            f"the city's system at {url}: not reached ({type(error).__name__})",
            "check MIMAMORI_FORWARD_URL: the webhook URL the city's system had in LINE"
            " Developers before mimamori took it",
        )
    if 300 <= status < 400:
        return Finding(
            False,
            f"the city's system at {url}: answered {status}, a redirect",
            "mimamori does not follow redirects (they would carry residents' words and the"
            " signature elsewhere): set MIMAMORI_FORWARD_URL to the URL the system answers at",
        )
    if not 200 <= status < 300:
        return Finding(
            False,
            f"the city's system at {url}: answered {status} to a signed, empty webhook",
            "it must verify with this channel's secret (the same LINE_CHANNEL_SECRET) and"
            " answer 200 to a body with no events, as it does for LINE's 検証",
        )
    return Finding(True, f"the city's system at {url}: takes forwarded events ({status})")


async def _webhook_test(line: LineApi) -> Finding:
    try:
        answered, said = await line.test_webhook()
    except LineCallFailed as failure:
        return Finding(False, f"LINE's webhook test could not run ({failure})")
    if answered:
        return Finding(True, "LINE's webhook test: this server answered 200")
    return Finding(
        False,
        f"LINE's webhook test failed: {said}",
        "check the server runs, the reverse proxy forwards /callback, and LINE_CHANNEL_SECRET"
        " is the channel's",
    )


def check_my_page(settings: Settings) -> Finding:
    if not settings.liff_id and not settings.login_channel_id:
        if not settings.details_in_chat:
            # Her phone number, address and memo are kept off the chat, for her card on My
            # page: without My page nobody she shows them to can read them.
            return Finding(
                False,
                "My page (LIFF): not configured, and people's phone numbers, addresses and"
                " 緊急時メモ are kept off the chat for their card on My page: managers and"
                " partners could read them nowhere",
                "set up My page (docs/operating.md: My page (LIFF)), or"
                " MIMAMORI_DETAILS_IN_CHAT=on for a family's own bot",
            )
        return Finding(True, "My page (LIFF): not configured; the chat menu works without it")
    if not (settings.liff_id and settings.login_channel_id):
        return Finding(
            False,
            "My page (LIFF): only one of MIMAMORI_LIFF_ID and LINE_LOGIN_CHANNEL_ID is set",
            "set both: the LIFF app's id and the LINE Login channel that owns it",
        )
    if not settings.liff_id.startswith(f"{settings.login_channel_id}-"):
        return Finding(
            False,
            f"My page (LIFF): {settings.liff_id} does not belong to LINE Login channel"
            f" {settings.login_channel_id}",
            "copy the LIFF ID from that channel's LIFF tab",
        )
    return Finding(True, f"My page (LIFF): app {settings.liff_id}")


async def check_public_url(public_url: str | None) -> Finding:
    if public_url is None:
        return Finding(
            False,
            "MIMAMORI_PUBLIC_URL not set",
            "set it to the https address LINE and phones reach this server at",
        )
    try:
        timeout = aiohttp.ClientTimeout(total=10)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(f"{public_url}/healthz") as answer,
        ):
            status = answer.status
            said = await answer.json(content_type=None) if status == 503 else None
    except (OSError, aiohttp.ClientError, TimeoutError, ValueError) as error:
        return Finding(
            False,
            f"{public_url} not reachable from here ({type(error).__name__})",
            "check DNS, the reverse proxy and the firewall",
        )
    if isinstance(said, dict) and said.get("status") == "degraded":
        causes = ", ".join(str(c.get("cause")) for c in said.get("causes", []))
        return Finding(
            False,
            f"{public_url}: reachable, but degraded ({causes})",
            "the console's pages say what to do at the top; the operator's e-mail too",
        )
    if status != 200:
        return Finding(False, f"{public_url}/healthz answered {status}", "is the server running?")
    return Finding(True, f"{public_url}: reachable, /healthz answers 200")
