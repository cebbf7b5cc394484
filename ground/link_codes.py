"""A partner's one-time code: shown in the console, sent to the bot from the partner's own LINE,
which is how that account becomes the partner's. Three groups of four (XXXX-XXXX-XXXX, 60
bits): an invite code has four, so neither is taken for the other."""

from __future__ import annotations

import re
import secrets
import unicodedata

from ground.invite_codes import ALPHABET

GROUPS = 3
_GROUP = "[0-9A-Za-z]{4}"
# Three groups standing alone: not a piece of an invite code (four groups) or of a longer word.
# Joined by dashes (as shown and printed), never by spaces: three words of four letters
# ("Cant find keys") are a person's words, not a code.
_CODE_IN_TEXT = re.compile(
    rf"(?<![0-9A-Za-z])(?<![0-9A-Za-z][-\s])({_GROUP})-({_GROUP})-({_GROUP})"
    r"(?![-\s]?[0-9A-Za-z])"
)
# What a phone's keyboard types for a hyphen in Japanese (長音, 全角 and typographic dashes).
_DASHES = str.maketrans(dict.fromkeys("ー‐‑–—−－", "-"))
_TYPO = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_code() -> str:
    chars = [secrets.choice(ALPHABET) for _ in range(4 * GROUPS)]
    return "-".join("".join(chars[i : i + 4]) for i in range(0, 4 * GROUPS, 4))


def normalise(candidate: str) -> str | None:
    """A canonical code (XXXX-XXXX-XXXX) from what a person typed, or None."""
    plain = re.sub(r"[-\s]", "", candidate).upper().translate(_TYPO)
    if len(plain) != 4 * GROUPS or any(char not in ALPHABET for char in plain):
        return None
    return "-".join(plain[i : i + 4] for i in range(0, 4 * GROUPS, 4))


def find_code(text: str) -> str | None:
    """The first thing in `text` shaped like a partner's code, normalised (full-width letters
    and a Japanese keyboard's dashes too)."""
    plain = unicodedata.normalize("NFKC", text).translate(_DASHES)
    for match in _CODE_IN_TEXT.finditer(plain):
        code = normalise("".join(match.groups()))
        if code is not None:
            return code
    return None
