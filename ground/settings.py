"""Configuration from the environment (and an optional `.env` file)."""

from __future__ import annotations

import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ground.mail import IMPLICIT_TLS, PLAIN, STARTTLS, MailSettings

# An e-mail address, as far as a setting needs checking (a typo, a missing @).
_MAILBOX = re.compile(r"[^@\s,]+@[^@\s,]+\.[^@\s,]+")
# A phone number as Twilio dials it (E.164): the number calls come from, and those they ring.
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
LINE_API_DEFAULT = "https://api.line.me"
TWILIO_API_DEFAULT = "https://api.twilio.com"
LIFF_SDK_DEFAULT = "https://static.line-scdn.net/liff/edge/2/sdk.js"
JMA_FEED_DEFAULT = "https://www.data.jma.go.jp/developer/xml/feed/eqvol.xml"
# JMA's feed of warnings and advisories (随時: 気象警報・注意報（Ｒ０６）, 指定河川洪水予報...).
STORM_FEED_DEFAULT = "https://www.data.jma.go.jp/developer/xml/feed/extra.xml"

# 環境省 熱中症予防情報サイト: the alert files' folder ({YYYY}/alert_{YYYYMMDD}_{HH}.csv under
# it), and the WBGT forecast of one observation point ({point}: its number).
HEAT_ALERT_BASE_DEFAULT = "https://www.wbgt.env.go.jp/alert/dl/"
HEAT_WBGT_DEFAULT = "https://www.wbgt.env.go.jp/prev15WG/dl/yohou_{point}.csv"
HEAT_HOSTS_DEFAULT = "www.wbgt.env.go.jp"
# Each of the heat ladder's waits unless set (or the regular wait, where that is shorter).
HEAT_WAIT_DEFAULT = timedelta(hours=1)
# The 58 府県予報区 (JMA's codes, as the alert file's fourth column gives them): 北海道's eight,
# one per 都府県 but 鹿児島県 (two) and 沖縄県 (four).
HEAT_AREA_CODES = frozenset(
    ["011000", "012000", "013000", "014030", "014100", "015000", "016000", "017000"]
    + [f"{prefecture:02d}0000" for prefecture in range(2, 46)]
    + ["460040", "460100", "471000", "472000", "473000", "474000"]
)
_INTENSITIES = {
    "1": "1",
    "2": "2",
    "3": "3",
    "4": "4",
    "5-": "5-",
    "5+": "5+",
    "6-": "6-",
    "6+": "6+",
    "7": "7",
    "5弱": "5-",
    "5強": "5+",
    "6弱": "6-",
    "6強": "6+",
}

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


class SettingsError(ValueError):
    """A setting is missing or invalid; the message names it in one line."""

    def __init__(self, name: str, problem: str) -> None:
        super().__init__(f"{name}: {problem}")
        self.name = name


