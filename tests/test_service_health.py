"""No watch stops in silence (issue 36): LINE refusing the sends or the sweeps falling behind is
said at the top of every console page, by /healthz, and in one e-mail to the operator when it
begins and one when it ends; an event set aside after failing is counted, listed and put back."""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from care.health import Cause, sweeps_behind
from care.set_aside import failure_of
from ground.mail import PLAIN, STARTTLS, Mailer, MailInTransaction, MailSettings
from ground.settings import Settings, SettingsError
from scheduler.watch import WATCH
from tests import line_webhook as hook
from tests.conftest import Bot
from tests.drivers import (
    ALERT,
    MINUTE,
    add_admin,
    checkins_to,
    csrf,
    disk_fault,
    login,
    ok_data,
    run_to,
    tokyo,
    watched_resident,
)
from tests.fake_smtp import FakeSmtp
from tests.wording import says, t

PUSH = "/v2/bot/message/push"
MULTICAST = "/v2/bot/message/multicast"
MONTHLY_LIMIT = {"message": "You have reached your monthly limit."}
REVOKED = {"message": "Authentication failed. Confirm that the access token in the authorization"}
CONSOLE_PAGES = ("/admin/", "/admin/alerts", "/admin/teams", "/admin/audit", "/admin/set-aside")


@pytest.fixture
async def mailbox() -> AsyncIterator[FakeSmtp]:
    smtp = await FakeSmtp().start()
    yield smtp
    await smtp.stop()


def smtp_to(mailbox: FakeSmtp) -> MailSettings:
    return MailSettings(
        "127.0.0.1", mailbox.port, "mimamori@example.jp", ("ops@example.jp",), security=PLAIN
    )


def refuse_sends(bot: Bot, status: int, body: dict[str, str]) -> None:
    for path in (PUSH, MULTICAST):
        bot.line.fail_next(path, status, times=30, body=body)


async def health(bot: Bot) -> tuple[int, dict[str, Any]]:
    response = await bot.client.get("/healthz")
    return response.status, await response.json()


async def console_says(bot: Bot, key: str, **values: Any) -> list[str]:
    """The console pages whose top does not say `key` (all of them should)."""
    missing = []
    for path in CONSOLE_PAGES:
        page = await (await bot.client.get(path)).text()
        top = (
            page.split('id="service-health"', 1)[1].split("</section>", 1)[0]
            if ('id="service-health"' in page)
            else ""
        )
        if not says(top, key, **values):
            missing.append(path)
    return missing


async def test_a_revoked_token_is_told_everywhere_once_and_its_end_too(
    start_bot: Callable[..., Awaitable[Bot]], mailbox: FakeSmtp
) -> None:
    bot = await start_bot(smtp=smtp_to(mailbox))
    resident, _ = await watched_resident(bot, "resident", ["son"])
    assert (await health(bot)) == (200, {"status": "ok"})

    refuse_sends(bot, 401, REVOKED)
    await run_to(bot, tokyo(11, 24, 9))
    await add_admin(bot)
    assert await login(bot.client) == 200
    assert checkins_to(bot, resident) == []
    status, said = await health(bot)
    assert status == 503 and said["status"] == "degraded"
    assert [cause["cause"] for cause in said["causes"]] == [Cause.LINE_TOKEN]
    assert (await bot.client.get("/livez")).status == 200, "the instance still takes requests"
    assert await console_says(bot, "admin.health.line_token") == []

    watch = bot.app[WATCH]
    await watch.check()
    for _ in range(3):  # more sends refused: the same cause, no more e-mail
        await run_to(bot, bot.clock.now() + 5 * MINUTE)
        await watch.check()
    assert len(mailbox.received) == 1
    (mail,) = mailbox.received
    assert mail.recipients == ["ops@example.jp"] and mail.sender == "mimamori@example.jp"
    assert says(mail.subject, "admin.operator_mail.title.line_token")
    assert says(mail.body, "admin.operator_mail.fix.line_token")

    bot.line.failures.clear()  # a good token is in again
    await run_to(bot, bot.clock.now() + 5 * MINUTE)
    assert len(checkins_to(bot, resident)) == 1, "the kept check-in went out"
    assert (await health(bot)) == (200, {"status": "ok"})
    page = await (await bot.client.get("/admin/")).text()
    assert 'id="service-health"' not in page
    await watch.check()
    await watch.check()
    assert len(mailbox.received) == 2
    assert says(mailbox.received[1].body, "admin.operator_mail.after.line_token")


