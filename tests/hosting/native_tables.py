"""Hand-made inputs for the C lookup table (``monitor.hosting._fastlookup.Table``), shared by its tests."""

from __future__ import annotations

from array import array
from typing import Any

import numpy as np

from monitor.hosting.fused import INDEX_BITS


def table_columns(starts4: list[int], ids4: list[int]) -> dict[str, Any]:
    """A table with the given IPv4 intervals and a single IPv6 interval (id 0) covering everything."""
    blocks = np.arange(1 << INDEX_BITS, dtype=np.uint64) << np.uint64(32 - INDEX_BITS)
    bounds4 = np.searchsorted(np.array(starts4, np.uint32), blocks.astype(np.uint32), "right")
    return {
        "starts4": array("I", starts4),
        "ids4": array("I", ids4),
        "bounds4": np.append(bounds4, len(starts4)).astype(np.uint32),
        "hi6": np.zeros(1, np.uint64),
        "lo6": np.zeros(1, np.uint64),
        "ids6": np.zeros(1, np.uint32),
        "bounds6": np.array([0] + [1] * (1 << INDEX_BITS), np.uint32),
    }