@dataclass(frozen=True)
class Settings:
    channel_secret: str
    channel_access_token: str
    line_api_base_url: str = LINE_API_DEFAULT
    database: Path | str = Path("./mimamori.db")  # a file, or a postgresql:// URL
    host: str = "0.0.0.0"
    port: int = 8080
    timezone: ZoneInfo = ZoneInfo("Asia/Tokyo")
    resend_after: timedelta = timedelta(hours=24)
    alert_after: timedelta = timedelta(hours=3)
    realert_after: timedelta = timedelta(hours=1)
    # The 社協 or city desk: an alert nobody took this long after it was sent again becomes a
    # case in the console. None: the deployment has no desk (the alert stays the managers').
    desk_after: timedelta | None = None
    # 「少し体調が悪い」 is a case at the desk too (where there is a desk), for a 社協 that calls
    # back everyone who says so; off: only the managers hear it.
    desk_unwell: bool = False
    # An alert a manager took (対応します) is theirs this long; then they are asked whether they
    # found the person, and with no answer every manager is alerted again.
    taken_check_after: timedelta = timedelta(hours=2)
    # An alert still open this long after it went out (or was last said to be open): the
    # managers it reached are reminded, whatever her schedule.
    alert_remind_every: timedelta = timedelta(hours=24)
    group_report_after: timedelta = timedelta(hours=23)
    sweep_interval: timedelta = timedelta(seconds=30)
    # Several instances: how long claimed work (outbox rows, stored events) is one instance's
    # alone; an instance that dies leaves it to another after this.
    claim_lease: timedelta = timedelta(seconds=20)
    # How many instances send for the one LINE channel: its rate limits are the channel's, so
    # each instance paces itself to its share.
    instances: int = 1
    group_retention: timedelta = timedelta(days=30)
    public_url: str | None = None
    locale_overrides: Path | None = None
    login_channel_id: str | None = None  # the LINE Login channel that owns the LIFF app
    # That channel's secret: 退会 on My page revokes the LIFF app's authorization with it (LINE
    # Login's deauthorize endpoint wants the channel's own access token). Unset: not revoked
    # (logged), and the page tells her how to unlink the app in LINE herself.
    login_channel_secret: str | None = None
    liff_id: str | None = None
    liff_sdk_url: str = LIFF_SDK_DEFAULT
    # Her phone number, address and 緊急時メモ in the LINE messages themselves (alerts, visit
    # requests), where they stay in every recipient's chat and on LINE's servers: only for a
    # family that runs the bot for itself. Off: the messages carry a button to her card on My
    # page instead (care.members.cards), where they are shown to those she shows them to, audited.
    details_in_chat: bool = False
    branding: Path | None = None
    max_webhook_body: int = 1024 * 1024
    # Roll-calls started by JMA earthquake reports: off unless the city's area codes are set.
    jma_areas: frozenset[str] = frozenset()
    jma_threshold: str = "5-"
    jma_window: timedelta = timedelta(hours=6)
    jma_feed_url: str = JMA_FEED_DEFAULT
    jma_interval: timedelta = timedelta(seconds=60)
    # 訓練 and 試験 reports start roll-calls too: on for a city's own drill day only.
    jma_drills: bool = False
    # Roll-calls started by JMA warnings (大雨, 土砂災害, 氾濫, 高潮) for the city's
    # municipality codes: off unless the codes are set. The levels that start one: 4 and 5.
    storm_areas: frozenset[str] = frozenset()
    storm_levels: frozenset[int] = frozenset({4, 5})
    storm_feed_url: str = STORM_FEED_DEFAULT

    # 熱中症警戒アラート days (care/broadcasts/heat.py): off unless the city's 府県予報区 codes
    # are set; the Ministry's alert files are read from `heat_alert_base`. The feeds are
    # fetched only over https (http for a stand-in on loopback) from the hosts listed.
    heat_areas: frozenset[str] = frozenset()
    heat_alert_base: str = HEAT_ALERT_BASE_DEFAULT
    heat_wbgt_url: str = HEAT_WBGT_DEFAULT
    heat_points: tuple[str, ...] = ()
    heat_hosts: frozenset[str] = frozenset({HEAT_HOSTS_DEFAULT})
    heat_interval: timedelta = timedelta(minutes=10)
    # The local hour of an alert day's heat check, and its ladder: asked again after
    # `heat_resend_after` without an answer, the managers alerted `heat_alert_after` later.
    heat_check_hour: int = 10
    heat_resend_after: timedelta = HEAT_WAIT_DEFAULT
    heat_alert_after: timedelta = HEAT_WAIT_DEFAULT
    heat_drills: bool = False
    # /metrics: these networks (loopback by default), or anyone with the token.
    metrics_networks: tuple[IPv4Network | IPv6Network, ...] = (
        ip_network("127.0.0.0/8"),
        ip_network("::1/128"),
    )
    metrics_token: str | None = None
    # Reverse proxies (Caddy in the compose files) whose X-Forwarded-For and X-Forwarded-Proto
    # are believed; from anyone else those headers are ignored. None by default.
    trusted_proxies: tuple[IPv4Network | IPv6Network, ...] = ()
    # A console session no request came with for this long ends (beside its 8 hours at most).
    console_idle: timedelta = timedelta(minutes=30)
    # The networks the console answers (the city's offices, its VPN); others get 403, the login
    # page too. Empty: anyone. The client is the one MIMAMORI_TRUSTED_PROXIES gives.
    console_networks: tuple[IPv4Network | IPv6Network, ...] = ()
    # A call to LINE inside a unit of work fails instead of being logged (the tests set it).
    strict_transactions: bool = False
    # A manager code forwarded beyond the family stops working after this long.
    manager_code_lifetime: timedelta = timedelta(days=7)
    # A device that answers check-ins and sent no sign of life this long: she and her
    # managers are told (once, until it pings again). None: never told.
    device_quiet_after: timedelta | None = timedelta(days=3)
    # Requests a minute from one address (ground.client_address) to a device's URL and to an
    # invite's QR code, in each instance. A meter service that pings for many residents from
    # one server needs the first raised; 0: no limit.
    device_pings_per_address: int = 60
    invite_qr_per_address: int = 30
    # Make the rich menus at start-up when none are recorded (else: `mimamori richmenu`).
    rich_menu_at_start: bool = False
    # The city's own LINE account, shared with its other services: a follow enrols nobody,
    # and events that are not mimamori's are forwarded (`forward_url`: mimamori in front of
    # the city's system) or, without it, left alone (mimamori behind the city's system).
    shared_account: bool = False
    forward_url: str | None = None
    # Whose rich menus: "own" (mimamori's, linked to everyone), "tab" (mimamori's as a tab
    # the city's menu switches to, through rich menu aliases; nothing linked or made default)
    # or "none" (no menu touched).
    menus: str = "own"
    city_menu_alias: str | None = None  # the alias of the city's menu: the tab's way back
    # 地方公共団体プラン: messages cost nothing and have no monthly limit; still counted.
    unlimited_messages: bool = False
    # Calls before the alert through Twilio's Programmable Voice (care.rounds.calls): all three
    # set, or none; the monthly budget counts calls, and past it the alert goes out without one.
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from: str | None = None  # the Twilio number calls come from, E.164
    twilio_api_base_url: str = TWILIO_API_DEFAULT
    call_budget: int = 0  # calls a month
    call_patience: timedelta = timedelta(minutes=10)  # the longest a call holds the alert
    # The country codes a call may ring (care.rounds.numbers): Japan alone unless the city says
    # otherwise; a number elsewhere is refused where it is set and again when it is dialled.
    call_countries: frozenset[str] = frozenset({"81"})
    # Calls of every kind to one number in 24 hours, whoever's number it is: past it the call
    # is not placed and the ladder goes on without it.
    call_number_daily: int = 4
    # A roll-call's call to a person watched by phone alone rings once more after this long
    # while she has not answered (care.broadcasts.by_phone); then she is counted silent.
    rollcall_call_again: timedelta = timedelta(minutes=30)
    # The operator's e-mail (care/health.py): when LINE refuses the sends or the sweeps fall
    # behind, and when that ends. None: nothing is mailed (the console and /healthz say it).
    smtp: MailSettings | None = None
    # How long each kind of record is kept (care/privacy/retention.py), the daily purge deleting
    # what is past its time. Defaults a city can defend: 13 months of rounds and answers and of
    # call records (a year's comparison, the same month last year included); her own words quoted
    # from a round 30 days after it closed (long enough for whoever took the alert to read them
    # back); desk cases and their notes 5 years (公文書: a city's records of a case it handled);
    # message bodies in the outbox 30 days after delivery (the row's bookkeeping stays); the audit
    # log 5 years, as long as the cases it accounts for.
    keep_rounds: timedelta = timedelta(days=396)
    keep_words: timedelta = timedelta(days=30)
    keep_calls: timedelta = timedelta(days=396)
    keep_cases: timedelta = timedelta(days=1827)
    keep_message_bodies: timedelta = timedelta(days=30)
    keep_audit: timedelta = timedelta(days=1827)
    # The purge runs once a day at this hour, local time (at night, away from the 07:00 wave),
    # deleting this many rows per statement, each batch its own short transaction.
    purge_hour: int = 3
    purge_batch: int = 500

    def __post_init__(self) -> None:
        # A heat day's ladder is the regular one with shorter waits (care.rounds.due): a
        # longer one would leave the one most at risk that day silent longer than any other.
        for heat, regular, name in (
            (self.heat_resend_after, self.resend_after, "RESEND_AFTER"),
            (self.heat_alert_after, self.alert_after, "ALERT_AFTER"),
        ):
            if heat > regular:
                raise SettingsError(
                    f"MIMAMORI_HEAT_{name}",
                    f"at most MIMAMORI_{name} ({_said(regular)}), got {_said(heat)}:"
                    " a heat day's waits are never longer than the regular ones",
                )

    @property
    def calls(self) -> bool:
        """Whether this deployment can place calls (Twilio set, and a public URL for its
        webhooks)."""
        return bool(self.twilio_account_sid and self.public_url)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        resend_after = _duration(env, "MIMAMORI_RESEND_AFTER", "24h")
        alert_after = _duration(env, "MIMAMORI_ALERT_AFTER", "3h")
        return cls(
            channel_secret=_required(env, "LINE_CHANNEL_SECRET"),
            channel_access_token=_required(env, "LINE_CHANNEL_ACCESS_TOKEN"),
            line_api_base_url=_url(env, "LINE_API_BASE_URL", LINE_API_DEFAULT),
            database=database_setting(env.get("MIMAMORI_DATABASE")),
            host=env.get("MIMAMORI_HOST") or "0.0.0.0",
            port=_port(env, "MIMAMORI_PORT", 8080),
            timezone=_timezone(env, "MIMAMORI_TIMEZONE", "Asia/Tokyo"),
            resend_after=resend_after,
            alert_after=alert_after,
            realert_after=_duration(env, "MIMAMORI_REALERT_AFTER", "1h"),
            desk_after=_optional_duration(env, "MIMAMORI_DESK_AFTER"),
            desk_unwell=_switch(env, "MIMAMORI_DESK_UNWELL"),
            taken_check_after=_duration(env, "MIMAMORI_TAKEN_CHECK_AFTER", "2h"),
            alert_remind_every=_duration(env, "MIMAMORI_ALERT_REMIND_EVERY", "24h"),
            group_report_after=_duration(env, "MIMAMORI_GROUP_REPORT_AFTER", "23h"),
            sweep_interval=_duration(env, "MIMAMORI_SWEEP_INTERVAL", "30s"),
            claim_lease=_duration(env, "MIMAMORI_CLAIM_LEASE", "20s"),
            instances=_count(env, "MIMAMORI_INSTANCES", 1),
            group_retention=_duration(env, "MIMAMORI_GROUP_RETENTION", "30d"),
            public_url=_optional_url(env, "MIMAMORI_PUBLIC_URL"),
            locale_overrides=_optional_dir(env, "MIMAMORI_LOCALE_OVERRIDES"),
            login_channel_id=_optional_digits(env, "LINE_LOGIN_CHANNEL_ID"),
            login_channel_secret=(env.get("LINE_LOGIN_CHANNEL_SECRET") or "").strip() or None,
            liff_id=(env.get("MIMAMORI_LIFF_ID") or "").strip() or None,
            liff_sdk_url=_optional_url(env, "MIMAMORI_LIFF_SDK_URL") or LIFF_SDK_DEFAULT,
            details_in_chat=_switch(env, "MIMAMORI_DETAILS_IN_CHAT"),
            branding=_optional_dir(env, "MIMAMORI_BRANDING"),
            jma_areas=_codes(env, "MIMAMORI_JMA_AREAS"),
            jma_threshold=_intensity(env, "MIMAMORI_JMA_THRESHOLD", "5-"),
            jma_window=_duration(env, "MIMAMORI_JMA_WINDOW", "6h"),
            jma_feed_url=_feed_url(env, "MIMAMORI_JMA_FEED", JMA_FEED_DEFAULT),
            jma_drills=(env.get("MIMAMORI_JMA_DRILLS") or "").strip().lower()
            in ("1", "yes", "true", "on"),
            jma_interval=_duration(env, "MIMAMORI_JMA_INTERVAL", "60s"),
            storm_areas=_municipalities(env, "MIMAMORI_STORM_AREAS"),
            storm_levels=_warning_levels(env, "MIMAMORI_STORM_LEVELS", "4,5"),
            storm_feed_url=_feed_url(env, "MIMAMORI_STORM_FEED", STORM_FEED_DEFAULT),
            **_heat(env, resend_after, alert_after),
            metrics_networks=_networks(env, "MIMAMORI_METRICS_NETWORKS", "127.0.0.0/8,::1/128"),
            metrics_token=(env.get("MIMAMORI_METRICS_TOKEN") or "").strip() or None,
            trusted_proxies=_networks(env, "MIMAMORI_TRUSTED_PROXIES", ""),
            console_idle=_duration(env, "MIMAMORI_CONSOLE_IDLE", "30m"),
            console_networks=_networks(env, "MIMAMORI_CONSOLE_NETWORKS", ""),
            manager_code_lifetime=_duration(env, "MIMAMORI_MANAGER_CODE_LIFETIME", "7d"),
            device_quiet_after=_optional_duration(env, "MIMAMORI_DEVICE_QUIET_AFTER", "3d"),
            device_pings_per_address=_per_minute(env, "MIMAMORI_DEVICE_PINGS_PER_ADDRESS", 60),
            invite_qr_per_address=_per_minute(env, "MIMAMORI_INVITE_QR_PER_ADDRESS", 30),
            rich_menu_at_start=(env.get("MIMAMORI_RICH_MENU") or "").strip().lower()
            in ("1", "yes", "true", "on"),
            **_account(env),
            **_twilio(env),
            smtp=_smtp(env),
            **_retention(env),
        )


