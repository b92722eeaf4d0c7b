"""The concentration index table of the terminal report (HHI, Nakamoto, top-k, categories, entropy), shared by both
index families: over all operators and over hosted providers only.

A bootstrap percentile interval can exclude its own estimate (METHOD.md); such a cell is flagged with FLAG and the
legend says what it means, rather than showing the interval as if it were fine.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console

from monitor.analysis.concentration import Indices
from monitor.outputs.terminal.layout import Col, ci_num, count_ci, num, print_table

__all__ = ["FLAG", "nakamoto_header", "top_header", "render_indices"]

FLAG = "!"  # the interval does not contain the estimate


def _flag(excludes: bool) -> str:
    return FLAG if excludes else ""


def nakamoto_header(threshold: float) -> str:
    return f"N{100 * threshold:.0f}"


def top_header(ix: Indices) -> str:
    return "top" + "/".join(str(t.k) for t in ix.top)


def render_indices(console: Console, title: str, rows: Sequence[tuple[str, Indices]]) -> None:
    """One row per (label, indices); entropy, categories and top-k go first when the console is narrow."""
    ixs = [ix for _, ix in rows]
    cols = [
        Col("", [label for label, _ in rows], label=True),
        Col("n", [f"{ix.denominator.n:,}" for ix in ixs], right=True),
        Col("unk", [f"{ix.unknown_excluded:,}" for ix in ixs], right=True),
        Col("HHI", [ci_num(ix.hhi, ix.hhi_ci) + _flag(ix.hhi_ci_excludes_estimate) for ix in ixs], right=True),
    ]
    thresholds = sorted({f.threshold for ix in ixs for f in ix.nakamoto})
    for t in thresholds:
        figures = [next((f for f in ix.nakamoto if f.threshold == t), None) for ix in ixs]
        cells = ["—" if f is None else count_ci(f.value, f.ci) + _flag(f.ci_excludes_estimate) for f in figures]
        cols.append(Col(nakamoto_header(t), cells, right=True))
    if ixs:
        top_cells = ["/".join("—" if t.share is None else f"{100 * t.share:.0f}" for t in ix.top) for ix in ixs]
        cols.append(Col(top_header(ixs[0]), top_cells, right=True, drop=1))
    cols.append(Col("cat", [str(ix.categories) for ix in ixs], right=True, drop=2))
    cols.append(Col("H", [num(ix.entropy_bits, 2) for ix in ixs], right=True, drop=3))
    print_table(console, title, cols)
