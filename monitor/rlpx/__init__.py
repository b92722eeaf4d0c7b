"""RLPx (devp2p rlpx.md): ECIES handshake, frames, p2p and eth Status messages, and a dialer.

Layers, bottom up: ``ecies`` and ``handshake`` (auth/ack, secrets), ``frame`` (encrypted, MACed frames),
``snappy``, ``messages`` (p2p) and ``eth`` (Status), ``session`` (sans-IO state machine), ``clientid`` (client id
strings), and ``dialer``, the only module with sockets.
"""

from __future__ import annotations

from monitor.rlpx.clientid import ClientId, parse_client_id
from monitor.rlpx.dialer import DIAL_KINDS, DialKind, DialResult, DialTarget, dial, dial_many, our_hello
from monitor.rlpx.errors import FrameError, HandshakeError, MessageError, RLPxError
from monitor.rlpx.eth import ETH68, ETH69, Status
from monitor.rlpx.messages import Capability, Disconnect, DisconnectReason, Hello
from monitor.rlpx.session import Session

__all__ = [
    "ClientId",
    "parse_client_id",
    "DIAL_KINDS",
    "DialKind",
    "DialResult",
    "DialTarget",
    "dial",
    "dial_many",
    "our_hello",
    "FrameError",
    "HandshakeError",
    "MessageError",
    "RLPxError",
    "ETH68",
    "ETH69",
    "Status",
    "Capability",
    "Disconnect",
    "DisconnectReason",
    "Hello",
    "Session",
]
