"""Invite codes: unguessable, typed or scanned, found inside whatever text carries them."""

from __future__ import annotations

import re
import secrets
from urllib.parse import quote

# Crockford's base32: no I, L, O or U, so a code read aloud or retyped survives.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_BYTES = 10  # 80 bits
_CODE_IN_TEXT = re.compile(
    r"(?<![0-9A-Za-z])([0-9A-Za-z]{4})[-\s]([0-9A-Za-z]{4})[-\s]([0-9A-Za-z]{4})[-\s]"
    r"([0-9A-Za-z]{4})(?![0-9A-Za-z])"
)
_TYPO = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_code() -> str:
    number = int.from_bytes(secrets.token_bytes(CODE_BYTES), "big")
    chars = [ALPHABET[(number >> shift) & 31] for shift in range(75, -1, -5)]
    return "-".join("".join(chars[i : i + 4]) for i in range(0, 16, 4))


def normalise(candidate: str) -> str | None:
    """A canonical code (XXXX-XXXX-XXXX-XXXX) from what a person typed, or None."""
    plain = re.sub(r"[-\s]", "", candidate).upper().translate(_TYPO)
    if len(plain) != 16 or any(char not in ALPHABET for char in plain):
        return None
    return "-".join(plain[i : i + 4] for i in range(0, 16, 4))


def find_code(text: str) -> str | None:
    """The first thing in `text` shaped like an invite code, normalised."""
    for match in _CODE_IN_TEXT.finditer(text):
        code = normalise("".join(match.groups()))
        if code is not None:
            return code
    return None


def chat_link(basic_id: str, prefill: str) -> str:
    """https://line.me/R/oaMessage/... : opens the bot's chat with `prefill` typed in."""
    return f"https://line.me/R/oaMessage/{quote(basic_id, safe='')}/?{quote(prefill, safe='')}"
