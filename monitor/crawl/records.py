"""The one place where protocol results become snapshot records.

Protocol packages (``discovery``, ``rlpx``, ``rpc``) return their own types; this module maps a discv4 crawl's
visits, RLPx dial results and ``admin_peers`` samples to :class:`~monitor.snapshot.NodeRecord` and
:class:`~monitor.snapshot.ClientInfo`, and decides each record's network verdict from the best evidence available.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from monitor.crawl.discv4 import Visit
from monitor.crawl.engine import EngineResult
from monitor.discovery.network import NetworkVerdict, classify_network, mainnet_filter
from monitor.discovery.v4.service import Peer
from monitor.p2p.keys import NodeID, node_id
from monitor.rlpx.clientid import parse_client_id
from monitor.rlpx.dialer import DialResult
from monitor.rlpx.eth import status_verdict
from monitor.rpc.admin import SOURCE as RPC_SOURCE
from monitor.rpc.admin import RPCNodeInfo, RPCPeer
from monitor.snapshot import ClientInfo, ForkIdInfo, NodeRecord

__all__ = ["discv4_records", "dial_client", "client_info", "rpc_records"]


def client_info(
    raw: str,
    capabilities: tuple[str, ...] = (),
    network_id: int | None = None,
    genesis: str | None = None,
    disconnect_reason: str | None = None,
    fork_id: ForkIdInfo | None = None,
) -> ClientInfo:
    """The snapshot's ClientInfo for a Hello's client id (language as its family, e.g. "go")."""
    parsed = parse_client_id(raw)
    return ClientInfo(
        raw=raw,
        name=parsed.name,
        version=parsed.version,
        os=parsed.os,
        language=parsed.language,
        capabilities=capabilities,
        network_id=network_id,
        genesis=genesis,
        disconnect_reason=disconnect_reason,
        fork_id=fork_id,
    )


def dial_client(dial: DialResult) -> ClientInfo | None:
    """What a dial learnt about the peer's client (Hello, Status, Disconnect), or None without a Hello."""
    if dial.hello is None:
        return None
    status = dial.status
    return client_info(
        dial.hello.client_id,
        capabilities=tuple(str(c) for c in dial.hello.capabilities),
        network_id=status.network_id if status else None,
        genesis=status.genesis.hex() if status else None,
        disconnect_reason=dial.disconnect.label if dial.disconnect else None,
        fork_id=ForkIdInfo(status.fork_id.hash.hex(), status.fork_id.next) if status else None,
    )


def discv4_records(
    result: EngineResult[Peer, Visit], now: float, dials: Mapping[NodeID, DialResult] | None = None
) -> list[NodeRecord]:
    filt = mainnet_filter(now)
    dials = dials or {}
    records = []
    for key, peer in result.tasks.items():
        visit = result.results.get(key)
        enr = visit.enr if visit is not None else None
        dialled = dials.get(peer.id)
        verdict, reason = classify_network(enr, filt)
        if dialled is not None and dialled.status is not None:
            verdict, reason = status_verdict(dialled.status, filt)  # the peer's own word over RLPx beats its ENR
        elif visit is None:
            reason = "crawl deadline reached before its visit completed"
        elif not visit.answered_ping:
            reason = f"no answer to PING ({visit.failure})"
        fork = enr.eth_fork_id if enr is not None else None
        first_seen = result.first_seen.get(key, now)
        records.append(
            NodeRecord(
                node_id=peer.id.hex(),
                pubkey=peer.pubkey.hex(),
                ip=peer.ip,
                udp_port=peer.udp,
                tcp_port=peer.tcp or None,
                advertised_ip=str(enr.ip or enr.ip6) if enr is not None and (enr.ip or enr.ip6) else None,
                enr=enr.to_text() if enr is not None else None,
                enr_seq=enr.seq if enr is not None else (visit.pong_enr_seq if visit else None),
                enr_fields=enr.fields_text() if enr is not None else {},
                fork_id=ForkIdInfo(fork.hash.hex(), fork.next) if fork is not None else None,
                first_seen=first_seen,
                last_seen=visit.ended if visit is not None and visit.answered_ping else first_seen,
                answered_ping=bool(visit and visit.answered_ping),
                bonded=bool(visit and visit.answered_ping and visit.pinged_us),
                answered_findnode=bool(visit and visit.findnode_answered),
                neighbors_returned=len(visit.seen) if visit is not None else 0,
                network=verdict,
                network_reason=reason,
                client=dial_client(dialled) if dialled is not None else None,
                rlpx=dialled.kind if dialled is not None else None,
            )
        )
    return records


def _verdict(info: RPCNodeInfo, peer: RPCPeer) -> tuple[NetworkVerdict, str]:
    if peer.eth_version is None:
        return "unknown", "rpc: peer has not completed an eth handshake with the sampling node"
    if info.mainnet:
        # geth keeps an eth peer only after its Status matched network id, genesis and fork id.
        return "mainnet", f"rpc: eth/{peer.eth_version} peer of a mainnet node (Status verified by that node)"
    return "other", f"rpc: eth peer of a node on network {info.network_id}"


def rpc_records(info: RPCNodeInfo, peers: Sequence[RPCPeer], now: float) -> list[NodeRecord]:
    """Node records for the sampling node's peers, marked ``source="rpc"``.

    Inbound peers connected from an ephemeral port: their ``tcp_port`` is taken from the enode (the listen port
    they announced), and ``ip`` is the address the connection came from.
    """
    records = []
    for peer in peers:
        verdict, reason = _verdict(info, peer)
        tcp = peer.enode_tcp if peer.inbound else (peer.remote_port or peer.enode_tcp)
        records.append(
            NodeRecord(
                node_id=node_id(peer.pubkey).hex(),
                pubkey=peer.pubkey.hex(),
                ip=peer.remote_ip or peer.enode_ip,
                udp_port=None,
                tcp_port=tcp or None,
                advertised_ip=peer.enode_ip,
                enr=peer.enr,
                first_seen=now,
                last_seen=now,
                network=verdict,
                network_reason=reason,
                source=RPC_SOURCE,
                client=client_info(peer.name, peer.caps) if peer.name else None,
            )
        )
    return records
