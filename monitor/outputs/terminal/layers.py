"""The per-layer and hosting parts of the terminal report: each layer's n and top providers, the hosted vs
residential split, and the indices over hosted providers only.

Two index families sit side by side (METHOD.md): over all operators (every ISP network its own operator, in the
report's main index tables) and over hosted units only (cloud + hosting, here). Read alone, the first makes a network
of thousands of home connections look decentralised; the second is the concentration among hosting providers.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console

from monitor.analysis.concentration import DimensionAnalysis, Indices
from monitor.analysis.report import Analysis, PopulationAnalysis
from monitor.outputs.terminal.indices import render_indices
from monitor.outputs.terminal.layout import Col, ci_pct, pct, print_table

__all__ = ["layer_views", "render_layer_summary", "render_hosted", "top_providers_text"]

_TOP = 3  # providers named per layer in the summary


def layer_views(analysis: Analysis) -> list[tuple[str, int, tuple[PopulationAnalysis, ...]]]:
    """(layer, node records, populations) for every layer view, then all records."""
    views = [(v.layer, v.nodes, v.populations) for v in analysis.layers]
    return [*views, ("all", analysis.nodes_total, analysis.populations)]


def same_denominator(populations: Sequence[PopulationAnalysis], name: str) -> PopulationAnalysis | None:
    """The population named ``name`` ("reachable/node") in a layer view ("execution:reachable/node")."""
    return next((p for p in populations if p.denominator.name.split(":")[-1] == name), None)


def top_providers_text(dim: DimensionAnalysis, k: int = _TOP) -> str:
    named = [s for s in dim.shares if s.key != "unknown"][:k]
    return ", ".join(f"{s.key} {pct(s.share)}" for s in named) or "—"


def render_layer_summary(console: Console, analysis: Analysis, name: str) -> None:
    """One row per layer under the denominator ``name``: records, n, unattributed units and the top providers."""
    rows: list[tuple[str, int, PopulationAnalysis]] = []
    for layer, nodes, pops in layer_views(analysis):
        p = same_denominator(pops, name)
        if p is not None and p.has_dimension("provider"):
            rows.append((layer, nodes, p))
    if not rows:
        return
    cols = [
        Col("layer", [layer for layer, _, _ in rows]),
        Col("records", [f"{nodes:,}" for _, nodes, _ in rows], right=True, drop=1),
        Col("n", [f"{p.denominator.n:,}" for _, _, p in rows], right=True),
        Col("unk", [f"{p.unattributed:,}" for _, _, p in rows], right=True),
        Col(f"top {_TOP} providers (%)", [top_providers_text(p.dimension("provider")) for _, _, p in rows], label=True),
    ]
    print_table(console, f"Layers — {name} per layer (records: node records of the layer)", cols)


def _category_share(p: PopulationAnalysis, key: str) -> str:
    if not p.has_dimension("category") or p.denominator.n == 0:
        return "—"
    return pct(p.dimension("category").share_of(key).share)


def _aws_of_hosted(analysis: Analysis, dedup: str) -> str:
    hosted = same_denominator(analysis.populations, f"hosted/{dedup}")
    if hosted is None or not hosted.has_dimension("provider") or hosted.denominator.n == 0:
        return "—"
    share = hosted.dimension("provider").share_of("aws")
    return f"{pct(share.share)} ({ci_pct(share.ci)})"


def render_hosted(console: Console, analysis: Analysis) -> None:
    """Hosted vs residential per denominator (all records) and the provider indices over hosted units only."""
    pops = [
        p for p in analysis.populations if p.has_dimension("category") and not p.denominator.name.startswith("hosted/")
    ]
    if pops:
        cols = [
            Col("denominator", [p.denominator.name for p in pops]),
            Col("n", [f"{p.denominator.n:,}" for p in pops], right=True),
            Col("hosted", [_category_share(p, "hosted") for p in pops], right=True),
            Col("resid./other", [_category_share(p, "other") for p in pops], right=True),
            Col("unk", [_category_share(p, "unknown") for p in pops], right=True),
        ]
        print_table(console, "Hosted (cloud + hosting) vs residential / other networks, % of n", cols)
        dedups = [("node", "node ids"), ("ip", "IPs"), ("prefix", "prefixes")]
        console.print(
            "AWS share of hosted units (95% CI): "
            + "; ".join(f"{what} {_aws_of_hosted(analysis, dedup)}" for dedup, what in dedups)
        )
    rows: list[tuple[str, Indices]] = []
    for p in analysis.populations:
        dim = p.dimension("provider") if p.has_dimension("provider") else None
        if dim is not None and dim.hosted_indices is not None:
            rows.append((p.denominator.name, dim.hosted_indices))
    if rows:
        render_indices(console, "Provider concentration under every denominator, over hosted providers only", rows)
