"""A crawl's memory budget against Sybil peers: limits on nodes that only one peer ever vouched for.

A hostile peer can answer FINDNODE with 16 fresh identities per request, each of which answers as a node and lists
16 more: without limits the node table grows as fast as the peer can sign (308,721 nodes in 60 s, issue 16). The
engine's ``max_tasks`` caps the table as a whole; this module keeps one peer, or one IP address, from filling it.

A node listed by a single referrer is admitted while that referrer has introduced fewer than ``per_referrer`` nodes
and its IP holds fewer than ``per_ip`` admitted nodes. Beyond that it is *held*, not dropped: the moment a second,
different peer lists it, it is admitted (honest nodes are listed by many peers; Sybil identities by their maker only).
Held nodes are counted by reason in ``filtered`` (distinct nodes not contacted), and leave the count when released.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

__all__ = ["Limits", "Vouching", "DEFAULT_LIMITS"]


@dataclass(frozen=True)
class Limits:
    # 17 buckets x 16 = 272 is all an honest geth can ever return to one walk; a little more for table churn.
    per_referrer: int = 320
    # Hosting boxes and NATs run a few nodes per IP; dozens vouched for by one peer only is the Sybil pattern.
    per_ip: int = 32
    held_max: int = 50_000  # nodes waiting for a second voucher; beyond it they are only counted
    enabled: bool = True


DEFAULT_LIMITS = Limits()


class Vouching:
    """Tracks who vouched for which node and decides admission. Keys are opaque bytes (a pubkey or node id)."""

    def __init__(self, limits: Limits, filtered: Counter[str]) -> None:
        self.limits = limits
        self.filtered = filtered  # shared with the driver: reason -> distinct nodes held now
        self.released = 0  # held nodes later admitted because a second peer listed them
        self.held_overflow = 0  # held nodes not remembered (``held_max`` reached)
        self._per_ip: Counter[str] = Counter()
        self._per_referrer: Counter[bytes] = Counter()
        self._held: dict[bytes, tuple[bytes, str]] = {}  # node -> (first referrer, reason)

    def admit(self, node: bytes, ip: str, referrer: bytes) -> bool:
        """True: crawl the node now. False: held until another peer vouches for it (counted)."""
        if not self.limits.enabled:
            return True
        held = self._held.get(node)
        if held is not None:
            first, why = held
            if first == referrer:
                return False
            del self._held[node]
            self.filtered[why] -= 1
            if not self.filtered[why]:
                del self.filtered[why]
            self.released += 1
            self._count(ip, referrer)
            return True
        reason: str | None = None
        if self._per_ip[ip] >= self.limits.per_ip:
            reason = "limit_per_ip"
        elif self._per_referrer[referrer] >= self.limits.per_referrer:
            reason = "limit_per_referrer"
        if reason is None:
            self._count(ip, referrer)
            return True
        if len(self._held) < self.limits.held_max:
            self._held[node] = (referrer, reason)
            self.filtered[reason] += 1
        else:
            self.held_overflow += 1
        return False

    def _count(self, ip: str, referrer: bytes) -> None:
        self._per_ip[ip] += 1
        self._per_referrer[referrer] += 1
