"""Per-source token buckets for unsolicited packets (PING, FINDNODE, ENRREQUEST; discv5 handshakes and requests).

Answering costs more than asking: a discv4 PING earns the sender a PONG, our own PING and its retry (3.2x the bytes,
issue 16), a discv5 handshake an ECDH. Two budgets apply: one per source address (ip, port), small, for one peer;
one per IP, larger, so a spoofer cannot multiply its budget by varying the port, while a host running many nodes
(the devnet puts hundreds on 127.0.0.1) still gets answered. Beyond either, packets are dropped and counted by the
caller. The tables are bounded: when full, buckets that have refilled go first.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass

__all__ = ["RateLimit", "SourceLimiter"]


@dataclass(frozen=True)
class RateLimit:
    per_address: float = 50.0  # packets per second from one (ip, port), sustained; a crawler's visit sends ~20
    per_ip: float = 2000.0  # from one IP over all its ports
    burst_seconds: float = 2.0  # a bucket holds this many seconds' worth
    max_sources: int = 65536  # buckets kept per table
    enabled: bool = True


class _Buckets:
    def __init__(self, rate: float, burst: float, max_sources: int) -> None:
        self.rate, self.burst, self.max_sources = rate, burst, max_sources
        self._table: dict[Hashable, tuple[float, float]] = {}  # key -> (tokens, last refill time)

    def take(self, key: Hashable, now: float) -> bool:
        tokens, last = self._table.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < 1.0:
            self._table[key] = (tokens, now)
            return False
        if key not in self._table and len(self._table) >= self.max_sources:
            self._evict(now)
        self._table[key] = (tokens - 1.0, now)
        return True

    def _evict(self, now: float) -> None:
        """Forget sources whose bucket has refilled (they lose nothing); if none has, the oldest half."""
        full = [k for k, (t, last) in self._table.items() if t + (now - last) * self.rate >= self.burst]
        for key in full or list(self._table)[: len(self._table) // 2]:
            del self._table[key]


class SourceLimiter:
    def __init__(self, limit: RateLimit, now: Callable[[], float]) -> None:
        self.limit = limit
        self.now = now
        self._address = _Buckets(limit.per_address, limit.per_address * limit.burst_seconds, limit.max_sources)
        self._ip = _Buckets(limit.per_ip, limit.per_ip * limit.burst_seconds, limit.max_sources)

    def allow(self, ip: str, port: int) -> bool:
        if not self.limit.enabled:
            return True
        now = self.now()
        return self._address.take((ip, port), now) and self._ip.take(ip, now)
