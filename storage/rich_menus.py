"""Rich menus at LINE and who has which one linked."""

from __future__ import annotations

from datetime import datetime

from storage.database import Connection, to_db

# The kind a person's role calls for: the watcher's menu only for someone who watches and is
# not watched (no check-ins of their own, a user in no team); everyone else, someone new
# included, has the resident's.
WANTED = (
    "CASE WHEN m.interval_days IS NULL AND NOT EXISTS (SELECT 1 FROM team_members tm"
    " WHERE tm.member_id = m.id AND tm.role = 'user') AND EXISTS (SELECT 1 FROM team_members tm"
    " WHERE tm.member_id = m.id AND tm.role = 'manager') THEN 'watcher' ELSE 'user' END"
)


class RichMenuRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def installed(self) -> dict[str, str]:
        rows = await self._conn.fetch_all("SELECT kind, rich_menu_id FROM rich_menus")
        return {row[0]: row[1] for row in rows}

    async def replace(self, menus: dict[str, str], now: datetime) -> None:
        """New menus: everyone is linked again by the sweep."""
        await self._conn.execute("DELETE FROM rich_menus")
        await self._conn.executemany(
            "INSERT INTO rich_menus (kind, rich_menu_id, created_at) VALUES (?, ?, ?)",
            [(kind, menu_id, to_db(now)) for kind, menu_id in menus.items()],
        )
        await self._conn.execute("UPDATE members SET rich_menu = NULL")

    async def to_link(self, limit: int) -> list[tuple[int, str, str]]:
        """(member id, LINE user id, kind) of people whose linked menu is not the wanted one."""
        rows = await self._conn.fetch_all(
            "SELECT id, line_user_id, wanted FROM ("
            f" SELECT m.id, m.line_user_id, m.rich_menu, {WANTED} AS wanted FROM members m"
            " WHERE m.status = 'active' AND m.withdrawn_at IS NULL) AS people"
            " WHERE rich_menu IS NULL OR rich_menu != wanted ORDER BY id LIMIT ?",
            (limit,),
        )
        return [(row[0], row[1], row[2]) for row in rows]

    async def linked(self, member_ids: list[int], kind: str) -> None:
        await self._conn.executemany(
            "UPDATE members SET rich_menu = ? WHERE id = ?", [(kind, i) for i in member_ids]
        )
