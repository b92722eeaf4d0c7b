"""HTML report sections: the claim panel with external reference figures, indices, filtered counts and the method."""

from __future__ import annotations

from collections.abc import Sequence

from monitor.analysis.claims import ExternalFigure
from monitor.analysis.concentration import Indices
from monitor.analysis.report import Analysis, PopulationAnalysis
from monitor.analysis.stats import Interval
from monitor.analysis.verdict import MIN_ATTRIBUTED_FRACTION, ClaimResult
from monitor.outputs.html_layers import tail_name
from monitor.outputs.html_parts import Raw, ci_pct, ci_short, e, figure, num, pct, section, table
from monitor.outputs.svg import Bar, Marker, hbar_chart

__all__ = ["claims_section", "indices_section", "filtered_section", "method_section"]

_RELATION = {"approx": "≈ ", "above": "> ", "equal": ""}


def verdict_label(r: ClaimResult) -> str:
    """The verdict as shown: a withheld one says why."""
    if r.withheld == "attribution":
        return "withheld: insufficient attribution"
    if r.withheld == "small_n" or r.verdict == "insufficient":
        return "withheld: too few units"
    return r.verdict


def _verdict_badge(r: ClaimResult) -> Raw:
    return Raw(f'<span class="verdict {e(r.verdict)}">{e(verdict_label(r))}</span>')


def _layer_text(layer: str) -> str:
    return "all records" if layer == "all" else f"{layer} layer"


def _claim_chart(claim_id: str, results: Sequence[ClaimResult], index: int) -> Raw:
    claimed = results[0].claimed_share
    bars = [
        Bar(
            label=f"{r.denominator.name} (n = {r.denominator.n:,})",
            value=r.share or 0.0,
            low=r.ci.low,
            high=r.ci.high,
            text=f"{pct(r.share)} {ci_short(r.ci)} {verdict_label(r)}",
            tone=r.verdict,
        )
        for r in results
    ]
    layer = _layer_text(results[0].layer)
    desc = (
        f"Claim {claim_id}: claimed {pct(claimed)} (dashed line) against our share of {results[0].provider} under "
        f"every denominator of the {layer} (bar: our share; whiskers: Wilson 95 % interval, cluster-robust for "
        "per-node denominators; colour: verdict). n per row in its label."
    )
    chart = hbar_chart(
        bars,
        chart_id=f"chart-claim-{index}",
        title=f"Claim {claim_id} against every denominator ({layer})",
        description=desc,
        marker=Marker(claimed, f"claimed {pct(claimed)}"),
    )
    return figure(chart, desc)


def _claim_table(results: Sequence[ClaimResult], min_n: int) -> Raw:
    r0 = results[0]
    rows = [
        (
            r.denominator.name,
            r.denominator.description,
            f"{r.denominator.n:,}",
            f"{r.count:,}",
            pct(r.share),
            ci_pct(r.ci),
            "—" if r.share_upper is None or not r.unattributed else pct(r.share_upper),
            f"{r.design_effect:.1f}",
            _verdict_badge(r),
        )
        for r in results
    ]
    role = "the claim's own layer" if r0.primary else "context, not the claim's own layer"
    return table(
        f"Verdicts — {_layer_text(r0.layer)} ({role}); Wilson 95 %, per node at the clustered effective n; no verdict "
        f"below n = {min_n} or below {100 * MIN_ATTRIBUTED_FRACTION:.0f} % attributed",
        (
            "denominator",
            "counts",
            "n",
            f"{r0.provider} units",
            "our share",
            "95 % CI",
            "if every unattributed unit were it",
            "design effect",
            "verdict",
        ),
        rows,
        numeric=(2, 3, 4, 5, 6, 7),
    )


