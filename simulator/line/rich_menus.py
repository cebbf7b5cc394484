"""Rich menus as LINE keeps them: a menu, its image (checked as LINE checks it), the default,
aliases, and menus linked to people in bulk."""

from __future__ import annotations

import uuid

from aiohttp import web

from simulator.line.state import Call, PlatformState


class RichMenuApi:
    def __init__(self, line: PlatformState) -> None:
        self.line = line

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/v2/bot/richmenu/alias/list", self.alias_list),
            web.post("/v2/bot/richmenu/alias", self.create_alias),
            web.post("/v2/bot/richmenu/alias/{richMenuAliasId}", self.update_alias),
            web.delete("/v2/bot/richmenu/alias/{richMenuAliasId}", self.delete_alias),
            web.post("/v2/bot/richmenu", self.create_rich_menu),
            web.post("/v2/bot/richmenu/{richMenuId}/content", self.rich_menu_image),
            web.delete("/v2/bot/richmenu/{richMenuId}", self.delete_rich_menu),
            web.post("/v2/bot/user/all/richmenu/{richMenuId}", self.default_rich_menu),
            web.post("/v2/bot/richmenu/bulk/link", self.bulk_link),
        ]

    async def alias_list(self, request: web.Request) -> web.Response:
        call, refused = await self.line.record(request)
        aliases = [
            {"richMenuAliasId": alias, "richMenuId": menu_id}
            for alias, menu_id in self.line.rich_menu_aliases.items()
        ]
        return refused or self.line.answer(call, 200, {"aliases": aliases})

    async def create_alias(self, request: web.Request) -> web.Response:
        call, refused = await self.line.record(request)
        if refused:
            return refused
        assert call.body is not None
        alias, menu_id = call.body["richMenuAliasId"], call.body["richMenuId"]
        if alias in self.line.rich_menu_aliases:
            return self.line.answer(call, 400, {"message": "conflict richmenu alias id"})
        if menu_id not in self.line.rich_menu_images:
            return self.line.answer(call, 400, {"message": "richmenu not found or no image"})
        self.line.rich_menu_aliases[alias] = menu_id
        return self.line.answer(call, 200, {})

    async def update_alias(self, request: web.Request) -> web.Response:
        call, refused = await self.line.record(request)
        if refused:
            return refused
        assert call.body is not None
        alias = request.match_info["richMenuAliasId"]
        if alias not in self.line.rich_menu_aliases:
            return self.line.answer(call, 404, {"message": "Not found"})
        if call.body["richMenuId"] not in self.line.rich_menu_images:
            return self.line.answer(call, 400, {"message": "richmenu not found or no image"})
        self.line.rich_menu_aliases[alias] = call.body["richMenuId"]
        return self.line.answer(call, 200, {})

    async def delete_alias(self, request: web.Request) -> web.Response:
        call, refused = await self.line.record(request)
        if refused:
            return refused
        if self.line.rich_menu_aliases.pop(request.match_info["richMenuAliasId"], None) is None:
            return self.line.answer(call, 404, {"message": "Not found"})
        return self.line.answer(call, 200, {})

    async def create_rich_menu(self, request: web.Request) -> web.Response:
        call, refused = await self.line.record(request)
        if refused:
            return refused
        menu_id = f"richmenu-{uuid.uuid4().hex}"
        self.line.rich_menus[menu_id] = call.body
        return self.line.answer(call, 200, {"richMenuId": menu_id})

    async def rich_menu_image(self, request: web.Request) -> web.Response:
        # Binary, on LINE's data host: checked here as LINE checks it, not as JSON.
        raw = await request.read()
        call = Call(request.method, request.path, dict(request.headers), {"bytes": len(raw)})
        self.line.calls.append(call)
        menu = self.line.rich_menus.get(request.match_info["richMenuId"])
        problems = []
        if menu is None:
            return self.line.answer(call, 404, {"message": "Not found"})
        if request.content_type not in ("image/png", "image/jpeg"):
            problems.append(f"content type {request.content_type}")
        if len(raw) > 1024 * 1024:
            problems.append(f"{len(raw)} bytes, over 1 MB")
        size = menu["size"]
        if raw[:8] != b"\x89PNG\r\n\x1a\n" or (
            int.from_bytes(raw[16:20], "big"),
            int.from_bytes(raw[20:24], "big"),
        ) != (size["width"], size["height"]):
            problems.append("not a PNG of the menu's size")
        if request.match_info["richMenuId"] in self.line.rich_menu_images:
            problems.append("an image was uploaded already")
        if problems:
            self.line.schema_errors.extend(f"rich menu image: {p}" for p in problems)
            return self.line.answer(call, 400, {"message": "; ".join(problems)})
        self.line.rich_menu_images[request.match_info["richMenuId"]] = raw
        return self.line.answer(call, 200, {})

    async def delete_rich_menu(self, request: web.Request) -> web.Response:
        call, refused = await self.line.record(request)
        if refused:
            return refused
        if self.line.rich_menus.pop(request.match_info["richMenuId"], None) is None:
            return self.line.answer(call, 404, {"message": "Not found"})
        return self.line.answer(call, 200, {})

    async def default_rich_menu(self, request: web.Request) -> web.Response:
        call, refused = await self.line.record(request)
        if refused:
            return refused
        menu_id = request.match_info["richMenuId"]
        if menu_id not in self.line.rich_menu_images:
            # LINE refuses a menu without its image.
            return self.line.answer(call, 400, {"message": "must upload richmenu image"})
        self.line.default_rich_menu = menu_id
        return self.line.answer(call, 200, {})

    async def bulk_link(self, request: web.Request) -> web.Response:
        call, refused = await self.line.record(request)
        if refused:
            return refused
        assert call.body is not None
        menu_id = call.body["richMenuId"]
        if menu_id not in self.line.rich_menu_images:
            return self.line.answer(call, 400, {"message": "must upload richmenu image"})
        for user_id in call.body["userIds"]:
            self.line.linked_rich_menus[user_id] = menu_id
        return self.line.answer(call, 202, {})
