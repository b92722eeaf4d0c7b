"""The dashboard variables: data source, network, layer, scope, dedup, providers to compare and the claim's
denominators."""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.builders import dashboard
from grafana_foundation_sdk.models import dashboard as dm

from dashgen.common import CLAIM, DATASOURCE


def _label_values(name: str, query: str, label: str, description: str, default: str | None = None) -> Any:
    var = (
        dashboard.QueryVariable(name)
        .label(label)
        .description(description)
        .datasource(DATASOURCE)
        .query(query)
        .refresh(dm.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(dm.VariableSort.ALPHABETICAL_ASC)
    )
    if default is not None:
        var = var.current(dm.VariableOption(selected=True, text=default, value=default))
    return var


def _population_variables() -> list[Any]:
    """network, layer, scope and dedup: the coordinates of every denominator."""
    return [
        _label_values(
            "network",
            "label_values(eth_hosting_population_units, network)",
            "Network",
            "The network the crawler ran against (the `network` label of every metric).",
            "mainnet",
        ),
        _label_values(
            "layer",
            'label_values(eth_hosting_population_units{network="$network"}, layer)',
            "Layer",
            "The records counted: all = every node record; execution = nodes with an execution-layer `eth` entry or "
            "RLPx Status (discv4, geth and the like); consensus = nodes with an `eth2` entry (discv5, beacon nodes).",
            "all",
        ),
        _label_values(
            "scope",
            'label_values(eth_hosting_population_units{network="$network",layer="$layer"}, scope)',
            "Scope",
            "discovered = every node the crawl heard of; reachable = nodes that answered; mainnet = nodes whose fork "
            "id says Ethereum mainnet; hosted = nodes in data centres (cloud + hosting).",
            "discovered",
        ),
        _label_values(
            "dedup",
            'label_values(eth_hosting_population_units{network="$network",layer="$layer",scope="$scope"}, dedup)',
            "Counted per",
            "node = one unit per node id; ip = one per unique IP address; prefix = one per unique address prefix.",
            "node",
        ),
    ]


def variables() -> list[Any]:
    return [
        dashboard.DatasourceVariable("datasource")
        .label("Data source")
        .description("The Prometheus that scrapes `monitor serve`.")
        .type("prometheus"),
        *_population_variables(),
        _label_values(
            "provider",
            'label_values(eth_hosting_share_ratio{network="$network",layer="$layer",dimension="provider"}, key)',
            "Providers to compare",
            "Providers shown in the reachable-vs-discovered and mainnet-vs-all comparisons.",
            "aws",
        )
        .multi(True)
        .include_all(False),
        _label_values(
            "denominator",
            f'label_values(eth_hosting_claim_share_ratio{{claim="{CLAIM}",layer="$layer"}}, denominator)',
            "Claim denominator",
            "scope/dedup pairs against which the AWS 23 % claim is checked on the selected layer; one claim panel is "
            "repeated per value.",
        )
        .multi(True)
        .include_all(True)
        .current(dm.VariableOption(selected=True, text=["All"], value=["$__all"])),
    ]