def _main_result(results: Sequence[ClaimResult], primary: str | None, min_n: int) -> ClaimResult:
    """The headline: the claim's own layer under the primary denominator, or all records when that layer is too
    small for a verdict there."""
    own = [r for r in results if r.primary and tail_name(r.denominator.name) == primary]
    every = [r for r in results if r.layer == "all" and tail_name(r.denominator.name) == primary]
    if own and (own[0].denominator.n >= min_n or not every):
        return own[0]
    return every[0] if every else results[0]


def _conclusions(results: Sequence[ClaimResult], main: ClaimResult) -> Raw:
    others = "".join(
        f"<li><strong>{e(r.denominator.name)}:</strong> {e(r.conclusion)}</li>" for r in results if r is not main
    )
    details = (
        f"<details><summary>Conclusions under the other denominators and layers</summary><ul>{others}</ul></details>"
    )
    return Raw(
        f'<p class="conclusion"><strong>Conclusion under {e(main.denominator.name)}:</strong> '
        f"{e(main.conclusion)}</p>{details if others else ''}"
    )


def _by_layer(results: Sequence[ClaimResult]) -> list[list[ClaimResult]]:
    """The results of one claim per layer: the claim's own layer first, then the others in the analysis' order."""
    groups: dict[str, list[ClaimResult]] = {}
    for r in sorted(results, key=lambda r: not r.primary):  # stable: keeps the order within a layer
        groups.setdefault(r.layer, []).append(r)
    return list(groups.values())


def _claim_panel(claim_id: str, results: Sequence[ClaimResult], primary: str | None, min_n: int, i: int) -> Raw:
    r0 = results[0]
    heading = f"Claim {claim_id}: {r0.provider} hosts {pct(r0.claimed_share)} of Ethereum nodes"
    main = _main_result(results, primary, min_n)
    layers = _by_layer(results)
    charted = next(g for g in layers if g[0].layer == main.layer)
    tables = "".join(str(_claim_table(g, min_n)) for g in layers)
    return Raw(f"<h3>{e(heading)}</h3>" + _claim_chart(claim_id, charted, i) + tables + _conclusions(results, main))


def _external(figures: Sequence[ExternalFigure], claimed: float | None) -> Raw:
    if not figures:
        return Raw("")
    bars = [
        Bar(
            label=f"{f.source.split(',')[0]} {f.date}",
            value=f.share,
            text=f"{_RELATION[f.relation]}{pct(f.share)} of {f.population_n:,}" if f.population_n else pct(f.share),
            tone="muted",
        )
        for f in figures
    ]
    desc = "EXTERNAL published figures, not our measurement: each counts its own population at its own date."
    marker = Marker(claimed, f"claimed {pct(claimed)}") if claimed is not None else None
    chart = hbar_chart(
        bars, chart_id="chart-external", title="External published figures", description=desc, marker=marker
    )
    rows = [
        (
            f.date,
            f.source,
            f.layer,
            f.provider,
            _RELATION[f.relation] + pct(f.share),
            f.denominator + (f" ({f.population_note})" if f.population_note else ""),
            "—" if f.population_n is None else f"{f.population_n:,}",
        )
        for f in figures
    ]
    headers = ("date", "source", "layer", "provider", "share", "of (their denominator)", "n (theirs)")
    caption = "EXTERNAL figures: context only, never an input to our verdicts; each has its own denominator and date"
    return Raw(
        '<div class="external"><h3>Published figures from other measurements</h3>'
        + figure(chart, desc)
        + table(caption, headers, rows, numeric=(4, 6))
        + "</div>"
    )


