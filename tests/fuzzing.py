"""Hypothesis strategies and the runner shared by tests/robust/test_fuzz.py (bounded, CI) and bench/fuzz.py (on
demand): inputs are random bytes or valid seeds mutated (bit flips, cuts, insertions, duplicated slices)."""

from __future__ import annotations

import contextlib
from pathlib import Path

from fuzz_targets import TARGETS, seeds
from hypothesis import strategies as st

__all__ = ["CORPUS", "inputs", "check"]

CORPUS = Path(__file__).resolve().parent / "fuzz_corpus"

_EDIT = st.tuples(
    st.sampled_from(("flip", "cut", "insert", "dup", "set")), st.integers(0, 1 << 16), st.integers(0, 255)
)


def _apply(seed: bytes, edits: list[tuple[str, int, int]]) -> bytes:
    data = bytearray(seed)
    for kind, where, value in edits:
        at = where % (len(data) + 1)
        if kind == "flip" and data:
            data[at % len(data)] ^= 1 << (value % 8)
        elif kind == "set" and data:
            data[at % len(data)] = value
        elif kind == "cut":
            del data[at : at + 1 + value]
        elif kind == "insert":
            data[at:at] = bytes([value]) * (1 + value % 4)
        elif kind == "dup":
            data[at:at] = data[at : at + 1 + value]
    return bytes(data)


def inputs(name: str) -> st.SearchStrategy[bytes]:
    mutated = st.builds(_apply, st.sampled_from(seeds(name, CORPUS)), st.lists(_EDIT, max_size=6))
    return st.one_of(mutated, mutated, st.binary(max_size=1400))  # two thirds mutations of valid inputs


def check(name: str, data: bytes) -> None:
    """Run a target; its documented errors are fine, anything else fails (and hypothesis shrinks it)."""
    target = TARGETS[name]
    with contextlib.suppress(*target.expected):
        target.run(data)
