"""How many people a push to a group reaches (LINE counts every member against the quota), asked
of LINE before any unit of work opens: a roll-call to every group of the city, or a notice,
never holds the database's writer while LINE answers. One helper for notices and roll-calls;
and how each reaches the people it names (in LINE, by phone, or not at all, and why)."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from care.rounds.notify import address_of, phone_only
from care.services import Services
from ground.channels import LINE, VOICE, can_say
from ground.telling import Form, Telling
from storage.models import ChatGroup, Member

GroupSizes = dict[int, int]  # group id -> members LINE says it has (absent: LINE did not say)

# Member counts asked at once: LINE takes 2,000 a second of them, and a city's 200 groups at
# 200 ms each are then asked in about 2 s instead of 40 (one after another).
ASKED_TOGETHER = 20


async def group_sizes(services: Services, group_ids: Iterable[int] | None = None) -> GroupSizes:
    """LINE's member count of each group named (None: every active group)."""
    async with services.reading_repositories() as repos:
        if group_ids is None:
            group_ids = [group["id"] for group in await repos.stats.groups()]
        groups = [await repos.groups.get(group_id) for group_id in group_ids]
    asking = asyncio.Semaphore(ASKED_TOGETHER)

    async def size_of(group: ChatGroup) -> int | None:
        async with asking:
            return await services.line.chat_member_count(group.chat_type, group.line_chat_id)

    active = [group for group in groups if group is not None and group.active]
    counts = await asyncio.gather(*(size_of(group) for group in active))
    return {
        group.id: count for group, count in zip(active, counts, strict=True) if count is not None
    }


# Why a person a notice or a roll-call names is not reached by it (issue 40: a preview that
# counts her as reached when nothing is read to her misleads the staff in a disaster).
PHONE_ONLY = "phone_only"  # watched by phone alone, and a call cannot say this kind of message
BLOCKED = "blocked"  # she blocked the account: LINE carries nothing to her
NO_CHANNEL = "no_channel"  # watched by phone alone where this deployment places no calls
# A roll-call rings the phone-only (care.broadcasts.by_phone), but not past the month's call
# budget, nor a number the deployment does not call (abroad, フリーダイヤル...).
CALL_BUDGET = "call_budget"
NUMBER_REFUSED = "number_refused"
UNREACHED = (PHONE_ONLY, BLOCKED, NO_CHANNEL, CALL_BUDGET, NUMBER_REFUSED)


def way_of(services: Services, member: Member, tellings: Sequence[Telling]) -> str:
    """The channel that carries `tellings` to her, or why none does (one of UNREACHED)."""
    if not member.active:
        return BLOCKED
    channel, _ = address_of(services, member)
    if phone_only(member) and channel == LINE:
        return NO_CHANNEL
    # A check-in is asked on a call of its own (care.rounds.calls: checkin_call, heat_call),
    # whose keys answer it as the buttons do: whoever a check-in is for is reached by phone.
    checkin = channel == VOICE and any(t.form is Form.CHECKIN for t in tellings)
    if not can_say(channel, tellings) and not checkin:
        return PHONE_ONLY
    return channel


@dataclass
class Reach:
    """How a notice or a roll-call reaches the people it names: each channel's people, the
    members of LINE groups (as LINE counts them), and those it does not reach, by why."""

    reached: Counter[str] = field(default_factory=Counter)  # channel -> people
    in_groups: int = 0
    unreached: Counter[str] = field(default_factory=Counter)  # reason -> people

    def count(self, way: str) -> None:
        (self.unreached if way in UNREACHED else self.reached)[way] += 1

    @property
    def line(self) -> int:
        return self.reached[LINE]

    @property
    def by_phone(self) -> int:
        return self.reached[VOICE]

    @property
    def other(self) -> int:
        """Reached through a channel besides LINE and calls (a deployment's own gateway)."""
        return sum(n for channel, n in self.reached.items() if channel not in (LINE, VOICE))

    @property
    def not_reached(self) -> int:
        return sum(self.unreached.values())

    def to_json(self) -> dict[str, object]:
        return {
            "reached": dict(self.reached),
            "in_groups": self.in_groups,
            "unreached": dict(self.unreached),
        }

    @classmethod
    def from_json(cls, shaped: object) -> Reach | None:
        """As a sent notice keeps it; None for one sent before reach was kept."""
        if not isinstance(shaped, dict):
            return None
        return cls(
            Counter({str(k): int(v) for k, v in dict(shaped.get("reached", {})).items()}),
            int(shaped.get("in_groups", 0)),
            Counter({str(k): int(v) for k, v in dict(shaped.get("unreached", {})).items()}),
        )
