"""The RLPx stage of a crawl: dial every node that answered discovery, read its Hello and eth Status.

Dials run beside the discovery walk, with their own concurrency bound, as soon as a node has answered PING: a
slow TCP handshake never holds a discovery slot. Each node is dialled once; the outcome is one kind from the
dialer's fixed set (``ok``, ``too_many_peers`` — which still yields the Hello —, ``timeout``, ``refused`` …).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass

from monitor.p2p.keys import NodeID, PrivateKey, PublicKey, node_id
from monitor.p2p.netpolicy import NetRestrict
from monitor.rlpx.dialer import DialResult, dial, our_hello

__all__ = ["RlpxSettings", "RlpxStage"]


@dataclass(frozen=True)
class RlpxSettings:
    enabled: bool = True
    concurrency: int = 64
    timeout: float = 5.0  # one budget per dial: connect, auth/ack, Hello, Status


class RlpxStage:
    def __init__(self, key: PrivateKey, netrestrict: NetRestrict, settings: RlpxSettings) -> None:
        self._key = key
        self._netrestrict = netrestrict
        self._settings = settings
        self._hello = our_hello(key)
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._tasks: dict[NodeID, asyncio.Task[None]] = {}
        self.results: dict[NodeID, DialResult] = {}
        self.skipped: Counter[str] = Counter()  # reason -> nodes not dialled

    def submit(self, pubkey: PublicKey, ip: str, tcp: int | None) -> None:
        """Dial the node once (whichever discovery protocol found it), beside the walk."""
        node = node_id(pubkey)
        if node in self._tasks:
            return
        if not tcp:
            self.skipped["no_tcp_port"] += 1
            return
        self._tasks[node] = asyncio.create_task(self._dial(node, pubkey, ip, tcp))

    async def _dial(self, node: NodeID, pubkey: PublicKey, ip: str, tcp: int) -> None:
        async with self._slots:
            self.results[node] = await dial(
                pubkey,
                ip,
                tcp,
                self._key,
                timeout=self._settings.timeout,
                netrestrict=self._netrestrict,
                hello=self._hello,
            )

    async def finish(self, grace: float) -> None:
        """Wait for the dials under way (at most ``grace`` seconds); abandon, and count, the rest."""
        pending = [t for t in self._tasks.values() if not t.done()]
        if pending:
            deadline = time.monotonic() + grace
            _, late = await asyncio.wait(pending, timeout=max(0.0, deadline - time.monotonic()))
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
            self.skipped["deadline"] += len(late)

    def counters(self) -> dict[str, int]:
        kinds = Counter(r.kind for r in self.results.values())
        out = {f"rlpx_{kind}": n for kind, n in sorted(kinds.items())}
        out.update({f"rlpx_skipped_{reason}": n for reason, n in sorted(self.skipped.items())})
        out["rlpx_dialled"] = len(self.results)
        out["rlpx_hello"] = sum(r.hello is not None for r in self.results.values())
        out["rlpx_status"] = sum(r.status is not None for r in self.results.values())
        return out
