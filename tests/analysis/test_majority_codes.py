"""majority_codes against its definition, written out per unit in plain Python (most common known code, ties to the
smallest, 0 when the unit has no known code)."""

from __future__ import annotations

from collections import Counter

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.analysis.units import majority_codes


def _by_definition(units: list[list[int]]) -> list[int]:
    out = []
    for codes in units:
        known = Counter(c for c in codes if c > 0)
        out.append(min(known, key=lambda c: (-known[c], c)) if known else 0)
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.integers(0, 4), min_size=1, max_size=8), max_size=12))
def test_majority_codes_follows_its_definition(units: list[list[int]]) -> None:
    record_unit = np.array([u for u, codes in enumerate(units) for _ in codes], dtype=np.int64)
    record_codes = np.array([c for codes in units for c in codes], dtype=np.int64)
    got = majority_codes(record_unit, record_codes, len(units), 5)
    assert got.tolist() == _by_definition(units)
