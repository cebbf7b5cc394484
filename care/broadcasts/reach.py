"""How many people a push to a group reaches (LINE counts every member against the quota), asked
of LINE before any unit of work opens: a roll-call to every group of the city, or a notice,
never holds the database's writer while LINE answers. One helper for notices and roll-calls."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from care.services import Services
from storage.models import ChatGroup

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
