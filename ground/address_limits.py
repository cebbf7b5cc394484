"""How often one address may knock on a door that anyone may knock on (a device's URL, an
invite's QR code): a token bucket per address, in this process's memory.

Memory, not the database: the point is that a flood costs nothing, and a count written per
request would be the very transaction the flood is meant not to cause. Each instance counts
on its own, so N instances allow N times the rate at most; what is remembered is bounded,
the address heard of longest ago forgotten first."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

TRACKED = 10_000  # addresses remembered at once


@dataclass(frozen=True)
class PerAddress:
    times: int
    per: timedelta


class AddressLimit:
    def __init__(self, rate: PerAddress, tracked: int = TRACKED) -> None:
        self.rate = rate
        self._tracked = tracked
        self._buckets: OrderedDict[str, tuple[float, datetime]] = OrderedDict()

    def allow(self, address: str, now: datetime) -> bool:
        """One more request from this address now: True if within its rate (and counted)."""
        if self.rate.times <= 0:
            return True  # no limit set
        tokens, at = self._buckets.pop(address, (float(self.rate.times), now))
        elapsed = max(0.0, (now - at).total_seconds())
        refill = elapsed * self.rate.times / self.rate.per.total_seconds()
        tokens = min(float(self.rate.times), tokens + refill)
        allowed = tokens >= 1
        self._buckets[address] = (tokens - 1 if allowed else tokens, now)
        while len(self._buckets) > self._tracked:
            self._buckets.popitem(last=False)
        return allowed


class KnockLimit:
    """Two buckets per address at a door anyone may knock on: knocks with what the service
    gave out (a URL whose seal holds) and guesses. Checking the seal first costs no database,
    and a flood of guesses from an address that real devices share too (a meter service's
    cloud, a household's router) does not shut the real ones out."""

    def __init__(self, rate: PerAddress) -> None:
        self._given = AddressLimit(rate)
        self._guessed = AddressLimit(rate)

    def allow(self, address: str, now: datetime, given: bool) -> bool:
        return (self._given if given else self._guessed).allow(address, now)