# (field, variable, default, least): how long each kind of record is kept (Settings.keep_*),
# and the shortest a deployment may set.
# - 62 days for the kinds the monthly report counts (rounds and roll-calls, cases): the purge
#   stores a month's figures only once the month has ended, so the purge's line must never
#   reach into the running month (at most 31 days back); 62 days keeps it before the first day
#   of last month too, a month's margin for a purge run late or a time zone's edge.
# - 365 days for the audit log: it is what accounts for the staff's use of personal data, and
#   one restart with a short setting would purge years of it for good (migration 0043 holds the
#   same floor in the database, against the database's own clock).
# - A day for the rest: a retention of seconds would delete a round before its alert closed.
KEEP_AT_LEAST_COUNTED = timedelta(days=62)
KEEP_AT_LEAST_AUDIT = timedelta(days=365)
RETENTION = (
    ("keep_rounds", "MIMAMORI_KEEP_ROUNDS", "396d", KEEP_AT_LEAST_COUNTED),
    ("keep_words", "MIMAMORI_KEEP_WORDS", "30d", timedelta(days=1)),
    ("keep_calls", "MIMAMORI_KEEP_CALLS", "396d", timedelta(days=1)),
    ("keep_cases", "MIMAMORI_KEEP_CASES", "1827d", KEEP_AT_LEAST_COUNTED),
    ("keep_message_bodies", "MIMAMORI_KEEP_MESSAGE_BODIES", "30d", timedelta(days=1)),
    ("keep_audit", "MIMAMORI_KEEP_AUDIT", "1827d", KEEP_AT_LEAST_AUDIT),
)


