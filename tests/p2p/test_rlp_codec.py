"""The lean RLP codec (monitor/p2p/rlp.py encode/decode) against pyrlp as the oracle."""

from __future__ import annotations

from typing import Any

import pytest
import rlp as pyrlp
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.errors import DecodeError
from monitor.p2p import rlp


def _nested(depth: int) -> list[Any]:
    item: list[Any] = []
    for _ in range(depth):
        item = [item]
    return item


items = st.recursive(st.binary(max_size=80), lambda children: st.lists(children, max_size=6), max_leaves=30)


@given(items)
@settings(max_examples=400, deadline=None)
def test_encode_and_decode_agree_with_pyrlp(item: Any) -> None:
    encoded = rlp.encode(item)
    assert encoded == pyrlp.encode(item)
    assert rlp.decode(encoded) == pyrlp.decode(encoded)


@given(st.binary(min_size=1, max_size=120))
@settings(max_examples=2000, deadline=None)
def test_arbitrary_bytes_accepted_or_rejected_as_pyrlp_does(data: bytes) -> None:
    try:
        expected = pyrlp.decode(data, strict=True)  # strict=False lets pyrlp read past the end
    except pyrlp.exceptions.DecodingError:
        with pytest.raises(DecodeError):
            rlp.decode(data)
        return
    assert rlp.decode(data) == expected


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "empty"),
        (b"\x81\x05", "single byte below 0x80"),
        (b"\xb8\x05hello", "long form"),
        (b"\xb9\x00\x40" + b"x" * 64, "leading zeros"),
        (b"\x85abc", "past the end"),
        (b"\xc3\x01\x02", "past the end"),
        (b"\x01\x02", "trailing"),
        (pyrlp.encode(_nested(40)), "nested deeper"),
    ],
)
def test_malformed_input_raises_decode_error(data: bytes, why: str) -> None:
    with pytest.raises(DecodeError, match=why):
        rlp.decode(data)


def test_encode_rejects_other_types() -> None:
    with pytest.raises(TypeError):
        rlp.encode(5)
