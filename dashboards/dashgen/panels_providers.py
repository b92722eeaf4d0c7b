"""Row "Providers": provider shares over time and node counts per provider."""

from __future__ import annotations

from typing import Any

from dashgen.common import COUNT, DENOMINATOR, NODE_DENOMINATOR, bars, query, share_expr, stacked_shares, thresholds


def provider_panels() -> list[Any]:
    shares = stacked_shares(
        "Provider shares over time",
        "Share of each of the top providers, plus 'other' for the rest; stacked, so the total is 100 %. " + DENOMINATOR,
        query(share_expr("provider"), "{{key}}"),
        width=16,
        height=10,
    )
    nodes = bars(
        "Nodes per provider (latest crawl)",
        "Node count per top provider and 'other'. " + NODE_DENOMINATOR,
        "short",
        query(
            'sort_desc(eth_hosting_nodes{network="$network",layer="$layer",scope="$scope"})',
            "{{provider}}",
            instant=True,
        ),
        width=8,
        height=10,
    ).thresholds(thresholds(*COUNT))
    return [shares, nodes]
