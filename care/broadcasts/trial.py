"""テスト送信: try the whole path once, safely.

The person gets a check-in marked as a test, and every manager watching them gets its alert,
marked as a test: through the outbox and LINE like real ones, but with no round behind them, so
the record of real rounds and the statistics do not change.
"""

from __future__ import annotations

from care.broadcasts import budget
from care.errors import Refusal, Refused
from care.rounds.notify import display_name, notify_managers, push_to
from care.services import UnitOfWork
from ground.i18n import Locale
from ground.telling import Choice, Telling
from storage.models import Member


async def send_test(
    work: UnitOfWork, requester: Member, person: Member, surface: str, quota_left: int | None
) -> int:
    """Send the test for `person` (oneself, or a user of a team the requester manages), a few
    times a day at most and only what the month's quota covers (care.broadcasts.budget).
    -> how many managers get the test alert."""
    if requester.id != person.id and not await work.repos.teams.is_manager_of(
        requester.id, person.id
    ):
        raise Refused(Refusal.NOT_ALLOWED)
    managers = await work.repos.teams.managers_watching(person.id)
    await budget.spend(
        work,
        budget.Spend(
            "test_sent",
            f"会員ID {requester.id}",
            f"member:{person.id}",
            1 + len(managers),
            f"{surface}: test of 会員ID {person.id}",
        ),
        quota_left,
    )
    services = work.services
    locale = work.locale(person.language)
    today = work.now.astimezone(services.timezone).date()
    ok = Choice("ok", locale.t("checkin.ok_button"), services.postbacks.encode("test_ok"))
    checkin = Telling.checkin(
        locale.language,
        locale.t("test.checkin_title"),
        locale.quote_of_the_day(today),
        locale.t("test.instruction"),
        [ok],
    )
    await push_to(work, person, [checkin], "test_checkin")

    def build(manager_locale: Locale, manager: Member) -> list[Telling]:
        # No 緊急時メモ in a test: it goes out only inside a real alert.
        body = manager_locale.t(
            "test.alert_body", name=display_name(manager_locale, person), member_id=person.id
        )
        title = manager_locale.t("test.alert_title")
        return [Telling.card(manager_locale.language, title, body)]

    return await notify_managers(work, person, "test_alert", build)
