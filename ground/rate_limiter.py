"""Pacing requests to a published limit per second, as LINE counts them."""

from __future__ import annotations

import asyncio
import time
from collections import deque


class RateLimiter:
    """Spaces requests to at most `per_second` (LINE's published limits per endpoint), and
    holds every second of requests as sent to that many: those whose turns came while the
    process was busy go out together, and would crowd the second LINE counts them in."""

    def __init__(self, per_second: float) -> None:
        self._interval = 1.0 / per_second
        self._next = 0.0
        self._in_one_second = max(1, int(per_second))
        self._sent: deque[float] = deque()  # when the last `_in_one_second` went

    def reserve(self, now: float) -> float:
        """Take the next free slot; -> how long to wait for it (seconds, 0: go now)."""
        slot = max(now, self._next)
        self._next = slot + self._interval
        return slot - now

    def admit(self, now: float) -> float:
        """Send now if the last second holds fewer than the limit, and count it; -> 0, or
        how long to wait before asking again."""
        sent = self._sent
        while sent and sent[0] <= now - 1.0:
            sent.popleft()
        if len(sent) < self._in_one_second:
            sent.append(now)
            return 0.0
        return sent[0] + 1.0 - now

    async def wait(self) -> None:
        # Nothing is awaited between reading the next slot and taking it: callers queue in
        # the order they came, without a lock held across their sleeps.
        delay = self.reserve(time.monotonic())
        if delay > 0:
            await asyncio.sleep(delay)
        while True:
            # A turn is not a clock: ask again after the wait, others may have gone meanwhile.
            late = self.admit(time.monotonic())
            if late <= 0:
                return
            await asyncio.sleep(late)
