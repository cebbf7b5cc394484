"""Consent to share: a manager who joins sees the user's optional personal fields only after
the user agrees with one tap. Alerts do not wait for it: safety first, details by consent."""

from __future__ import annotations

import unicodedata

from care.errors import Refusal, Refused
from care.rounds.notify import display_name, push_to
from care.services import Services, UnitOfWork
from ground.i18n import Locale
from ground.telling import Choice, Link, Telling
from storage.models import Member, Role, Team


async def ask_users(work: UnitOfWork, team: Team, manager: Member) -> int:
    """Each user of the team is asked, in the chat, whether the new manager may see their
    氏名, 電話番号 and 生年月日. -> how many were asked."""
    asked = 0
    for user in await work.repos.teams.members_of(team.id, Role.USER):
        if user.id == manager.id or not user.active:
            continue
        if await work.repos.teams.shares_personal(user.id, manager.id):
            continue
        locale = work.locale(user.language)
        name = display_name(locale, manager)
        allow_choice = Choice(
            "share_personal",
            locale.t("sharing.allow"),
            work.services.postbacks.encode("share_personal", m=manager.id),
        )
        card = Telling.card(
            locale.language,
            locale.t("sharing.title"),
            locale.t("sharing.ask", name=name, team=team.name),
            [allow_choice],
        )
        await push_to(work, user, [card], "sharing")
        asked += 1
    return asked


async def allow(work: UnitOfWork, user: Member, manager_id: int | None) -> Member:
    """The user's tap: only for a manager who watches them. -> the manager."""
    manager = await work.repos.members.get(manager_id) if manager_id else None
    if manager is None or not await work.repos.teams.is_manager_of(manager.id, user.id):
        raise Refused(Refusal.NOT_ALLOWED)
    await work.repos.teams.share_personal(user.id, manager.id, work.now)
    return manager


async def set_shown(work: UnitOfWork, user: Member, manager_id: int | None, shown: bool) -> Member:
    """My page's 「見せる」/「見せない」 next to a manager who watches her: she takes her details
    back from him (or shows them again) without taking him off watching her, so alerts still
    reach him. Each change is in the audit log (who sees her details is hers to prove).
    -> the manager."""
    manager = await work.repos.members.get(manager_id) if manager_id else None
    if manager is None or not await work.repos.teams.is_manager_of(manager.id, user.id):
        raise Refused(Refusal.NOT_ALLOWED)
    if shown:
        await work.repos.teams.share_personal(user.id, manager.id, work.now)
    else:
        await work.repos.teams.unshare_personal(user.id, manager.id)
    await work.repos.admin.audit(
        f"会員ID {user.id}",
        "details_shown" if shown else "details_unshown",
        f"会員ID {user.id} → 会員ID {manager.id}",
        work.now,
    )
    return manager


async def may_see_personal(work: UnitOfWork, viewer: Member, member: Member) -> bool:
    return viewer.id == member.id or await work.repos.teams.shares_personal(member.id, viewer.id)


async def shown_to(work: UnitOfWork, user: Member) -> set[int]:
    """The managers watching `user` who may see their phone number and 緊急時メモ."""
    return {
        manager.id
        for manager in await work.repos.teams.managers_watching(user.id)
        if await work.repos.teams.shares_personal(user.id, manager.id)
    }


async def shown_to_the_desk(
    work: UnitOfWork, user: Member, managers: list[Member] | None = None
) -> bool:
    """The desk, and a partner it sends, see what the person shows to at least one of their
    managers (the same 「見せる」), nothing otherwise. `managers`: those watching the person,
    when already read."""
    if managers is None:
        managers = await work.repos.teams.managers_watching(user.id)
    for manager in managers:
        if await work.repos.teams.shares_personal(user.id, manager.id):
            return True
    return False


def call_link(person: Member, shown: bool) -> str | None:
    """The tel: link to the person, for someone she shows her number to; None otherwise."""
    return tel_uri(person.personal.phone) if shown else None


# --- her details in the chat, or on her card (issue 38) -----------------------------------


def in_chat(services: Services) -> bool:
    """Her phone number, address and 緊急時メモ go in the LINE messages themselves: only where
    the deployment says so (MIMAMORI_DETAILS_IN_CHAT, a family's own bot). Otherwise the
    messages carry a button to her card (care.members.cards), and nothing of them."""
    return services.settings.details_in_chat


def card_url(services: Services, person: Member) -> str | None:
    """Her card on My page, opened inside LINE (None where the deployment has no My page)."""
    base = services.my_page_url
    return f"{base}/card/{person.id}" if base else None


def card_link(locale: Locale, services: Services, person: Member) -> Link | None:
    """The button to her card: every message that would have carried her details has it."""
    url = card_url(services, person)
    return Link(locale.t("card.button"), url) if url else None


def chat_call_link(services: Services, person: Member, shown: bool) -> str | None:
    """The tel: link a message may carry: only where her details go in the chat (a tel: link
    is her number as much as the text is); else the call button is on her card."""
    return call_link(person, shown) if in_chat(services) else None


def tel_uri(phone: str) -> str | None:
    """A phone number as the person wrote it (090-1234-5678, ＋81 90…) as a tel: link a phone
    dials with one tap; None when there is nothing to dial."""
    digits = unicodedata.normalize("NFKC", phone).strip()
    plus = digits.startswith("+")
    digits = "".join(ch for ch in digits if ch.isdigit())
    if len(digits) < 3:
        return None
    return f"tel:{'+' if plus else ''}{digits}"
