"""Presenting an analysis: rich tables for the terminal and a plain JSON form for ``--json`` and the HTTP API.

Every table title names its denominator and n; a simulated snapshot gets a banner on top of everything.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table

from monitor.analysis.claims import ExternalFigure
from monitor.analysis.concentration import DimensionAnalysis, Indices
from monitor.analysis.context import SnapshotContext
from monitor.analysis.population import NodesPerIp
from monitor.analysis.report import Analysis, PopulationAnalysis
from monitor.analysis.stats import Interval
from monitor.analysis.verdict import ClaimResult
from monitor.outputs.terminal.clients import coverage_text, render_clients

__all__ = [
    "render_report",
    "render_claims",
    "sources_text",
]

_VERDICT_STYLE = {"consistent": "green", "higher": "yellow", "lower": "cyan", "insufficient": "dim"}
_RELATION_TEXT = {"approx": "≈", "above": ">", "equal": ""}


def _pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f} %"


def _ci_pct(ci: Interval | None) -> str:
    return "—" if ci is None else f"{100 * ci.low:.1f} to {100 * ci.high:.1f} %"


def _num(x: float | None, digits: int = 3) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def _ci_num(ci: Interval | None, digits: int = 3) -> str:
    return "" if ci is None else f" [{ci.low:.{digits}f}, {ci.high:.{digits}f}]"


def _ci_int(ci: Interval | None) -> str:
    return "" if ci is None else f" [{ci.low:.0f}, {ci.high:.0f}]"


def render_banner(console: Console, ctx: SnapshotContext) -> None:
    if ctx.simulated:
        console.print(
            Panel(
                "SIMULATED: a local devnet with a made-up hosting overlay. No figure here describes Ethereum.",
                title="SIMULATED",
                style="bold red",
            )
        )


def sources_text(sources: tuple[tuple[str, int], ...]) -> str:
    """Where the node records came from; "rpc" alone means seen by the user's nodes and by no crawl (often NAT)."""
    labels = {"discv4": "crawl only", "rpc": "only via --rpc (no crawl reached them)", "discv4+rpc": "both"}
    return "; ".join(f"{labels.get(name, name)}: {count:,}" for name, count in sources) or "none"


