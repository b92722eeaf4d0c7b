"""Typed access to decoded RLP items (``bytes`` or nested lists), shared by every codec.

pyrlp decodes to untyped nested lists; these helpers turn one item into the type a field needs or raise the
caller's own decode error (discv4 raises DecodeError, RLPx its MessageError subclass) naming the field.
"""

from __future__ import annotations

from typing import Any

from monitor.errors import DecodeError

__all__ = ["uint_bytes", "as_bytes", "as_list", "as_uint"]


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
