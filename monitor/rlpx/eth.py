"""The eth wire protocol's Status message (devp2p caps/eth.md), eth/68 and eth/69, and capability negotiation.

    eth/68: [version, networkid, td, blockhash, genesis, forkid]
    eth/69: [version, networkid, genesis, forkid, earliestBlock, latestBlock, latestBlockHash]   (no td)

forkid is EIP-2124's ``[hash, next]``. Extra trailing elements are ignored (EIP-8 liberal decoding).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

import rlp

from monitor.discovery.forkid import MAINNET_GENESIS_HASH, REASON_INCOMPATIBLE, Filter, ForkId
from monitor.discovery.network import NetworkVerdict
from monitor.errors import DecodeError
from monitor.rlpx import snappy
from monitor.rlpx.errors import MessageError
from monitor.rlpx.messages import BASE_PROTOCOL_LENGTH, Capability, as_bytes, as_uint, decode_rlp

__all__ = [
    "STATUS",
    "ETH68",
    "ETH69",
    "MESSAGE_SPACE",
    "Status",
    "encode_status",
    "decode_status",
    "negotiate",
    "status_verdict",
]

STATUS: Final = 0x00
ETH68: Final = Capability("eth", 68)
ETH69: Final = Capability("eth", 69)
# How many message ids each capability we may share occupies (eth/69 added BlockRangeUpdate 0x11; snap/1 uses 8).
MESSAGE_SPACE: Final = {ETH68: 17, ETH69: 18, Capability("snap", 1): 8}


@dataclass(frozen=True, slots=True)
class Status:
    version: int
    network_id: int
    genesis: bytes
    fork_id: ForkId
    head: bytes  # eth/68 best block hash, eth/69 latest block hash
    total_difficulty: int | None = None  # eth/68 and older only
    earliest_block: int | None = None  # eth/69 only
    latest_block: int | None = None  # eth/69 only


def encode_status(status: Status, *, compress: bool) -> bytes:
    """The eth message payload (without the message id), in the layout of ``status.version``."""
    fork = status.fork_id.to_rlp_item()
    if status.version >= 69:
        body = [
            status.version,
            status.network_id,
            status.genesis,
            fork,
            status.earliest_block or 0,
            status.latest_block or 0,
            status.head,
        ]
    else:
        td = status.total_difficulty or 0
        body = [status.version, status.network_id, td, status.head, status.genesis, fork]
    payload = rlp.encode(body)
    return snappy.compress(payload) if compress else payload


def _hash(item: object, what: str) -> bytes:
    value = as_bytes(item, what)
    if len(value) != 32:
        raise MessageError(f"{what} must be 32 bytes")
    return value


def _fork_id(item: object) -> ForkId:
    try:
        return ForkId.from_rlp_item(item)
    except DecodeError as err:
        raise MessageError(f"status fork id: {err}") from err


def decode_status(payload: bytes, *, compressed: bool) -> Status:
    """Decode a Status payload; the layout follows the version it carries (69 and newer: eth/69)."""
    raw = snappy.decompress(payload, max_length=64 * 1024) if compressed else payload
    items = decode_rlp(raw)
    if not isinstance(items, list) or len(items) < 5:
        raise MessageError("status must be a list of at least 5 items")
    version = as_uint(items[0], "status version")
    network_id = as_uint(items[1], "network id")
    if version >= 69:
        if len(items) < 7:
            raise MessageError("eth/69 status must have 7 items")
        return Status(
            version=version,
            network_id=network_id,
            genesis=_hash(items[2], "genesis"),
            fork_id=_fork_id(items[3]),
            head=_hash(items[6], "latest block hash"),
            earliest_block=as_uint(items[4], "earliest block"),
            latest_block=as_uint(items[5], "latest block"),
        )
    if len(items) < 6:
        raise MessageError("eth/64+ status must have 6 items")
    return Status(
        version=version,
        network_id=network_id,
        total_difficulty=as_uint(items[2], "total difficulty", 32),
        head=_hash(items[3], "best hash"),
        genesis=_hash(items[4], "genesis"),
        fork_id=_fork_id(items[5]),
    )


def negotiate(ours: Iterable[Capability], theirs: Iterable[Capability]) -> dict[str, tuple[Capability, int]]:
    """Shared capabilities by name -> (highest common version, message id offset), per rlpx.md.

    Offsets are assigned in alphabetical order of the shared names from 0x10; a shared capability whose message
    space we do not know ends the allocation (we never offer one).
    """
    shared = {c for c in ours} & {c for c in theirs}
    best: dict[str, Capability] = {}
    for cap in shared:
        if cap.name not in best or cap.version > best[cap.name].version:
            best[cap.name] = cap
    result: dict[str, tuple[Capability, int]] = {}
    offset = BASE_PROTOCOL_LENGTH
    for name in sorted(best):
        cap = best[name]
        result[name] = (cap, offset)
        if cap not in MESSAGE_SPACE:
            break
        offset += MESSAGE_SPACE[cap]
    return result


def status_verdict(status: Status, filt: Filter) -> tuple[NetworkVerdict, str]:
    """Network verdict from a peer's own Status: network id 1, the mainnet genesis and a fork id ``filt`` accepts.

    ``filt`` is a mainnet filter (``monitor.discovery.network.mainnet_filter(now)``); the verdict is "verified"
    because the peer said it over an authenticated RLPx session, not in a record anyone may have written.
    """
    if status.network_id != 1 or status.genesis != MAINNET_GENESIS_HASH:
        return "other", f"status: network id {status.network_id}, genesis 0x{status.genesis.hex()[:8]}… (not mainnet)"
    compatible, why = filt.check(status.fork_id)
    if compatible:
        return "mainnet", f"status verified: network 1, mainnet genesis, fork id {status.fork_id} ({why})"
    if why == REASON_INCOMPATIBLE:
        why += "; a fork this tool does not know, or a mainnet-genesis fork chain"
    return "other", f"status: mainnet genesis but fork id {status.fork_id} incompatible: {why}"
