"""Share charts and tables of one dimension for the HTML report (bars with Wilson 95 % whiskers, and the same rows
as a table), shared by the provider, region, country and client sections."""

from __future__ import annotations

from monitor.analysis.concentration import UNKNOWN, DimensionAnalysis
from monitor.outputs.html_parts import Raw, ci_pct, ci_short, figure, pct, table
from monitor.outputs.svg import Bar, hbar_chart

__all__ = ["share_figure", "share_table", "shown_note"]


def _share_bars(dim: DimensionAnalysis, top: int) -> list[Bar]:
    return [
        Bar(
            label=s.key,
            value=s.share,
            low=s.ci.low,
            high=s.ci.high,
            text=f"{pct(s.share)} {ci_short(s.ci)} {s.count:,} units",
            tone="unknown" if s.key == UNKNOWN else "bar",
        )
        for s in dim.shares[:top]
    ]


def shown_note(dim: DimensionAnalysis, top: int) -> str:
    if not dim.shares:
        return "No units in this denominator."
    if len(dim.shares) <= top:
        return f"All {len(dim.shares)} categories shown."
    rest = dim.shares[top:]
    count = sum(s.count for s in rest)
    return (
        f"Top {top} of {len(dim.shares)} categories shown; the other {len(rest)} hold {count:,} units "
        f"({pct(count / dim.denominator.n)})."
    )


def share_figure(
    dim: DimensionAnalysis, top: int, what: str, chart_id: str, unknown_means: str = "no attribution"
) -> Raw:
    """Bar chart of the largest shares along one dimension with Wilson 95 % error bars."""
    d = dim.denominator
    title = f"{what} — {d.name}, n = {d.n:,}"
    desc = (
        f"Share of {d.description} per {dim.dimension}; n = {d.n:,}. Bars: point estimates; whiskers: Wilson 95 % "
        f"intervals. 'unknown' = {unknown_means}. {shown_note(dim, top)}"
    )
    return figure(hbar_chart(_share_bars(dim, top), chart_id=chart_id, title=title, description=desc), desc)


def share_table(dim: DimensionAnalysis, top: int, what: str) -> Raw:
    d = dim.denominator
    rows = [(s.key, f"{s.count:,}", pct(s.share), ci_pct(s.ci)) for s in dim.shares[:top]]
    return table(
        f"{what} — {d.name}, n = {d.n:,}. {shown_note(dim, top)}",
        (dim.dimension, "count", "share", "95 % CI (Wilson)"),
        rows,
        numeric=(1, 2, 3),
        empty="no units in this denominator",
    )