def claims_section(analysis: Analysis, primary: PopulationAnalysis | None) -> Raw:
    groups: dict[str, list[ClaimResult]] = {}
    for r in analysis.claims:
        groups.setdefault(r.claim_id, []).append(r)
    intro = (
        "Each claim is compared with our share under every denominator and on every layer, the claim's own layer "
        "first (the other layer and all records follow as context): <em>consistent</em> when the claimed share lies "
        "inside our Wilson 95 % interval, <em>higher</em> / <em>lower</em> when our whole interval lies above / "
        "below it whichever way the unattributed units fall; the verdict is <em>withheld</em> below n = "
        f"{analysis.min_n_for_verdict} (too few units) or when fewer than {100 * MIN_ATTRIBUTED_FRACTION:.0f} % of the "
        "units are attributed (insufficient attribution)."
    )
    name = primary.denominator.name if primary is not None else None
    parts: list[object] = [Raw(f"<p>{intro}</p>")]
    parts += [_claim_panel(cid, rs, name, analysis.min_n_for_verdict, i) for i, (cid, rs) in enumerate(groups.items())]
    if not groups:
        parts.append(Raw('<p class="note">No claims were loaded.</p>'))
    claimed = analysis.claims[0].claimed_share if analysis.claims else None
    parts.append(_external(analysis.external, claimed))
    return section("claims", "Claim check", *parts)


FLAG = "†"  # after an interval: it does not contain the estimate


def _with_ci(value: str, ci: Interval | None, digits: int, flagged: bool = False) -> str:
    text = value if ci is None else f"{value} [{ci.low:.{digits}f}, {ci.high:.{digits}f}]"
    return text + (f" {FLAG}" if flagged else "")


def _indices_row(label: str, ix: Indices) -> tuple[str, ...]:
    naka = [_with_ci("—" if f.value is None else str(f.value), f.ci, 0, f.ci_excludes_estimate) for f in ix.nakamoto]
    return (
        label,
        f"{ix.denominator.n:,}",
        f"{ix.unknown_excluded:,}",
        str(ix.categories),
        _with_ci(num(ix.hhi), ix.hhi_ci, 3, ix.hhi_ci_excludes_estimate),
        *naka,
        " / ".join(pct(t.share) for t in ix.top),
        num(ix.entropy_bits, 2),
    )


def _indices_table(caption: str, first: str, rows: Sequence[tuple[str, Indices]]) -> Raw:
    thresholds = [f.threshold for f in rows[0][1].nakamoto] if rows else []
    ks = "/".join(str(t.k) for t in rows[0][1].top) if rows else ""
    headers = [first, "n (attributed)", "unknown left out", "categories", "HHI [CI]"]
    headers += [f"Nakamoto >{100 * t:.0f} % [CI]" for t in thresholds]
    headers += [f"top {ks} share", "entropy (bits)"]
    body = [_indices_row(label, ix) for label, ix in rows]
    caption += (
        f"; [CI] = 95 % percentile bootstrap interval (per-node rows: IPs resampled); {FLAG} = the interval does not "
        "contain the estimate (flagged, not corrected)"
    )
    return table(caption, headers, body, numeric=range(1, len(headers)), empty="no populations", css="matrix")


def indices_section(analysis: Analysis, primary: PopulationAnalysis | None) -> Raw:
    parts: list[object] = [
        Raw(
            '<p class="note">Indices count attributed units only ("unknown" is not an operator; for the client '
            "dimension: units with client info only); n per row. HHI as "
            "a fraction (1/k for k equal categories, 1 for one). Nakamoto: fewest categories holding strictly more "
            "than the threshold. Intervals: percentile bootstrap, "
            f"{analysis.bootstrap_samples:,} replicates, per-node denominators only; entropy has no interval.</p>"
        )
    ]
    if primary is not None:
        rows = [(d.dimension, d.indices) for d in primary.dimensions]
        parts.append(_indices_table(f"Concentration indices — {primary.denominator.name}", "dimension", rows))
    every = [
        (p.denominator.name, p.dimension("provider").indices)
        for p in analysis.populations
        if any(d.dimension == "provider" for d in p.dimensions)
    ]
    parts.append(
        _indices_table(
            "Provider concentration under every denominator, over all operators (each ISP network its own operator)",
            "denominator",
            every,
        )
    )
    hosted = [
        (p.denominator.name, p.dimension("provider").hosted_indices)
        for p in analysis.populations
        if p.has_dimension("provider") and p.dimension("provider").hosted_indices is not None
    ]
    parts.append(
        _indices_table(
            "Provider concentration under every denominator, over hosted providers only (cloud + hosting units)",
            "denominator",
            [(name, ix) for name, ix in hosted if ix is not None],
        )
    )
    return section("indices", "Concentration indices: all operators and hosted providers only", *parts)


