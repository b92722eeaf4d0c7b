"""Sans-IO RLPx frame codec (devp2p rlpx.md, "Framing").

    frame = header-ciphertext || header-mac || frame-ciphertext || frame-mac
    header = frame-size (3 bytes) || rlp.list(capability-id, context-id) || zero padding to 16 bytes
    header-mac-seed = aes(mac-secret, keccak256.digest(egress-mac)[:16]) ^ header-ciphertext
    frame-mac-seed  = aes(mac-secret, keccak256.digest(egress-mac.update(frame-ciphertext))[:16]) ^ that digest

AES-256-CTR with a zero IV runs as one stream per direction; "aes(mac-secret, x)" is one AES-256-ECB block.
The MACs are running keccak256 states: pycryptodome's ``update_after_digest=True`` digests a copy of the state, so
the stream keeps absorbing after each digest (checked against the EIP-8 ``ingress-mac("foo")`` vector).
"""

from __future__ import annotations

import hmac
from typing import Any, Final

from Crypto.Cipher import AES
from Crypto.Hash import keccak

from monitor.rlpx.errors import FrameError
from monitor.rlpx.handshake import Secrets

__all__ = ["HEADER_DATA", "MAX_FRAME_SIZE", "FrameCodec"]

HEADER_DATA: Final = b"\xc2\x80\x80"  # rlp.list(0, 0): capability-id and context-id, unused since RLPx v5
MAX_FRAME_SIZE: Final = 2**24 - 1
_BLOCK: Final = 16


class _Mac:
    def __init__(self, mac_secret: bytes, seed: bytes) -> None:
        self._state = keccak.new(digest_bits=256, update_after_digest=True)
        self._state.update(seed)
        self._aes = AES.new(mac_secret, AES.MODE_ECB)

    def digest(self) -> bytes:
        return bytes(self._state.digest()[:_BLOCK])

    def header(self, header_ciphertext: bytes) -> bytes:
        seed = _xor16(self._aes.encrypt(self.digest()), header_ciphertext)
        self._state.update(seed)
        return self.digest()

    def body(self, frame_ciphertext: bytes) -> bytes:
        self._state.update(frame_ciphertext)
        prev = self.digest()
        self._state.update(_xor16(self._aes.encrypt(prev), prev))
        return self.digest()


def _xor16(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(_BLOCK, "big")


def _ctr(key: bytes) -> Any:
    return AES.new(key, AES.MODE_CTR, initial_value=bytes(_BLOCK), nonce=b"")


def _padded(size: int) -> int:
    return -(-size // _BLOCK) * _BLOCK


class FrameCodec:
    """One session's frames: ``encode(frame_data)`` for egress; ``feed(bytes)`` then ``next_frame()`` for ingress.

    ``max_frame_size`` bounds what a peer may announce in a header (FrameError beyond it), so a reader never
    buffers more than it chose to.
    """

    def __init__(self, secrets: Secrets, *, max_frame_size: int = MAX_FRAME_SIZE) -> None:
        self._egress_aes = _ctr(secrets.aes_secret)
        self._ingress_aes = _ctr(secrets.aes_secret)
        self._egress_mac = _Mac(secrets.mac_secret, secrets.egress_mac_seed)
        self._ingress_mac = _Mac(secrets.mac_secret, secrets.ingress_mac_seed)
        self._max = min(max_frame_size, MAX_FRAME_SIZE)
        self._buf = bytearray()
        self._size: int | None = None  # frame size read from the last header, until its body arrives

    def encode(self, frame_data: bytes) -> bytes:
        size = len(frame_data)
        if size > MAX_FRAME_SIZE:
            raise ValueError(f"frame of {size} bytes exceeds the 24-bit size field")
        header = (size.to_bytes(3, "big") + HEADER_DATA).ljust(_BLOCK, b"\x00")
        header_ct: bytes = self._egress_aes.encrypt(header)
        header_mac = self._egress_mac.header(header_ct)
        body_ct: bytes = self._egress_aes.encrypt(frame_data.ljust(_padded(size), b"\x00"))
        return header_ct + header_mac + body_ct + self._egress_mac.body(body_ct)

    def feed(self, data: bytes) -> None:
        self._buf += data

    @property
    def buffered(self) -> int:
        return len(self._buf)

    def next_frame(self) -> bytes | None:
        """The next complete frame's data, or None until more bytes are fed; FrameError if it does not verify."""
        if self._size is None:
            if len(self._buf) < 2 * _BLOCK:
                return None
            header_ct, mac = bytes(self._buf[:_BLOCK]), bytes(self._buf[_BLOCK : 2 * _BLOCK])
            if not hmac.compare_digest(self._ingress_mac.header(header_ct), mac):
                raise FrameError("frame header MAC mismatch")
            header = self._ingress_aes.decrypt(header_ct)
            size = int.from_bytes(header[:3], "big")
            if size > self._max:
                raise FrameError(f"frame of {size} bytes exceeds the limit of {self._max}")
            del self._buf[: 2 * _BLOCK]
            self._size = size
        padded = _padded(self._size)
        if len(self._buf) < padded + _BLOCK:
            return None
        body_ct, mac = bytes(self._buf[:padded]), bytes(self._buf[padded : padded + _BLOCK])
        if not hmac.compare_digest(self._ingress_mac.body(body_ct), mac):
            raise FrameError("frame MAC mismatch")
        data: bytes = self._ingress_aes.decrypt(body_ct)[: self._size]
        del self._buf[: padded + _BLOCK]
        self._size = None
        return data