async def test_the_monthly_limit_without_smtp_is_still_on_the_console_and_healthz(
    bot: Bot,
) -> None:
    resident, _ = await watched_resident(bot, "resident", ["son"])
    refuse_sends(bot, 429, MONTHLY_LIMIT)
    await run_to(bot, tokyo(11, 24, 9))
    await add_admin(bot)
    assert await login(bot.client) == 200
    await bot.app[WATCH].check()  # nothing to mail with: nothing is claimed or lost
    status, said = await health(bot)
    assert status == 503 and [c["cause"] for c in said["causes"]] == [Cause.LINE_QUOTA]
    assert await console_says(bot, "admin.health.line_quota") == []
    login_page = await (await bot.client.get("/admin/login")).text()
    assert 'id="service-health"' in (await (await bot.client.get("/admin/")).text())

    bot.line.failures.clear()  # the plan was raised
    await run_to(bot, bot.clock.now() + timedelta(hours=1))
    assert len(checkins_to(bot, resident)) == 1
    assert (await health(bot))[0] == 200
    assert 'id="service-health"' not in login_page


async def test_sweeps_that_fall_behind_are_told_and_mailed_once_each_way(
    start_bot: Callable[..., Awaitable[Bot]], mailbox: FakeSmtp
) -> None:
    bot = await start_bot(smtp=smtp_to(mailbox))
    await watched_resident(bot, "resident", ["son"])
    watch = bot.app[WATCH]
    bot.clock.set(tokyo(11, 24, 9, 5))  # due at 09:00, and no sweep since
    await watch.check()
    assert (await health(bot))[0] == 200, "five minutes late is a busy wave, not an alarm"
    bot.clock.set(tokyo(11, 24, 9, 11))
    await watch.check()
    status, said = await health(bot)
    assert status == 503 and [c["cause"] for c in said["causes"]] == [Cause.SWEEPS_BEHIND]
    await watch.check()
    assert len(mailbox.received) == 1
    assert says(mailbox.received[0].subject, "admin.operator_mail.title.sweeps_behind")

    await bot.sweep()
    await watch.check()
    assert (await health(bot))[0] == 200
    assert len(mailbox.received) == 2
    assert says(mailbox.received[1].subject, "admin.operator_mail.subject_ended")


async def test_a_token_fixed_by_a_restart_ends_the_alarm_with_the_first_send(
    start_bot: Callable[..., Awaitable[Bot]],
) -> None:
    bot = await start_bot()
    resident, _ = await watched_resident(bot, "resident", ["son"])
    refuse_sends(bot, 401, REVOKED)
    await run_to(bot, tokyo(11, 24, 9))
    assert (await health(bot))[0] == 503
    bot.line.failures.clear()
    bot = await start_bot()  # the operator put a good token in and restarted
    await run_to(bot, bot.clock.now() + 5 * MINUTE)
    assert len(checkins_to(bot, resident)) == 1
    assert (await health(bot)) == (200, {"status": "ok"}), "no watch's look needed"


async def test_an_e_mail_the_server_refused_goes_at_the_next_look(
    start_bot: Callable[..., Awaitable[Bot]], mailbox: FakeSmtp
) -> None:
    bot = await start_bot(smtp=smtp_to(mailbox))
    await watched_resident(bot, "resident", ["son"])
    mailbox.refuse = 1
    refuse_sends(bot, 401, REVOKED)
    await run_to(bot, tokyo(11, 24, 9))
    await bot.app[WATCH].check()
    assert mailbox.received == []
    await bot.app[WATCH].check()
    assert len(mailbox.received) == 1


