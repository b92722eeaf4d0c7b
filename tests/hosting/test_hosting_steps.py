"""Step functions of the AS/country tables against a bisect over their own rows (the independent reference)."""

from __future__ import annotations

from bisect import bisect_right

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from reference import label_lookup

from monitor.hosting.asn import CidrTable, IntervalTable, LabelTable
from monitor.hosting.steps import BITS, Steps, split_v6

LABELS: list[str | None] = ["a", "b", None, "c"]


def answer(steps: Steps, value: int) -> int:
    starts = [h << 64 | lo for h, lo in zip(steps.hi.tolist(), steps.lo.tolist(), strict=True)]
    assert starts[0] == 0 and starts == sorted(set(starts))
    return int(steps.labels[bisect_right(starts, value) - 1])


def probe(table: LabelTable[str], version: int, edges: set[int], extra: list[int]) -> None:
    bits = BITS[version]
    steps = table.steps(version)
    for v in sorted(e for e in edges | set(extra) if 0 <= e < 1 << bits):
        k = answer(steps, v)
        assert (LABELS[k] if k >= 0 else None) == label_lookup(table, version, v), (version, hex(v))


@st.composite
def cidr_blocks(draw: st.DrawFn, version: int) -> list[tuple[int, int, int]]:
    """Sorted, disjoint (start, prefix length, label id) blocks, often touching each other or the end of the space."""
    bits = BITS[version]
    out: list[tuple[int, int, int]] = []
    at = 0
    for _ in range(draw(st.integers(0, 10))):
        plen = draw(st.sampled_from([0, 1, 2, bits // 2, bits // 2 + 1, bits - 1, bits]))
        size = 1 << (bits - plen)
        start = -(-at // size) * size  # the next aligned start at or after `at`
        start += size * draw(st.sampled_from([0, 0, 1, 3]))
        if start + size > 1 << bits:
            break
        out.append((start, plen, draw(st.integers(0, len(LABELS) - 1))))
        at = start + size
    if draw(st.booleans()) and (not out or out[-1][0] + (1 << (bits - out[-1][1])) < 1 << bits):
        out.append(((1 << bits) - 1, bits, 0))  # the very last address
    return out


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([4, 6]).flatmap(lambda v: st.tuples(st.just(v), cidr_blocks(v))), st.data())
def test_cidr_table_steps_answer_like_its_rows(
    case: tuple[int, list[tuple[int, int, int]]], data: st.DataObject
) -> None:
    version, blocks = case
    bits = BITS[version]
    starts = [b[0] for b in blocks]
    hi, lo = split_v6(starts) if starts else (np.zeros(0, np.uint64), np.zeros(0, np.uint64))
    cols = (hi, lo, np.array([b[1] for b in blocks], dtype=np.uint8), np.array([b[2] for b in blocks], dtype=np.int64))
    empty = (np.zeros(0, np.uint64), np.zeros(0, np.uint64), np.zeros(0, np.uint8), np.zeros(0, np.int64))
    table: CidrTable[str] = CidrTable({version: cols, 10 - version: empty}, LABELS)
    edges = {0, (1 << bits) - 1}
    for start, plen, _ in blocks:
        end = start + (1 << (bits - plen)) - 1
        edges |= {start - 1, start, end, end + 1}
    probe(table, version, edges, data.draw(st.lists(st.integers(0, (1 << bits) - 1), max_size=8)))


@st.composite
def intervals(draw: st.DrawFn, version: int) -> tuple[list[int], list[int], list[int]]:
    bits = BITS[version]
    cuts = sorted(set(draw(st.lists(st.integers(0, (1 << bits) - 1), max_size=14))))
    if draw(st.booleans()):
        cuts = sorted(set(cuts) | {0, (1 << bits) - 1})  # intervals from the first / to the last address
    starts, ends, ids = [], [], []
    for a, b in zip(cuts[::2], cuts[1::2], strict=False):
        starts.append(a)
        ends.append(b)
        ids.append(draw(st.integers(0, len(LABELS) - 1)))
    return starts, ends, ids


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([4, 6]).flatmap(lambda v: st.tuples(st.just(v), intervals(v))), st.data())
def test_interval_table_steps_answer_like_its_rows(
    case: tuple[int, tuple[list[int], list[int], list[int]]], data: st.DataObject
) -> None:
    version, rows = case
    table: IntervalTable[str] = IntervalTable({version: rows}, LABELS)
    edges = {0, (1 << BITS[version]) - 1}
    for s, e in zip(rows[0], rows[1], strict=True):
        edges |= {s - 1, s, e, e + 1}
    probe(table, version, edges, data.draw(st.lists(st.integers(0, (1 << BITS[version]) - 1), max_size=8)))