def _retention(env: Mapping[str, str]) -> dict[str, Any]:
    """The keep_* durations (each at least its floor in RETENTION), the purge's hour and
    batch."""
    found: dict[str, Any] = {}
    for field, name, default, least in RETENTION:
        kept = _duration(env, name, default)
        if kept < least:
            raise SettingsError(name, f"at least {least.days}d, got {env.get(name)!r}")
        found[field] = kept
    hour = (env.get("MIMAMORI_PURGE_HOUR") or "3").strip()
    if not hour.isdigit() or not 0 <= int(hour) <= 23:
        raise SettingsError("MIMAMORI_PURGE_HOUR", f"expected an hour 0-23, got {hour!r}")
    found["purge_hour"] = int(hour)
    found["purge_batch"] = _small(env, "MIMAMORI_PURGE_BATCH", 500, 5000)
    return found


_SMTP_PORTS = {STARTTLS: 587, IMPLICIT_TLS: 465, PLAIN: 25}


def _smtp(env: Mapping[str, str]) -> MailSettings | None:
    host = (env.get("MIMAMORI_SMTP_HOST") or "").strip()
    if not host:
        return None
    security = (env.get("MIMAMORI_SMTP_TLS") or STARTTLS).strip().lower()
    if security not in _SMTP_PORTS:
        raise SettingsError("MIMAMORI_SMTP_TLS", f"starttls, tls or off, got {security!r}")
    sender = (env.get("MIMAMORI_SMTP_FROM") or "").strip()
    if not _MAILBOX.fullmatch(sender):
        raise SettingsError("MIMAMORI_SMTP_FROM", f"expected an e-mail address, got {sender!r}")
    recipients = tuple(a.strip() for a in (env.get("MIMAMORI_SMTP_TO") or "").split(","))
    recipients = tuple(a for a in recipients if a)
    if not recipients or not all(_MAILBOX.fullmatch(a) for a in recipients):
        raise SettingsError("MIMAMORI_SMTP_TO", "the operator's e-mail addresses, comma-separated")
    user = (env.get("MIMAMORI_SMTP_USER") or "").strip() or None
    password = env.get("MIMAMORI_SMTP_PASSWORD") or None
    if bool(user) != bool(password):
        raise SettingsError("MIMAMORI_SMTP_USER", "set with MIMAMORI_SMTP_PASSWORD, or neither")
    if user and security == PLAIN and host not in ("127.0.0.1", "localhost", "::1"):
        raise SettingsError(
            "MIMAMORI_SMTP_TLS", "off would send the SMTP password in clear: use starttls or tls"
        )
    return MailSettings(
        host=host,
        port=_port(env, "MIMAMORI_SMTP_PORT", _SMTP_PORTS[security]),
        sender=sender,
        recipients=recipients,
        security=security,
        user=user,
        password=password,
    )


