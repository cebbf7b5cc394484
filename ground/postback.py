"""Postback data the bot hands out, signed so that a tampered button changes nothing.

Shape: `a=<action>&k=v...&s=<signature>`; the signature is a truncated HMAC-SHA256 over the
rest, keyed from the channel secret. LINE caps postback data at 300 characters.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from urllib.parse import parse_qsl, urlencode

from ground.identifiers import row_id

MAX_DATA_LENGTH = 300
_SIGNATURE_BYTES = 12
# Postbacks signed and read lately: at the 07:00 rush thousands of people get and tap the same
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
        self._encode = functools.lru_cache(maxsize=_REMEMBERED)(self._encoded)
        self._decode = functools.lru_cache(maxsize=_REMEMBERED)(self._decoded)

    def encode(self, action: str, **fields: str | int) -> str:
        # Each button is signed once, not once a person it goes to.
        return self._encode(action, tuple((name, str(value)) for name, value in fields.items()))

    def _encoded(self, action: str, written: tuple[tuple[str, str], ...]) -> str:
        payload = urlencode([("a", action), *written])
        data = f"{payload}&s={self._sign(payload)}"
        if len(data) > MAX_DATA_LENGTH:
            raise ValueError(f"postback data over {MAX_DATA_LENGTH} characters: {action}")
        return data

    def decode(self, data: str) -> Postback | None:
        """The postback, or None when the data is not one the bot signed."""
        return self._decode(data)

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
