"""Notices (防災・避難情報, 重要告知) from the city: who they reach and what they cost in quota."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta

from care.broadcasts import budget
from care.broadcasts.reach import (
    BLOCKED,
    NO_CHANNEL,
    PHONE_ONLY,
    UNREACHED,
    GroupSizes,
    Reach,
    way_of,
)
from care.rounds.notify import address_of
from care.services import Services, UnitOfWork
from ground.channels import LINE, VOICE
from ground.telling import Telling
from storage.repositories import Repositories

AUDIENCES = ("everyone", "teams", "groups", "person")
TEXT_LIMIT = 5000
BROADCASTS_PER_HOUR = 60


@dataclass(frozen=True)
class Audience:
    kind: str
    team_ids: tuple[int, ...] = ()
    group_ids: tuple[int, ...] = ()
    member_id: int | None = None

    def detail(self) -> dict[str, object]:
        return {
            "teams": list(self.team_ids),
            "groups": list(self.group_ids),
            "member": self.member_id,
        }

    def described(self) -> str:
        """As the audit log records it: the kind and what it names."""
        return f"{self.kind} {json.dumps(self.detail())}"


@dataclass
class NoticePlan:
    """What sending would do: the requests to LINE and the messages counted against quota,
    and how it reaches the people it names (`reach`: in LINE, or not at all, and why)."""

    audience: Audience
    recipients: int = 0
    # (kind, channel, to): everyone and groups through LINE, people through their channel
    sends: list[tuple[str, str, list[str]]] = field(default_factory=list)
    problem: str | None = None
    reach: Reach = field(default_factory=Reach)


# What a notice is, for the channels' sake: words and nothing to choose (a call cannot say it).
NOTICE_FORM = (Telling.sentence("ja", ""),)


async def plan_notice(
    work: UnitOfWork, audience: Audience, sizes: GroupSizes | None = None
) -> NoticePlan:
    """Who a notice reaches and what it costs, before anything is sent. `sizes`: the groups'
    member counts, asked of LINE before the unit of work (`care.broadcasts.reach.group_sizes`)."""
    repos, sizes = work.repos, sizes or {}
    plan = NoticePlan(audience)
    if audience.kind == "everyone":
        # LINE counts every friend of the account; the bot knows those who are still friends.
        # Those watched by phone alone are none, and a notice is not read on a call.
        everyone = await repos.stats.everyone()
        plan.reach.reached[LINE] = everyone["line"]
        calls = VOICE in work.services.channels
        plan.reach.unreached.update(
            {
                PHONE_ONLY if calls else NO_CHANNEL: everyone["phone_only"],
                BLOCKED: everyone["blocked"],
            }
        )
        plan.recipients = everyone["line"]
        plan.sends = [("broadcast", LINE, [])] if everyone["line"] else []
    elif audience.kind == "teams":
        by_channel = await _team_members(work.services, repos, audience.team_ids, plan.reach)
        plan.recipients = sum(len(addresses) for addresses in by_channel.values())
        for channel, addresses in by_channel.items():
            batch = work.services.channels[channel].batch_limit
            for start in range(0, len(addresses), batch):
                chunk = addresses[start : start + batch]
                plan.sends.append(("multicast" if len(chunk) > 1 else "push", channel, chunk))
    elif audience.kind == "groups":
        for group_id in audience.group_ids:
            group = await repos.groups.get(group_id)
            if group is None or not group.active:
                continue
            # A push to a group counts once per member: as LINE counted them beforehand.
            count = sizes.get(group.id)
            members = count if count is not None else len(await repos.groups.members(group_id))
            plan.recipients += members
            plan.reach.in_groups += members
            plan.sends.append(("push", LINE, [group.line_chat_id]))
    elif audience.kind == "person" and audience.member_id is not None:
        member = await repos.members.get(audience.member_id)
        if member is not None and not await repos.members.has_withdrawn(member.id):
            way = way_of(work.services, member, NOTICE_FORM)
            plan.reach.count(way)
            if way not in UNREACHED:
                plan.recipients = 1
                channel, address = address_of(work.services, member)
                plan.sends = [("push", channel, [address])]
    if not plan.sends:
        plan.problem = "nobody"
    return plan


async def _team_members(
    services: Services, repos: Repositories, team_ids: tuple[int, ...], reach: Reach
) -> dict[str, list[str]]:
    """Each channel's addresses of the teams' members, everyone once; `reach` counts each
    person by the way the notice reaches her, or why it does not."""
    seen: dict[str, dict[str, None]] = {}
    counted: set[int] = set()
    for team_id in team_ids:
        for member in await repos.teams.members_of(team_id):
            if member.id in counted:
                continue
            counted.add(member.id)
            way = way_of(services, member, NOTICE_FORM)
            reach.count(way)
            if way in UNREACHED:
                continue  # blocked, or by phone alone: a notice is not a call
            channel, address = address_of(services, member)
            seen.setdefault(channel, {}).setdefault(address, None)
    return {channel: list(addresses) for channel, addresses in seen.items()}


async def record_notice(
    work: UnitOfWork, plan: NoticePlan, text: str, admin_name: str, quota_left: int | None
) -> int | str:
    """Write the notice and its messages into the outbox, audited with its cost; or say why it
    cannot go (nobody, LINE's broadcast limit; Refused when the quota cannot cover it)."""
    repos, now = work.repos, work.now
    if plan.problem:
        return plan.problem
    broadcasts = sum(1 for kind, _, _ in plan.sends if kind == "broadcast")
    if broadcasts and await repos.admin.broadcasts_since(now - timedelta(hours=1)) >= (
        BROADCASTS_PER_HOUR - broadcasts + 1
    ):
        return "broadcast_limit"
    detail = f"{plan.audience.described()}, {len(plan.sends)} requests"
    await budget.spend(
        work, budget.Spend("notice_sent", admin_name, "", plan.recipients, detail), quota_left
    )
    notice_id = await repos.admin.add_notice(
        admin_name,
        text,
        plan.audience.kind,
        # How it reached them, kept with it: the sent notices say it as the preview did.
        {**plan.audience.detail(), "reach": plan.reach.to_json()},
        plan.recipients,
        len(plan.sends),
        now,
    )
    # The staff write one text for everyone, in the service's language.
    telling = Telling.sentence(work.locale(None).language, text)
    for kind, channel, to in plan.sends:
        await repos.outbox.add(
            kind=kind,
            channel=channel,
            recipients=to,
            tellings=[telling],
            purpose="notice",
            now=now,
            notice_id=notice_id,
        )
    return notice_id