def _twilio(env: Mapping[str, str]) -> dict[str, Any]:
    names = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM")
    values = [(env.get(name) or "").strip() for name in names]
    if not any(values):
        return {}
    for name, value in zip(names, values, strict=True):
        if not value:
            raise SettingsError(name, "set with the other TWILIO_ settings, or none of them")
    if not E164.fullmatch(values[2]):
        raise SettingsError("TWILIO_FROM", f"expected a number such as +815012345678: {values[2]}")
    return {
        "twilio_account_sid": values[0],
        "twilio_auth_token": values[1],
        "twilio_from": values[2],
        "twilio_api_base_url": _url(env, "TWILIO_API_BASE_URL", TWILIO_API_DEFAULT),
        "call_budget": _budget(env, "MIMAMORI_CALL_BUDGET", 100),
        "call_patience": _duration(env, "MIMAMORI_CALL_PATIENCE", "10m"),
        "call_countries": _country_codes(env, "MIMAMORI_CALL_COUNTRIES", "81"),
        "call_number_daily": _small(env, "MIMAMORI_CALL_NUMBER_DAILY", 4, 20),
        "rollcall_call_again": _duration(env, "MIMAMORI_ROLLCALL_CALL_AGAIN", "30m"),
    }


def _country_codes(env: Mapping[str, str], name: str, default: str) -> frozenset[str]:
    """Country calling codes, comma-separated, with or without their +: `81`, `+81,+1`."""
    text = (env.get(name) or "").strip() or default
    codes = frozenset(c.strip().removeprefix("+") for c in text.split(",") if c.strip())
    if not codes or any(not re.fullmatch(r"[1-9][0-9]{0,2}", code) for code in codes):
        raise SettingsError(name, f"expected country codes such as 81 or +81,+1, got {text!r}")
    return codes


