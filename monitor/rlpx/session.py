"""A sans-IO RLPx session (h11 style): feed bytes in, get typed events out, collect bytes to send.

    session = Session.initiator(key, remote_pubkey, our_hello)
    send(session.start())                        # the auth packet
    for event in session.receive_data(chunk):    # AckReceived, HelloReceived, StatusReceived, ...
        ...
    send(session.data_to_send())                 # our Hello after the ack, Pong after a Ping, ...

Every decoding failure raises an :class:`~monitor.rlpx.errors.RLPxError`; the session is dead afterwards.
Both roles exist so that tests can run a full RLPx peer in-process; the dialer only uses the initiator.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal, TypeAlias

from monitor.p2p.keys import PrivateKey, PublicKey
from monitor.rlpx.errors import MessageError
from monitor.rlpx.eth import STATUS, Status, decode_status, encode_status, negotiate
from monitor.rlpx.frame import FrameCodec
from monitor.rlpx.handshake import Ack, Auth, Initiator, Recipient
from monitor.rlpx.messages import (
    BASE_PROTOCOL_LENGTH,
    SNAPPY_VERSION,
    Capability,
    Disconnect,
    DisconnectReason,
    Hello,
    Ping,
    Pong,
    decode_p2p,
    encode_p2p,
    join_frame,
    split_frame,
)

__all__ = [
    "DEFAULT_MAX_FRAME_SIZE",
    "AckReceived",
    "AuthReceived",
    "HelloReceived",
    "StatusReceived",
    "DisconnectReceived",
    "PingReceived",
    "PongReceived",
    "MessageReceived",
    "Event",
    "Session",
]

# Enough for any Hello / Status / Disconnect; bigger frames (blocks, transactions) are of no use to a crawler.
DEFAULT_MAX_FRAME_SIZE: Final = 1024 * 1024


@dataclass(frozen=True, slots=True)
class AckReceived:
    ack: Ack


@dataclass(frozen=True, slots=True)
class AuthReceived:
    auth: Auth


@dataclass(frozen=True, slots=True)
class HelloReceived:
    hello: Hello


@dataclass(frozen=True, slots=True)
class StatusReceived:
    status: Status


@dataclass(frozen=True, slots=True)
class DisconnectReceived:
    disconnect: Disconnect


@dataclass(frozen=True, slots=True)
class PingReceived:
    """Answered with a Pong automatically (it is already in ``data_to_send``)."""


@dataclass(frozen=True, slots=True)
class PongReceived:
    pass


@dataclass(frozen=True, slots=True)
class MessageReceived:
    """Any other capability message: only its id is kept."""

    msg_id: int


Event: TypeAlias = (
    AckReceived
    | AuthReceived
    | HelloReceived
    | StatusReceived
    | DisconnectReceived
    | PingReceived
    | PongReceived
    | MessageReceived
)
State: TypeAlias = Literal["handshake", "frames", "closed"]


class Session:
    def __init__(
        self,
        hello: Hello,
        *,
        initiator: Initiator | None = None,
        recipient: Recipient | None = None,
        max_frame_size: int = DEFAULT_MAX_FRAME_SIZE,
    ) -> None:
        self.hello = hello
        self._initiator = initiator
        self._recipient = recipient
        self._max_frame_size = max_frame_size
        self._inbuf = b""
        self._out = bytearray()
        self._codec: FrameCodec | None = None
        self.state: State = "handshake"
        self.remote_hello: Hello | None = None
        self.shared: dict[str, tuple[Capability, int]] = {}

    @classmethod
    def initiator(
        cls, key: PrivateKey, remote: PublicKey, hello: Hello, *, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE
    ) -> Session:
        return cls(hello, initiator=Initiator(key, remote), max_frame_size=max_frame_size)

    @classmethod
    def recipient(cls, key: PrivateKey, hello: Hello, *, max_frame_size: int = DEFAULT_MAX_FRAME_SIZE) -> Session:
        return cls(hello, recipient=Recipient(key), max_frame_size=max_frame_size)

    def start(self) -> bytes:
        """The initiator's auth packet (EIP-8 format)."""
        if self._initiator is None:
            raise RuntimeError("only the initiator starts a session")
        return self._initiator.auth()

    @property
    def compress(self) -> bool:
        """Snappy applies once both Hellos announced p2p version 5 or later."""
        remote = self.remote_hello
        return remote is not None and remote.version >= SNAPPY_VERSION and self.hello.version >= SNAPPY_VERSION

    @property
    def eth(self) -> tuple[Capability, int] | None:
        """The negotiated eth capability and its message id offset, once the remote Hello is in."""
        return self.shared.get("eth")

    @property
    def closed(self) -> bool:
        return self.state == "closed"

    def data_to_send(self) -> bytes:
        out, self._out = bytes(self._out), bytearray()
        return out

    def _send_frame(self, frame_data: bytes) -> None:
        if self._codec is None:
            raise RuntimeError("no frames before the handshake completes")
        self._out += self._codec.encode(frame_data)

    def send_message(self, msg_id: int, payload: bytes) -> None:
        """Send any message by its wire id; ``payload`` is sent as given (compress it yourself if needed)."""
        self._send_frame(join_frame(msg_id, payload))

    def send_status(self, status: Status) -> None:
        negotiated = self.eth
        if negotiated is None:
            raise RuntimeError("eth was not negotiated")
        self._send_frame(join_frame(negotiated[1] + STATUS, encode_status(status, compress=self.compress)))

    def send_disconnect(self, reason: DisconnectReason = DisconnectReason.DISCONNECT_REQUESTED) -> None:
        if self._codec is not None and self.state != "closed":
            self._send_frame(encode_p2p(Disconnect(int(reason)), compress=self.compress))
        self.state = "closed"

    def receive_data(self, data: bytes) -> list[Event]:
        if self.state == "closed":
            return []
        events: list[Event] = []
        if self.state == "handshake":
            self._inbuf += data
            if not self._handshake(events):
                return events
            data, self._inbuf = self._inbuf, b""
        assert self._codec is not None
        self._codec.feed(data)
        while not self.closed and (frame := self._codec.next_frame()) is not None:
            events.append(self._message(frame))
        return events

    def _handshake(self, events: list[Event]) -> bool:
        if self._initiator is not None:
            got = self._initiator.read_ack(self._inbuf)
            if got is None:
                return False
            ack, secrets, used = got
            events.append(AckReceived(ack))
        else:
            assert self._recipient is not None
            read = self._recipient.read_auth(self._inbuf)
            if read is None:
                return False
            auth, used = read
            packet, secrets = self._recipient.ack()
            self._out += packet
            events.append(AuthReceived(auth))
        self._inbuf = self._inbuf[used:]
        self._codec = FrameCodec(secrets, max_frame_size=self._max_frame_size)
        self.state = "frames"
        self._send_frame(encode_p2p(self.hello, compress=False))
        return True

    def _message(self, frame: bytes) -> Event:
        msg_id, payload = split_frame(frame)
        if msg_id < BASE_PROTOCOL_LENGTH:
            message = decode_p2p(msg_id, payload, compressed=self.compress)
            if isinstance(message, Hello):
                if self.remote_hello is not None:
                    raise MessageError("second hello")
                self.remote_hello = message
                self.shared = negotiate(self.hello.capabilities, message.capabilities)
                return HelloReceived(message)
            if self.remote_hello is None and not isinstance(message, Disconnect):
                raise MessageError(f"message {msg_id:#x} before hello")
            if isinstance(message, Disconnect):
                self.state = "closed"
                return DisconnectReceived(message)
            if isinstance(message, Ping):
                self._send_frame(encode_p2p(Pong(), compress=self.compress))
                return PingReceived()
            return PongReceived()
        if self.remote_hello is None:
            raise MessageError(f"message {msg_id:#x} before hello")
        negotiated = self.eth
        if negotiated is not None and msg_id == negotiated[1] + STATUS:
            return StatusReceived(decode_status(payload, compressed=self.compress))
        return MessageReceived(msg_id)
