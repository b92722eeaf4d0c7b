"""A global send-rate limit (token bucket) for requests, with an injected clock and sleep.

Thousands of visits in flight must not turn into a burst the local uplink or the peers' rate limits drop: every
request waits for a token, ``rate`` tokens a second, at most ``burst`` saved up. Replies are never paced (they
answer a packet that already arrived). Taking a token is synchronous when one is available, so an unloaded crawl
pays one clock read per request, not an await.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

__all__ = ["Pacer"]


class Pacer:
    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate / 10)  # a tenth of a second's worth
        if self.burst < 1:
            raise ValueError("burst must be at least 1")
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.burst
        self._last = clock()
        self.waited = 0  # requests that had to wait for a token

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now

    def try_take(self) -> float:
        """Take a token now if there is one (return 0), else reserve the next one and return how long to wait."""
        self._refill()
        self._tokens -= 1
        if self._tokens >= 0:
            return 0.0
        return -self._tokens / self.rate  # the debt is paid by the refill while the caller sleeps

    async def acquire(self) -> None:
        delay = self.try_take()
        if delay > 0:
            self.waited += 1
            await self._sleep(delay)
