"""The console's second factor: TOTP codes (RFC 6238, through pyotp) and one-time recovery codes.

Secrets are sealed before they are stored: a copy of the database alone (a backup, a dump)
does not give them away. There is no cipher in the standard library and no cryptography
package among the dependencies, so the seal is HMAC-SHA256 both ways, the construction
phone/devices.py's tokens already rest on: a keystream of HMAC blocks over a random nonce
(counter mode) XORed with the secret, then an HMAC tag over the nonce, the sealed bytes and the
account's id (encrypt-then-MAC; a sealed secret copied to another account's row does not open).
Both keys are derived from the deployment's secret (LINE_CHANNEL_SECRET); changing that secret
makes every enrolled factor unreadable, and each account is then enrolled again
(`mimamori admin reset-2fa`). Recovery codes are stored as keyed hashes under a third key.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from datetime import datetime

import pyotp

ISSUER = "mimamori"
RECOVERY_CODES = 10
# Codes in letters nobody misreads (no 0/O, 1/I/L): 12 of 32 letters, 60 bits each.
_RECOVERY_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
_SEAL_VERSION = "s1"
_NONCE = 16
_TAG = 16


class SealBroken(Exception):
    """A stored secret does not open with this deployment's secret (it changed, or the row was
    copied from another account)."""


def _key(deployment_secret: str, purpose: bytes) -> bytes:
    return hmac.new(deployment_secret.encode(), b"mimamori console " + purpose, "sha256").digest()


def _keystream(key: bytes, nonce: bytes, length: int) -> bytes:
    blocks = (
        hmac.new(key, nonce + counter.to_bytes(4, "big"), "sha256").digest()
        for counter in range(length // 32 + 1)
    )
    return b"".join(blocks)[:length]


def seal(deployment_secret: str, admin_id: int, secret: str) -> str:
    nonce = secrets.token_bytes(_NONCE)
    plain = secret.encode()
    stream = _keystream(_key(deployment_secret, b"totp secret"), nonce, len(plain))
    body = bytes(a ^ b for a, b in zip(plain, stream, strict=True))
    tag = _tag(deployment_secret, admin_id, nonce + body)
    return f"{_SEAL_VERSION}${_b64(nonce + body + tag)}"


def unseal(deployment_secret: str, admin_id: int, sealed: str) -> str:
    version, _, text = sealed.partition("$")
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:
        raise SealBroken("not a sealed secret") from None
    if version != _SEAL_VERSION or len(raw) <= _NONCE + _TAG:
        raise SealBroken("not a sealed secret")
    nonce, body, tag = raw[:_NONCE], raw[_NONCE:-_TAG], raw[-_TAG:]
    if not hmac.compare_digest(tag, _tag(deployment_secret, admin_id, nonce + body)):
        raise SealBroken("the seal does not hold under this deployment's secret")
    stream = _keystream(_key(deployment_secret, b"totp secret"), nonce, len(body))
    return bytes(a ^ b for a, b in zip(body, stream, strict=True)).decode()


def _tag(deployment_secret: str, admin_id: int, data: bytes) -> bytes:
    key = _key(deployment_secret, b"totp seal")
    return hmac.new(key, str(admin_id).encode() + b"\0" + data, "sha256").digest()[:_TAG]


def new_secret() -> str:
    return pyotp.random_base32()


def setup_uri(secret: str, account: str, service: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=service or ISSUER)


def grouped(secret: str) -> str:
    """The secret as a person types it into an app: groups of four."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The 30-second step the code belongs to when it is right at `now`, one step either side
    for a phone's clock a little off; None otherwise. Whether that step was taken already (a
    code seen over a shoulder, played again) is the database's to say
    (AdminRepository.second_factor_used), so two requests at once cannot both pass."""
    code = "".join(code.split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    current = totp.timecode(now)
    for offset in (-1, 0, 1):
        if hmac.compare_digest(totp.generate_otp(current + offset), code):
            return current + offset
    return None


def new_recovery_codes() -> list[str]:
    codes = []
    for _ in range(RECOVERY_CODES):
        letters = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(12))
        codes.append("-".join(letters[i : i + 4] for i in range(0, 12, 4)))
    return codes


def recovery_hash(deployment_secret: str, code: str) -> str:
    """A recovery code as stored: keyed, so a copied table cannot be searched for codes."""
    normal = "".join(ch for ch in code.upper() if ch.isalnum())
    return hmac.new(
        _key(deployment_secret, b"recovery code"), normal.encode(), "sha256"
    ).hexdigest()


def looks_like_recovery_code(code: str) -> bool:
    normal = "".join(ch for ch in code.upper() if ch.isalnum())
    return len(normal) == 12


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")
