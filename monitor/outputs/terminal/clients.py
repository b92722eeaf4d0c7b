"""The client part of the terminal report: client shares, how many units have client info, clients per provider.

A client is known only for nodes the crawler dialed over RLPx and that sent a Hello; every figure here says how many
units that is, so a client share is never read as if it covered the whole population.
"""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from monitor.analysis.clients import ClientsByProvider, client_columns, row_counts
from monitor.analysis.concentration import DimensionAnalysis
from monitor.analysis.report import PopulationAnalysis
from monitor.analysis.stats import Interval, wilson_interval

__all__ = ["CLIENT_COLUMNS", "coverage_text", "render_clients", "render_clients_by_provider"]

CLIENT_COLUMNS = 6  # clients shown by name in the provider x client table; the rest is "other"


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f} %"


def _ci(ci: Interval) -> str:
    return f"[{100 * ci.low:.0f}, {100 * ci.high:.0f}]"


def coverage_text(known: int, n: int) -> str:
    """The denominator behind every client figure, as "client known for X of N units (p %)"."""
    share = f" ({_pct(known / n)})" if n else ""
    return f"client known for {known:,} of {n:,} units{share}"


def _coverage_note(dim: DimensionAnalysis) -> str:
    n = dim.denominator.n
    known = n - dim.share_of("unknown").count
    return (
        f"{coverage_text(known, n).capitalize()}: only nodes dialed over RLPx that sent a Hello have a client; the "
        f"rest count as 'unknown' in the shares above. Client indices use the {known:,} units with client info only."
    )


def render_clients_by_provider(console: Console, crosstab: ClientsByProvider, columns: int = CLIENT_COLUMNS) -> None:
    d = crosstab.denominator
    names = client_columns(crosstab, columns)
    table = Table(
        title=f"Clients per provider — {d.name}: client share within each provider (row n = that provider's units)",
        caption=(
            f"{coverage_text(crosstab.client_known, d.n)}; 'unknown' = no client info; [Wilson 95 %]. "
            f"{crosstab.providers_left_out:,} smaller providers and the unattributed units "
            f"({crosstab.units_left_out:,} units) are in no row."
        ),
    )
    table.add_column("provider")
    table.add_column("n", justify="right")
    table.add_column("client known", justify="right")
    for name in names:
        table.add_column(escape(name), justify="right")
    for row in crosstab.rows:
        cells = [f"{_pct(c / row.n)} {_ci(wilson_interval(c, row.n))}" for _, c in row_counts(row, names)]
        table.add_row(escape(row.provider), f"{row.n:,}", f"{row.client_known:,}", *cells)
    if not crosstab.rows:
        table.add_row("(no attributed units)", "0", "0", *("—" for _ in names))
    console.print(table)


def render_clients(console: Console, primary: PopulationAnalysis) -> None:
    """What follows the client share table: its coverage (the dialed units behind it), then clients per provider."""
    if not primary.has_dimension("client"):
        return
    console.print(escape(_coverage_note(primary.dimension("client"))))
    console.print()
    if primary.clients_by_provider is not None:
        render_clients_by_provider(console, primary.clients_by_provider)
