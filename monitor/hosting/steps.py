"""Step functions over an address family: the common form every lookup table takes before it is fused.

A table becomes a :class:`Steps`: sorted, distinct starts beginning at address 0, each with the label (an integer,
-1 for none) that holds from it up to the next start. Starts are (high, low) uint64 halves, because numpy has no
128-bit integers; IPv4 starts sit in ``lo`` with ``hi`` 0. :mod:`monitor.hosting.fused` merges several of them.

Helpers here build steps from CIDR blocks (geoip2fast's 1.4 M rows, the bundled cloud ranges) and from explicit
``[start, end]`` intervals (the refreshed iptoasn file), all vectorised.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["BITS", "Steps", "after_end", "block_after", "cidr_steps", "span_steps", "split_v6"]

U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
BITS = {4: 32, 6: 128}
_MASK64 = (1 << 64) - 1


@dataclass(frozen=True, slots=True)
class Steps:
    """``labels[i]`` holds from ``(hi[i], lo[i])`` to the next start; -1 = no label."""

    hi: U64
    lo: U64
    labels: I64

    def __len__(self) -> int:
        return len(self.labels)


def split_v6(values: Sequence[int]) -> tuple[U64, U64]:
    """128-bit ints → (high, low) uint64 arrays (an object array keeps the per-item work in C loops)."""
    if not len(values):
        return np.zeros(0, np.uint64), np.zeros(0, np.uint64)
    obj = np.array(values, dtype=object)
    return (obj >> 64).astype(np.uint64), (obj & _MASK64).astype(np.uint64)


def block_after(version: int, hi: U64, lo: U64, plen: npt.NDArray[np.integer]) -> tuple[U64, U64, Bools]:
    """The address right after each CIDR block (start halves, prefix length), and whether that lies past the end of
    the address space (the block runs to the last address)."""
    one = np.uint64(1)
    plen = plen.astype(np.int64)
    if version == 4:
        after_lo = lo + (one << (32 - plen).astype(np.uint64))
        return hi, after_lo, after_lo >= np.uint64(1 << 32)
    add_hi = np.where((plen >= 1) & (plen <= 64), one << np.clip(64 - plen, 0, 63).astype(np.uint64), np.uint64(0))
    add_lo = np.where(plen > 64, one << np.clip(128 - plen, 0, 63).astype(np.uint64), np.uint64(0))
    after_lo = lo + add_lo
    carry = (after_lo < lo).astype(np.uint64)
    partial = hi + add_hi
    after_hi = partial + carry
    overflow = (partial < hi) | (after_hi < partial) | (plen == 0)
    return after_hi, after_lo, overflow


def _squeeze(hi: U64, lo: U64, labels: I64) -> Steps:
    """Drop steps that repeat the previous label (geoip2fast splits runs of one label into many CIDRs: ~37 %)."""
    keep = np.ones(len(labels), dtype=bool)
    keep[1:] = labels[1:] != labels[:-1]
    return Steps(hi[keep], lo[keep], labels[keep])


def cidr_steps(version: int, hi: U64, lo: U64, plen: npt.NDArray[np.integer], labels: I64) -> Steps:
    """Steps of sorted, non-overlapping CIDR blocks; the space between blocks gets label -1."""
    return span_steps(version, hi, lo, *block_after(version, hi, lo, plen), labels)


def after_end(version: int, end_hi: U64, end_lo: U64) -> tuple[U64, U64, Bools]:
    """The address after each inclusive end (halves), and whether that end is the last address of the space."""
    one = np.uint64(1)
    if version == 4:
        after = end_lo + one
        return end_hi, after, after >= np.uint64(1 << 32)
    after_lo = end_lo + one  # wraps to 0 when the low half is all ones: carry into the high half
    carry = (after_lo == 0).astype(np.uint64)
    after_hi = end_hi + carry
    return after_hi, after_lo, (carry == 1) & (after_hi == 0)


def span_steps(version: int, hi: U64, lo: U64, after_hi: U64, after_lo: U64, overflow: Bools, labels: I64) -> Steps:
    """Steps of sorted, disjoint intervals given by start halves and the halves of the address after each
    (``overflow``: the interval runs to the end of the space); the space between intervals gets label -1."""
    n = len(hi)
    follows = np.zeros(n, dtype=bool)  # the next block starts right where this one ends
    follows[:-1] = (after_hi[:-1] == hi[1:]) & (after_lo[:-1] == lo[1:])
    gap = ~follows & ~overflow
    head = 0 if n and hi[0] == 0 and lo[0] == 0 else 1  # steps start at address 0
    zeros = np.zeros(head, np.uint64)
    pos_hi = np.concatenate([zeros, hi, after_hi[gap]])
    pos_lo = np.concatenate([zeros, lo, after_lo[gap]])
    lab = np.concatenate([np.full(head, -1, np.int64), labels.astype(np.int64), np.full(int(gap.sum()), -1, np.int64)])
    # two sorted runs (blocks, gap starts) plus the head: a stable sort merges them in ~linear time
    order = np.argsort(pos_lo, kind="stable") if version == 4 else np.lexsort((pos_lo, pos_hi))
    return _squeeze(pos_hi[order], pos_lo[order], lab[order])
