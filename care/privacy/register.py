"""`mimamori privacy-register`: a draft 個人情報ファイル簿 (個人情報保護法 74条) for the city's
個人情報保護 officer, written from the schema (the tables and their columns, as the migrations
make them) and the settings in force (how long each kind is kept, where data is sent). A draft:
the officer fills in the city's own words (the office, the 条例) before publishing it."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from care.privacy.retention import KINDS
from ground.i18n import Locale
from ground.settings import Settings
from storage import models
from storage.database import SCHEMA_MIGRATIONS, SQLITE, migrations

# Which items are 要配慮個人情報, when storage.models does not say it yet (another part of issue
# 38 adds that marker, SENSITIVE_ITEMS, beside PERSONAL_FIELDS; once it is there it wins):
# the 緊急時メモ asks for かかりつけ医 and お薬 (医師等による診療・調剤, 病歴).
SENSITIVE_HERE = {
    ("members", "emergency_memo"): "病歴、医師等による診療・調剤（かかりつけ医、お薬）",
}


def sensitive_items() -> dict[tuple[str, str], str]:
    marked: dict[tuple[str, str], str] | None = getattr(models, "SENSITIVE_ITEMS", None)
    return marked if marked else SENSITIVE_HERE


@dataclass(frozen=True)
class Held:
    """A table that holds personal data, as the register lists it."""

    table: str
    kept: str  # a Settings field (keep_*, group_retention), or a locale key's last part


# Every table that holds something of a person (a resident, a manager, a partner, staff), in
# the register's order. tests/test_retention.py holds every table of storage.transfer.TABLES to
# be here or in NOT_PERSONAL, so a new table is classified when it is made.
PERSONAL = (
    Held("members", "kept_member"),
    # A team's name is often the family's (「山田家」): personal, and kept after the team goes.
    Held("teams", "kept_team"),
    Held("team_members", "kept_membership"),
    Held("personal_shares", "kept_membership"),
    Held("unwatched", "kept_membership"),
    Held("invite_codes", "kept_membership"),
    Held("checkin_rounds", "keep_rounds"),
    Held("devices", "kept_member"),
    # The index of her names and numbers the list of people searches (SQLite's; PostgreSQL's
    # are indexes of the members table): changed and emptied with her row, by its triggers.
    Held("people_search", "kept_member"),
    Held("staff_requests", "kept_member"),
    Held("call_attempts", "keep_calls"),
    Held("call_verifications", "keep_calls"),
    Held("call_events", "keep_calls"),
    Held("outbox", "keep_message_bodies"),
    Held("webhook_events", "kept_events"),
    Held("forwards", "kept_events"),
    Held("chat_groups", "group_retention"),
    Held("group_members", "group_retention"),
    Held("group_rounds", "keep_rounds"),
    Held("group_answers", "keep_rounds"),
    Held("roll_calls", "keep_rounds"),
    Held("roll_call_people", "keep_rounds"),
    Held("roll_call_groups", "keep_rounds"),
    # 暑い日の確認: her choice or the desk's mark (until changed or 退会), and whom each alert
    # day's check named.
    Held("heat_watch", "kept_member"),
    Held("heat_check_people", "keep_rounds"),
    Held("desk_cases", "keep_cases"),
    Held("desk_steps", "keep_cases"),
    Held("visits", "keep_cases"),
    Held("person_notes", "keep_cases"),
    Held("partners", "kept_partner"),
    Held("partner_teams", "kept_partner"),
    Held("notices", "kept_forever"),
    Held("admins", "kept_staff"),
    Held("admin_sessions", "kept_staff"),
    Held("admin_signins", "kept_staff"),
    Held("admin_recovery_codes", "kept_staff"),
    Held("login_failures", "kept_staff"),
    Held("audit_log", "keep_audit"),
    # The city's 避難行動要支援者名簿 (care.roster): kept while the city lists a person, then
    # MIMAMORI_KEEP_CASES after it stops; a file between preview and commit, an hour.
    Held("roster_people", "kept_roster"),
    Held("roster_imports", "kept_roster_import"),
)
# Tables with nothing of anyone: the service's own workings and counts.
NOT_PERSONAL = frozenset(
    {
        "rich_menus",
        "jma_reports",
        "storm_reports",
        "heat_documents",
        "heat_days",
        "heat_wbgt",
        "service_alarms",
        "monthly_figures",
        "retention_state",
        # Counts an hour (migration 0060): no one's id, name or words; they outlive the rounds
        # as monthly_figures do.
        "round_tally",
        "round_events_tally",
        "round_ok_minutes",
        "line_messages_tally",
        "member_tally",
    }
)


def columns() -> dict[str, list[str]]:
    """Every table's columns, as this code's migrations make them (SQLite's, in memory)."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute(SCHEMA_MIGRATIONS)
        for _, _, sql in migrations(SQLITE):
            conn.executescript(sql)
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {t: [r[1] for r in conn.execute(f"PRAGMA table_info({t})")] for t in tables}
    finally:
        conn.close()


def published(url: str) -> str:
    """The forward URL as the register may print it: scheme and host only. The setting may
    carry credentials (user:password@, a key in the query or path), and the register is a
    document the city publishes."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or ''}"


def days(kept: timedelta) -> int:
    return kept.days


def kept_text(locale: Locale, settings: Settings, held: Held) -> str:
    """How long the table's rows are kept, as configured."""
    if held.kept.startswith("keep_") or held.kept == "group_retention":
        variable = next(
            (kind.variable for kind in KINDS if kind.setting == held.kept),
            "MIMAMORI_GROUP_RETENTION",
        )
        return locale.t(
            f"admin.retention.register.{held.kept}",
            days=days(getattr(settings, held.kept)),
            variable=variable,
        )
    key = f"admin.retention.register.{held.kept}"
    if key not in locale.texts:  # the roster's (issue 41) say it in their own table
        return locale.t(f"admin.register41.retention.{held.kept}", days=days(settings.keep_cases))
    return locale.t(key)


def register(settings: Settings, locale: Locale) -> str:
    """The draft, in Markdown."""
    t = locale.t
    schema = columns()
    marked = sensitive_items()
    lines = [
        f"# {t('admin.retention.register.title')}",
        "",
        t("admin.retention.register.draft"),
        "",
        f"## {t('admin.retention.register.name_heading')}",
        "",
        t("admin.retention.register.name"),
        "",
        f"## {t('admin.retention.register.purpose_heading')}",
        "",
        t("admin.retention.register.purpose"),
        "",
        f"## {t('admin.retention.register.items_heading')}",
        "",
        t("admin.retention.register.items_intro"),
        "",
        "| {} | {} | {} | {} |".format(
            t("admin.retention.register.col_table"),
            t("admin.retention.register.col_items"),
            t("admin.retention.register.col_sensitive"),
            t("admin.retention.register.col_kept"),
        ),
        "|---|---|---|---|",
    ]
    for held in PERSONAL:
        items = []
        for column in schema.get(held.table, []):
            name = f"`{column}`"
            if held.table == "members" and column in models.PERSONAL_FIELDS:
                name += t("admin.retention.register.entered")
            items.append(name)
        sensitive = "; ".join(
            f"`{column}`: {t('admin.retention.register.sensitive_mark')} ({kind})"
            for (table, column), kind in marked.items()
            if table == held.table
        )
        lines.append(
            f"| `{held.table}` | {', '.join(items)} | {sensitive} |"
            f" {kept_text(locale, settings, held)} |"
        )
    lines += [
        "",
        f"## {t('admin.retention.register.scope_heading')}",
        "",
        t("admin.retention.register.scope"),
        "",
        f"## {t('admin.retention.register.collection_heading')}",
        "",
        t("admin.retention.register.collection"),
        "",
        f"## {t('admin.retention.register.recipients_heading')}",
        "",
        f"- {t('admin.retention.register.to_line')}",
    ]
    if settings.calls:
        lines.append(f"- {t('admin.retention.register.to_twilio')}")
    if settings.forward_url:
        city = t("admin.retention.register.to_city", url=published(settings.forward_url))
        lines.append(f"- {city}")
    if settings.smtp is not None:
        lines.append(f"- {t('admin.retention.register.to_mail')}")
    lines += [
        "",
        f"## {t('admin.retention.register.retention_heading')}",
        "",
    ]
    for kind in KINDS:
        lines.append(
            "- "
            + t(
                f"admin.retention.register.kind_{kind.name}",
                days=days(getattr(settings, kind.setting)),
                variable=kind.variable,
            )
        )
    lines += [
        "- " + t("admin.retention.register.kind_events"),
        "- "
        + t(
            "admin.retention.register.kind_groups",
            days=days(settings.group_retention),
            variable="MIMAMORI_GROUP_RETENTION",
        ),
        "- " + t("admin.retention.register.kind_figures"),
        "- "
        + t(
            "admin.register41.retention.kind_roster_removed",
            days=days(settings.keep_cases),
            variable="MIMAMORI_KEEP_CASES",
        ),
        "",
        t("admin.retention.register.purge", hour=settings.purge_hour),
        "",
    ]
    return "\n".join(lines)
