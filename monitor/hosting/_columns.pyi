"""Type stub of the optional C extension ``monitor/hosting/_columns.c``."""

from collections.abc import Sequence
from typing import Any, Literal

from numpy.typing import NDArray
from typing_extensions import Buffer

def flat_ints(chunks: Sequence[Sequence[int]], start: int, stop: int, code: Literal["B", "q", "Q"], /) -> bytearray:
    """Items [start, stop) of the flattened chunks as native uint8 ("B"), int64 ("q") or uint64 ("Q").

    TypeError for a non-int item, OverflowError for a value out of range, ValueError if there are fewer than stop items.
    """

def flat_u128(chunks: Sequence[Sequence[int]], start: int, stop: int, /) -> tuple[bytearray, bytearray]:
    """Items [start, stop) of the flattened chunks, each in [0, 2**128), as (high halves, low halves) native uint64.

    TypeError for a non-int item, OverflowError for a value out of range, ValueError if there are fewer than stop items.
    """

def factorize(keys: Buffer | NDArray[Any], /) -> tuple[bytearray, bytearray]:
    """(distinct values in order of first appearance, index of each key among them) of a 1-d int64 buffer."""

INTERFACE: int  # see monitor.hosting.native.usable
