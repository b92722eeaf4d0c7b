"""Published ranges as columns, flattened to a longest-prefix step function with numpy (the cold-load path).

:class:`~monitor.hosting.prefixes.PrefixTable` builds the same answer one block at a time (a dict of best blocks, then
a stack sweep); for the 131 k bundled ranges that Python loop, plus one ``Network`` object per block, was ~0.5 s of a
first load. Here the blocks are integer columns and the flattening is a handful of array passes:

1. **Ties.** Blocks with the same (start, prefix length) keep the one of highest rank, the first seen on equal rank
   (one ``lexsort``), exactly as ``PrefixTable`` does.
2. **Depth.** CIDR blocks never partially overlap, so the blocks that contain an address form a chain, and the
   innermost one is the only one at the chain's depth that starts at or before the address. A block's depth (how many
   blocks contain its start, itself included) is, with blocks sorted by (start, prefix length), its 1-based position
   minus the number of blocks that ended at or before its start.
3. **Steps.** At every breakpoint (a block start or the address after a block), the coverage count c is starts minus
   ends so far; the winner there is the last block of depth c starting at or before it: one ``searchsorted`` on the
   key (depth, start). Coverage 0 is a gap.

IPv6 positions do not fit one machine word, so positions are replaced by their rank among all distinct positions
(a ``lexsort`` on the (high, low) uint64 halves) and the passes above run on those ranks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt

from monitor.hosting.prefixes import Network
from monitor.hosting.steps import BITS, block_after, split_v6

__all__ = ["RangeColumns", "RangeSteps", "flatten", "range_steps"]

T = TypeVar("T")
U64 = npt.NDArray[np.uint64]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class RangeColumns(Generic[T]):
    """Blocks of one address family: start as (high, low) uint64 halves, prefix length, and an index into ``hits``.

    IPv4 starts live in ``lo`` (``hi`` is 0). Row order is input order: it decides ties of equal rank.
    """

    version: int
    hi: U64
    lo: U64
    plen: I64
    hit: I64
    hits: list[T]

    def __len__(self) -> int:
        return len(self.plen)

    @classmethod
    def from_pairs(cls, version: int, pairs: Iterable[tuple[Network, T]]) -> RangeColumns[T]:
        """Columns of the ``(network, hit)`` pairs of one family; hits are numbered by identity."""
        ids: dict[int, int] = {}
        hits: list[T] = []
        firsts: list[int] = []
        plens: list[int] = []
        rows: list[int] = []
        for net, value in pairs:
            if net.version != version:
                continue
            k = ids.get(id(value))
            if k is None:
                k = ids[id(value)] = len(hits)
                hits.append(value)
            firsts.append(net.first)
            plens.append(net.prefixlen)
            rows.append(k)
        hi, lo = split_v6(firsts)
        return cls(version, hi, lo, np.array(plens, dtype=np.int64), np.array(rows, dtype=np.int64), hits)

    @classmethod
    def concat(cls, version: int, parts: Sequence[RangeColumns[T]]) -> RangeColumns[T]:
        """Rows of ``parts`` one after the other (earlier parts win ties of equal rank)."""
        hits: list[T] = []
        rows = []
        for part in parts:
            rows.append(part.hit + len(hits))
            hits.extend(part.hits)
        empty_u: U64 = np.zeros(0, np.uint64)
        empty_i: I64 = np.zeros(0, np.int64)
        hi = np.concatenate([empty_u, *(p.hi for p in parts)])
        lo = np.concatenate([empty_u, *(p.lo for p in parts)])
        plen = np.concatenate([empty_i, *(p.plen for p in parts)])
        return cls(version, hi, lo, plen, np.concatenate([empty_i, *rows]), hits)

    def where(self, keep_hit: Callable[[T], bool]) -> RangeColumns[T]:
        """The rows whose hit passes ``keep_hit`` (``hits`` is kept whole; unused entries are harmless)."""
        keep = np.array([keep_hit(h) for h in self.hits] or [True], dtype=bool)[self.hit] if len(self) else None
        if keep is None or keep.all():
            return self
        return RangeColumns(self.version, self.hi[keep], self.lo[keep], self.plen[keep], self.hit[keep], self.hits)


def range_steps(cols: RangeColumns[T], rank: Callable[[T], int]) -> tuple[U64, U64, I64]:
    """The longest-prefix step function: ``labels[i]`` (a hit index, -1 = no block) holds from ``(hi[i], lo[i])`` to
    the next start; the first start is 0. Adjacent steps may carry the same label."""
    bits = BITS[cols.version]
    plen = cols.plen
    if len(plen) and (plen.min() < 0 or plen.max() > bits):
        raise ValueError(f"prefix length outside 0..{bits}")
    hit_rank = np.array([rank(h) for h in cols.hits] or [0], dtype=np.int64)
    rows = np.arange(len(plen))
    # 1. ties: per (start, prefix length) the highest rank, then the earliest row
    order = np.lexsort((rows, -hit_rank[cols.hit], plen, cols.lo, cols.hi))
    hi, lo, plen, hit = cols.hi[order], cols.lo[order], plen[order], cols.hit[order]
    first_of_key = np.ones(len(hi), dtype=bool)
    first_of_key[1:] = (hi[1:] != hi[:-1]) | (lo[1:] != lo[:-1]) | (plen[1:] != plen[:-1])
    hi, lo, plen, hit = hi[first_of_key], lo[first_of_key], plen[first_of_key], hit[first_of_key]
    n = len(hi)
    # positions (block starts, addresses after blocks) replaced by their rank among the distinct ones
    after_hi, after_lo, overflow = block_after(cols.version, hi, lo, plen)
    zero = np.zeros(1, np.uint64)
    pos_hi = np.concatenate([zero, hi, after_hi[~overflow]])
    pos_lo = np.concatenate([zero, lo, after_lo[~overflow]])
    by_pos = np.lexsort((pos_lo, pos_hi))
    new = np.ones(len(by_pos), dtype=bool)
    new[1:] = (pos_hi[by_pos][1:] != pos_hi[by_pos][:-1]) | (pos_lo[by_pos][1:] != pos_lo[by_pos][:-1])
    dense = np.empty(len(by_pos), dtype=np.int64)
    dense[by_pos] = np.cumsum(new) - 1
    positions = int(new.sum())
    start_r = dense[1 : n + 1]
    end_r = np.full(n, positions, dtype=np.int64)  # past the end of the space: never ends
    end_r[~overflow] = dense[n + 1 :]
    # ends counted at or before each position; coverage = starts - ends there
    ended = np.cumsum(np.bincount(end_r, minlength=positions + 1)[:positions])
    started = np.cumsum(np.bincount(start_r, minlength=positions)[:positions])
    coverage = started - ended
    # 2. depth of each block (blocks are sorted by start, then prefix length)
    depth = np.arange(1, n + 1) - ended[start_r] if n else np.zeros(0, np.int64)
    # 3. at each position, the last block of depth == coverage starting there or before
    radix = positions + 1
    key = depth * radix + start_r
    by_key = np.argsort(key, kind="stable")
    query = coverage * radix + np.arange(positions)
    winner = np.searchsorted(key[by_key], query, "right") - 1
    labels = np.where(coverage > 0, hit[by_key[np.maximum(winner, 0)]] if n else -1, -1)
    sorted_hi, sorted_lo = pos_hi[by_pos][new], pos_lo[by_pos][new]
    return sorted_hi, sorted_lo, labels.astype(np.int64)


@dataclass(frozen=True, slots=True)
class RangeSteps:
    """The flattened range table of both families: ``steps[v] = (hi, lo, labels)``, labels index ``hits``."""

    steps: dict[int, tuple[U64, U64, I64]]
    hits: list[object]


def flatten(columns: Sequence[RangeColumns[T]], rank: Callable[[T], int]) -> RangeSteps:
    """:func:`range_steps` of each family's columns, with one shared hit list (a hit object in several families'
    lists is numbered once, so it becomes one answer downstream)."""
    hits: list[object] = []
    number: dict[int, int] = {}
    steps = {}
    for cols in columns:
        hi, lo, labels = range_steps(cols, rank)
        renumber = []
        for h in cols.hits:
            if id(h) not in number:
                number[id(h)] = len(hits)
                hits.append(h)
            renumber.append(number[id(h)])
        renumber.append(-1)
        steps[cols.version] = (hi, lo, np.array(renumber, dtype=np.int64)[labels])  # label -1 reads the trailing -1
    return RangeSteps(steps, hits)
