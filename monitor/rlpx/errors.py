"""The RLPx error family: every codec failure is a :class:`RLPxError`, itself a :class:`~monitor.errors.DecodeError`.

The dialer maps each class to a failure kind; callers that only care that bytes were bad catch ``DecodeError``.
"""

from __future__ import annotations

from monitor.errors import DecodeError

__all__ = ["RLPxError", "HandshakeError", "FrameError", "MessageError"]


class RLPxError(DecodeError):
    """Bytes from an RLPx peer that do not decode or authenticate."""


class HandshakeError(RLPxError):
    """An auth or ack packet that does not decrypt, authenticate or parse."""


class FrameError(RLPxError):
    """A frame whose header or body MAC does not verify, or whose header is malformed."""


class MessageError(RLPxError):
    """A frame that authenticates but whose message (p2p, eth, snappy) does not decode."""