def render_header(console: Console, analysis: Analysis) -> None:
    ctx = analysis.context
    table = Table(title=f"Snapshot {escape(ctx.snapshot_id)}", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    table.add_row("network", escape(ctx.network) + (" (SIMULATED)" if ctx.simulated else ""))
    table.add_row("crawl", ctx.period)
    table.add_row("node records", f"{analysis.nodes_total:,}")
    table.add_row("client info (RLPx Hello)", coverage_text(analysis.nodes_with_client, analysis.nodes_total))
    table.add_row("sources", escape(sources_text(analysis.sources)))
    table.add_row("attribution data", escape(ctx.datasets_text()))
    table.add_row("bootstrap replicates", str(analysis.bootstrap_samples) if analysis.bootstrap_samples else "off")
    filtered = ", ".join(f"{reason}: {count:,}" for reason, count in ctx.filtered) or "none"
    table.add_row("filtered while crawling", escape(filtered))
    console.print(table)


def render_denominators(console: Console, analysis: Analysis) -> None:
    table = Table(title="Denominators: what each one counts and leaves out (node records)")
    for col in ("denominator", "counts", "n", "unknown"):
        table.add_column(col, justify="right" if col in ("n", "unknown") else "left")
    table.add_column("left out")
    for p in analysis.populations:
        left_out = ", ".join(f"{r}: {c:,}" for r, c in p.excluded.items() if c) or "nothing"
        table.add_row(
            p.denominator.name, p.denominator.description, f"{p.denominator.n:,}", f"{p.unattributed:,}", left_out
        )
    console.print(table)


def render_shares(console: Console, dim: DimensionAnalysis, top: int | None = None, title: str | None = None) -> None:
    d = dim.denominator
    shown = dim.shares if top is None else dim.shares[:top]
    more = "" if len(shown) == len(dim.shares) else f", top {len(shown)} of {len(dim.shares)}"
    table = Table(title=f"{title or dim.dimension.capitalize()} — {d.name}, n = {d.n:,}{more}")
    table.add_column(dim.dimension)
    table.add_column("count", justify="right")
    table.add_column("share", justify="right")
    table.add_column("95 % CI (Wilson)", justify="right")
    for s in shown:
        table.add_row(escape(s.key), f"{s.count:,}", _pct(s.share), _ci_pct(s.ci))
    if not dim.shares:
        table.add_row("(no units)", "0", "—", "—")
    console.print(table)


def _indices_row(label: str, ix: Indices) -> list[str]:
    naka = {f.threshold: f for f in ix.nakamoto}
    cells = [label, f"{ix.denominator.n:,}", f"{ix.unknown_excluded:,}", str(ix.categories)]
    cells.append(_num(ix.hhi) + _ci_num(ix.hhi_ci))
    for t in sorted(naka):
        f = naka[t]
        cells.append(("—" if f.value is None else str(f.value)) + _ci_int(f.ci))
    cells.append(" / ".join(_pct(t.share) for t in ix.top))
    cells.append(_num(ix.entropy_bits, 2))
    return cells


def render_indices(console: Console, title: str, rows: Sequence[tuple[str, Indices]]) -> None:
    table = Table(title=title)
    for col in ("", "n attributed", "unknown left out", "categories", "HHI [95 % bootstrap]"):
        table.add_column(col, justify="left" if col == "" else "right")
    thresholds = sorted({f.threshold for _, ix in rows for f in ix.nakamoto})
    for t in thresholds:
        table.add_column(f"Nakamoto >{100 * t:.0f} %", justify="right")
    ks = "/".join(str(t.k) for t in rows[0][1].top) if rows else ""
    table.add_column(f"top {ks}", justify="right")
    table.add_column("entropy (bits)", justify="right")
    for label, ix in rows:
        table.add_row(*_indices_row(label, ix))
    console.print(table)


def render_claim_table(console: Console, results: Sequence[ClaimResult], min_n: int) -> None:
    table = Table(title=f"Claims against our measurement (Wilson 95 %; no verdict below n = {min_n})")
    for col in ("claim", "claimed", "denominator", "n", "count", "share", "95 % CI", "verdict"):
        table.add_column(col, justify="right" if col in ("claimed", "n", "count", "share", "95 % CI") else "left")
    for r in results:
        style = _VERDICT_STYLE[r.verdict]
        table.add_row(
            escape(r.claim_id), _pct(r.claimed_share), r.denominator.name, f"{r.denominator.n:,}", f"{r.count:,}",
            _pct(r.share), _ci_pct(r.ci), f"[{style}]{r.verdict}[/{style}]",
        )  # fmt: skip
    if not results:
        table.add_row("(no claims)", "", "", "", "", "", "", "")
    console.print(table)


def render_external(console: Console, figures: Sequence[ExternalFigure]) -> None:
    if not figures:
        return
    table = Table(title="EXTERNAL published figures: context only, not our measurement; each has its own denominator")
    for col in ("date", "source", "layer", "provider", "share", "of (their denominator)", "n"):
        table.add_column(col, justify="right" if col in ("share", "n") else "left")
    for f in figures:
        n = "—" if f.population_n is None else f"{f.population_n:,}"
        denominator = f.denominator + (f" ({f.population_note})" if f.population_note else "")
        share = f"{_RELATION_TEXT[f.relation]}{_pct(f.share)}"
        table.add_row(*(escape(x) for x in (f.date, f.source, f.layer, f.provider, share, denominator, n)))
    console.print(table)


def render_nodes_per_ip(console: Console, rows: Sequence[NodesPerIp], buckets: int = 6) -> None:
    table = Table(title="Node ids per IP (many ids behind one IP inflate node counts)")
    for col in ("scope", "unique IPs", "node records", "no IP", "IPs with >1 id", "max ids at one IP"):
        table.add_column(col, justify="left" if col == "scope" else "right")
    table.add_column("ids per IP: number of IPs")
    for r in rows:
        hist = ", ".join(f"{size}: {count:,}" for size, count in r.histogram[:buckets])
        if len(r.histogram) > buckets:
            hist += ", …"
        scope = r.denominator.name.split("/")[0]
        table.add_row(
            scope, f"{r.denominator.n:,}", f"{r.nodes:,}", f"{r.without_ip:,}", f"{r.ips_with_several:,}",
            str(r.max_nodes_per_ip), hist or "—",
        )  # fmt: skip
    console.print(table)


def render_claims(
    console: Console,
    context: SnapshotContext,
    results: Sequence[ClaimResult],
    external: Sequence[ExternalFigure],
    min_n: int,
    conclusions_for: Sequence[str] | None = None,
) -> None:
    """Verdict table, conclusions (all, or only for the named denominators) and the external figures."""
    render_banner(console, context)
    render_claim_table(console, results, min_n)
    for r in results:
        if conclusions_for is None or r.denominator.name in conclusions_for:
            console.print(f"[bold]{escape(r.claim_id)} — {r.denominator.name}:[/bold] {escape(r.conclusion)}")
            console.print()
    render_external(console, external)


def _render_primary(console: Console, primary: PopulationAnalysis, top: int, providers: int) -> None:
    render_shares(console, primary.dimension("provider"), top=providers or None, title="Providers")
    render_shares(console, primary.dimension("region"), top=top or None, title="Top regions")
    render_shares(console, primary.dimension("country"), top=top or None, title="Countries")
    if primary.has_dimension("client"):
        render_shares(console, primary.dimension("client"), top=top or None, title="Clients")
        render_clients(console, primary)
    render_indices(
        console,
        f"Concentration indices — {primary.denominator.name} (attributed units only; client: units with client info)",
        [(d.dimension, d.indices) for d in primary.dimensions],
    )


def render_report(console: Console, analysis: Analysis, top: int = 10, providers: int = 20) -> None:
    """The terminal report of ``monitor snapshot``; ``top`` limits region and country rows, ``providers`` the
    provider rows (0: all). Conclusions are printed for the primary denominator; the table covers every one."""
    render_banner(console, analysis.context)
    render_header(console, analysis)
    render_denominators(console, analysis)
    primary = analysis.primary()
    if primary is not None:
        _render_primary(console, primary, top, providers)
    provider_rows = [(p.denominator.name, p.dimension("provider").indices) for p in analysis.populations]
    if provider_rows and all(any(d.dimension == "provider" for d in p.dimensions) for p in analysis.populations):
        render_indices(console, "Provider concentration under every denominator (attributed units only)", provider_rows)
    render_nodes_per_ip(console, analysis.nodes_per_ip)
    focus = [primary.denominator.name] if primary is not None else []
    render_claims(console, analysis.context, analysis.claims, analysis.external, analysis.min_n_for_verdict, focus)
    if analysis.context.simulated:
        console.print("[bold red]SIMULATED — none of these figures describes Ethereum.[/bold red]")
