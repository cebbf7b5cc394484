"""A seal is a short HMAC under the deployment's channel secret over something this service
hands out (a device's URL, an invite's QR address): a request that carries a broken seal was
never given by the service and is refused before any look into the database."""

from __future__ import annotations

import base64
import hashlib
import hmac

SEAL_LENGTH = 22  # 16 bytes of HMAC-SHA256, base64url


def seal(secret: str, purpose: bytes, text: str) -> str:
    """`purpose` keeps seals for one thing from opening another."""
    key = hmac.new(secret.encode(), purpose, hashlib.sha256).digest()
    mac = hmac.new(key, text.encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def holds(secret: str, purpose: bytes, text: str, claimed: str) -> bool:
    return len(claimed) == SEAL_LENGTH and hmac.compare_digest(
        claimed, seal(secret, purpose, text)
    )
