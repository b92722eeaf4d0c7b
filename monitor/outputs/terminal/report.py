"""The terminal report of an analysis, laid out for 80 columns and wider.

Every table title names its denominator and n; abbreviations are explained once in a legend near the top; a column a
narrow console cannot hold moves to a line below its table or is named there (the JSON form keeps everything); a
simulated snapshot gets a banner on top and a line at the end. The sections iterate over what the analysis holds
(populations, dimensions, thresholds), so a new denominator or dimension renders without changes here.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.text import Text

from monitor.analysis.concentration import DimensionAnalysis, Indices
from monitor.analysis.population import Denominator, NodesPerIp
from monitor.analysis.report import Analysis, PopulationAnalysis
from monitor.outputs.terminal.claims import render_banner, render_claims
from monitor.outputs.terminal.clients import coverage_text, render_clients
from monitor.outputs.terminal.indices import FLAG, nakamoto_header, render_indices, top_header
from monitor.outputs.terminal.layers import render_hosted, render_layer_summary
from monitor.outputs.terminal.layout import (
    Col,
    ci_pct,
    pct,
    print_pairs,
    print_table,
    print_title,
)

__all__ = ["render_report", "render_claims", "sources_text", "legend_pairs"]

# A design effect is shown where it widens an interval noticeably (10 %: the interval about 5 % wider).
DEFF_SHOWN = 1.1

# Titles of the share tables of the primary population; a dimension not named here is titled by its own name.
_SHARE_TITLES = {
    "provider": "Providers",
    "region": "Top regions",
    "country": "Countries",
    "asn": "Networks (AS)",
    "client": "Clients",
}


def sources_text(sources: tuple[tuple[str, int], ...]) -> str:
    """Where the node records came from; "rpc" alone means seen by the user's nodes and by no crawl (often NAT)."""
    labels = {"discv4": "crawl only", "rpc": "only via --rpc (no crawl reached them)", "discv4+rpc": "both"}
    return "; ".join(f"{labels.get(name, name)}: {count:,}" for name, count in sources) or "none"


def render_header(console: Console, analysis: Analysis) -> None:
    ctx = analysis.context
    print_title(console, f"Snapshot {ctx.snapshot_id}")
    filtered = ", ".join(f"{reason}: {count:,}" for reason, count in ctx.filtered) or "none"
    print_pairs(
        console,
        [
            ("network", ctx.network + (" (SIMULATED)" if ctx.simulated else "")),
            ("crawl", ctx.period),
            ("node records", f"{analysis.nodes_total:,}"),
            ("client info (RLPx Hello)", coverage_text(analysis.nodes_with_client, analysis.nodes_total)),
            ("sources", sources_text(analysis.sources)),
            ("attribution data", ctx.datasets_text()),
            ("bootstrap replicates", str(analysis.bootstrap_samples) if analysis.bootstrap_samples else "off"),
            ("filtered while crawling", filtered),
        ],
    )


def _any_indices(analysis: Analysis) -> Indices | None:
    return next((d.indices for p in analysis.populations for d in p.dimensions), None)


def legend_pairs(analysis: Analysis) -> list[tuple[str, str]]:
    """Every abbreviation the tables use, once; thresholds and k come from the analysis itself."""
    boot = f"bootstrap ({analysis.bootstrap_samples} replicates)" if analysis.bootstrap_samples else "bootstrap (off)"
    pairs = [
        ("n", "units in the denominator: node ids, IPs or prefixes, as its name says"),
        ("%", "share of n in percent ('unknown' included, so a table's shares add up to 100)"),
        (
            "95% CI",
            f"95 % interval low-high: Wilson for shares (per node: IP as cluster), {boot} for HHI and Nakamoto",
        ),
        ("deff", "design effect: variance over the binomial one when node ids share an IP (1: independent)"),
        ("hosted", "units in data centres (cloud + hosting); resid./other: residential, business, education"),
        ("x (a-b)", "a figure x with its 95 % interval"),
        ("unk", "units with no attribution (client: no client info); left out of every index"),
    ]
    ix = _any_indices(analysis)
    if ix is not None:
        naka = ", ".join(nakamoto_header(f.threshold) for f in ix.nakamoto)
        more = " / ".join(f"{100 * f.threshold:.0f} %" for f in ix.nakamoto)
        ks = ", ".join(str(t.k) for t in ix.top)
        pairs += [
            ("HHI", "Herfindahl-Hirschman index of the attributed units, 0 to 1 (1: one category holds all)"),
            (naka, f"Nakamoto coefficient: fewest categories holding more than {more} of the attributed units"),
            (top_header(ix), f"percent of the attributed units held by the largest {ks} categories"),
            ("cat", "categories with at least one attributed unit"),
            ("H", "Shannon entropy of the attributed units, in bits"),
            (FLAG, "after an interval: the bootstrap interval does not contain the estimate (flagged, not fixed)"),
            ("families", "indices over all operators (each ISP network its own operator) or hosted providers only"),
        ]
    pairs.append(
        (
            "verdict",
            "consistent: the claimed share lies inside our 95% CI; higher / lower: the whole interval lies above / "
            "below it whichever way unattributed units fall; withheld: no verdict (n: below the minimum n; attrib.: "
            "too few units attributed, insufficient attribution)",
        )
    )
    return pairs


def render_legend(console: Console, analysis: Analysis) -> None:
    print_title(console, "Legend")
    print_pairs(console, legend_pairs(analysis))


