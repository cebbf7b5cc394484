"""Webhook bodies shaped as LINE's webhook.yml, signed exactly as LINE signs them (the tests' and
the simulator's people speak to the bot through these)."""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import secrets
from datetime import datetime
from typing import Any

import yaml
from openapi_schema_validator import OAS30Validator

# Signed as LINE signs (the bot's forwarder signs the same way); what receives a body always
# verifies it with the SDK's own validator, never with this.
from bot.forwarding import sign as sign
from simulator.line.schema import OPENAPI_DIR

WEBHOOK_SPEC = OPENAPI_DIR / "webhook.yml"
BOT_USER_ID = "U" + "f" * 32
_ids = itertools.count(1)
_RUN = secrets.token_hex(4).upper()


@functools.cache
def _callback_validator() -> OAS30Validator:
    spec = yaml.safe_load(WEBHOOK_SPEC.read_text("utf-8"))
    # A root schema that is the spec itself plus a $ref: local references resolve against it.
    return OAS30Validator({**spec, "$ref": "#/components/schemas/CallbackRequest"})


def body(*events: dict[str, Any], validate: bool = True) -> bytes:
    """A webhook body, checked against webhook.yml unless told not to (benchmarks)."""
    payload = {"destination": BOT_USER_ID, "events": list(events)}
    if validate:
        _callback_validator().validate(payload)
    return json.dumps(payload, ensure_ascii=False).encode()


def user_id(name: str) -> str:
    """A stable, valid-looking LINE user id for a test person."""
    return "U" + hashlib.md5(name.encode()).hexdigest()


def group_id(name: str) -> str:
    return "C" + hashlib.md5(name.encode()).hexdigest()


def _base(kind: str, source: dict[str, Any], at: datetime, reply: bool = True) -> dict[str, Any]:
    number = next(_ids)
    # Unique across runs too: the bot keeps the ids of events it has handled.
    prefix = _RUN
    event: dict[str, Any] = {
        "type": kind,
        "mode": "active",
        "timestamp": int(at.timestamp() * 1000),
        "source": source,
        "webhookEventId": f"01{prefix}{number:016d}",
        "deliveryContext": {"isRedelivery": False},
    }
    if reply:
        event["replyToken"] = f"reply-{prefix}-{number}"
    return event


def person(uid: str) -> dict[str, Any]:
    return {"type": "user", "userId": uid}


def in_group(gid: str, uid: str | None) -> dict[str, Any]:
    source = {"type": "group", "groupId": gid}
    if uid:
        source["userId"] = uid
    return source


def in_room(rid: str, uid: str | None) -> dict[str, Any]:
    source = {"type": "room", "roomId": rid}
    if uid:
        source["userId"] = uid
    return source


def join(source: dict[str, Any], at: datetime) -> dict[str, Any]:
    return _base("join", source, at)


def leave(source: dict[str, Any], at: datetime) -> dict[str, Any]:
    return _base("leave", source, at, reply=False)


def member_joined(source: dict[str, Any], uids: list[str], at: datetime) -> dict[str, Any]:
    event = _base("memberJoined", source, at)
    event["joined"] = {"members": [{"type": "user", "userId": uid} for uid in uids]}
    return event


def member_left(source: dict[str, Any], uids: list[str], at: datetime) -> dict[str, Any]:
    event = _base("memberLeft", source, at, reply=False)
    event["left"] = {"members": [{"type": "user", "userId": uid} for uid in uids]}
    return event


def follow(uid: str, at: datetime, unblocked: bool = False) -> dict[str, Any]:
    event = _base("follow", person(uid), at)
    event["follow"] = {"isUnblocked": unblocked}
    return event


def unfollow(uid: str, at: datetime) -> dict[str, Any]:
    return _base("unfollow", person(uid), at, reply=False)


def text(uid: str, words: str, at: datetime, source: dict[str, Any] | None = None) -> dict:
    event = _base("message", source or person(uid), at)
    event["message"] = {
        "type": "text",
        "id": str(next(_ids)),
        "quoteToken": "q",
        "text": words,
    }
    return event


def sticker(uid: str, at: datetime) -> dict[str, Any]:
    event = _base("message", person(uid), at)
    event["message"] = {
        "type": "sticker",
        "id": str(next(_ids)),
        "quoteToken": "q",
        "packageId": "446",
        "stickerId": "1988",
        "stickerResourceType": "STATIC",
    }
    return event


def postback(uid: str, data: str, at: datetime, source: dict[str, Any] | None = None) -> dict:
    event = _base("postback", source or person(uid), at)
    event["postback"] = {"data": data}
    return event


def redelivered(event: dict[str, Any]) -> dict[str, Any]:
    again = dict(event)
    again["deliveryContext"] = {"isRedelivery": True}
    return again
