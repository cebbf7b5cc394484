"""`mimamori check` against a healthy and a broken LINE (the fake, answering as LINE does)."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from server.readiness import Finding, check_deployment
from storage.arrivals import arrivals_path
from tests.conftest import Bot


def nowhere(database: Path | str, tmp_path: Path) -> Path | str:
    """A database that does not exist, on the engine the test runs on."""
    if isinstance(database, Path):
        return tmp_path / "nowhere.db"
    return re.sub(r"@/[^?]+", "@/nowhere", database)


def copy_of(database: Path, target: Path) -> Path:
    with sqlite3.connect(database) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    return target


def damage(path: Path) -> None:
    path.write_bytes(b"not a database at all" * 100)


def by_topic(findings: list[Finding]) -> dict[str, Finding]:
    topics = {
        "database": "database",
        "branding": "branding",
        "token": "access token",
        "webhook": "webhook",
        "test": "webhook test",
        "quota": "quota",
        "liff": "My page",
        "url": "healthz",
    }
    found = {}
    for topic, words in topics.items():
        matching = [f for f in findings if words in f.what]
        if matching:
            found[topic] = matching[-1]
    return found


async def test_a_ready_deployment_is_all_ticks(bot: Bot) -> None:
    public = str(bot.client.make_url("")).rstrip("/")
    settings = replace(bot.settings, public_url=public)
    bot.line.webhook_endpoint, bot.line.webhook_active = f"{public}/callback", True
    bot.line.channel_secret = settings.channel_secret
    bot.line.quota = {"type": "limited", "value": 5000}
    bot.line.quota_used = 120

    findings = await check_deployment(settings, test_webhook=True)
    assert all(f.ok for f in findings), [f.line() for f in findings if not f.ok]
    topics = by_topic(findings)
    assert {"database", "token", "webhook", "test", "quota", "liff", "url"} <= set(topics)
    assert bot.line.bot_basic_id in topics["token"].what
    assert "120 of 5000" in topics["quota"].what
    assert any(c.path == "/v2/bot/channel/webhook/test" for c in bot.line.calls)
    assert not bot.line.schema_errors


async def test_a_damaged_arrivals_file_is_reported(bot: Bot, tmp_path: Path) -> None:
    if not isinstance(bot.settings.database, Path):
        pytest.skip("the arrivals file is SQLite's; PostgreSQL's events land in webhook_events")
    copy = copy_of(bot.settings.database, tmp_path / "copy.db")
    assert by_topic(await check_deployment(replace(bot.settings, database=copy)))["database"].ok
    damage(Path(arrivals_path(copy)))
    finding = by_topic(await check_deployment(replace(bot.settings, database=copy)))["database"]
    assert not finding.ok and arrivals_path(copy) in finding.what and finding.fix


async def test_a_broken_deployment_says_what_to_fix(bot: Bot, tmp_path: Path) -> None:
    bot.line.webhook_endpoint, bot.line.webhook_active = "https://old.example.jp/callback", False
    bot.line.quota = {"type": "limited", "value": 1000}
    bot.line.quota_used = 950
    branding = tmp_path / "brand"
    branding.mkdir()
    (branding / "service.toml").write_text('contact = "x"\n')
    broken = replace(
        bot.settings,
        database=nowhere(bot.settings.database, tmp_path),
        public_url="http://127.0.0.1:9",
        liff_id="9999999999-other",
        branding=branding,
    )
    topics = by_topic(await check_deployment(broken))
    for topic in ("database", "branding", "webhook", "quota", "liff"):
        assert not topics[topic].ok and topics[topic].fix, topic
    assert "https://old.example.jp/callback" in topics["webhook"].what
    unreachable = [f for f in await check_deployment(broken) if "reachable" in f.what]
    assert unreachable and not unreachable[0].ok

    bot.line.webhook_endpoint, bot.line.webhook_active = (
        "https://mimamori.example.jp/callback",
        False,
    )
    topics = by_topic(await check_deployment(bot.settings))
    assert not topics["webhook"].ok and "switched off" in topics["webhook"].what

    bot.line.fail_next("/v2/bot/info", 401, body={"message": "Authentication failed"})
    findings = await check_deployment(bot.settings)
    token = by_topic(findings)["token"]
    assert not token.ok and "LINE_CHANNEL_ACCESS_TOKEN" in token.fix
    assert "webhook" not in by_topic(findings), "nothing more is asked of LINE without a token"
