"""The Messaging API's sending and asking: push, multicast, reply and broadcast (the first two
slowed when a test asks), the quota, chats' sizes and members, profiles, the bot's own info."""

from __future__ import annotations

import asyncio
import uuid

from aiohttp import web

from simulator.line.state import PlatformState


class MessagingApi:
    def __init__(self, line: PlatformState) -> None:
        self.line = line

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/v2/bot/message/push", self.push),
            web.post("/v2/bot/message/multicast", self.multicast),
            web.post("/v2/bot/message/reply", self.reply),
            web.post("/v2/bot/message/broadcast", self.broadcast),
            web.get("/v2/bot/message/quota", self.quota),
            web.get("/v2/bot/message/quota/consumption", self.quota_consumption),
            web.get("/v2/bot/group/{groupId}/members/count", self.member_count),
            web.get("/v2/bot/room/{roomId}/members/count", self.member_count),
            web.get("/v2/bot/profile/{userId}", self.profile),
            web.get("/v2/bot/info", self.bot_info),
            web.get("/v2/bot/group/{groupId}/summary", self.group_summary),
            web.get("/v2/bot/group/{groupId}/member/{userId}", self.group_member),
            web.get("/v2/bot/room/{roomId}/member/{userId}", self.room_member),
        ]

    async def push(self, request: web.Request) -> web.Response:
        call, refused = await self.line.record(request)
        if refused:
            return refused
        sent = [{"id": uuid.uuid4().hex[:18], "quoteToken": "q"} for _ in call.body["messages"]]
        return await self.slow(self.line.answer(call, 200, {"sentMessages": sent}))

    async def multicast(self, request: web.Request) -> web.Response:
        call, refused = await self.line.record(request)
        if refused:
            return refused
        return await self.slow(self.line.answer(call, 200, {}))

    async def slow(self, accepted: web.Response) -> web.Response:
        """LINE has taken the message (it is delivered); its answer comes `send_delay` later,
        and may never reach a sender that died meanwhile."""
        await asyncio.sleep(self.line.send_delay)
        return accepted

    async def broadcast(self, request: web.Request) -> web.Response:
        call, refused = await self.line.record(request)
        return refused or self.line.answer(call, 200, {})

    async def quota(self, request: web.Request) -> web.Response:
        call, refused = await self.line.record(request)
        return refused or self.line.answer(call, 200, self.line.quota)

    async def quota_consumption(self, request: web.Request) -> web.Response:
        call, refused = await self.line.record(request)
        return refused or self.line.answer(call, 200, {"totalUsage": self.line.quota_used})

    async def member_count(self, request: web.Request) -> web.Response:
        call, refused = await self.line.record(request)
        chat_id = request.match_info.get("groupId") or request.match_info["roomId"]
        return refused or self.line.answer(
            call, 200, {"count": self.line.chat_member_counts.get(chat_id, 0)}
        )

    async def reply(self, request: web.Request) -> web.Response:
        call, refused = await self.line.record(request)
        if refused:
            return refused
        token = call.body["replyToken"]
        if token in self.line.used_reply_tokens:
            return self.line.answer(call, 400, {"message": "Invalid reply token"})
        self.line.used_reply_tokens.add(token)
        sent = [{"id": uuid.uuid4().hex[:18]} for _ in call.body["messages"]]
        return self.line.answer(call, 200, {"sentMessages": sent})

    async def profile(self, request: web.Request) -> web.Response:
        call, refused = await self.line.record(request)
        if refused:
            return refused
        profile = self.line.profiles.get(request.match_info["userId"])
        if profile is None:
            return self.line.answer(call, 404, {"message": "Not found"})
        return self.line.answer(call, 200, profile)

    async def group_summary(self, request: web.Request) -> web.Response:
        call, refused = await self.line.record(request)
        if refused:
            return refused
        group_id = request.match_info["groupId"]
        if group_id not in self.line.group_names:
            return self.line.answer(call, 404, {"message": "Not found"})
        return self.line.answer(
            call, 200, {"groupId": group_id, "groupName": self.line.group_names[group_id]}
        )

    async def group_member(self, request: web.Request) -> web.Response:
        return await self.chat_member(request, request.match_info["groupId"])

    async def room_member(self, request: web.Request) -> web.Response:
        return await self.chat_member(request, request.match_info["roomId"])

    async def chat_member(self, request: web.Request, chat_id: str) -> web.Response:
        call, refused = await self.line.record(request)
        if refused:
            return refused
        user_id = request.match_info["userId"]
        name = self.line.chat_members.get((chat_id, user_id))
        if name is None:
            return self.line.answer(call, 404, {"message": "Not found"})
        return self.line.answer(call, 200, {"userId": user_id, "displayName": name})

    async def bot_info(self, request: web.Request) -> web.Response:
        call, refused = await self.line.record(request)
        if refused:
            return refused
        return self.line.answer(
            call,
            200,
            {
                "userId": "U" + "f" * 32,
                "basicId": self.line.bot_basic_id,
                "displayName": "mimamori",
                "chatMode": "bot",
                "markAsReadMode": "auto",
            },
        )
