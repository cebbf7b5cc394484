"""Postback data the bot hands out, signed so that a tampered button changes nothing.

Shape: `a=<action>&k=v...&s=<signature>`; the signature is a truncated HMAC-SHA256 over the
rest, keyed from the channel secret. LINE caps postback data at 300 characters.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from urllib.parse import parse_qsl, urlencode

from ground.identifiers import row_id

MAX_DATA_LENGTH = 300
_SIGNATURE_BYTES = 12
# Postbacks read lately, by their data: at the 07:00 rush thousands of people tap the same
# button (its data names the slot, not the person), and a batch reads each event's twice.
_REMEMBERED = 512


@dataclass(frozen=True)
class Postback:
    action: str
    fields: Mapping[str, str] = field(default_factory=dict)

    def get(self, name: str) -> str | None:
        return self.fields.get(name)

    def integer(self, name: str) -> int | None:
        return row_id(self.fields.get(name))


class PostbackCodec:
    def __init__(self, channel_secret: str) -> None:
        self._key = hmac.new(
            channel_secret.encode(), b"mimamori postback v1", hashlib.sha256
        ).digest()
        self._read: OrderedDict[str, Postback | None] = OrderedDict()
        self._written: OrderedDict[tuple[object, ...], str] = OrderedDict()

    def encode(self, action: str, **fields: str | int) -> str:
        # The same buttons go to everyone due at one slot (a check-in's OK names the slot,
        # not the person): each is signed once, not once a person.
        written = [(name, str(value)) for name, value in fields.items()]
        key = (action, *written)
        data = self._written.get(key)
        if data is None:
            data = self._encoded(action, written)
            self._written[key] = data
            if len(self._written) > _REMEMBERED:
                self._written.popitem(last=False)
        return data

    def _encoded(self, action: str, written: list[tuple[str, str]]) -> str:
        payload = urlencode([("a", action), *written])
        data = f"{payload}&s={self._sign(payload)}"
        if len(data) > MAX_DATA_LENGTH:
            raise ValueError(f"postback data over {MAX_DATA_LENGTH} characters: {action}")
        return data

    def decode(self, data: str) -> Postback | None:
        """The postback, or None when the data is not one the bot signed."""
        if data in self._read:
            self._read.move_to_end(data)
            return self._read[data]
        postback = self._decoded(data)
        self._read[data] = postback
        if len(self._read) > _REMEMBERED:
            self._read.popitem(last=False)
        return postback

    def _decoded(self, data: str) -> Postback | None:
        if len(data) > MAX_DATA_LENGTH or "&s=" not in data:
            return None
        payload, _, signature = data.rpartition("&s=")
        if not hmac.compare_digest(signature, self._sign(payload)):
            return None
        try:
            pairs = parse_qsl(payload, keep_blank_values=True, strict_parsing=True)
        except ValueError:
            return None
        if not pairs or pairs[0][0] != "a":
            return None
        # Read-only: one reading is handed to every event that carries the same data.
        return Postback(pairs[0][1], MappingProxyType(dict(pairs[1:])))

    def _sign(self, payload: str) -> str:
        digest = hmac.new(self._key, payload.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:_SIGNATURE_BYTES]).decode()
