"""The one place where protocol results become snapshot records.

Protocol packages (``discovery``, ``rlpx``, ``rpc``) return their own types; this module maps a discv4 crawl's
visits, RLPx dial results and ``admin_peers`` samples to :class:`~monitor.snapshot.NodeRecord` and
:class:`~monitor.snapshot.ClientInfo`, and decides each record's network verdict from the best evidence available.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from monitor.crawl import discv4, discv5
from monitor.crawl.engine import EngineResult
from monitor.discovery.enr import ENR
from monitor.discovery.forkid import Filter
from monitor.discovery.network import NetworkVerdict, classify_consensus, classify_network, mainnet_filter
from monitor.discovery.v4.service import Peer as Peer4
from monitor.discovery.v5.service import Peer as Peer5
from monitor.p2p.keys import NodeID, node_id
from monitor.rlpx.clientid import parse_client_id
from monitor.rlpx.dialer import DialResult
from monitor.rlpx.eth import status_verdict
from monitor.rpc.admin import SOURCE as RPC_SOURCE
from monitor.rpc.admin import RPCNodeInfo, RPCPeer
from monitor.snapshot import ClientInfo, Eth2Info, ForkIdInfo, Layer, NodeRecord

__all__ = ["discv4_records", "discv5_records", "dial_client", "client_info", "rpc_records", "judge", "with_record"]


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


def judge(enr: ENR | None, dial: DialResult | None, filt: Filter, now: float) -> tuple[NetworkVerdict, str, Layer]:
    """Network verdict, its reason and the layer, from the best evidence: an RLPx Status (the peer's own word over an
    authenticated session) beats the record; a record's ``eth`` entry says execution layer, ``eth2`` consensus."""
    if dial is not None and dial.status is not None:
        return (*status_verdict(dial.status, filt), "execution")
    if enr is not None and enr.get(b"eth") is not None:
        return (*classify_network(enr, filt), "execution")
    if enr is not None and enr.get(b"eth2") is not None:
        return (*classify_consensus(enr, now), "consensus")
    if enr is None:
        return "unknown", "no ENR", "unknown"
    return "unknown", "ENR has neither an eth nor an eth2 entry", "unknown"


def with_record(record: NodeRecord, enr: ENR | None) -> NodeRecord:
    """``record`` with what its node's ENR says, in the snapshot's terms (unchanged without one)."""
    if enr is None:
        return record
    fork, eth2, ip = enr.eth_fork_id, enr.eth2, enr.ip or enr.ip6
    return dataclasses.replace(
        record,
        advertised_ip=str(ip) if ip else None,
        enr=enr.to_text(),
        enr_seq=enr.seq,
        enr_fields=enr.fields_text(),
        fork_id=ForkIdInfo(fork.hash.hex(), fork.next) if fork is not None else None,
        eth2=Eth2Info(eth2.fork_digest.hex(), eth2.next_fork_version.hex(), eth2.next_fork_epoch) if eth2 else None,
    )


def _why_unanswered(visit: discv4.Visit | discv5.Visit | None, reason: str, enr: ENR | None) -> str:
    if enr is not None and reason not in ("no ENR",):
        return reason
    if visit is None:
        return "crawl deadline reached before its visit completed"
    if not visit.answered_ping:
        return f"no answer to PING ({visit.failure})"
    return reason


def _visit_record(
    peer: Peer4 | Peer5,
    tcp: int | None,
    visit: discv4.Visit | discv5.Visit | None,
    enr: ENR | None,
    dial: DialResult | None,
    seen: tuple[float, float],
    protocol: str,
    filt: Filter,
) -> NodeRecord:
    """One node as one discovery protocol saw it. ``visit`` is None when the deadline came before it; ``seen`` is
    (first seen, now)."""
    first_seen, now = seen
    verdict, reason, layer = judge(enr, dial, filt, now)
    if dial is None or dial.status is None:
        reason = _why_unanswered(visit, reason, enr)
    answered = visit is not None and visit.answered_ping
    record = NodeRecord(
        node_id=peer.id.hex(),
        pubkey=peer.pubkey.hex(),
        ip=peer.ip or None,
        udp_port=peer.udp or None,
        tcp_port=tcp or None,
        first_seen=first_seen,
        last_seen=visit.ended if visit is not None and answered else first_seen,
        answered_ping=answered,
        bonded=answered and isinstance(visit, discv4.Visit) and visit.pinged_us,
        answered_findnode=bool(visit and visit.findnode_answered),
        neighbors_returned=visit.returned if visit is not None else 0,
        network=verdict,
        network_reason=reason,
        source=protocol,
        client=dial_client(dial) if dial is not None else None,
        rlpx=dial.kind if dial is not None else None,
        protocols=(protocol,),
        layer=layer,
        enr_seq=visit.pong_enr_seq if visit else None,
    )
    return with_record(record, enr)


def discv4_records(
    result: EngineResult[Peer4, discv4.Visit], now: float, dials: Mapping[NodeID, DialResult] | None = None
) -> list[NodeRecord]:
    filt, dials = mainnet_filter(now), dials or {}
    records = []
    for key, peer in result.tasks.items():
        visit = result.results.get(key)
        enr = visit.enr if visit is not None else None
        seen = (result.first_seen.get(key, now), now)
        records.append(_visit_record(peer, peer.tcp, visit, enr, dials.get(peer.id), seen, "discv4", filt))
    return records


def discv5_records(
    result: EngineResult[Peer5, discv5.Visit], now: float, dials: Mapping[NodeID, DialResult] | None = None
) -> list[NodeRecord]:
    """discv5 nodes: every node listed in a NODES answer came with its signed record, visited or not."""
    filt, dials = mainnet_filter(now), dials or {}
    records = []
    for key, peer in result.tasks.items():
        visit = result.results.get(key)
        enr = visit.enr if visit is not None and visit.enr is not None else peer.enr
        seen = (result.first_seen.get(key, now), now)
        tcp = enr.tcp if enr is not None else None
        records.append(_visit_record(peer, tcp, visit, enr, dials.get(peer.id), seen, "discv5", filt))
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
