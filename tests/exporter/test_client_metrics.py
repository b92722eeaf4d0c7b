"""The client dimension in the metrics: client shares, the provider x client family, and crawls that dialed nobody."""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from typing import Any

import pytest
from exporter_helpers import KNOWN
from prometheus_client import CollectorRegistry

from monitor.exporter import metrics as m
from monitor.exporter.analysis_worker import analyse_snapshot, child_analyser
from monitor.exporter.collector import SnapshotCollector
from monitor.exporter.families import MetricSet, build_metric_set, client_by_provider_rows
from monitor.exporter.service import snapshot_document
from monitor.exporter.state import CrawlHealth
from monitor.seeds import load_claims
from monitor.sim.synthetic import synthetic_snapshot
from monitor.snapshot import Snapshot

NOW = 1_800_000_000.0
TOP_K = 5


def _document(snap: Snapshot) -> dict[str, Any]:
    return snapshot_document(snap, analyse_snapshot(snap, load_claims(None), bootstrap=0, seed=1))


@pytest.fixture(scope="module")
def snap() -> Snapshot:
    return synthetic_snapshot(2000, seed=5)


@pytest.fixture(scope="module")
def metric_set(snap: Snapshot) -> MetricSet:
    return build_metric_set(_document(snap), CrawlHealth(), now=NOW, version="x", top_k=TOP_K, known_providers=KNOWN)


def _registry(metric_set: MetricSet) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(SnapshotCollector(lambda: metric_set))
    return registry


def _samples(metric_set: MetricSet, name: str) -> list[tuple[dict[str, str], float]]:
    family = next(f for f in metric_set.families if f.name == name)
    return [(dict(s.labels), s.value) for s in family.samples]


def test_client_shares_indices_and_the_cross_tab_are_on_a_fresh_registry(metric_set: MetricSet) -> None:
    reg = _registry(metric_set)
    pop = {"network": "synthetic", "layer": "all", "scope": "reachable", "dedup": "node"}
    geth = reg.get_sample_value(m.SHARE, {**pop, "dimension": "client", "key": "geth"})
    unknown = reg.get_sample_value(m.SHARE, {**pop, "dimension": "client", "key": "unknown"})
    assert geth is not None and unknown is not None
    assert 0.2 < geth < 0.4 and 0.25 < unknown < 0.45  # 65 % of reachable nodes dialed, 45 % of those geth
    low = reg.get_sample_value(m.SHARE_CI_LOW, {**pop, "dimension": "client", "key": "geth"})
    assert low is not None and low < geth
    assert 0 < reg.get_sample_value(m.HHI, {**pop, "dimension": "client", "family": "operators"}) <= 1  # type: ignore[operator]
    assert (
        reg.get_sample_value(m.NAKAMOTO, {**pop, "dimension": "client", "family": "operators", "threshold": "0.5"}) == 2
    )  # geth + one
    cell = {"network": "synthetic", "layer": "all", "scope": "reachable", "provider": "aws", "client": "geth"}
    value = reg.get_sample_value(m.CLIENT_SHARE_BY_PROVIDER, cell)
    assert value is not None and 0.15 < value < 0.45


def test_cross_tab_rows_sum_to_one_and_cardinality_is_capped(metric_set: MetricSet) -> None:
    rows: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for labels, value in _samples(metric_set, m.CLIENT_SHARE_BY_PROVIDER):
        assert set(labels) == {"network", "layer", "scope", "provider", "client"}
        if labels["layer"] == "all":
            rows[(labels["scope"], labels["provider"])][labels["client"]] = value
    assert {scope for scope, _ in rows} == {"discovered", "reachable", "mainnet", "hosted"}
    node_providers = defaultdict(set)
    for labels, _ in _samples(metric_set, m.NODES):
        if labels["layer"] == "all":
            node_providers[labels["scope"]].add(labels["provider"])
    for (scope, provider), clients in rows.items():
        assert sum(clients.values()) == pytest.approx(1.0), (scope, provider)
        assert len(clients) <= TOP_K + 2 and {"other", "unknown"} <= set(clients)
        assert provider in node_providers[scope]  # its n is eth_hosting_nodes of the same labels
        assert provider != "unknown"
    assert max(sum(1 for s, _ in rows if s == scope) for scope in ("discovered", "reachable", "mainnet")) <= TOP_K


def test_a_crawl_that_dialed_nobody_still_has_client_series(snap: Snapshot) -> None:
    """A devnet without RLPx: every client is unknown; the series exist (share 1), the indices are absent."""
    undialed = dataclasses.replace(snap, nodes=tuple(dataclasses.replace(n, client=None) for n in snap.nodes))
    metric_set = build_metric_set(_document(undialed), CrawlHealth(), now=NOW, version="x", top_k=TOP_K)
    reg = _registry(metric_set)
    pop = {"network": "synthetic", "layer": "all", "scope": "discovered", "dedup": "ip"}
    assert reg.get_sample_value(m.SHARE, {**pop, "dimension": "client", "key": "unknown"}) == 1.0
    assert reg.get_sample_value(m.SHARE, {**pop, "dimension": "client", "key": "other"}) == 0.0
    assert reg.get_sample_value(m.HHI, {**pop, "dimension": "client", "family": "operators"}) is None
    cross = _samples(metric_set, m.CLIENT_SHARE_BY_PROVIDER)
    assert cross and all(v == (1.0 if labels["client"] == "unknown" else 0.0) for labels, v in cross)
    assert {labels["client"] for labels, _ in cross} == {"other", "unknown"}


def test_client_by_provider_rows_by_hand() -> None:
    share = {"share": 0.0, "ci": {"low": 0.0, "high": 1.0}}
    crosstab = {
        "rows": [
            {"provider": "aws", "n": 10, "shares": [{"key": k, "count": c, **share} for k, c in
                                                    (("geth", 5), ("unknown", 3), ("besu", 1), ("reth", 1))]},
            {"provider": "ovh", "n": 4, "shares": [{"key": "unknown", "count": 4, **share}]},
            {"provider": "tiny", "n": 1, "shares": [{"key": "geth", "count": 1, **share}]},
        ]
    }  # fmt: skip
    rows = client_by_provider_rows(crosstab, ["geth", "besu", "other", "unknown"], top_k=2)
    assert rows == [
        ("aws", "geth", 0.5),
        ("aws", "besu", 0.1),
        ("aws", "other", 0.1),  # reth
        ("aws", "unknown", 0.3),
        ("ovh", "geth", 0.0),
        ("ovh", "besu", 0.0),
        ("ovh", "other", 0.0),
        ("ovh", "unknown", 1.0),
    ]
    # only providers with their own eth_hosting_nodes series
    assert [r[0] for r in client_by_provider_rows(crosstab, ["geth"], top_k=5, providers={"tiny"})] == ["tiny"] * 3


async def test_the_analysis_child_process_sees_the_clients() -> None:
    """Client names cross the pipe to the analysis process: its result equals the in-process one."""
    small = synthetic_snapshot(300, seed=2)
    in_process = analyse_snapshot(small, None, bootstrap=0, seed=1)
    in_child = await child_analyser(None, bootstrap=0, seed=1)(small)
    assert in_child == in_process
    reachable = next(p for p in in_child["populations"] if p["denominator"]["name"] == "reachable/node")
    client = next(d for d in reachable["dimensions"] if d["dimension"] == "client")
    assert "geth" in {s["key"] for s in client["shares"]}
    assert reachable["clients_by_provider"]["client_known"] > 100