def _small(env: Mapping[str, str], name: str, default: int, most: int) -> int:
    text = (env.get(name) or "").strip()
    if not text:
        return default
    if not text.isdigit() or not 1 <= int(text) <= most:
        raise SettingsError(name, f"expected a whole number 1-{most}, got {text!r}")
    return int(text)


def _feed_url(env: Mapping[str, str], name: str, default: str) -> str:
    """The JMA feed: over https (http only for a stand-in on loopback, as the tests and the
    simulator run one); its documents are fetched only from the same host."""
    url = _url(env, name, default)
    parts = urlsplit(url)
    if parts.scheme != "https" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SettingsError(name, f"expected an https URL: {url}")
    return url


def _networks(
    env: Mapping[str, str], name: str, default: str
) -> tuple[IPv4Network | IPv6Network, ...]:
    text = env.get(name)
    text = default if text is None else text
    try:
        return tuple(ip_network(n.strip()) for n in text.split(",") if n.strip())
    except ValueError as error:
        raise SettingsError(name, f"expected networks such as 10.0.0.0/8: {error}") from None


def _heat(
    env: Mapping[str, str], resend_after: timedelta, alert_after: timedelta
) -> dict[str, Any]:
    """The heat alert feed's settings (MIMAMORI_HEAT_*). The heat ladder's waits are an hour
    each unless set, or the regular wait where that is shorter (Settings refuses a heat wait
    set longer than the regular one)."""
    areas = _codes(env, "MIMAMORI_HEAT_AREAS")
    unknown = sorted(areas - HEAT_AREA_CODES)
    if unknown:
        raise SettingsError(
            "MIMAMORI_HEAT_AREAS",
            f"not a 府県予報区 code: {', '.join(unknown)} (JMA's six digits, 130000 for 東京都)",
        )
    hosts = frozenset(
        h.strip().lower()
        for h in (env.get("MIMAMORI_HEAT_HOSTS") or HEAT_HOSTS_DEFAULT).split(",")
        if h.strip()
    )
    points = tuple(
        p.strip() for p in (env.get("MIMAMORI_HEAT_POINTS") or "").split(",") if p.strip()
    )
    if any(not p.isdigit() for p in points):
        raise SettingsError("MIMAMORI_HEAT_POINTS", "expected observation point numbers (digits)")
    hour = (env.get("MIMAMORI_HEAT_CHECK_HOUR") or "10").strip()
    if not hour.isdigit() or not 5 <= int(hour) <= 20:
        raise SettingsError("MIMAMORI_HEAT_CHECK_HOUR", f"expected an hour 5-20, got {hour!r}")
    found: dict[str, Any] = {
        "heat_areas": areas,
        "heat_alert_base": _heat_url(
            "MIMAMORI_HEAT_ALERT_BASE",
            (env.get("MIMAMORI_HEAT_ALERT_BASE") or "").strip() or HEAT_ALERT_BASE_DEFAULT,
            hosts,
        ),
        "heat_wbgt_url": _heat_url(
            "MIMAMORI_HEAT_WBGT_URL",
            (env.get("MIMAMORI_HEAT_WBGT_URL") or "").strip() or HEAT_WBGT_DEFAULT,
            hosts,
        ),
        "heat_points": points,
        "heat_hosts": hosts,
        "heat_interval": _duration(env, "MIMAMORI_HEAT_INTERVAL", "10m"),
        "heat_check_hour": int(hour),
        "heat_resend_after": _heat_wait(env, "MIMAMORI_HEAT_RESEND_AFTER", resend_after),
        "heat_alert_after": _heat_wait(env, "MIMAMORI_HEAT_ALERT_AFTER", alert_after),
        "heat_drills": _switch(env, "MIMAMORI_HEAT_DRILLS"),
    }
    return found


def _heat_url(name: str, url: str, hosts: frozenset[str]) -> str:
    """A heat feed's URL: https (http only on loopback), on one of MIMAMORI_HEAT_HOSTS."""
    parts = urlsplit(url)
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise SettingsError(name, f"expected an https URL: {url}")
    if not loopback and (parts.hostname or "").lower() not in hosts:
        raise SettingsError(name, f"{parts.hostname} is not in MIMAMORI_HEAT_HOSTS")
    return url