def test_sweeps_behind_only_past_the_limit_and_caught_up_within_half_of_it() -> None:
    now, limit = tokyo(11, 24, 9), timedelta(minutes=10)
    assert sweeps_behind(now, None, limit) is False
    assert sweeps_behind(now, now + MINUTE, limit) is False
    assert sweeps_behind(now, now - 11 * MINUTE, limit) is True
    assert sweeps_behind(now, now - 7 * MINUTE, limit) is None, "as it was"
    assert sweeps_behind(now, now - 4 * MINUTE, limit) is False


async def test_no_e_mail_inside_a_unit_of_work(bot: Bot, mailbox: FakeSmtp) -> None:
    mailer = Mailer(smtp_to(mailbox), strict=True)
    async with bot.repos():
        with pytest.raises(MailInTransaction):
            await mailer.send("subject", "body")
    await mailer.send("subject", "body")
    assert len(mailbox.received) == 1


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"]
        + ["-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1"]
        + ["-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
    )
    return key, cert


async def test_starttls_then_login(certificate: tuple[Path, Path]) -> None:
    key, cert = certificate
    server_side = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_side.load_cert_chain(cert, key)
    smtp = await FakeSmtp(tls=server_side, login=("ops", "secret")).start()
    try:
        settings = MailSettings(
            "127.0.0.1",
            smtp.port,
            "mimamori@example.jp",
            ("a@example.jp", "b@example.jp"),
            security=STARTTLS,
            user="ops",
            password="secret",
        )
        mailer = Mailer(settings, tls_context=ssl.create_default_context(cafile=cert))
        await mailer.send("件名", "本文")
    finally:
        await smtp.stop()
    (mail,) = smtp.received
    assert (mail.tls, mail.user, mail.recipients) == (
        True,
        "ops",
        ["a@example.jp", "b@example.jp"],
    )
    assert (mail.subject, mail.body.strip()) == ("件名", "本文")


def test_smtp_settings() -> None:
    base = {"LINE_CHANNEL_SECRET": "s", "LINE_CHANNEL_ACCESS_TOKEN": "t"}
    assert Settings.from_env(base).smtp is None
    smtp = {
        **base,
        "MIMAMORI_SMTP_HOST": "smtp.example.jp",
        "MIMAMORI_SMTP_FROM": "mimamori@example.jp",
        "MIMAMORI_SMTP_TO": "ops@example.jp, desk@example.jp",
    }
    found = Settings.from_env(smtp).smtp
    assert found is not None
    assert (found.port, found.security, found.recipients) == (
        587,
        STARTTLS,
        ("ops@example.jp", "desk@example.jp"),
    )
    for wrong in (
        {"MIMAMORI_SMTP_TO": ""},
        {"MIMAMORI_SMTP_FROM": "mimamori"},
        {"MIMAMORI_SMTP_USER": "ops"},
        {"MIMAMORI_SMTP_TLS": "sometimes"},
        {"MIMAMORI_SMTP_TLS": "off", "MIMAMORI_SMTP_USER": "o", "MIMAMORI_SMTP_PASSWORD": "p"},
    ):
        with pytest.raises(SettingsError):
            Settings.from_env({**smtp, **wrong})
    assert "hunter2" not in repr(
        Settings.from_env({**smtp, "MIMAMORI_SMTP_USER": "o", "MIMAMORI_SMTP_PASSWORD": "hunter2"})
    )


# --- events set aside -------------------------------------------------------------------


