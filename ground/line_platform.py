"""What the layers above ask of LINE besides sending (the outbox sends through its channel):
the month's quota, a chat's size, the account's basic id, a profile, a reply. Described here,
apart from LINE's client (ground/line_api.py, the SDK's home), so the service layer reads the
platform without importing the client.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from ground.channels import Quota, SendResult


@dataclass(frozen=True)
class Profile:
    user_id: str
    display_name: str
    language: str | None


class LinePlatform(Protocol):
    @property
    def known_basic_id(self) -> str | None:
        """The account's basic id (@...) once asked (None before): invite links."""
        ...

    async def bot_basic_id(self) -> str | None: ...

    async def bot_user_id(self) -> str | None: ...

    async def quota(self) -> Quota | None:
        """The month's message quota and what is used (None: LINE did not answer)."""
        ...

    async def chat_member_count(self, chat_type: str, chat_id: str) -> int | None: ...

    async def profile(self, user_id: str) -> Profile | None: ...

    async def group_name(self, group_id: str) -> str: ...

    async def chat_member_name(self, chat_type: str, chat_id: str, user_id: str) -> str: ...

    async def reply(self, reply_token: str, messages: list[dict[str, Any]]) -> SendResult: ...

    # Rich menus: made once, linked to each person as their role asks (scheduler/rich_menus.py).
    async def create_rich_menu(self, menu: dict[str, Any], image_png: bytes) -> str: ...

    async def set_default_rich_menu(self, menu_id: str) -> None: ...

    async def delete_rich_menu(self, menu_id: str) -> None: ...

    async def rich_menu_aliases(self) -> dict[str, str]: ...

    async def set_rich_menu_alias(self, alias: str, menu_id: str, exists: bool) -> None: ...

    async def delete_rich_menu_alias(self, alias: str) -> None: ...

    async def link_rich_menu(self, menu_id: str, user_ids: list[str]) -> SendResult: ...
