"""What the discv4 and discv5 drivers share: their settings, the counters of refused nodes, and the parts of the
engine's Driver protocol that do not depend on the wire (identity, freshness, hand-over of discovered nodes)."""

from __future__ import annotations

import enum
import ipaddress
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from monitor.crawl.budget import DEFAULT_LIMITS, Limits, Vouching
from monitor.discovery.enr import ENR
from monitor.errors import MonitorError, NetrestrictError, RequestTimeout
from monitor.p2p.keys import NodeID
from monitor.p2p.netpolicy import NetRestrict, admissible

__all__ = ["DriverBase", "Miss", "TimeoutRun", "VisitBase"]


T = TypeVar("T")


@dataclass
class VisitBase(Generic[T]):
    """What one visit of a node produced, in either protocol; ``T`` is the protocol's peer type."""

    peer: T
    started: float
    ended: float = 0.0
    answered_ping: bool = False
    pong_enr_seq: int | None = None
    enr: ENR | None = None  # discv5: the freshest record, fetched or the one the node was listed with
    enr_error: str | None = None
    findnode_sent: int = 0
    findnode_answered: int = 0
    neighbors: dict[NodeID, T] = field(default_factory=dict)  # admitted: will be crawled
    seen: set[bytes] = field(default_factory=set)  # every distinct node returned, admitted or not
    failure: str | None = None  # "timeout", "netrestrict", ... when the node never answered
    returned: int = 0  # len(seen), kept once the visit is over and ``seen`` is let go

    def settle(self) -> None:
        """Drop what only the walk needed: a crawl keeps every visit, and ``seen`` is up to 272 keys each."""
        self.returned = len(self.seen)
        self.seen = set()


@dataclass
class TimeoutRun:
    """Consecutive timeouts of one walk, and how many end it."""

    limit: int
    count: int = 0


class Miss(enum.Enum):
    """Why a walk request brought no answer: the peer may still answer the next one, or the walk is over."""

    TIMEOUT = "timeout"
    STOP = "stop"


class _Task(Protocol):
    @property
    def id(self) -> NodeID: ...
    @property
    def enr_seq(self) -> int | None: ...
    @property
    def ip(self) -> str: ...
    @property
    def udp(self) -> int: ...


class _Result(Protocol):
    answered_ping: bool
    failure: str | None
    neighbors: dict[NodeID, Any]


class _Service(Protocol):
    @property
    def own_id(self) -> NodeID: ...


P = TypeVar("P", bound=_Task)
V = TypeVar("V", bound=_Result)
W = TypeVar("W")
S = TypeVar("S", bound=_Service)
A = TypeVar("A")


class DriverBase(Generic[S, P, V, W]):
    """``S`` the protocol's service, ``P`` its peer (a task), ``V`` its visit (a result), ``W`` its walk settings."""

    def __init__(
        self,
        service: S,
        netrestrict: NetRestrict,
        walk: W | None = None,
        clock: Callable[[], float] = time.time,
        ip_versions: frozenset[int] = frozenset({4}),
        limits: Limits = DEFAULT_LIMITS,
    ) -> None:
        self.service = service
        self.netrestrict = netrestrict
        self.walk: W = walk if walk is not None else self.default_walk()
        self.clock = clock
        self.ip_versions = ip_versions
        self.filtered: Counter[str] = Counter()  # reason -> distinct nodes not contacted
        self._filtered_ids: set[NodeID] = set()
        self.errors: Counter[str] = Counter()  # failure kind -> visits
        self.vouching = Vouching(limits, self.filtered)
        self.on_answered: Callable[[P], None] | None = None
        self.known_seq: dict[NodeID, int] = {}  # newest ENR seq each node announced (PONG) or served
        self._peers: dict[bytes, P] = {}  # node key -> the one Peer object for its latest endpoint or record

    def default_walk(self) -> W:
        raise NotImplementedError

    # Driver protocol: the wire-independent part ------------------------------------------------------------

    def key(self, task: P) -> Hashable:
        return task.id

    def version(self, task: P) -> int:
        return task.enr_seq or 0

    def answered(self, result: V) -> bool:
        return result.answered_ping

    def discovered(self, result: V) -> Iterable[P]:
        found: list[P] = list(result.neighbors.values())
        result.neighbors = {}  # handed to the engine once; the visit is kept for the records
        return found

    # Admission ----------------------------------------------------------------------------------------------

    def refusal(self, ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None, udp: int) -> str | None:
        """Why a node at this endpoint may not be contacted (``--netrestrict``, global-only, our socket's family)."""
        reason = admissible(ip, udp, self.netrestrict)
        if reason is None and ip is not None and ip.version not in self.ip_versions:
            reason = f"ipv{ip.version}_no_socket"  # our one socket speaks the other family
        return reason

    def refuse(self, node: NodeID, reason: str) -> None:
        """Count a node we will not contact, once per node."""
        if node not in self._filtered_ids:
            self._filtered_ids.add(node)
            self.filtered[reason] += 1

    def ping_task(self, peer: P, known_seq: int, own_id: NodeID) -> P | None:
        """A node pinged us: a task if it is admissible and announces an ENR seq newer than ``known_seq`` (the
        engine then revisits it)."""
        if peer.enr_seq is None or peer.id == own_id or peer.enr_seq <= known_seq:
            return None
        ip = ipaddress.ip_address(peer.ip)
        if ip.version not in self.ip_versions or admissible(ip, peer.udp, self.netrestrict) is not None:
            return None
        return peer

    async def contact(self, visit: V, peer: P, request: Awaitable[A]) -> A | None:
        """A visit's first request (PING, or discv4's bond): its answer, with the visit marked answered and
        ``on_answered`` told (e.g. to start the RLPx dial beside the walk); or None, the failure named on the
        visit and counted (``ping_<kind>``)."""
        try:
            answer = await request
        except NetrestrictError:
            visit.failure = "netrestrict"
        except RequestTimeout:
            visit.failure = "timeout"
        except MonitorError as err:
            visit.failure = type(err).__name__
        else:
            visit.answered_ping = True
            if self.on_answered is not None:
                self.on_answered(peer)
            return answer
        self.errors[f"ping_{visit.failure}"] += 1
        return None

    async def ask(self, request: Awaitable[A], timeouts: TimeoutRun) -> A | Miss:
        """One FINDNODE of a walk: its answer; ``Miss.TIMEOUT`` (counted; the walk may go on); or ``Miss.STOP``,
        after ``timeouts.limit`` timeouts in a row (the peer went away) or any other failure (counted by kind)."""
        try:
            answer = await request
        except RequestTimeout:
            self.errors["findnode_timeout"] += 1
            timeouts.count += 1
            return Miss.STOP if timeouts.count >= timeouts.limit else Miss.TIMEOUT
        except MonitorError as err:
            self.errors[f"findnode_{type(err).__name__}"] += 1
            return Miss.STOP
        timeouts.count = 0
        return answer
