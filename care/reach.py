"""How many people a push to a group reaches (LINE counts every member against the quota), asked
of LINE before any unit of work opens: a roll-call to every group of the city, or a notice,
never holds the database's writer while LINE answers. One helper for notices and roll-calls."""

from __future__ import annotations

from collections.abc import Iterable

from care.services import Services

GroupSizes = dict[int, int]  # group id -> members LINE says it has (absent: LINE did not say)


async def group_sizes(services: Services, group_ids: Iterable[int] | None = None) -> GroupSizes:
    """LINE's member count of each group named (None: every active group)."""
    async with services.repositories() as repos:
        if group_ids is None:
            group_ids = [group["id"] for group in await repos.stats.groups()]
        groups = [await repos.groups.get(group_id) for group_id in group_ids]
    sizes: GroupSizes = {}
    for group in groups:
        if group is None or not group.active:
            continue
        count = await services.line.chat_member_count(group.chat_type, group.line_chat_id)
        if count is not None:
            sizes[group.id] = count
    return sizes
