"""Snappy raw block format (google/snappy format_description.txt), as devp2p p2p v5 compresses message payloads.

Pure Python on purpose: handshake-stage messages are tiny (Status ~100 bytes, Disconnect a few), so a native
library buys nothing measurable here, and owning the decoder lets us bound the output size before allocating
(devp2p rlpx.md: reject messages whose uncompressed size exceeds 16 MiB). The compressor is a plain greedy LZ77
with a 4-byte hash, emitting the same element kinds as the reference encoder; any conforming decoder reads it.
"""

from __future__ import annotations

from typing import Final

from monitor.rlpx.errors import MessageError

__all__ = ["MAX_UNCOMPRESSED", "compress", "decompress", "uncompressed_length"]

MAX_UNCOMPRESSED: Final = 16 * 1024 * 1024
_MAX_OFFSET: Final = 65535  # we only emit 2-byte-offset copies
_MIN_MATCH: Final = 4
_MAX_COPY: Final = 64


def _varint(value: int) -> bytes:
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def uncompressed_length(data: bytes) -> tuple[int, int]:
    """``(length, header size)`` from the varint preamble (at most 5 bytes, 32 bits)."""
    value = shift = 0
    for i, byte in enumerate(data[:5]):
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            if value > 0xFFFFFFFF:
                break
            return value, i + 1
        shift += 7
    raise MessageError("snappy: bad length preamble")


def _literal(out: bytearray, chunk: bytes) -> None:
    n = len(chunk) - 1
    if n < 60:
        out.append(n << 2)
    else:
        size = (n.bit_length() + 7) // 8
        out.append((59 + size) << 2)
        out += n.to_bytes(size, "little")
    out += chunk


def _copy(out: bytearray, offset: int, length: int) -> None:
    while length > 0:
        # Keep a remainder of at least 4 bytes so every element stays a legal copy.
        step = min(length, _MAX_COPY) if length - _MAX_COPY >= _MIN_MATCH or length <= _MAX_COPY else _MAX_COPY - 4
        out.append(((step - 1) << 2) | 2)
        out += offset.to_bytes(2, "little")
        length -= step


def compress(data: bytes) -> bytes:
    out = bytearray(_varint(len(data)))
    table: dict[bytes, int] = {}
    literal_start = i = 0
    end = len(data) - _MIN_MATCH
    while i <= end:
        key = data[i : i + _MIN_MATCH]
        candidate = table.get(key)
        table[key] = i
        if candidate is None or i - candidate > _MAX_OFFSET:
            i += 1
            continue
        length = _MIN_MATCH
        while i + length < len(data) and data[candidate + length] == data[i + length]:
            length += 1
        if literal_start < i:
            _literal(out, data[literal_start:i])
        _copy(out, i - candidate, length)
        i += length
        literal_start = i
    if literal_start < len(data):
        _literal(out, data[literal_start:])
    return bytes(out)


def decompress(data: bytes, max_length: int = MAX_UNCOMPRESSED) -> bytes:
    """Decode one raw snappy block; raise MessageError for any malformed input or a length over ``max_length``."""
    length, pos = uncompressed_length(data)
    if length > max_length:
        raise MessageError(f"snappy: uncompressed length {length} exceeds {max_length}")
    out = bytearray()
    n = len(data)
    while pos < n:
        tag = data[pos]
        kind = tag & 3
        pos += 1
        if kind == 0:
            size = tag >> 2
            if size >= 60:
                extra = size - 59
                size = int.from_bytes(data[pos : pos + extra], "little")
                pos += extra
            size += 1
            if pos + size > n:
                raise MessageError("snappy: literal runs past the input")
            out += data[pos : pos + size]
            pos += size
        else:
            if kind == 1:
                size, offset_bytes = ((tag >> 2) & 7) + 4, 1
                offset = (tag >> 5) << 8
            else:
                size, offset_bytes, offset = (tag >> 2) + 1, 2 if kind == 2 else 4, 0
            if pos + offset_bytes > n:
                raise MessageError("snappy: copy runs past the input")
            offset |= int.from_bytes(data[pos : pos + offset_bytes], "little")
            pos += offset_bytes
            if offset == 0 or offset > len(out):
                raise MessageError("snappy: copy offset out of range")
            start = len(out) - offset
            if offset >= size:
                out += out[start : start + size]
            else:  # overlapping copy: the pattern repeats
                pattern = out[start:]
                out += (pattern * (size // offset + 1))[:size]
        if len(out) > length:
            raise MessageError("snappy: output longer than its preamble")
    if len(out) != length:
        raise MessageError("snappy: output shorter than its preamble")
    return bytes(out)
