"""Row "Clients (nodes dialed over RLPx)": client shares and clients by provider."""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.builders import table
from grafana_foundation_sdk.models import dashboard as dm

from dashgen.common import (
    DENOMINATOR,
    bars,
    framed,
    override,
    query,
    share_expr,
    stacked_shares,
    stat_panel,
    thresholds,
)

CLIENT_NOTE = (
    "A client name (geth, nethermind, erigon, besu, reth, ...) is known only for nodes the crawler dialed over RLPx "
    "and that sent a Hello; every other unit counts as 'unknown', so the client shares sum to 100 % over all units "
    "and 'Client known' says how much of the denominator rests on dialed nodes. "
)
CROSSTAB = 'eth_hosting_client_share_by_provider_ratio{network="$network",layer="$layer",scope="$scope"}'


def _client_share_panels() -> list[Any]:
    known = (
        stat_panel(
            "Client known",
            "Fraction of the units with a client name (1 minus the 'unknown' client share): the denominator behind "
            "every named client share. " + CLIENT_NOTE + DENOMINATOR,
            "percentunit",
            query("1 - " + share_expr("client", 'key="unknown"'), "client known", instant=True),
            width=4,
            height=10,
        )
        .decimals(1)
        .thresholds(thresholds((None, "orange"), (0.5, "green")))
    )
    shares = stacked_shares(
        "Client shares over time",
        "Share of each of the top clients, 'other' for the rest and 'unknown' for units without client info; "
        "stacked, so the total is 100 %. " + CLIENT_NOTE + DENOMINATOR,
        query(share_expr("client"), "{{key}}"),
        width=12,
        height=10,
    )
    latest = bars(
        "Clients (latest crawl)",
        "Share per client in the latest crawl, 'unknown' included. " + CLIENT_NOTE + DENOMINATOR,
        "percentunit",
        query(f"sort_desc({share_expr('client')})", "{{key}}", instant=True),
        width=8,
        height=10,
    ).thresholds(thresholds((None, "green"), (0.33, "orange"), (0.5, "red")))
    return [known, shares, latest]


def _client_by_provider_table() -> Any:
    # The provider's n (its node ids), relabelled as one more "client" column of the pivoted table.
    n_expr = (
        'label_replace(eth_hosting_nodes{network="$network",layer="$layer",scope="$scope"}, '
        '"client", "n (node ids)", "", "") '
        f"and on (network, layer, scope, provider) group by (network, layer, scope, provider) ({CROSSTAB})"
    )
    description = (
        "Share of each client among the node ids of each top provider (rows), 'other' for the other clients and "
        "'unknown' for node ids without client info; each row sums to 100 %. Denominator of a row: the node ids "
        "of that provider in the selected scope ($scope) among the $layer-layer records of network $network, "
        "shown as 'n (node ids)'; not "
        "deduplicated by IP. " + CLIENT_NOTE
    )
    return (
        framed(table.Panel(), "Clients by provider (latest crawl)", description, "percentunit", width=24, height=10)
        .decimals(1)
        .show_header(True)
        .with_target(query(CROSSTAB, "", instant=True, table_format=True, ref="A"))
        .with_target(query(n_expr, "", instant=True, table_format=True, ref="B"))
        .with_transformation(dm.DataTransformerConfig(id_val="merge", options={}))
        .with_transformation(
            dm.DataTransformerConfig(
                id_val="groupingToMatrix",
                options={"columnField": "client", "rowField": "provider", "valueField": "Value"},
            )
        )
        .override_by_name(*override("n (node ids)", ("unit", "short"), ("decimals", 0)))
    )


def client_panels() -> list[Any]:
    return [*_client_share_panels(), _client_by_provider_table()]
