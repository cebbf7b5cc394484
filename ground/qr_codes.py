"""QR codes as PNG: an invite, or the account's friend link on a printed guide."""

from __future__ import annotations

import functools
import io

import qrcode
from qrcode.image.pure import PyPNGImage


@functools.lru_cache(maxsize=256)
def qr_png(content: str) -> bytes:
    """The PNG of a QR code; kept, since a team's code is asked for again and again, and drawn
    in a thread (tens of milliseconds of pure Python that must not hold up the webhook)."""
    image = qrcode.make(content, image_factory=PyPNGImage, box_size=10, border=4)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()
