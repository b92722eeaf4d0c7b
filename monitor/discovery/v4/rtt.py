"""Per-peer request timeouts from measured round trips (RFC 6298's smoothed RTT and variance), without I/O.

A fixed timeout is either too long for the many near peers (every unanswered request then blocks a visit for the
whole timeout) or too short for the far ones. Each answered request is a sample: the peer's next requests wait
``srtt + 4 * rttvar`` (RFC 6298 section 2), kept between ``floor`` and the configured ``ceiling``. A peer never
answered yet gets the same rule over every peer's first samples (the network's typical round trip), so a dead node
costs one short timeout plus one retry. A retry waits twice as long as the attempt before (section 5.5), and only
first attempts are measured (Karn's rule: a retried request's answer cannot tell which attempt it answers).
"""

from __future__ import annotations

from dataclasses import dataclass

from monitor.p2p.keys import NodeID

__all__ = ["RttEstimate", "RttTable"]

ALPHA = 1 / 8  # RFC 6298's gains
BETA = 1 / 4
K = 4


@dataclass(slots=True)
class RttEstimate:
    srtt: float
    rttvar: float

    @classmethod
    def first(cls, sample: float) -> RttEstimate:
        return cls(sample, sample / 2)

    def update(self, sample: float) -> None:
        self.rttvar = (1 - BETA) * self.rttvar + BETA * abs(self.srtt - sample)
        self.srtt = (1 - ALPHA) * self.srtt + ALPHA * sample

    @property
    def rto(self) -> float:
        return self.srtt + K * self.rttvar


class RttTable:
    """Round-trip estimates per peer and for the network as a whole; ``timeout`` is what a request should wait."""

    def __init__(self, floor: float, ceiling: float) -> None:
        if not 0 < floor <= ceiling:
            raise ValueError("need 0 < floor <= ceiling")
        self.floor = floor
        self.ceiling = ceiling
        self._peers: dict[NodeID, RttEstimate] = {}
        self._network: RttEstimate | None = None

    def observe(self, peer: NodeID, sample: float) -> None:
        sample = max(0.0, sample)
        known = self._peers.get(peer)
        if known is not None:
            known.update(sample)
            return
        self._peers[peer] = RttEstimate.first(sample)
        if self._network is None:
            self._network = RttEstimate.first(sample)
        else:
            self._network.update(sample)

    def forget(self, peer: NodeID) -> None:
        self._peers.pop(peer, None)

    def timeout(self, peer: NodeID, attempt: int = 0) -> float:
        """How long attempt ``attempt`` (0 = first) of a request to ``peer`` should wait for its answer."""
        estimate = self._peers.get(peer, self._network)
        base = self.ceiling if estimate is None else min(self.ceiling, max(self.floor, estimate.rto))
        return base * (2**attempt)

    def __len__(self) -> int:
        return len(self._peers)
