"""geth's ``admin_peers`` / ``admin_nodeInfo`` answers as typed values (the crawl layer maps them to records).

Pure functions over the decoded JSON (no I/O). Field names follow go-ethereum ``p2p.PeerInfo`` / ``p2p.NodeInfo``:

    admin_peers    [{"enode", "enr"?, "id", "name", "caps": ["eth/68", ...],
                     "network": {"localAddress", "remoteAddress", "inbound", "trusted", "static"},
                     "protocols": {"eth": {"version": 68} | "handshake", ...}}, ...]
    admin_nodeInfo {"id", "name", "enode", "enr", "ip", "ports": {"discovery", "listener"}, "listenAddr",
                    "protocols": {"eth": {"network", "genesis", "head", "config", ...}, ...}}

Unknown or missing fields are tolerated (other clients answer in similar shapes); a peer entry that lacks even a
usable public key is skipped and counted, never fatal.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from monitor.discovery.forkid import MAINNET_GENESIS_HASH
from monitor.errors import DecodeError
from monitor.p2p.keys import PublicKey

__all__ = ["SOURCE", "RPCFormatError", "RPCPeer", "RPCNodeInfo", "parse_peers", "parse_node_info"]

SOURCE = "rpc"
_ENODE = re.compile(r"enode://(?P<key>[0-9a-fA-F]{128})@(?P<host>\[[^\]]*\]|[^:/?]*):(?P<port>\d{1,5})(?:\?(?P<q>.*))?")
_HOSTPORT = re.compile(r"^\[?(?P<host>[^\]]*?)\]?:(?P<port>\d{1,5})$")


class RPCFormatError(DecodeError):
    """An admin_* answer that is not shaped like geth's."""


@dataclass(frozen=True, slots=True)
class RPCPeer:
    pubkey: PublicKey
    name: str
    caps: tuple[str, ...]
    remote_ip: str | None  # as the connection saw it
    remote_port: int | None
    enode_ip: str | None
    enode_tcp: int | None
    inbound: bool
    eth_version: int | None  # None: no eth protocol, or its handshake has not finished
    enr: str | None = None


@dataclass(frozen=True, slots=True)
class RPCNodeInfo:
    pubkey: PublicKey | None
    name: str
    ip: str | None
    listener_port: int | None
    discovery_port: int | None
    network_id: int | None
    genesis: str | None  # hex, no 0x
    enr: str | None = None

    @property
    def mainnet(self) -> bool:
        return self.network_id == 1 and self.genesis == MAINNET_GENESIS_HASH.hex()


def _ip(text: str | None) -> str | None:
    if not text:
        return None
    try:
        return str(ipaddress.ip_address(text.strip("[]")))
    except ValueError:
        return None


def _enode(text: Any) -> tuple[PublicKey, str | None, int | None] | None:
    match = _ENODE.match(text) if isinstance(text, str) else None
    if match is None:
        return None
    return PublicKey(bytes.fromhex(match["key"])), _ip(match["host"]), int(match["port"])


def _host_port(text: Any) -> tuple[str | None, int | None]:
    match = _HOSTPORT.match(text) if isinstance(text, str) else None
    if match is None:
        return None, None
    return _ip(match["host"]), int(match["port"])


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value, 0)
        except ValueError:
            return None
    return None


def _obj(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _peer(entry: Mapping[str, Any]) -> RPCPeer | None:
    parsed = _enode(entry.get("enode"))
    if parsed is None:
        return None
    pubkey, enode_ip, enode_tcp = parsed
    network = _obj(entry.get("network"))
    remote_ip, remote_port = _host_port(network.get("remoteAddress"))
    eth = _obj(entry.get("protocols")).get("eth")
    caps = entry.get("caps")
    return RPCPeer(
        pubkey=pubkey,
        name=_str(entry.get("name")),
        caps=tuple(c for c in caps if isinstance(c, str)) if isinstance(caps, list) else (),
        remote_ip=remote_ip,
        remote_port=remote_port,
        enode_ip=enode_ip,
        enode_tcp=enode_tcp,
        inbound=network.get("inbound") is True,
        eth_version=_int(eth.get("version")) if isinstance(eth, Mapping) else None,
        enr=entry.get("enr") if isinstance(entry.get("enr"), str) else None,
    )


def parse_peers(result: Any) -> tuple[list[RPCPeer], int]:
    """``(peers, skipped)``: entries without a usable enode are skipped and counted."""
    if not isinstance(result, Sequence) or isinstance(result, str | bytes):
        raise RPCFormatError("admin_peers result is not a list")
    peers: list[RPCPeer] = []
    skipped = 0
    for entry in result:
        peer = _peer(entry) if isinstance(entry, Mapping) else None
        if peer is None:
            skipped += 1
        else:
            peers.append(peer)
    return peers, skipped


def parse_node_info(result: Any) -> RPCNodeInfo:
    if not isinstance(result, Mapping):
        raise RPCFormatError("admin_nodeInfo result is not an object")
    parsed = _enode(result.get("enode"))
    ports = _obj(result.get("ports"))
    eth = _obj(_obj(result.get("protocols")).get("eth"))
    genesis = eth.get("genesis")
    return RPCNodeInfo(
        pubkey=parsed[0] if parsed else None,
        name=_str(result.get("name")),
        ip=_ip(_str(result.get("ip"))) or (parsed[1] if parsed else None),
        listener_port=_int(ports.get("listener")),
        discovery_port=_int(ports.get("discovery")),
        network_id=_int(eth.get("network")),
        genesis=genesis.removeprefix("0x").lower() if isinstance(genesis, str) else None,
        enr=result.get("enr") if isinstance(result.get("enr"), str) else None,
    )
