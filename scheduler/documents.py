"""Public documents the pollers fetch (JMA's feeds and reports, 環境省's heat alerts): read
whole, refused past a size no genuine one reaches, never followed elsewhere by a redirect."""

from __future__ import annotations

import aiohttp


class Unreadable(Exception):
    """A document that will not become readable by asking again: recorded and skipped."""


class NotYet(Exception):
    """A document not published (yet): asked for again at the next poll."""


async def read_bounded(
    session: aiohttp.ClientSession, url: str, limit: int, *, later_if_missing: bool = False
) -> tuple[bytes, str | None]:
    """The body of `url` and its charset, refused past `limit` bytes. A 404 is `NotYet`
    where the document is published later (`later_if_missing`), else `Unreadable`."""
    async with session.get(url, allow_redirects=False) as response:
        if response.status == 404 and later_if_missing:
            raise NotYet(url)
        if response.status in (404, 410) or 300 <= response.status < 400:
            raise Unreadable(f"HTTP {response.status}")
        response.raise_for_status()
        if (response.content_length or 0) > limit:
            raise Unreadable(f"over {limit} bytes")
        # Piece by piece to its end: the stream's read(n) returns what has arrived so far
        # (a 900 KB feed was read as its first 128 KB, locally; less over a network).
        body = bytearray()
        async for piece in response.content.iter_any():
            body += piece
            if len(body) > limit:
                raise Unreadable(f"over {limit} bytes")
        return bytes(body), response.charset
