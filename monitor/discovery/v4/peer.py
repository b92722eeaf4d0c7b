"""The discv4 service's value types: a peer to talk to, a FINDNODE's answer, and the service's settings."""

from __future__ import annotations

from dataclasses import dataclass, field

from monitor.discovery.v4.wire import NodeEntry
from monitor.p2p.keys import NodeID, PublicKey, node_id
from monitor.p2p.ratelimit import RateLimit
from monitor.p2p.udp import Address

__all__ = ["Peer", "FindNodeResult", "ServiceConfig"]


@dataclass(frozen=True, slots=True)
class Peer:
    """A node to talk to. Slotted and with its id computed once: a crawl holds one per distinct node."""

    pubkey: PublicKey
    ip: str
    udp: int
    tcp: int = 0
    enr_seq: int | None = field(default=None, compare=False)  # as last announced (PING / PONG), if known
    id: NodeID = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", node_id(self.pubkey))

    @property
    def addr(self) -> Address:
        return (self.ip, self.udp)

    @classmethod
    def from_entry(cls, entry: NodeEntry) -> Peer:
        return cls(entry.pubkey, str(entry.ip) if entry.ip is not None else "", entry.udp, entry.tcp)


@dataclass(frozen=True)
class FindNodeResult:
    nodes: list[NodeEntry]
    complete: bool  # ended by a short packet or k nodes, not by waiting (then packets may have been lost)
    packets: int


@dataclass(frozen=True)
class ServiceConfig:
    timeout: float = 1.0  # per request attempt; with min_timeout set, the longest a first attempt waits
    retries: int = 1  # extra attempts after a timeout
    min_timeout: float | None = 0.2  # adaptive timeouts from measured round trips, never shorter; None: fixed
    followup_wait: float = 0.25  # after a full NEIGHBORS packet, how long to wait for the next one
    bond_wait: float = 0.0  # after our PING is answered, how long bond() waits for the peer's own PING
    require_bond: bool = True  # answer FINDNODE / ENRREQUEST only from peers that answered our PING
    ping_back: bool = True  # PING peers that PING us and are not bonded (geth does; it is how they bond)
    rate_limit: RateLimit = field(default_factory=RateLimit)  # on PING / FINDNODE / ENRREQUEST, per source
