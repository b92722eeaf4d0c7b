"""Per-node behaviour of devnet nodes: how a node departs from a well-behaved, geth-like discv4 node.

Real networks hold nodes that never bond back, serve no ENR, ignore FINDNODE, vanish mid-crawl or change their
record while being crawled. Tests and benchmarks ask for such nodes through :class:`NodeBehaviour` (by node index,
see ``run_devnet``), never by patching the service. The static parts are settings of the node's
:class:`Discv4Service`; the scripted parts (dying, renewing the record) are played by :class:`ScriptedNode`, which
sits between the node's socket and its service.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

from monitor.discovery.enr import ENR
from monitor.discovery.v4.service import Discv4Service, Peer
from monitor.discovery.v4.wire import HEAD_SIZE, ENRRequest, decode
from monitor.errors import MonitorError
from monitor.p2p.udp import Address, Sender

__all__ = ["NodeBehaviour", "ScriptedNode"]


@dataclass(frozen=True)
class NodeBehaviour:
    serve_enr: bool = True  # False: a pre-EIP-868 node (no record, no seq in PONG, ENRREQUEST unanswered)
    answer_findnode: bool = True  # False: FINDNODE goes unanswered even from bonded peers
    ping_back: bool = True  # False: never PINGs back, so peers stay unbonded and get neither FINDNODE nor ENR answers
    die_after: int | None = None  # answer this many datagrams, then go silent (receive and send nothing); 0: dead
    renew_enr: bool = False  # right after serving its ENR the first time: raise its seq and PING the requester

    def __post_init__(self) -> None:
        if self.die_after is not None and self.die_after < 0:
            raise ValueError("die_after must be at least 0")
        if self.renew_enr and not self.serve_enr:
            raise ValueError("a node that serves no ENR cannot renew it")

    @property
    def scripted(self) -> bool:
        """Does the node need a ScriptedNode in front of its service?"""
        return self.die_after is not None or self.renew_enr


class ScriptedNode:
    """The DatagramHandler and Sender of a node with scripted behaviour; counts what it did in ``service.stats``."""

    def __init__(
        self, service: Discv4Service, behaviour: NodeBehaviour, on_renewed: Callable[[ENR], None] | None = None
    ) -> None:
        self.service = service
        self.behaviour = behaviour
        self.on_renewed = on_renewed
        self.sender: Sender | None = None  # the socket side; set before the node starts
        self.received = 0
        self.dead = behaviour.die_after == 0  # once set: nothing more is received or sent
        self.renewed = False
        self._tasks: set[asyncio.Task[None]] = set()

    def datagram_received(self, data: bytes, addr: Address) -> None:
        if self.dead:
            self.service.stats["devnet:dropped_dead"] += 1
            return
        self.received += 1
        served_before = self.service.stats["sent:enrresponse"]
        self.service.datagram_received(data, addr)
        if self.behaviour.renew_enr and not self.renewed and self.service.stats["sent:enrresponse"] > served_before:
            self._renew(data, addr)
        # Dies after handling the last datagram: its direct replies went out, later sends (a PING-back) do not.
        self.dead = self.behaviour.die_after is not None and self.received >= self.behaviour.die_after

    def send(self, data: bytes, addr: Address) -> None:
        if self.sender is None or self.dead:
            self.service.stats["devnet:unsent_dead"] += 1
            return
        self.sender.send(data, addr)

    def _renew(self, request: bytes, addr: Address) -> None:
        """A record change, as after an IP change: new seq, announced by PINGing the peer that just fetched it."""
        old = self.service.enr
        if old is None or request[HEAD_SIZE] != ENRRequest.TYPE:
            return
        self.renewed = True
        new = ENR.create(self.service.key, old.seq + 1, ip=old.ip, udp=old.udp, tcp=old.tcp, eth=old.eth_fork_id)
        self.service.update_enr(new)
        if self.on_renewed is not None:
            self.on_renewed(new)
        requester = decode(request).pubkey  # already verified by the service, which answered it
        task = asyncio.ensure_future(self._announce(Peer(requester, addr[0], addr[1])))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _announce(self, peer: Peer) -> None:
        try:
            await self.service.ping(peer)
        except MonitorError:  # the peer may have finished its crawl: an unanswered PING is expected, counted
            self.service.stats["devnet:renewal_ping_unanswered"] += 1

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
