"""Row "Vantage points": what each crawler (vantage point) saw, how much of the union it covers, and their overlap.

The eth_hosting_vantage_* families describe crawls, not populations of one layer: these panels do not follow the
layer, scope and dedup variables (they count node ids of every layer, as each crawler recorded them).
"""

from __future__ import annotations

from typing import Any

from dashgen.common import COUNT, NO_DENOMINATOR, bars, query, series, stat_panel, thresholds

_NOT_LAYER = (
    "Counts node ids of every layer as each crawler recorded them (not filtered by the Layer, Scope or Counted-per "
    "variables). "
)


def vantage_panels() -> list[Any]:
    points = stat_panel(
        "Vantage points",
        "Crawlers (vantage points) with a successful crawl within the vantage window, writing to the shared "
        "history store. " + _NOT_LAYER + NO_DENOMINATOR,
        "short",
        query("max(eth_hosting_vantage_points)", "vantage points", instant=True),
        width=4,
        height=8,
    ).thresholds(thresholds(*COUNT))
    nodes = series(
        "Nodes per vantage point (and combined)",
        "Node ids in the latest crawl of each vantage point, and 'combined' = seen from any of them (the union). "
        "Denominator of coverage: the combined count. " + _NOT_LAYER,
        "short",
        query('eth_hosting_vantage_nodes{scope="discovered"}', "{{vantage}}"),
        width=7,
    ).min(0)
    coverage = bars(
        "Coverage per vantage point",
        "Share of the node ids seen from any vantage point (the union) that this one saw; low coverage means the "
        "crawler sees a different part of the network. Denominator: the node ids seen from any vantage point. "
        + _NOT_LAYER,
        "percentunit",
        query("sort_desc(eth_hosting_vantage_coverage_ratio)", "{{vantage}}", instant=True),
        width=6,
        height=8,
    ).thresholds(thresholds((None, "orange"), (0.8, "green")))
    overlap = series(
        "Overlap and exclusive nodes",
        "Node ids seen by every vantage point (overlap) and, per vantage point, those only it saw (exclusive). "
        + _NOT_LAYER
        + NO_DENOMINATOR,
        "short",
        query("eth_hosting_vantage_overlap_nodes", "seen by every vantage", ref="A"),
        query("eth_hosting_vantage_exclusive_nodes", "only {{vantage}}", ref="B"),
        width=7,
    ).min(0)
    providers = series(
        "Provider share per vantage point",
        "Share of each selected provider among a vantage point's node ids, and among the combined ones. A provider "
        "that one vantage sees much more of is vantage bias, not concentration. Denominator: the node ids of that "
        "vantage point (combined: of the union). " + _NOT_LAYER,
        "percentunit",
        query('eth_hosting_vantage_provider_share_ratio{provider=~"$provider"}', "{{provider}} · {{vantage}}"),
        width=24,
    ).min(0)
    return [points, nodes, coverage, overlap, providers]
