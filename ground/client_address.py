"""Who is asking, as an address a limit can count: the peer, or the client a trusted reverse
proxy names. Used by every surface that limits per address (console logins, device pings,
invite QR codes), so that all of them believe the same headers and count the same buckets."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

from aiohttp import web

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network
_PORT = re.compile(r"[0-9]{1,5}")

# Called with (peer, its bucket, the header) when a peer that is no trusted proxy sends
# X-Forwarded-For or X-Forwarded-Proto: the header is ignored, and someone should hear of it.
UntrustedHeader = Callable[[str, str, str], None]


def parse_address(text: str) -> Address | None:
    """An address as a header writes it: `a.b.c.d`, `a.b.c.d:port`, an IPv6 address bare or in
    brackets, `[v6]:port`. An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is its IPv4 address.
    None for anything else (`unknown`, an obfuscated name, garbage)."""
    text = text.strip()
    if text.startswith("["):
        text, bracket, port = text[1:].partition("]")
        if not bracket or (port and not (port[:1] == ":" and _PORT.fullmatch(port[1:]))):
            return None
    elif text.count(":") == 1:  # a.b.c.d:port; an IPv6 address has at least two colons
        text, _, port = text.partition(":")
        if not _PORT.fullmatch(port):
            return None
    try:
        parsed = ip_address(text)
    except ValueError:
        return None
    if isinstance(parsed, IPv6Address) and parsed.ipv4_mapped is not None:
        return parsed.ipv4_mapped
    return parsed


def bucket(address: Address) -> str:
    """What a limit counts: an IPv4 address, or an IPv6 client's /64, which one household
    holds whole."""
    if isinstance(address, IPv6Address):
        return str(IPv6Network((int(address) >> 64 << 64, 64)))
    return str(address)


def trusted(address: Address | None, proxies: Sequence[Network]) -> bool:
    return address is not None and any(address in net for net in proxies)


def client_address(
    request: web.Request, proxies: Sequence[Network], untrusted: UntrustedHeader | None = None
) -> str:
    """The peer, or, when the peer is a configured proxy, the last address in X-Forwarded-For
    that is not one (a client can write any X-Forwarded-For it likes; only what the proxies
    appended is believed). A port on a hop is dropped; a hop that is no address counts as the
    peer, never as a bucket of its own. X-Forwarded-For from a peer that is no proxy is
    ignored, and `untrusted` hears of it."""
    peer = parse_address(request.remote or "")
    if peer is None:
        return request.remote or "?"
    address = peer
    forwarded = ",".join(request.headers.getall("X-Forwarded-For", []))
    if trusted(peer, proxies):
        for hop in reversed([h for h in forwarded.split(",") if h.strip()]):
            parsed = parse_address(hop)
            if parsed is None:
                address = peer
                break
            address = parsed
            if not trusted(parsed, proxies):
                break
    elif forwarded.strip() and untrusted is not None:
        untrusted(str(peer), bucket(peer), f"X-Forwarded-For: {forwarded}")
    return bucket(address)


def is_https(
    request: web.Request, proxies: Sequence[Network], untrusted: UntrustedHeader | None = None
) -> bool:
    """The client reached us over HTTPS: directly, or as a trusted proxy says. The header
    from anyone else is ignored (a client could claim HTTPS to get a cookie sent over HTTP),
    and `untrusted` hears of it."""
    if request.scheme == "https":
        return True
    proto = request.headers.get("X-Forwarded-Proto")
    if proto is None:
        return False
    peer = parse_address(request.remote or "")
    if trusted(peer, proxies):
        return proto.strip().lower() == "https"
    if untrusted is not None and peer is not None:
        untrusted(str(peer), bucket(peer), f"X-Forwarded-Proto: {proto}")
    return False
