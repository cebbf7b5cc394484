"""Teams, their members and their invite codes."""

from __future__ import annotations

from datetime import datetime

from storage.database import Connection, to_db
from storage.models import Invite, Member, Role, Team


class TeamRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    async def create(
        self, name: str, interval_days: int, hour: int, now: datetime, kept: bool = False
    ) -> Team:
        row = await self._conn.fetch_one(
            "INSERT INTO teams (name, default_interval_days, default_hour, created_at,"
            " kept_when_empty) VALUES (?, ?, ?, ?, ?) RETURNING id",
            (name, interval_days, hour, to_db(now), int(kept)),
        )
        assert row is not None
        team = await self.get(row[0])
        assert team is not None
        return team

    async def get(self, team_id: int) -> Team | None:
        row = await self._conn.fetch_one(
            "SELECT * FROM teams WHERE id = ? AND deleted_at IS NULL", (team_id,)
        )
        return Team.from_row(row) if row else None

    async def add_member(self, team_id: int, member_id: int, role: Role, now: datetime) -> None:
        # Joining a team after 退会 is coming back.
        await self._conn.execute(
            "UPDATE members SET withdrawn_at = NULL WHERE id = ?", (member_id,)
        )
        # A user's joining is their consent to be watched; it is recorded with its time.
        consented = to_db(now) if role is Role.USER else None
        await self._conn.execute(
            "INSERT INTO team_members (team_id, member_id, role, joined_at, consented_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (team_id, member_id, role.value, to_db(now), consented),
        )

    async def role_of(self, team_id: int, member_id: int) -> Role | None:
        row = await self._conn.fetch_one(
            "SELECT role FROM team_members WHERE team_id = ? AND member_id = ?",
            (team_id, member_id),
        )
        return Role(row[0]) if row else None

    async def remove_member(self, team_id: int, member_id: int, now: datetime) -> None:
        """Remove a member; a team left empty is deleted and its codes stop working, unless
        the admin made it for an area (it waits for the area's people)."""
        await self._conn.execute(
            "DELETE FROM team_members WHERE team_id = ? AND member_id = ?", (team_id, member_id)
        )
        row = await self._conn.fetch_one(
            "SELECT kept_when_empty, (SELECT COUNT(*) FROM team_members WHERE team_id = teams.id)"
            " FROM teams WHERE id = ?",
            (team_id,),
        )
        if row and not row[0] and row[1] == 0:
            await self._conn.execute(
                "UPDATE teams SET deleted_at = ? WHERE id = ?", (to_db(now), team_id)
            )
            await self.revoke_invites(team_id, None, now)
        await self.forget_ended_shares(member_id)

    async def forget_ended_shares(self, member_id: int) -> None:
        """Her 「見せる」 to a manager holds only while he watches her through some team: once
        he does not (he left or was removed, she left, the team went), it is deleted, and she
        is asked again should he come back (care.members.sharing.ask_users). Per pair, not per
        team: she agreed to show him, and a row with a team would need a migration for no more
        safety (while he watches her she sees him, and the share, on My page and can take it
        back)."""
        await self._conn.execute(
            "DELETE FROM personal_shares WHERE (user_id = ? OR manager_id = ?)"
            " AND NOT EXISTS (SELECT 1 FROM team_members u"
            " JOIN teams t ON t.id = u.team_id AND t.deleted_at IS NULL"
            " JOIN team_members mg ON mg.team_id = u.team_id AND mg.role = 'manager'"
            " WHERE u.member_id = personal_shares.user_id AND u.role = 'user'"
            " AND mg.member_id = personal_shares.manager_id)",
            (member_id, member_id),
        )

    async def teams_of(self, member_id: int) -> list[tuple[Team, Role]]:
        return [
            (Team.from_row(row), Role(row["role"]))
            for row in await self._conn.fetch_all(
                "SELECT t.*, tm.role FROM teams t JOIN team_members tm ON tm.team_id = t.id"
                " WHERE tm.member_id = ? AND t.deleted_at IS NULL ORDER BY t.id",
                (member_id,),
            )
        ]

    async def members_of(self, team_id: int, role: Role | None = None) -> list[Member]:
        sql = (
            "SELECT m.* FROM members m JOIN team_members tm ON tm.member_id = m.id"
            " WHERE tm.team_id = ?"
        )
        params: tuple[object, ...] = (team_id,)
        if role is not None:
            sql += " AND tm.role = ?"
            params = (team_id, role.value)
        return [
            Member.from_row(row)
            for row in await self._conn.fetch_all(sql + " ORDER BY m.id", params)
        ]

    async def managers_watching(self, member_id: int) -> list[Member]:
        """Every manager of every team in which the member is a user (each once)."""
        return [
            Member.from_row(row)
            for row in await self._conn.fetch_all(
                "SELECT DISTINCT m.* FROM team_members u"
                " JOIN teams t ON t.id = u.team_id AND t.deleted_at IS NULL"
                " JOIN team_members mg ON mg.team_id = u.team_id AND mg.role = 'manager'"
                " JOIN members m ON m.id = mg.member_id"
                " WHERE u.member_id = ? AND u.role = 'user' AND m.id != ? AND m.status = 'active'"
                f" AND {_WATCHING.format(user='u.member_id', manager='m.id')}"
                " ORDER BY m.id",
                (member_id, member_id),
            )
        ]

    async def users_watched_by(self, manager_id: int) -> list[Member]:
        """Every user of every team the member manages (each once)."""
        rows = await self._conn.fetch_all(
            "SELECT DISTINCT m.* FROM team_members mg"
            " JOIN teams t ON t.id = mg.team_id AND t.deleted_at IS NULL"
            " JOIN team_members u ON u.team_id = mg.team_id AND u.role = 'user'"
            " JOIN members m ON m.id = u.member_id"
            " WHERE mg.member_id = ? AND mg.role = 'manager' AND m.id != ? AND m.status = 'active'"
            f" AND {_WATCHING.format(user='m.id', manager='mg.member_id')}"
            " ORDER BY m.id",
            (manager_id, manager_id),
        )
        return [Member.from_row(row) for row in rows]

    async def is_manager_of(self, manager_id: int, user_id: int) -> bool:
        return (
            await self._conn.fetch_one(
                "SELECT 1 FROM team_members u JOIN team_members mg ON mg.team_id = u.team_id"
                " JOIN teams t ON t.id = u.team_id AND t.deleted_at IS NULL"
                " WHERE u.member_id = ? AND u.role = 'user' AND mg.member_id = ?"
                " AND mg.role = 'manager'"
                f" AND {_WATCHING.format(user='u.member_id', manager='mg.member_id')} LIMIT 1",
                (user_id, manager_id),
            )
            is not None
        )

    async def share_personal(self, user_id: int, manager_id: int, now: datetime) -> None:
        await self._conn.execute(
            "INSERT INTO personal_shares (user_id, manager_id, granted_at)"
            " VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
            (user_id, manager_id, to_db(now)),
        )

    async def unshare_personal(self, user_id: int, manager_id: int) -> bool:
        """She takes back her 「見せる」 (he still watches her). -> there was one."""
        cursor = await self._conn.execute(
            "DELETE FROM personal_shares WHERE user_id = ? AND manager_id = ?",
            (user_id, manager_id),
        )
        return cursor.rowcount == 1

    async def stop_watching(self, user_id: int, manager_id: int, now: datetime) -> None:
        """The person took this manager off watching them: no alert, card or share any more."""
        await self._conn.execute(
            "INSERT INTO unwatched (user_id, manager_id, at) VALUES (?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (user_id, manager_id, to_db(now)),
        )
        await self._conn.execute(
            "DELETE FROM personal_shares WHERE user_id = ? AND manager_id = ?",
            (user_id, manager_id),
        )

    async def manager_turns(self, member_id: int) -> dict[int, int]:
        """Each manager watching the member (as `managers_watching` finds them), and their
        turn (the earliest, where they manage the member in more than one team)."""
        rows = await self._conn.fetch_all(
            "SELECT m.id, MIN(mg.alert_turn) FROM team_members u"
            " JOIN teams t ON t.id = u.team_id AND t.deleted_at IS NULL"
            " JOIN team_members mg ON mg.team_id = u.team_id AND mg.role = 'manager'"
            " JOIN members m ON m.id = mg.member_id"
            " WHERE u.member_id = ? AND u.role = 'user' AND m.id != ? AND m.status = 'active'"
            f" AND {_WATCHING.format(user='u.member_id', manager='m.id')}"
            " GROUP BY m.id",
            (member_id, member_id),
        )
        return {row[0]: row[1] for row in rows}

    async def turns_in(self, team_id: int) -> dict[int, int]:
        """Each manager of the team and their turn."""
        rows = await self._conn.fetch_all(
            "SELECT member_id, alert_turn FROM team_members"
            " WHERE team_id = ? AND role = 'manager'",
            (team_id,),
        )
        return {row[0]: row[1] for row in rows}

    async def turn_minutes(self, member_id: int) -> int | None:
        """How long each turn lasts in the member's teams (the shortest; None: not set)."""
        row = await self._conn.fetch_one(
            "SELECT MIN(t.turn_minutes) FROM team_members u JOIN teams t ON t.id = u.team_id"
            " WHERE u.member_id = ? AND u.role = 'user' AND t.deleted_at IS NULL",
            (member_id,),
        )
        return row[0] if row else None

    async def set_turn(self, team_id: int, manager_id: int, turn: int) -> bool:
        cursor = await self._conn.execute(
            "UPDATE team_members SET alert_turn = ? WHERE team_id = ? AND member_id = ?"
            " AND role = 'manager'",
            (turn, team_id, manager_id),
        )
        return cursor.rowcount == 1

    async def set_turn_minutes(self, team_id: int, minutes: int | None) -> None:
        await self._conn.execute(
            "UPDATE teams SET turn_minutes = ? WHERE id = ?", (minutes, team_id)
        )

    async def set_desk_watched(self, team_id: int, watched: bool) -> None:
        await self._conn.execute(
            "UPDATE teams SET desk_watched = ? WHERE id = ?", (int(watched), team_id)
        )

    async def desk_watches(self, member_id: int) -> bool:
        """The person is a user of a team the desk watches itself."""
        row = await self._conn.fetch_one(
            "SELECT 1 FROM team_members tm JOIN teams t ON t.id = tm.team_id"
            " WHERE tm.member_id = ? AND tm.role = 'user' AND t.desk_watched = 1"
            " AND t.deleted_at IS NULL",
            (member_id,),
        )
        return row is not None

    async def shown_to_a_manager(self) -> set[int]:
        """Everyone who shows their details (「見せる」) to at least one manager who watches
        them now: what the desk may see of them (care.members.sharing.shown_to_the_desk), for
        many."""
        rows = await self._conn.fetch_all(
            "SELECT DISTINCT u.member_id FROM team_members u"
            " JOIN teams t ON t.id = u.team_id AND t.deleted_at IS NULL"
            " JOIN team_members mg ON mg.team_id = u.team_id AND mg.role = 'manager'"
            " JOIN members m ON m.id = mg.member_id"
            " JOIN personal_shares ps ON ps.user_id = u.member_id AND ps.manager_id = m.id"
            " WHERE u.role = 'user' AND m.id != u.member_id AND m.status = 'active'"
            f" AND {_WATCHING.format(user='u.member_id', manager='m.id')}",
        )
        return {row[0] for row in rows}

    async def shares_personal(self, user_id: int, manager_id: int) -> bool:
        row = await self._conn.fetch_one(
            "SELECT 1 FROM personal_shares WHERE user_id = ? AND manager_id = ?",
            (user_id, manager_id),
        )
        return row is not None

    async def create_invite(self, team_id: int, role: Role, code: str, now: datetime) -> Invite:
        await self._conn.execute(
            "INSERT INTO invite_codes (code, team_id, role, created_at) VALUES (?, ?, ?, ?)",
            (code, team_id, role.value, to_db(now)),
        )
        invite = await self.invite(code)
        assert invite is not None
        return invite

    async def invite(self, code: str) -> Invite | None:
        row = await self._conn.fetch_one("SELECT * FROM invite_codes WHERE code = ?", (code,))
        return Invite.from_row(row) if row else None

    async def active_invite(self, team_id: int, role: Role) -> Invite | None:
        row = await self._conn.fetch_one(
            "SELECT * FROM invite_codes WHERE team_id = ? AND role = ? AND revoked_at IS NULL",
            (team_id, role.value),
        )
        return Invite.from_row(row) if row else None

    async def revoke_invites(self, team_id: int, role: Role | None, now: datetime) -> None:
        sql = "UPDATE invite_codes SET revoked_at = ? WHERE team_id = ? AND revoked_at IS NULL"
        params: tuple[object, ...] = (to_db(now), team_id)
        if role is not None:
            sql += " AND role = ?"
            params = (*params, role.value)
        await self._conn.execute(sql, params)


# A manager watches a user of their team unless the user took them off (table unwatched).
_WATCHING = (
    "NOT EXISTS (SELECT 1 FROM unwatched w WHERE w.user_id = {user} AND w.manager_id = {manager})"
)