async def scrape(bot: Bot) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = await (await bot.client.get("/metrics")).text()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def fail_three_times(bot: Bot, event: dict[str, Any]) -> None:
    """The event fails to be marked handled (a fault that lets setting it aside through),
    three times, as the dispatcher's retries meet it."""
    from bot.dispatch import DISPATCHER

    async with bot.repos() as repos:
        dialect = repos.conn.dialect
        timing = (
            "BEFORE UPDATE OF processed_at ON webhook_events"
            if dialect == "postgresql"
            else "BEFORE INSERT ON webhook_events"
        )
        when = f"NEW.event_id = '{event['webhookEventId']}' AND NEW.set_aside_at IS NULL"
        for statement in disk_fault(dialect, "lost_tap", timing, when):
            await repos.conn.execute(statement)
    await bot.post(event)
    for _ in range(2):
        bot.app[DISPATCHER].submit()  # the dispatcher's retry, brought forward
        await bot.settle()


async def fault_fixed(bot: Bot) -> None:
    async with bot.repos() as repos:
        postgres = repos.conn.dialect == "postgresql"
        await repos.conn.execute(
            "DROP TRIGGER lost_tap" + (" ON webhook_events" if postgres else "")
        )


async def test_an_ok_set_aside_is_counted_listed_and_handled_again_by_the_console(
    bot: Bot,
) -> None:
    resident, (son,) = await watched_resident(bot, "resident", ["son"])
    await run_to(bot, tokyo(11, 24, 9))
    tap = hook.postback(resident, ok_data(bot, resident), bot.clock.now())
    await fail_three_times(bot, tap)

    seen = await scrape(bot)
    assert seen[("mimamori_webhook_events_set_aside", ())] == 1
    set_aside = ("mimamori_webhook_events_total", (("outcome", "set_aside"), ("type", "postback")))
    assert seen[set_aside] == 1
    await add_admin(bot)
    assert await login(bot.client) == 200
    for path in CONSOLE_PAGES:
        page = await (await bot.client.get(path)).text()
        assert says(page, "admin.health.set_aside", count=1), path
    listing = await (await bot.client.get("/admin/set-aside")).text()
    row = listing.split('id="set-aside"', 1)[1]
    async with bot.repos() as repos:
        member = await repos.members.by_line_id(resident)
    assert member is not None
    assert f"<td>{member.id}</td>" in row
    assert t("admin.set_aside.kind.postback") in row and "disk trouble" in row
    assert resident not in row, "the console names members by 会員ID"

    await fault_fixed(bot)
    token = await csrf(bot.client, "/admin/set-aside")
    response = await bot.client.post(
        "/admin/set-aside/retry", data={"csrf_token": token}, allow_redirects=False
    )
    assert response.status == 303
    await bot.settle()
    listing = await (await bot.client.get(response.headers["Location"])).text()
    assert says(listing, "admin.set_aside.retried", count=1)
    assert 'id="set-aside-none"' in listing
    audit = await (await bot.client.get("/admin/audit")).text()
    assert "set_aside_retried" in audit
    assert (await scrape(bot))[("mimamori_webhook_events_set_aside", ())] == 0

    await run_to(bot, tokyo(11, 25, 12))  # past the re-send and the alert: the OK counted
    assert not any(ALERT in text for text in bot.line.texts_to(son))


def test_the_failure_kept_never_quotes_the_persons_words() -> None:
    event = hook.text(hook.user_id("resident"), "鍵は植木鉢の下", tokyo(11, 24, 9))
    failure = failure_of(ValueError("cannot store '鍵は植木鉢の下'"), hook_payload(event))
    assert "鍵は植木鉢の下" not in failure and failure.startswith("ValueError")


def hook_payload(event: dict[str, Any]) -> str:
    import json

    return json.dumps(event, ensure_ascii=False)


async def test_mimamori_check_says_reachable_but_degraded(bot: Bot) -> None:
    from server.readiness import check_public_url

    await watched_resident(bot, "resident", ["son"])
    bot.clock.set(tokyo(11, 24, 9, 30))
    await bot.app[WATCH].check()
    found = await check_public_url(str(bot.client.make_url("")).rstrip("/"))
    assert not found.ok and "degraded (sweeps_behind)" in found.what