def filtered_section(analysis: Analysis) -> Raw:
    crawl = table(
        "Filtered while crawling",
        ("reason", "records"),
        [(reason, f"{count:,}") for reason, count in analysis.context.filtered],
        numeric=(1,),
        empty="no records were filtered",
    )
    left_out = table(
        "Left out by each denominator (node records)",
        ("denominator", "n (units)", "reason", "records"),
        [
            (p.denominator.name, f"{p.denominator.n:,}", reason, f"{count:,}")
            for p in analysis.populations
            for reason, count in p.excluded.items()
            if count
        ],
        numeric=(1, 3),
        empty="no denominator left any record out",
    )
    note = Raw(
        f'<p class="note">Records filtered while crawling never entered the snapshot ({analysis.nodes_total:,} '
        "records did). Each denominator then leaves out the records outside its scope and merges duplicates.</p>"
    )
    return section("filtered", "Filtered and left-out records, by reason", note, crawl, left_out)


_METHOD = (
    "<p><strong>Crawl.</strong> A discovery crawler asked every node it reached for its neighbours until no new node "
    "appeared or the crawl period ended. Each node record keeps the IP its packets came from, its ENR and fork id, and "
    "whether it answered our PING (reachable).</p>"
    "<p><strong>Attribution.</strong> Each IP is matched first against published cloud address ranges (longest prefix "
    "wins; a regional range beats a generic one), then by its AS number against a curated ASN-to-provider table; other "
    "networks are labelled <code>other:&lt;AS name&gt;</code> (residential or business), never dropped; IPs no dataset "
    "knows stay <code>unknown</code>. The datasets and their dates are listed in the header.</p>"
    "<p><strong>Shares and intervals.</strong> A share is units in a category divided by the denominator's n, with "
    "unknown units included, so shares sum to 100 %. Intervals are Wilson score 95 % intervals, honest at small n and "
    "near 0 or 100 %. Region names are qualified by provider (<code>aws/us-east-1</code>).</p>"
    "<p><strong>Clients.</strong> Where the crawler completed an RLPx handshake with a node, the client id of its "
    "Hello (e.g. <code>Geth/v1.14.11-stable/linux-amd64/go1.23.2</code>) gives the client name, lowercased. Nodes "
    "not dialed, or that sent no Hello, have no client and count as <code>unknown</code>: client shares are of every "
    "unit, and the report states for how many the client is known. A merged unit (IP or prefix) takes the most "
    "common client name among its records.</p>"
    "<p><strong>Claims.</strong> A claim names no denominator, so it is checked under every one; the verdict compares "
    "the claimed share with our interval. External figures are shown for context with their own denominators.</p>"
)


def method_section(analysis: Analysis) -> Raw:
    dl = "".join(
        f"<dt><code>{e(p.denominator.name)}</code></dt><dd>{e(p.denominator.description)}</dd>"
        for p in analysis.populations
    )
    scopes = (
        "<p><strong>Denominators.</strong> A scope (<code>discovered</code>: every node record; "
        "<code>reachable</code>: answered our PING; <code>mainnet</code>: fork id matches mainnet) combined with a "
        "dedup mode (<code>node</code>: once per node id; <code>ip</code>: once per unique IP; <code>prefix</code>: "
        "once per /24 or /48, since many node ids can sit behind one machine). The primary denominator is "
        "reachable/node (discovered/node when nothing answered).</p>"
    )
    return section("method", "Method", Raw(_METHOD), Raw(scopes), Raw(f'<dl class="facts">{dl}</dl>'))
