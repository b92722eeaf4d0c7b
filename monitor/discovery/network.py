"""Which network a discovered node serves, judged from its ENR's ``eth`` fork id (EIP-2124).

discv4 is shared by every Ethereum-like chain, so a crawl of it finds Ethereum Classic, testnets, L2s and
others besides mainnet. The ``eth`` entry is the only chain evidence available without an RLPx handshake.
Nodes without a record or without an ``eth`` entry (consensus-layer and non-eth nodes) stay ``unknown``.
Consensus-layer nodes are judged the same way from their ``eth2`` entry (``classify_consensus``, see forkdigest).
"""

from __future__ import annotations

from monitor.discovery.enr import ENR
from monitor.discovery.forkdigest import consensus_verdict
from monitor.discovery.forkid import MAINNET, REASON_INCOMPATIBLE, Filter, NetworkVerdict

__all__ = [
    "NetworkVerdict",
    "MERGE_BLOCK",
    "MERGE_TIMESTAMP",
    "SLOT_SECONDS",
    "classify_consensus",
    "classify_network",
    "estimate_mainnet_block",
    "mainnet_filter",
]

# First proof-of-stake block of mainnet and its timestamp (2022-09-15 06:42:59 UTC), slot 4,700,013.
MERGE_BLOCK = 15_537_394
MERGE_TIMESTAMP = 1_663_224_179
SLOT_SECONDS = 12


def estimate_mainnet_block(now: float) -> int:
    """Mainnet head block at ``now``, assuming one block per 12-second slot since the Merge.

    Missed slots make this an overestimate (a few percent). That is harmless: every block-numbered fork
    (the last, Gray Glacier, at 15,050,000) precedes the Merge, so after it only the timestamp decides the fork
    id. Before the Merge the estimate is clamped to the Merge block rather than extrapolated backwards.
    """
    slots = max(0, int(now) - MERGE_TIMESTAMP) // SLOT_SECONDS
    return MERGE_BLOCK + slots


def mainnet_filter(now: float) -> Filter:
    """A mainnet fork-id filter for a node synced to the head at wall-clock time ``now`` (UNIX seconds)."""
    return Filter(MAINNET, head_block=estimate_mainnet_block(now), head_time=int(now))


def classify_network(enr: ENR | None, filt: Filter) -> tuple[NetworkVerdict, str]:
    """``(verdict, reason)``: ``mainnet`` if the advertised fork id passes ``filt``, ``other`` if it fails."""
    if enr is None:
        return "unknown", "no ENR"
    if enr.get(b"eth") is None:
        return "unknown", "ENR has no eth entry"
    remote = enr.eth_fork_id
    if remote is None:
        return "unknown", "ENR eth entry is malformed"
    compatible, why = filt.check(remote)
    if compatible:
        return "mainnet", f"fork id {remote} compatible ({why})"
    if why == REASON_INCOMPATIBLE:
        # Either another chain, or a fork newer than our schedule: say both, the first is far more common.
        why += f"; unknown to {filt.config.name} schedule (another chain, or a fork this tool does not know)"
    return "other", f"fork id {remote} incompatible: {why}"


def classify_consensus(enr: ENR | None, now: float) -> tuple[NetworkVerdict, str]:
    """``(verdict, reason)`` from the record's ``eth2`` entry against mainnet's consensus fork digests at ``now``."""
    if enr is None:
        return "unknown", "no ENR"
    if enr.get(b"eth2") is None:
        return "unknown", "ENR has no eth2 entry"
    if enr.eth2 is None:
        return "unknown", "ENR eth2 entry is malformed"
    return consensus_verdict(enr.eth2, now)
