"""The Clients section of the HTML report: client shares (chart and table) and the provider x client table.

A client is known only for nodes the crawler dialed over RLPx and that sent a Hello. The section opens with how many
units that is, every caption repeats it, and units without client info stay in every figure as "unknown".
"""

from __future__ import annotations

from monitor.analysis.clients import ClientsByProvider, client_columns, row_counts
from monitor.analysis.concentration import UNKNOWN, DimensionAnalysis
from monitor.analysis.report import Analysis, PopulationAnalysis
from monitor.analysis.stats import wilson_interval
from monitor.outputs.html_parts import Raw, ci_pct, e, pct, section, table
from monitor.outputs.html_shares import share_figure, share_table

__all__ = ["clients_section", "clients_by_provider_table", "CLIENT_COLUMNS"]

CLIENT_COLUMNS = 8  # clients shown by name in the provider x client table; the rest is "other"
_UNKNOWN_MEANS = "no client info (not dialed over RLPx, or no Hello)"


def _coverage(known: int, n: int, what: str = "units") -> str:
    share = f" ({pct(known / n)})" if n else ""
    return f"client known for {known:,} of {n:,} {what}{share}"


def _cell(count: int, n: int) -> Raw:
    tip = e(f"{count:,} of {n:,}")
    return Raw(
        f'<span title="{tip}">{e(pct(count / n))}</span><br><small>{e(ci_pct(wilson_interval(count, n)))}</small>'
    )


def clients_by_provider_table(crosstab: ClientsByProvider, columns: int = CLIENT_COLUMNS) -> Raw:
    """Rows: the top providers; cells: the share of each client among that provider's units (Wilson 95 % below)."""
    d = crosstab.denominator
    names = client_columns(crosstab, columns)
    headers: list[object] = ["provider", "n (units)", "client known", *names]
    rows = [
        [row.provider, f"{row.n:,}", f"{row.client_known:,}", *(_cell(c, row.n) for _, c in row_counts(row, names))]
        for row in crosstab.rows
    ]
    caption = (
        f"Clients per provider — {d.name}: share of each client among the provider's units (row n = that provider's "
        f"units; Wilson 95 % interval below; {_coverage(crosstab.client_known, d.n)}; 'unknown' = {_UNKNOWN_MEANS}). "
        f"Top {len(crosstab.rows)} providers; {crosstab.providers_left_out:,} smaller providers and the unattributed "
        f"units ({crosstab.units_left_out:,} units in all) are in no row."
    )
    return table(caption, headers, rows, numeric=range(1, len(headers)), empty="no attributed units", css="matrix")


def _note(analysis: Analysis, dim: DimensionAnalysis) -> Raw:
    d = dim.denominator
    known = d.n - dim.share_of(UNKNOWN).count
    return Raw(
        f'<p class="note">Client names come from the RLPx Hello of nodes the crawler dialed; '
        f"{e(_coverage(analysis.nodes_with_client, analysis.nodes_total, 'node records'))} in the snapshot, and "
        f"{e(_coverage(known, d.n))} of the primary denominator ({e(d.description)}). The client shares below are "
        f"of all n = {d.n:,} units, the {d.n - known:,} without client info shown as 'unknown'; the client "
        f"concentration indices count the {known:,} units with client info only.</p>"
    )


def clients_section(analysis: Analysis, primary: PopulationAnalysis | None, top: int) -> Raw:
    if primary is None or not primary.has_dimension("client"):
        return section("clients", "Clients", Raw('<p class="note">No population to show.</p>'))
    dim = primary.dimension("client")
    parts: list[object] = [
        _note(analysis, dim),
        share_figure(dim, top, "Client shares", "chart-clients", unknown_means=_UNKNOWN_MEANS),
        share_table(dim, top, "Client shares"),
    ]
    if primary.clients_by_provider is not None:
        parts.append(clients_by_provider_table(primary.clients_by_provider))
    return section("clients", "Clients", *parts)
