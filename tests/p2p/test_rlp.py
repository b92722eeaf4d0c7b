"""Typed RLP item helpers (monitor/p2p/rlp.py): each helper, the error each raises and its message, the size bound."""

from __future__ import annotations

import pytest
import rlp
from hypothesis import given
from hypothesis import strategies as st

from monitor.errors import DecodeError
from monitor.p2p.rlp import as_bytes, as_list, as_uint, uint_bytes
from monitor.rlpx.errors import RLPxError


class FieldError(DecodeError):
    """A codec's own error type, as RLPx passes RLPxError."""


# -- uint_bytes ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "encoded"),
    [(0, b""), (1, b"\x01"), (127, b"\x7f"), (255, b"\xff"), (256, b"\x01\x00"), (2**64 - 1, b"\xff" * 8)],
)
def test_uint_bytes_is_big_endian_without_leading_zeros(value: int, encoded: bytes) -> None:
    assert uint_bytes(value) == encoded


@given(st.integers(min_value=0, max_value=2**256 - 1))
def test_uint_bytes_agrees_with_pyrlp_and_round_trips(value: int) -> None:
    assert uint_bytes(value) == rlp.sedes.big_endian_int.serialize(value)  # an independent implementation
    assert as_uint(uint_bytes(value), "n", max_bytes=32) == value


def test_uint_bytes_refuses_negative_numbers() -> None:
    with pytest.raises(ValueError, match="unsigned"):
        uint_bytes(-1)


# -- as_bytes ------------------------------------------------------------------------------------------------------


def test_as_bytes_returns_a_byte_string_as_is() -> None:
    item = b"\x00\x01"
    assert as_bytes(item, "field") is item
    assert as_bytes(b"", "field") == b""


def test_as_bytes_names_the_field_when_given_a_list() -> None:
    with pytest.raises(DecodeError) as caught:
        as_bytes([b"x"], "ping.to.ip")
    assert type(caught.value) is DecodeError
    assert str(caught.value) == "ping.to.ip: expected a byte string, got a list"


# -- as_list -------------------------------------------------------------------------------------------------------


def test_as_list_returns_a_long_enough_list_as_is() -> None:
    item = [b"a", [b"b"], b""]
    assert as_list(item, "packet", 3) is item
    assert as_list(item, "packet", 0) is item
    assert as_list([], "packet", 0) == []


def test_as_list_refuses_a_byte_string() -> None:
    with pytest.raises(DecodeError, match=r"^neighbors\.nodes: expected a list$"):
        as_list(b"\xc0", "neighbors.nodes", 0)


def test_as_list_refuses_a_short_list_with_both_lengths() -> None:
    with pytest.raises(DecodeError, match=r"^ping: expected at least 4 elements, got 3$"):
        as_list([b"", b"", b""], "ping", 4)


# -- as_uint -------------------------------------------------------------------------------------------------------


def test_as_uint_reads_big_endian_and_empty_as_zero() -> None:
    assert as_uint(b"", "seq") == 0
    assert as_uint(b"\x01\x00", "seq") == 256
    assert as_uint(b"\xff" * 8, "seq") == 2**64 - 1  # the default bound: a uint64


def test_as_uint_max_bytes_bound() -> None:
    with pytest.raises(DecodeError, match=r"^seq: integer longer than 8 bytes$"):
        as_uint(b"\x01" + bytes(8), "seq")
    assert as_uint(b"\xff\xff", "port", max_bytes=2) == 65535
    with pytest.raises(DecodeError, match=r"^port: integer longer than 2 bytes$"):
        as_uint(b"\x01\x00\x00", "port", max_bytes=2)
    with pytest.raises(DecodeError, match="longer than 0 bytes"):
        as_uint(b"\x01", "flag", max_bytes=0)


def test_as_uint_refuses_a_list_as_a_byte_string() -> None:
    with pytest.raises(DecodeError, match=r"^expiration: expected a byte string, got a list$"):
        as_uint([], "expiration")


# -- the caller's error type ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("error", [FieldError, RLPxError])
def test_every_helper_raises_the_callers_error_type(error: type[DecodeError]) -> None:
    cases = [
        lambda: as_bytes([], "a", error),
        lambda: as_list(b"", "b", 1, error),
        lambda: as_list([], "c", 1, error),
        lambda: as_uint([], "d", error=error),
        lambda: as_uint(bytes(9), "e", error=error),
    ]
    for call in cases:
        with pytest.raises(error) as caught:
            call()
        assert type(caught.value) is error
