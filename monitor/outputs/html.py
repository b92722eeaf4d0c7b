"""The self-contained HTML report of one analysed snapshot (``monitor report SNAPSHOT --html FILE``).

One file, no network needed to open it: inline CSS, inline SVG charts drawn in Python, no scripts. Every chart and
table names its denominator and n; every piece of text from a snapshot (AS names come from the network) is escaped.
The figure sections live here; the claim panel, indices, filters and method text in :mod:`monitor.outputs.html_claims`.
"""

from __future__ import annotations

from collections.abc import Sequence

from monitor import __version__
from monitor.analysis.concentration import DimensionAnalysis
from monitor.analysis.population import NodesPerIp
from monitor.analysis.report import Analysis, PopulationAnalysis
from monitor.outputs.html_claims import claims_section, filtered_section, indices_section, method_section
from monitor.outputs.html_clients import clients_section
from monitor.outputs.html_layers import hosted_section, layers_section
from monitor.outputs.html_parts import CSS, Raw, ci_pct, e, figure, pct, section, table
from monitor.outputs.html_shares import share_figure, share_table
from monitor.outputs.svg import Bar, hbar_chart
from monitor.snapshot import CrawlMeta, iso_utc

__all__ = ["render_html", "DEFAULT_TOP", "share_figure", "share_table"]

DEFAULT_TOP = 15  # categories shown per chart; tables list the same ones
_SIMULATED = "A local devnet with a made-up hosting overlay. No figure here describes Ethereum."
_NPI_BUCKETS: tuple[tuple[int, int | None], ...] = ((1, 1), (2, 2), (3, 3), (4, 5), (6, 10), (11, 50), (51, None))


def _banner(analysis: Analysis) -> str:
    if not analysis.context.simulated:
        return ""
    return f'<div class="banner" role="alert">SIMULATED<small>{e(_SIMULATED)}</small></div>'


def _duration(ctx_start: float, ctx_end: float) -> str:
    seconds = max(0.0, ctx_end - ctx_start)
    return f"{seconds / 60:.1f} min" if seconds >= 60 else f"{seconds:.0f} s"


def _header(analysis: Analysis, meta: CrawlMeta | None) -> Raw:
    ctx = analysis.context
    facts: list[tuple[str, str]] = [
        ("Network", ctx.network + (" (SIMULATED)" if ctx.simulated else "")),
        ("Crawl period", f"{ctx.period} ({_duration(ctx.started_at, ctx.ended_at)})"),
        ("Discovery protocols", ", ".join(ctx.sources) or "none (no records)"),
        ("Node records", f"{analysis.nodes_total:,}"),
        ("Client info (RLPx Hello)", f"{analysis.nodes_with_client:,} of {analysis.nodes_total:,} node records"),
        ("Attribution datasets", ctx.datasets_text()),
    ]
    if meta is not None:
        facts.append(("Crawled by", f"monitor {meta.tool_version}"))
        if meta.counters:
            facts.append(("Crawl counters", ", ".join(f"{k}: {v:,}" for k, v in sorted(meta.counters.items()))))
    facts.append(("Report by", f"monitor {__version__}"))
    samples = analysis.bootstrap_samples
    facts.append(("Bootstrap replicates", f"{samples:,} (per-node denominators)" if samples else "off"))
    facts.append(("Claims file", analysis.claims_origin or "none"))
    rows = "".join(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in facts)
    title = f"Who hosts Ethereum nodes? Snapshot {ctx.snapshot_id}"
    return Raw(
        f'<header><h1>{e(title)}</h1><p class="sub">Hosting concentration of the nodes found by crawling the '
        f"{e(ctx.network)} discovery network. Every figure names what it counts (its denominator) and how many (n).</p>"
        f'<dl class="facts">{rows}</dl></header>'
    )


def _denominators(analysis: Analysis) -> Raw:
    rows = [
        (p.denominator.name, p.denominator.description, f"{p.denominator.n:,}", f"{p.unattributed:,}")
        for p in analysis.populations
    ]
    return section(
        "denominators",
        "What was counted: node counts per denominator",
        table(
            "Denominators (node records; units per denominator)",
            ("denominator", "counts", "n (units)", "of which unattributed"),
            rows,
            numeric=(2, 3),
            empty="no denominators",
        ),
        Raw('<p class="note">What each denominator leaves out is listed under <a href="#filtered">Filtered</a>.</p>'),
    )


def _share_cell(dim: DimensionAnalysis, key: str) -> Raw:
    s = dim.share_of(key)
    tip = e(f"{s.count:,} of {dim.denominator.n:,}")
    return Raw(f'<span title="{tip}">{e(pct(s.share))}</span><br><small>{e(ci_pct(s.ci))}</small>')


def _provider_matrix(analysis: Analysis, primary: PopulationAnalysis, top: int) -> Raw:
    pops = [p for p in analysis.populations if any(d.dimension == "provider" for d in p.dimensions)]
    keys = [s.key for s in primary.dimension("provider").shares[:top]]
    headers: list[object] = ["provider"]
    headers += [Raw(f"{e(p.denominator.name)}<br><small>n = {p.denominator.n:,}</small>") for p in pops]
    rows = [[key, *(_share_cell(p.dimension("provider"), key) for p in pops)] for key in keys]
    return table(
        f"Provider shares under every denominator (share, Wilson 95 % interval below; providers: the top {len(keys)} "
        f"under {primary.denominator.name})",
        headers,
        rows,
        numeric=range(1, len(pops) + 1),
        empty="no providers",
        css="matrix",
    )


