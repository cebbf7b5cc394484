"""What the service is doing, for Prometheus: counted where it happens, or read from the
database when scraped (the database is the truth; a restart does not zero an open alert)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# A batch of webhook events is handled in milliseconds; a wave's sweep can take seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class Metrics:
    """One registry per app, so that two apps in one process (tests) do not share counts."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.events = Counter(
            "mimamori_webhook_events",
            "Webhook events handled, by type and outcome",
            ["type", "outcome"],
            registry=r,
        )
        self.handling = Histogram(
            "mimamori_webhook_batch_seconds",
            "Time to handle one batch of stored webhook events",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.sent = Counter(
            "mimamori_line_messages",
            "Outbox rows handed to LINE, by purpose and LINE's answer",
            ["purpose", "answer"],
            registry=r,
        )
        self.forwarded = Counter(
            "mimamori_forwarded_events",
            "Events forwarded to the city's system on a shared account (taken, failed tries,"
            " given_up after a day)",
            ["outcome"],
            registry=r,
        )
        self.replies = Counter(
            "mimamori_line_replies",
            "Replies tried (each try, retries included), by LINE's answer",
            ["answer"],
            registry=r,
        )
        self.calls = Counter(
            "mimamori_calls",
            "Calls before the alert: placed, unanswered, each key, over_budget (not placed)",
            ["outcome"],
            registry=r,
        )
        self.purged = Counter(
            "mimamori_purged_rows",
            "Rows the daily purge deleted (or emptied: quoted words, message bodies) past their"
            " retention, by kind (care/privacy/retention.py)",
            ["kind"],
            registry=r,
        )
        self.lookups_failed = Counter(
            "mimamori_line_lookups_failed",
            "Look-ups that only decorate a reply (bot_info, profile, group_name, member_name,"
            " member_count, quota) that LINE refused or answered with what did not parse; the"
            " reply went without them",
            ["lookup"],
            registry=r,
        )
        self.pings = Counter(
            "mimamori_device_pings",
            "Device signs of life: taken, answered (a check-in), too_often, refused",
            ["outcome"],
            registry=r,
        )
        self.sweep = Histogram(
            "mimamori_sweep_seconds",
            "Time of one scheduler sweep (plan what is due, send the outbox)",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        # Read from the database at each scrape.
        self.outbox_pending = Gauge(
            "mimamori_outbox_pending", "Outbox rows not yet accepted by LINE", registry=r
        )
        self.outbox_oldest = Gauge(
            "mimamori_outbox_oldest_pending_seconds",
            "Age of the oldest outbox row not yet accepted by LINE (0 when none)",
            registry=r,
        )
        self.events_waiting = Gauge(
            "mimamori_webhook_events_waiting",
            "Webhook events stored and not yet handled",
            registry=r,
        )
        self.events_oldest_waiting = Gauge(
            "mimamori_webhook_events_oldest_waiting_seconds",
            "Age of the oldest webhook event stored and not yet handled (0 when none)",
            registry=r,
        )
        self.events_set_aside = Gauge(
            "mimamori_webhook_events_set_aside",
            "Webhook events that failed their tries and were set aside: a person's tap or words"
            " not acted on, until 再処理 on the console",
            registry=r,
        )
        self.alarms = Gauge(
            "mimamori_service_alarm",
            "1 while a cause keeps the service from its work (LINE refusing the token or the"
            " month's messages, the sweeps behind), else 0",
            ["cause"],
            registry=r,
        )
        self.forwards_waiting = Gauge(
            "mimamori_forwards_waiting",
            "Events for the city's system not yet taken by it (shared account, in front)",
            registry=r,
        )
        self.forwards_oldest_waiting = Gauge(
            "mimamori_forwards_oldest_waiting_seconds",
            "Age of the oldest event the city's system has not yet taken (0 when none)",
            registry=r,
        )
        self.forwards_given_up = Gauge(
            "mimamori_forwards_given_up",
            "Events for the city's system given up on after a day (kept 7 days)",
            registry=r,
        )
        self.outbox_failed = Gauge(
            "mimamori_outbox_failed", "Outbox rows LINE refused for good", registry=r
        )
        self.rounds = Gauge(
            "mimamori_checkin_rounds",
            "Check-in rounds by state (opened, re-sent, alerted, answered...)",
            ["state"],
            registry=r,
        )
        self.round_steps = Gauge(
            "mimamori_checkin_round_steps",
            "Check-in rounds ever opened, re-sent, alerted and answered (from the database)",
            ["step"],
            registry=r,
        )
        self.open_alerts = Gauge(
            "mimamori_open_alerts", "Alerts sent and not yet closed by a manager", registry=r
        )
        self.oldest_alert = Gauge(
            "mimamori_oldest_open_alert_seconds",
            "Age of the oldest alert not yet closed (0 when none)",
            registry=r,
        )
        self.quota_used = Gauge(
            "mimamori_quota_used_month",
            "Messages counted against this month's quota (multicast counts per recipient)",
            registry=r,
        )