def _name_parts(denominators: Sequence[Denominator]) -> list[tuple[str, str]]:
    """What each part of the denominator names means ("reachable", "ip"), when names and descriptions split alike
    ("scope/dedup" and "scope text, dedup text"); otherwise each full name with its description."""
    by_position: list[dict[str, str]] = []
    for d in denominators:
        names, texts = d.name.split("/"), d.description.split(", ")
        if len(names) != len(texts):
            return [(d.name, d.description) for d in denominators]
        for i, (name, text) in enumerate(zip(names, texts, strict=True)):
            if i == len(by_position):
                by_position.append({})
            if by_position[i].setdefault(name, text) != text:
                return [(d.name, d.description) for d in denominators]
    return [pair for part in by_position for pair in part.items()]


def render_denominators(console: Console, analysis: Analysis) -> None:
    pops = analysis.populations
    cols = [
        Col("denominator", [p.denominator.name for p in pops]),
        Col("n", [f"{p.denominator.n:,}" for p in pops], right=True),
        Col("unk", [f"{p.unattributed:,}" for p in pops], right=True),
        Col(
            "left out",
            [", ".join(f"{r}: {c:,}" for r, c in p.excluded.items() if c) or "nothing" for p in pops],
            label=True,
        ),
    ]
    print_table(console, "Denominators: what each one counts and leaves out (node records)", cols)
    console.print(Text("What the parts of a denominator's name mean:"))
    print_pairs(console, _name_parts([p.denominator for p in pops]), indent=2)


def render_shares(console: Console, dim: DimensionAnalysis, top: int | None = None, title: str | None = None) -> None:
    d = dim.denominator
    shown = dim.shares if top is None else dim.shares[:top]
    more = "" if len(shown) == len(dim.shares) else f", top {len(shown)} of {len(dim.shares)}"
    cols = [
        Col(dim.dimension, [s.key for s in shown] or ["(no units)"], label=True),
        Col("count", [f"{s.count:,}" for s in shown] or ["0"], right=True),
        Col("%", [pct(s.share) for s in shown] or ["—"], right=True),
        Col("95% CI", [ci_pct(s.ci) for s in shown] or ["—"], right=True),
    ]
    if any(s.design_effect > DEFF_SHOWN for s in shown):
        # Only where clustering matters: node ids sharing IPs widened the interval of at least one row.
        cols.append(Col("deff", [f"{s.design_effect:.1f}" for s in shown], right=True, drop=1))
    print_table(console, f"{title or dim.dimension.capitalize()} — {d.name}, n = {d.n:,}{more}", cols)


def render_nodes_per_ip(console: Console, rows: Sequence[NodesPerIp], buckets: int = 6) -> None:
    """The ids-per-IP histogram is a column when it fits, else one line per scope below the table."""
    hists = []
    for r in rows:
        hist = ", ".join(f"{size}: {count:,}" for size, count in r.histogram[:buckets])
        more = len(r.histogram) - buckets
        hists.append((hist + (f" (+{more} more sizes)" if more > 0 else "")) or "—")
    scopes = [r.denominator.name.split("/")[0] for r in rows]
    cols = [
        Col("scope", scopes),
        Col("IPs", [f"{r.denominator.n:,}" for r in rows], right=True),
        Col("records", [f"{r.nodes:,}" for r in rows], right=True),
        Col("no IP", [f"{r.without_ip:,}" for r in rows], right=True),
        Col("IPs >1 id", [f"{r.ips_with_several:,}" for r in rows], right=True),
        Col("max ids/IP", [str(r.max_nodes_per_ip) for r in rows], right=True),
        Col("ids per IP: IPs", hists, drop=1),
    ]
    title = "Node ids per IP (many ids behind one IP inflate node counts; IPs = unique IPs)"
    fitted = print_table(console, title, cols, note_dropped=False)
    if fitted.dropped:
        console.print(Text("Ids per IP: number of IPs with that many ids"))
        print_pairs(console, list(zip(scopes, hists, strict=True)), indent=2)


def _render_primary(console: Console, primary: PopulationAnalysis, top: int, providers: int) -> None:
    for dim in primary.dimensions:
        limit = providers if dim.dimension == "provider" else top
        render_shares(console, dim, top=limit or None, title=_SHARE_TITLES.get(dim.dimension))
        if dim.dimension == "client":
            render_clients(console, primary)
    render_indices(
        console,
        f"Concentration indices — {primary.denominator.name} (attributed units; client: with client info)",
        [(d.dimension, d.indices) for d in primary.dimensions],
    )


def render_report(console: Console, analysis: Analysis, top: int = 10, providers: int = 20) -> None:
    """The terminal report of ``monitor snapshot`` and ``monitor report``; ``top`` limits the rows of every share
    table but the providers', ``providers`` the provider rows (0: all). Conclusions are printed for the primary
    denominator; the claim tables cover every one."""
    render_banner(console, analysis.context)
    render_header(console, analysis)
    render_legend(console, analysis)
    render_denominators(console, analysis)
    primary = analysis.primary()
    if primary is not None:
        render_layer_summary(console, analysis, primary.denominator.name)
        _render_primary(console, primary, top, providers)
    if analysis.populations and all(p.has_dimension("provider") for p in analysis.populations):
        provider_rows = [(p.denominator.name, p.dimension("provider").indices) for p in analysis.populations]
        title = "Provider concentration under every denominator, over all operators (ISPs separately)"
        render_indices(console, title, provider_rows)
    render_hosted(console, analysis)
    render_nodes_per_ip(console, analysis.nodes_per_ip)
    focus = [primary.denominator.name] if primary is not None else []
    render_claims(console, analysis.context, analysis.claims, analysis.external, analysis.min_n_for_verdict, focus)
    if analysis.context.simulated:
        console.print()
        console.print(Text("SIMULATED — none of these figures describes Ethereum.", style="bold red"))