def _codes(env: Mapping[str, str], name: str) -> frozenset[str]:
    """Comma-separated JMA area, city or prefecture codes (350, 2712700, 13)."""
    codes = frozenset(c.strip() for c in (env.get(name) or "").split(",") if c.strip())
    if any(not code.isdigit() for code in codes):
        raise SettingsError(name, "expected JMA area codes (digits), comma-separated")
    return codes


def _municipalities(env: Mapping[str, str], name: str) -> frozenset[str]:
    """Comma-separated codes of the areas JMA's warnings are issued for (二次細分区域): seven
    digits, a municipality's code followed by 00 (千代田区 1310100), or another last pair
    where JMA splits a city (the codes' list: AreaInformationCity)."""
    codes = frozenset(c.strip() for c in (env.get(name) or "").split(",") if c.strip())
    wrong = sorted(c for c in codes if len(c) != 7 or not c.isdigit())
    if wrong:
        raise SettingsError(
            name,
            "expected municipality codes of seven digits, such as 1310100 (千代田区),"
            f" comma-separated; not {', '.join(wrong)}",
        )
    return codes


def _warning_levels(env: Mapping[str, str], name: str, default: str) -> frozenset[int]:
    """The 警戒レベル that start a roll-call: some of 2, 3, 4 and 5 (レベル4 or 4 alike)."""
    text = env.get(name)
    text = default if text is None or not text.strip() else text
    words = [w.strip().removeprefix("レベル").translate(_WIDE) for w in text.split(",")]
    wrong = [w for w in words if w not in ("2", "3", "4", "5")]
    if wrong or not words:
        raise SettingsError(
            name, f"expected warning levels 2 to 5, such as 4,5; not {', '.join(wrong)}"
        )
    return frozenset(int(w) for w in words)


def _intensity(env: Mapping[str, str], name: str, default: str) -> str:
    value = (env.get(name) or default).strip().removeprefix("震度")
    if value not in _INTENSITIES:
        raise SettingsError(name, f"expected a seismic intensity such as 5- or 5弱, got {value!r}")
    return _INTENSITIES[value]


_WIDE = str.maketrans("０１２３４５６７８９", "0123456789")


def parse_duration(text: str) -> timedelta:
    """`90`, `90s`, `15m`, `3h`, `1d` -> timedelta; anything else raises ValueError."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"expected seconds or a value like 90s, 15m, 3h, 1d, got {text!r}")
    amount, unit = match.groups()
    seconds = int(amount) * _UNIT_SECONDS[unit]
    if seconds <= 0:
        raise ValueError("must be longer than zero")
    return timedelta(seconds=seconds)


def read_dotenv(path: Path) -> dict[str, str]:
    """KEY=VALUE lines; `#` comments, blank lines, `export ` and quotes allowed."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def _required(env: Mapping[str, str], name: str) -> str:
    value = (env.get(name) or "").strip()
    if not value:
        raise SettingsError(name, "is required but not set")
    return value


def _heat_wait(env: Mapping[str, str], name: str, regular: timedelta) -> timedelta:
    if (env.get(name) or "").strip():
        return _duration(env, name, "")
    return min(HEAT_WAIT_DEFAULT, regular)