def _providers(analysis: Analysis, primary: PopulationAnalysis | None, top: int) -> Raw:
    if primary is None:
        return section("providers", "Providers", Raw('<p class="note">No population to show.</p>'))
    dim = primary.dimension("provider")
    return section(
        "providers",
        "Providers",
        Raw(f'<p class="note">Primary denominator: {e(primary.denominator.description)}.</p>'),
        share_figure(dim, top, "Provider shares", "chart-providers"),
        _provider_matrix(analysis, primary, top),
    )


def _dimension_section(primary: PopulationAnalysis | None, dimension: str, anchor: str, heading: str, top: int) -> Raw:
    dims = [d for d in primary.dimensions if d.dimension == dimension] if primary is not None else []
    if not dims:
        return section(anchor, heading, Raw('<p class="note">No population to show.</p>'))
    dim = dims[0]
    return section(anchor, heading, share_figure(dim, top, heading, f"chart-{anchor}"), share_table(dim, top, heading))


def _npi_bars(npi: NodesPerIp) -> list[Bar]:
    bars = []
    largest = max((size for size, _ in npi.histogram), default=0)
    for low, high in _NPI_BUCKETS:
        if low > largest:
            break
        inside = [(s, c) for s, c in npi.histogram if s >= low and (high is None or s <= high)]
        ips = sum(c for _, c in inside)
        ids = sum(s * c for s, c in inside)
        label = (
            f"{low} id{'s' if low > 1 else ''}" if low == high else f"{low} to {high} ids" if high else f"{low}+ ids"
        )
        bars.append(Bar(label=f"{label} per IP", value=ips, text=f"{ips:,} IPs ({ids:,} node ids)"))
    return bars


def _histogram_text(r: NodesPerIp, buckets: int = 8) -> str:
    text = ", ".join(f"{size}: {count:,}" for size, count in r.histogram[:buckets])
    return (text + (", …" if len(r.histogram) > buckets else "")) or "—"


def _nodes_per_ip(rows: Sequence[NodesPerIp]) -> Raw:
    parts: list[object] = []
    shown = next((r for r in rows if r.denominator.n > 0), rows[0] if rows else None)
    if shown is not None:
        d = shown.denominator
        desc = (
            f"Number of unique IPs ({d.description}; n = {d.n:,} IPs holding {shown.nodes:,} node records) by how many "
            "node ids share the IP. Many ids behind one IP inflate per-node shares."
        )
        chart = hbar_chart(
            _npi_bars(shown),
            chart_id="chart-npi",
            title=f"Node ids per IP — {d.name}, n = {d.n:,}",
            description=desc,
            scale="count",
        )
        parts.append(figure(chart, desc))
    table_rows = [
        (
            r.denominator.name,
            f"{r.denominator.n:,}",
            f"{r.nodes:,}",
            f"{r.without_ip:,}",
            f"{r.ips_with_several:,}",
            f"{r.max_nodes_per_ip:,}",
            _histogram_text(r),
        )
        for r in rows
    ]
    headers = (
        "denominator",
        "unique IPs (n)",
        "node records",
        "no IP",
        "IPs with >1 id",
        "max ids at one IP",
        "ids per IP: number of IPs",
    )
    parts.append(table("Node ids per IP, every scope", headers, table_rows, numeric=range(1, 6)))
    return section("nodes-per-ip", "Nodes per IP", *parts)


_TOC = (
    ("denominators", "Denominators"),
    ("layers", "Layers"),
    ("providers", "Providers"),
    ("hosted", "Hosted vs residential"),
    ("regions", "Top regions"),
    ("countries", "Countries"),
    ("clients", "Clients"),
    ("nodes-per-ip", "Nodes per IP"),
    ("claims", "Claim check"),
    ("indices", "Concentration indices"),
    ("filtered", "Filtered"),
    ("method", "Method"),
)


def render_html(analysis: Analysis, meta: CrawlMeta | None = None, *, top: int = DEFAULT_TOP) -> str:
    """The whole report as one HTML document; ``meta`` adds the crawling tool's version and counters."""
    ctx = analysis.context
    primary = analysis.primary()
    toc = "".join(f'<li><a href="#{a}">{e(t)}</a></li>' for a, t in _TOC)
    body = [
        _banner(analysis),
        "<main>",
        _header(analysis, meta),
        f'<nav aria-label="Sections"><ol>{toc}</ol></nav>',
        _denominators(analysis),
        layers_section(analysis, primary),
        _providers(analysis, primary, top),
        hosted_section(analysis, primary, top),
        _dimension_section(primary, "region", "regions", "Top regions", top),
        _dimension_section(primary, "country", "countries", "Countries", top),
        clients_section(analysis, primary, top),
        _nodes_per_ip(analysis.nodes_per_ip),
        claims_section(analysis, primary),
        indices_section(analysis, primary),
        filtered_section(analysis),
        method_section(analysis),
        f"<footer>Generated by monitor {e(__version__)} from snapshot {e(ctx.snapshot_id)} (crawl ended "
        f"{e(iso_utc(ctx.ended_at))}). Self-contained: no scripts, fonts or images from elsewhere.</footer>",
        "</main>",
        _banner(analysis),
    ]
    title = ("SIMULATED — " if ctx.simulated else "") + f"Ethereum hosting report {ctx.snapshot_id}"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n" + "\n".join(body) + "\n</body>\n</html>\n"
    )
