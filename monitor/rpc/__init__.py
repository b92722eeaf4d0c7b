"""A second sampling source: the peers of the user's own node, read through web3.py's admin namespace."""

from __future__ import annotations

from monitor.rpc.admin import SOURCE, RPCFormatError, RPCNodeInfo, RPCPeer, parse_node_info, parse_peers
from monitor.rpc.client import AdminUnavailable, RPCError, RPCSample, redact, sample_node

__all__ = [
    "SOURCE",
    "RPCFormatError",
    "RPCNodeInfo",
    "RPCPeer",
    "parse_node_info",
    "parse_peers",
    "AdminUnavailable",
    "RPCError",
    "RPCSample",
    "redact",
    "sample_node",
]
