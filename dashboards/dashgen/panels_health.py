"""Row "Crawl health and data freshness": what the crawler did and how old the data behind the shares is."""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.models import common

from dashgen.common import AGE, COUNT, NO_DENOMINATOR, bars, override, query, series, stat_panel, thresholds

_ALERT_LEVEL = "alert level (50 % of median)"
_DAY = 86400


def _crawl_series() -> list[Any]:
    discovered = series(
        "Nodes discovered per crawl",
        "Nodes the latest crawl heard of, its 7-day median, and half the median (below it the 'far fewer nodes than "
        "usual' alert fires). Counts, not shares: no denominator.",
        "short",
        query("eth_hosting_crawl_nodes_discovered", "discovered", ref="A"),
        query("eth_hosting:crawl_nodes_discovered:median_7d", "7-day median", ref="B"),
        query("0.5 * eth_hosting:crawl_nodes_discovered:median_7d", _ALERT_LEVEL, ref="C"),
        width=8,
    ).override_by_name(*override(_ALERT_LEVEL, ("custom.lineStyle", {"fill": "dash", "dash": [10, 10]})))
    duration = series(
        "Crawl duration",
        "Wall-clock time of the latest crawl. " + NO_DENOMINATOR,
        "s",
        query("eth_hosting_crawl_duration_seconds", "duration"),
        width=8,
    )
    packets = series(
        "Discovery packets",
        "Packets per second sent and received by the crawler, per direction and message type. " + NO_DENOMINATOR,
        "pps",
        query(
            "sum by (direction, type) (rate(eth_hosting_crawl_packets_total[$__rate_interval]))",
            "{{direction}} {{type}}",
        ),
        width=8,
    )
    errors = series(
        "Crawl errors (per hour)",
        "Errors per kind in the last hour (timeouts, bad packets, ...). " + NO_DENOMINATOR,
        "short",
        query("sum by (kind) (increase(eth_hosting_crawl_errors_total[1h]))", "{{kind}}"),
        width=6,
    )
    return [discovered, duration, packets, errors]


def _freshness_panels() -> list[Any]:
    crawls = bars(
        "Crawls in the last 24 h",
        "Crawls that succeeded or failed in the last 24 hours. " + NO_DENOMINATOR,
        "short",
        query("sum by (result) (increase(eth_hosting_crawls_total[24h]))", "{{result}}", instant=True),
        width=4,
        height=8,
    ).thresholds(thresholds(*COUNT))
    datasets = bars(
        "IP dataset age",
        "Age of each IP-to-provider/ASN/country dataset used for attribution; red after 30 days (alert). Refresh with "
        "`monitor data update`. " + NO_DENOMINATOR,
        "s",
        query("sort_desc(eth_hosting_dataset_age_seconds)", "{{dataset}}", instant=True),
        width=6,
        height=8,
    ).thresholds(thresholds((None, "green"), (14 * _DAY, "orange"), (30 * _DAY, "red")))
    snapshot = stat_panel(
        "Snapshot age",
        "Time since the snapshot behind every share on this dashboard was taken. " + NO_DENOMINATOR,
        "s",
        query("time() - eth_hosting_snapshot_timestamp_seconds", "age", instant=True),
        width=4,
        height=8,
    ).thresholds(thresholds(*AGE))
    version = stat_panel(
        "Exporter version",
        "Version of `monitor serve` (eth_hosting_build_info). " + NO_DENOMINATOR,
        "none",
        query("eth_hosting_build_info", "{{version}}", instant=True),
        width=4,
        height=8,
    )
    version = version.text_mode(common.BigValueTextMode.NAME).thresholds(thresholds((None, "text")))
    return [crawls, datasets, snapshot, version]


def health_panels() -> list[Any]:
    return [*_crawl_series(), *_freshness_panels()]
