"""Typed access to decoded RLP items (``bytes`` or nested lists), shared by every codec.

pyrlp decodes to untyped nested lists; these helpers turn one item into the type a field needs or raise the
caller's own decode error (discv4 raises DecodeError, RLPx its MessageError subclass) naming the field.
"""

from __future__ import annotations

from typing import Any

from monitor.errors import DecodeError

__all__ = ["uint_bytes", "as_bytes", "as_list", "as_uint", "encode", "decode"]

MAX_DEPTH = 16  # no protocol we speak nests deeper; a crafted packet must not exhaust the interpreter's stack


def uint_bytes(value: int) -> bytes:
    """RLP's integer encoding: big-endian, no leading zeros, zero as the empty string."""
    if value < 0:
        raise ValueError("RLP integers are unsigned")
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


def as_bytes(item: Any, what: str, error: type[DecodeError] = DecodeError) -> bytes:
    if not isinstance(item, bytes):
        raise error(f"{what}: expected a byte string, got a list")
    return item


def as_list(item: Any, what: str, min_len: int, error: type[DecodeError] = DecodeError) -> list[Any]:
    if not isinstance(item, list):
        raise error(f"{what}: expected a list")
    if len(item) < min_len:
        raise error(f"{what}: expected at least {min_len} elements, got {len(item)}")
    return item


def as_uint(item: Any, what: str, max_bytes: int = 8, error: type[DecodeError] = DecodeError) -> int:
    raw = as_bytes(item, what, error)
    if len(raw) > max_bytes:
        raise error(f"{what}: integer longer than {max_bytes} bytes")
    return int.from_bytes(raw, "big")


# -- a lean codec for the hot discv4 path --------------------------------------------------------------------------
# pyrlp infers a "sedes" for every item and decodes through generic machinery: ~57 µs for one NEIGHBORS packet and
# half of the crawler's RLP time in profiles (bench/crawl_scale.py --profile). These two functions handle only byte
# strings and lists, with pyrlp's canonical-form checks, and are tested against pyrlp as the oracle.


def _prefix(length: int, offset: int) -> bytes:
    if length < 56:
        return bytes((offset + length,))
    size = uint_bytes(length)
    return bytes((offset + 55 + len(size),)) + size


def encode(item: Any) -> bytes:
    """RLP of a byte string or a (nested) list/tuple of them."""
    if isinstance(item, bytes | bytearray):
        if len(item) == 1 and item[0] < 0x80:
            return bytes(item)
        return _prefix(len(item), 0x80) + bytes(item)
    if isinstance(item, list | tuple):
        payload = b"".join([encode(x) for x in item])
        return _prefix(len(payload), 0xC0) + payload
    raise TypeError(f"cannot RLP-encode {type(item).__name__}")


def _length(data: bytes, pos: int, size: int, end: int) -> int:
    start = pos + 1
    if start + size > end:
        raise DecodeError("RLP: length runs past the end")
    if data[start] == 0:
        raise DecodeError("RLP: length with leading zeros")
    length = int.from_bytes(data[start : start + size], "big")
    if length < 56:
        raise DecodeError("RLP: long form for a short length")
    return length


def _item(data: bytes, pos: int, end: int, depth: int) -> tuple[Any, int]:
    b0 = data[pos]
    if b0 < 0x80:
        return data[pos : pos + 1], pos + 1
    if b0 < 0xB8:
        start, stop = pos + 1, pos + 1 + b0 - 0x80
        if stop > end:
            raise DecodeError("RLP: string runs past the end")
        if stop - start == 1 and data[start] < 0x80:
            raise DecodeError("RLP: single byte below 0x80 must encode as itself")
        return data[start:stop], stop
    if b0 < 0xC0:
        size = b0 - 0xB7
        start = pos + 1 + size
        stop = start + _length(data, pos, size, end)
        if stop > end:
            raise DecodeError("RLP: string runs past the end")
        return data[start:stop], stop
    if b0 < 0xF8:
        start, stop = pos + 1, pos + 1 + b0 - 0xC0
    else:
        size = b0 - 0xF7
        start = pos + 1 + size
        stop = start + _length(data, pos, size, end)
    if stop > end:
        raise DecodeError("RLP: list runs past the end")
    if depth >= MAX_DEPTH:
        raise DecodeError(f"RLP: lists nested deeper than {MAX_DEPTH}")
    items: list[Any] = []
    while start < stop:
        b0 = data[start]
        if 0x80 < b0 < 0xB8:  # short strings, most of every packet, inline: a call each costs as much as the work
            end = start + b0 - 0x7F
            if end > stop:
                raise DecodeError("RLP: string runs past the end")
            if b0 == 0x81 and data[start + 1] < 0x80:
                raise DecodeError("RLP: single byte below 0x80 must encode as itself")
            items.append(data[start + 1 : end])
            start = end
        elif 0xB8 <= b0 < 0xC0:  # long strings (public keys): inline too
            size = b0 - 0xB7
            begin = start + 1 + size
            end = begin + _length(data, start, size, stop)
            if end > stop:
                raise DecodeError("RLP: string runs past the end")
            items.append(data[begin:end])
            start = end
        else:
            item, start = _item(data, start, stop, depth + 1)
            items.append(item)
    return items, stop


def decode(data: bytes, strict: bool = True) -> Any:
    """The first RLP item of ``data`` (bytes, or nested lists of bytes); ``strict``: nothing may follow it."""
    data = bytes(data)
    if not data:
        raise DecodeError("RLP: empty input")
    item, end = _item(data, 0, len(data), 0)
    if strict and end != len(data):
        raise DecodeError(f"RLP: {len(data) - end} trailing bytes")
    return item
