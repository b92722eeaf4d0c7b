"""Rows "Reachable vs discovered" and "Mainnet vs other networks": how the shares change with the scope."""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.models import common

from dashgen.common import query, series

_PER_DEDUP = "among the $layer-layer records, counted per $dedup in network $network"


def _provider_compare(versus: str, scopes: str, description: str, *, width: int) -> Any:
    """Share of the selected providers in two scopes side by side."""
    return series(
        f"Provider share: {versus}",
        description,
        "percentunit",
        query(
            'eth_hosting_share_ratio{network="$network",layer="$layer",dedup="$dedup",dimension="provider",key=~"$provider",'
            f'scope=~"{scopes}"}}',
            "{{key}} · {{scope}}",
        ),
        width=width,
    ).min(0)


def scope_panels() -> list[Any]:
    population = series(
        "Population by scope",
        "Units per scope (discovered ⊇ reachable; mainnet = discovered nodes whose fork id says mainnet), counted per "
        "$dedup among the $layer-layer records in network $network. These are the denominators themselves.",
        "short",
        query('eth_hosting_population_units{network="$network",layer="$layer",dedup="$dedup"}', "{{scope}}"),
        width=8,
    )
    reachable = series(
        "Reachable fraction",
        "Reachable units divided by discovered units ($layer-layer records, counted per $dedup in network $network): "
        "how much of what "
        "the crawl heard of actually answered.",
        "percentunit",
        query(
            'eth_hosting:reachable_fraction:ratio{network="$network",layer="$layer",dedup="$dedup"}',
            "reachable / discovered",
        ),
        width=8,
    )
    compare = _provider_compare(
        "reachable vs discovered",
        "discovered|reachable",
        "Share of the selected providers among reachable units and among all discovered units, "
        f"{_PER_DEDUP}. A gap means that provider's nodes answer more (or less) often than the rest.",
        width=8,
    )
    return [population, reachable.min(0).max(1), compare]


def network_panels() -> list[Any]:
    split = series(
        "Mainnet vs other networks",
        "Discovered units split into Ethereum mainnet (fork id) and everything else (testnets, other chains, nodes "
        f"without a fork id), {_PER_DEDUP}. Denominator of the split: all discovered units.",
        "short",
        query(
            'eth_hosting_population_units{network="$network",layer="$layer",scope="mainnet",dedup="$dedup"}',
            "mainnet",
            ref="A",
        ),
        query(
            'eth_hosting:non_mainnet_units:count{network="$network",layer="$layer",dedup="$dedup"}',
            "other / unknown",
            ref="B",
        ),
        width=12,
    )
    split = split.stacking(common_builders.StackingConfig().mode(common.StackingMode.NORMAL)).fill_opacity(50)
    compare = _provider_compare(
        "mainnet vs all discovered",
        "discovered|mainnet",
        f"Share of the selected providers among mainnet units and among all discovered units, {_PER_DEDUP}.",
        width=12,
    )
    return [split, compare]
