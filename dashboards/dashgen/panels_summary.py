"""Row "Summary": the headline numbers of the selected scope and dedup."""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.models import common

from dashgen.common import (
    AGE,
    CONCENTRATED,
    COUNT,
    DENOMINATOR,
    FAMILIES,
    NO_DENOMINATOR,
    NOT_REST,
    POP,
    query,
    share_expr,
    stat_panel,
    thresholds,
    value_map,
)


def _concentration_stats() -> list[Any]:
    largest = stat_panel(
        "Largest single provider",
        "Share of the biggest named hosting provider (the rest bucket 'other' excluded). " + DENOMINATOR,
        "percentunit",
        query(f"topk(1, {share_expr('provider', NOT_REST)})", "{{key}}", instant=True),
        width=4,
    )
    largest = largest.text_mode(common.BigValueTextMode.VALUE_AND_NAME).thresholds(
        thresholds((None, "green"), (0.25, "orange"), (0.33, "red"))
    )
    hhi = stat_panel(
        "HHI (providers, all operators)",
        "Herfindahl-Hirschman index of provider shares, 0-1 (0.25 = 2,500 on the usual 10,000 scale; alert above "
        "0.25). "
        + FAMILIES["operators"][1]
        + "The hosted-only family is in the 'Concentration indices' row. "
        + DENOMINATOR,
        "none",
        query(f'eth_hosting_hhi{{{POP},dimension="provider",family="operators"}}', "HHI", instant=True),
        width=4,
    )
    hhi = hhi.decimals(3).thresholds(thresholds(*CONCENTRATED))
    nakamoto = []
    for threshold, label in (("0.33", "1/3"), ("0.5", "1/2")):
        panel = stat_panel(
            f"Nakamoto (providers, {label}, all operators)",
            f"Fewest providers that together hold more than {label} of the units (alert at 2 or fewer). "
            + FAMILIES["operators"][1]
            + DENOMINATOR,
            "none",
            query(
                f'eth_hosting_nakamoto_coefficient{{{POP},dimension="provider",family="operators",threshold="{threshold}"}}',
                "providers",
                instant=True,
            ),
            width=3,
        )
        nakamoto.append(panel.decimals(0).thresholds(thresholds((None, "red"), (3, "orange"), (5, "green"))))
    return [largest, hhi, *nakamoto]


def _data_stats() -> list[Any]:
    population = stat_panel(
        "Population (n)",
        "The denominator itself: how many units (nodes, IPs or prefixes, per 'Counted per') the shares are divided by.",
        "short",
        query(f"eth_hosting_population_units{{{POP}}}", "n", instant=True),
        width=3,
    ).thresholds(thresholds(*COUNT))
    last_crawl = stat_panel(
        "Since last successful crawl",
        "Time since the last crawl that produced a snapshot (one crawl covers every layer: not per layer). Alert when "
        "it exceeds two crawl intervals. " + NO_DENOMINATOR,
        "s",
        query("time() - eth_hosting_crawl_last_success_timestamp_seconds", "age", instant=True),
        width=4,
    ).thresholds(thresholds(*AGE))
    simulated = (
        stat_panel(
            "Data source kind",
            "SIMULATED when the snapshot comes from the offline loopback devnet with a hosting overlay (demo data, not "
            "Ethereum). " + NO_DENOMINATOR,
            "none",
            query("max(eth_hosting_simulated)", "simulated", instant=True),
            width=3,
        )
        .mappings(value_map(("0", "real network", "green"), ("1", "SIMULATED", "purple")))
        .thresholds(thresholds((None, "green"), (1, "purple")))
    )
    return [population, last_crawl, simulated]


def summary_panels() -> list[Any]:
    return [*_concentration_stats(), *_data_stats()]
