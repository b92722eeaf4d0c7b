"""The client part of the terminal report: client shares, how many units have client info, clients per provider.

A client is known only for nodes the crawler dialed over RLPx and that sent a Hello; every figure here says how many
units that is, so a client share is never read as if it covered the whole population.
"""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from monitor.analysis.clients import ClientsByProvider, client_columns, row_counts
from monitor.analysis.concentration import DimensionAnalysis
from monitor.analysis.report import PopulationAnalysis
from monitor.analysis.stats import wilson_interval
from monitor.outputs.terminal.layout import Col, Fitted, fit_table, print_title

__all__ = ["CLIENT_COLUMNS", "coverage_text", "render_clients", "render_clients_by_provider"]

CLIENT_COLUMNS = 6  # most clients shown by name in the provider x client table; the rest is "other"


def coverage_text(known: int, n: int) -> str:
    """The denominator behind every client figure, as "client known for X of N units (p %)"."""
    share = f" ({100 * known / n:.1f} %)" if n else ""
    return f"client known for {known:,} of {n:,} units{share}"


def _coverage_note(dim: DimensionAnalysis) -> str:
    n = dim.denominator.n
    known = n - dim.share_of("unknown").count
    return (
        f"{coverage_text(known, n).capitalize()}: only nodes dialed over RLPx that sent a Hello have a client; the "
        f"rest count as 'unknown' in the shares above. Client indices use the {known:,} units with client info only."
    )


def _cell(count: int, n: int) -> str:
    """A client's share of a provider's units in whole percent, with its Wilson interval: "50 (15-85)"."""
    ci = wilson_interval(count, n)
    return f"{100 * count / n:.0f} ({100 * ci.low:.0f}-{100 * ci.high:.0f})"


def _columns(crosstab: ClientsByProvider, limit: int) -> list[Col]:
    names = client_columns(crosstab, limit)
    rows = crosstab.rows
    cols = [
        Col("provider", [r.provider for r in rows] or ["(no attributed units)"], label=True),
        Col("n", [f"{r.n:,}" for r in rows] or ["0"], right=True),
        Col("known", [f"{r.client_known:,}" for r in rows] or ["0"], right=True),
    ]
    counts = [row_counts(r, names) for r in rows]
    for i, name in enumerate(names):
        cols.append(Col(name, [_cell(c[i][1], r.n) for c, r in zip(counts, rows, strict=True)] or ["—"], right=True))
    return cols


def render_clients_by_provider(console: Console, crosstab: ClientsByProvider, columns: int = CLIENT_COLUMNS) -> None:
    """Up to ``columns`` clients by name, fewer when the console is narrow: the others add up in "other"."""
    d = crosstab.denominator
    fitted: Fitted | None = None
    for limit in range(columns, -1, -1):
        fitted = fit_table(console, _columns(crosstab, limit))
        if fitted.fits:
            break
    assert fitted is not None
    print_title(console, f"Clients per provider — {d.name}: % of the provider's n units (95% CI)")
    console.print(fitted.table)
    console.print(
        Text(
            f"{coverage_text(crosstab.client_known, d.n).capitalize()}; known = units with client info, 'unknown' = "
            f"none; 'other' = every client not shown by name. {crosstab.providers_left_out:,} smaller providers and "
            f"the unattributed units ({crosstab.units_left_out:,} units) are in no row."
        )
    )


def render_clients(console: Console, primary: PopulationAnalysis) -> None:
    """What follows the client share table: its coverage (the dialed units behind it), then clients per provider."""
    if not primary.has_dimension("client"):
        return
    console.print(Text(_coverage_note(primary.dimension("client"))))
    if primary.clients_by_provider is not None:
        render_clients_by_provider(console, primary.clients_by_provider)