def _said(wait: timedelta) -> str:
    """A wait as the settings write it (90m, 3h, 45s)."""
    seconds = int(wait.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _duration(env: Mapping[str, str], name: str, default: str) -> timedelta:
    try:
        return parse_duration(env.get(name) or default)
    except ValueError as error:
        raise SettingsError(name, str(error)) from None


def _optional_duration(env: Mapping[str, str], name: str, default: str = "") -> timedelta | None:
    """A duration, or None when `off` (or unset, with no default)."""
    text = (env.get(name) or default).strip()
    if not text or text.lower() == "off":
        return None
    return _duration(env, name, text)


_LINK_LOCAL = (ip_network("169.254.0.0/16"), ip_network("fe80::/10"))


def _forward_url(env: Mapping[str, str], name: str) -> str | None:
    """The city's system mimamori forwards to: what it is sent holds residents' words and is
    signed with the channel secret, so over https (http only to loopback: a stand-in, or a
    proxy on the same machine), and never to a link-local host (169.254.0.0/16, fe80::/10:
    a cloud's metadata service, not a city's system)."""
    url = _optional_url(env, name)
    if url is None:
        return None
    parts = urlsplit(url)
    host = (parts.hostname or "").rstrip(".")
    address = _address(host)
    if address is not None and any(address in network for network in _LINK_LOCAL):
        raise SettingsError(name, f"a link-local address is not the city's system: {url}")
    loopback = host == "localhost" or (address is not None and address.is_loopback)
    if parts.scheme != "https" and not loopback:
        raise SettingsError(
            name, f"expected an https URL (http only to 127.0.0.1, ::1 or localhost): {url}"
        )
    return url


def _address(host: str) -> IPv4Address | IPv6Address | None:
    """The IP address a URL's host is written as, if it is one: IPv4-mapped IPv6 as the IPv4
    address, and IPv4 in the forms the resolver also takes (2852039166, 0xa9.0xfe.0.1)."""
    try:
        address = ip_address(host)
    except ValueError:
        if not host or not re.fullmatch(r"[0-9a-fx.]+", host):
            return None
        try:
            return IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


MENU_STYLES = ("own", "tab", "none")
ALIAS = re.compile(r"^[A-Za-z0-9_-]{1,32}$")  # LINE's rich menu alias id


def _account(env: Mapping[str, str]) -> dict[str, Any]:
    """The account: mimamori's own, or the city's shared one (and then, what of its menus)."""
    forward_url = _forward_url(env, "MIMAMORI_FORWARD_URL")
    shared = _switch(env, "MIMAMORI_SHARED_ACCOUNT") or forward_url is not None
    menus = (env.get("MIMAMORI_MENUS") or ("none" if shared else "own")).strip().lower()
    if menus not in MENU_STYLES:
        raise SettingsError("MIMAMORI_MENUS", f"one of {', '.join(MENU_STYLES)}, got {menus!r}")
    if shared and menus == "own":
        raise SettingsError(
            "MIMAMORI_MENUS", "on a shared account the city's menu stays: use tab or none"
        )
    alias = (env.get("MIMAMORI_CITY_MENU_ALIAS") or "").strip() or None
    if alias is not None and not ALIAS.match(alias):
        raise SettingsError("MIMAMORI_CITY_MENU_ALIAS", "1-32 letters, digits, - or _")
    if menus == "tab" and alias is None:
        raise SettingsError(
            "MIMAMORI_CITY_MENU_ALIAS", "the tab needs the alias of the city's menu to go back to"
        )
    plan = (env.get("MIMAMORI_MESSAGE_PLAN") or "metered").strip().lower()
    if plan not in ("metered", "unlimited"):
        raise SettingsError("MIMAMORI_MESSAGE_PLAN", f"metered or unlimited, got {plan!r}")
    return {
        "shared_account": shared,
        "forward_url": forward_url,
        "menus": menus,
        "city_menu_alias": alias,
        "unlimited_messages": plan == "unlimited",
    }


def _switch(env: Mapping[str, str], name: str) -> bool:
    raw = (env.get(name) or "off").strip().lower()
    if raw not in ("on", "off", "1", "0", "true", "false"):
        raise SettingsError(name, "must be on or off")
    return raw in ("on", "1", "true")


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(name)
    if not text:
        return default
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise SettingsError(name, f"expected a port number 1-65535, got {text!r}")
    return int(text)


def _budget(env: Mapping[str, str], name: str, default: int) -> int:
    text = (env.get(name) or "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) > 1_000_000:
        raise SettingsError(name, f"expected a whole number of calls a month, got {text!r}")
    return int(text)


def _count(env: Mapping[str, str], name: str, default: int) -> int:
    text = (env.get(name) or "").strip()
    if not text:
        return default
    if not text.isdigit() or not 1 <= int(text) <= 100:
        raise SettingsError(name, f"expected a whole number 1-100, got {text!r}")
    return int(text)


def _per_minute(env: Mapping[str, str], name: str, default: int) -> int:
    text = (env.get(name) or "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) > 100_000:
        raise SettingsError(name, f"expected requests a minute, 0-100000 (0: no limit): {text!r}")
    return int(text)


def _timezone(env: Mapping[str, str], name: str, default: str) -> ZoneInfo:
    text = env.get(name) or default
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise SettingsError(name, f"unknown time zone {text!r}") from None


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    return _optional_url(env, name) or default


def _optional_url(env: Mapping[str, str], name: str) -> str | None:
    text = (env.get(name) or "").strip()
    if not text:
        return None
    if not re.match(r"^https?://[^/\s]+", text):
        raise SettingsError(name, f"expected an http(s) URL, got {text!r}")
    # The SDK's Configuration breaks on a trailing slash.
    return text.rstrip("/")


def _optional_digits(env: Mapping[str, str], name: str) -> str | None:
    text = (env.get(name) or "").strip()
    if text and not text.isdigit():
        raise SettingsError(name, f"expected the channel id (digits), got {text!r}")
    return text or None


def _optional_dir(env: Mapping[str, str], name: str) -> Path | None:
    text = (env.get(name) or "").strip()
    if not text:
        return None
    path = Path(text)
    if not path.is_dir():
        raise SettingsError(name, f"{text!r} is not a directory")
    return path


def database_setting(value: str | None) -> Path | str:
    """MIMAMORI_DATABASE: a postgresql:// URL as it is, anything else a SQLite file."""
    value = (value or "").strip() or "./mimamori.db"
    if value.startswith(("postgresql://", "postgres://")):
        return value
    return Path(value)
