"""The two events of the 07:00 rush, an OK tap (a postback) and a line of text from a person,
read without the SDK's validation.

The SDK builds its models through pydantic, field by field: at the rush that was a tenth of
the server's CPU per event (bench/taps.py). Here an event of exactly the shape LINE's reference
gives is built as the same SDK models, unvalidated, once its every field has been checked to be
what the SDK would accept; anything else (another type, a group's event, a field
this does not know, a postback's date or a text's emoji) returns None and goes to the SDK. The
SDK stays the reference: tests/test_hot_events.py plays events through both and asks for the
same models.
"""

from __future__ import annotations

from typing import Any, TypeVar

from linebot.v3.webhooks import (
    DeliveryContext,
    Event,
    EventMode,
    MessageEvent,
    PostbackContent,
    PostbackEvent,
    TextMessageContent,
    UserSource,
)
from pydantic.v1 import BaseModel

Model = TypeVar("Model", bound=BaseModel)

_EVENT_KEYS = frozenset(
    ("type", "source", "timestamp", "mode", "webhookEventId", "deliveryContext", "replyToken")
)
_POSTBACK_KEYS = _EVENT_KEYS | {"postback"}
_MESSAGE_KEYS = _EVENT_KEYS | {"message"}
_TEXT_KEYS = frozenset(("type", "id", "text", "quoteToken", "quotedMessageId", "markAsReadToken"))
_MODES = {mode.value: mode for mode in EventMode}


def read_hot(raw: Any) -> Event | None:
    """The SDK's model of a person's postback or text message, or None: ask the SDK."""
    if not isinstance(raw, dict):
        return None
    kind = raw.get("type")
    if kind == "postback":
        return _postback(raw)
    if kind == "message":
        return _text(raw)
    return None


def _postback(raw: dict[str, Any]) -> PostbackEvent | None:
    postback = raw.get("postback")
    if not (raw.keys() <= _POSTBACK_KEYS and isinstance(postback, dict)):
        return None
    data = postback.get("data")
    if postback.keys() != {"data"} or not isinstance(data, str):
        return None  # a date picker's params, or something new: the SDK reads it
    common = _common(raw)
    if common is None:
        return None
    postback_content = _model(PostbackContent, {"data": data, "params": None})
    return _model(PostbackEvent, {"type": "postback", **common, "postback": postback_content})


def _text(raw: dict[str, Any]) -> MessageEvent | None:
    message = raw.get("message")
    if not (raw.keys() <= _MESSAGE_KEYS and isinstance(message, dict)):
        return None
    if message.get("type") != "text" or not message.keys() <= _TEXT_KEYS:
        return None  # a sticker, an emoji or a mention: the SDK reads it
    fields = (message.get("id"), message.get("text"), message.get("quoteToken"))
    if not all(isinstance(field, str) for field in fields):
        return None
    quoted, read_token = message.get("quotedMessageId"), message.get("markAsReadToken")
    if not (_optional_str(quoted) and _optional_str(read_token)):
        return None
    common = _common(raw)
    if common is None:
        return None
    content = _model(
        TextMessageContent,
        {
            "type": "text",
            "id": fields[0],
            "text": fields[1],
            "emojis": None,
            "mention": None,
            "quote_token": fields[2],
            "quoted_message_id": quoted,
            "mark_as_read_token": read_token,
        },
    )
    return _model(MessageEvent, {"type": "message", **common, "message": content})


def _common(raw: dict[str, Any]) -> dict[str, Any] | None:
    """The fields every event has, from a person's own chat; None where the SDK must judge."""
    source, delivery = raw.get("source"), raw.get("deliveryContext")
    if not (isinstance(source, dict) and isinstance(delivery, dict)):
        return None
    user_id = source.get("userId")
    if source.get("type") != "user" or not source.keys() <= {"type", "userId"}:
        return None
    redelivery = delivery.get("isRedelivery")
    if delivery.keys() != {"isRedelivery"} or not isinstance(redelivery, bool):
        return None
    timestamp, named = raw.get("timestamp"), raw.get("mode")
    mode = _MODES.get(named) if isinstance(named, str) else None
    event_id, token = raw.get("webhookEventId"), raw.get("replyToken")
    if type(timestamp) is not int or mode is None or not isinstance(event_id, str):
        return None
    if not (_optional_str(user_id) and _optional_str(token)):
        return None
    return {
        "source": _model(UserSource, {"type": "user", "user_id": user_id}),
        "timestamp": timestamp,
        "mode": mode,
        "webhook_event_id": event_id,
        "delivery_context": _model(DeliveryContext, {"is_redelivery": redelivery}),
        "reply_token": token,
    }


def _model(cls: type[Model], fields: dict[str, Any]) -> Model:
    """What pydantic's `construct` makes, given every field of the model: its own loop over
    the fields, defaults and aliases cost more than the rest of the reading."""
    model = cls.__new__(cls)
    object.__setattr__(model, "__dict__", fields)
    object.__setattr__(model, "__fields_set__", set(fields))
    return model


def _optional_str(value: Any) -> bool:
    return value is None or isinstance(value, str)
