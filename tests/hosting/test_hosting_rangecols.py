"""The vectorised range flattening (monitor.hosting.rangecols) against PrefixTable, the one-block-at-a-time sweep."""

from __future__ import annotations

from bisect import bisect_right

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.hosting.prefixes import Network, PrefixTable
from monitor.hosting.rangecols import RangeColumns, range_steps

BITS = {4: 32, 6: 128}


class Hit:
    """Identity-compared like RangeHit; ``rank`` decides equal-prefix ties."""

    def __init__(self, name: str, rank: int) -> None:
        self.name, self.rank = name, rank

    def __repr__(self) -> str:
        return f"{self.name}/{self.rank}"


@st.composite
def blocks(draw: st.DrawFn, version: int) -> list[tuple[Network, Hit]]:
    bits = BITS[version]
    pool = [Hit(f"h{i}", draw(st.integers(0, 2))) for i in range(draw(st.integers(1, 5)))]
    # few distinct starts and lengths so that blocks nest, touch and tie often
    anchors = draw(st.lists(st.integers(0, (1 << bits) - 1), min_size=1, max_size=4))
    out = []
    for _ in range(draw(st.integers(0, 14))):
        plen = draw(st.sampled_from([0, 1, 2, bits // 4, bits // 2, bits // 2 + 1, bits - 1, bits]))
        first = draw(st.sampled_from(anchors)) >> (bits - plen) << (bits - plen)
        out.append((Network(version, first, first | ((1 << (bits - plen)) - 1), plen), draw(st.sampled_from(pool))))
    return out


def lookup(steps: tuple[np.ndarray, np.ndarray, np.ndarray], value: int) -> int:
    hi, lo, labels = steps
    starts = [int(h) << 64 | int(lo_) for h, lo_ in zip(hi.tolist(), lo.tolist(), strict=True)]
    assert starts == sorted(set(starts)) and starts[0] == 0  # sorted, distinct, from address 0
    return int(labels[bisect_right(starts, value) - 1])


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([4, 6]).flatmap(lambda v: st.tuples(st.just(v), blocks(v))), st.data())
def test_range_steps_answer_like_prefix_table(case: tuple[int, list[tuple[Network, Hit]]], data: st.DataObject) -> None:
    version, pairs = case
    ref = PrefixTable(pairs, lambda h: h.rank)
    # split in two "datasets" concatenated: row order across parts must decide equal-rank ties as PrefixTable does
    cut = data.draw(st.integers(0, len(pairs)))
    cols = RangeColumns.concat(version, [RangeColumns.from_pairs(version, pairs[:cut]),
                                         RangeColumns.from_pairs(version, pairs[cut:])])  # fmt: skip
    steps = range_steps(cols, lambda h: h.rank)
    bits = BITS[version]
    edges = {0, (1 << bits) - 1}
    for net, _ in pairs:
        edges |= {net.first - 1, net.first, net.last, net.last + 1}
    edges |= set(data.draw(st.lists(st.integers(0, (1 << bits) - 1), max_size=10)))
    for v in sorted(e for e in edges if 0 <= e < 1 << bits):
        i = lookup(steps, v)
        assert (cols.hits[i] if i >= 0 else None) is ref.lookup(version, v), hex(v)


def test_nested_blocks_innermost_wins_and_gaps_are_empty() -> None:
    outer, inner, other = Hit("outer", 0), Hit("inner", 0), Hit("other", 0)
    pairs = [(Network(4, 10 << 24, (11 << 24) - 1, 8), outer),
             (Network(4, 10 << 24 | 1 << 16, (10 << 24 | 2 << 16) - 1, 16), inner),
             (Network(4, 12 << 24, (13 << 24) - 1, 8), other)]  # fmt: skip
    steps = range_steps(RangeColumns.from_pairs(4, pairs), lambda h: 0)
    hi, lo, labels = steps
    assert not hi.any()
    names = {int(s): (RangeColumns.from_pairs(4, pairs).hits[i].name if i >= 0 else None)
             for s, i in zip(lo.tolist(), labels.tolist(), strict=True)}  # fmt: skip
    assert names == {0: None, 10 << 24: "outer", 10 << 24 | 1 << 16: "inner", 10 << 24 | 2 << 16: "outer",
                     11 << 24: None, 12 << 24: "other", 13 << 24: None}  # fmt: skip


def test_bad_prefix_length_is_refused() -> None:
    cols = RangeColumns(4, np.zeros(1, np.uint64), np.zeros(1, np.uint64), np.array([33]), np.array([0]), [Hit("x", 0)])
    with pytest.raises(ValueError, match="prefix length"):
        range_steps(cols, lambda h: 0)
