"""The metric families on a fresh registry: every family of the contract, capped labels, and promtool's checks."""

from __future__ import annotations

import subprocess
from typing import Any

import pytest
from exporter_helpers import KNOWN, require_tool
from prometheus_client import CollectorRegistry, generate_latest

from monitor import __version__
from monitor.exporter import metrics as m
from monitor.exporter.analysis_worker import analyse_snapshot
from monitor.exporter.collector import SnapshotCollector
from monitor.exporter.families import MetricSet, build_metric_set, capped_counts
from monitor.exporter.service import snapshot_document
from monitor.exporter.state import CrawlHealth, crawl_totals, failure_totals
from monitor.seeds import load_claims
from monitor.sim.synthetic import synthetic_snapshot

NOW = 1_800_000_000.0


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    snap = synthetic_snapshot(2000, seed=3)
    return snapshot_document(snap, analyse_snapshot(snap, load_claims(None), bootstrap=0, seed=1))


def _health() -> CrawlHealth:
    totals = crawl_totals({"packets_sent_ping": 10, "packets_recv_pong": 7, "packets_timeout_ping": 3})
    for key, value in failure_totals("crawl_timeout").items():
        totals[key] = totals.get(key, 0) + value
    return CrawlHealth(last_success_at=NOW - 60, last_duration_s=12.5, last_attempt_at=NOW, totals=totals)


def _registry(metric_set: MetricSet) -> CollectorRegistry:
    registry = CollectorRegistry()
    registry.register(SnapshotCollector(lambda: metric_set))
    return registry


def test_every_family_of_the_contract_has_samples(document: dict[str, Any]) -> None:
    metric_set = build_metric_set(document, _health(), now=NOW, version=__version__, top_k=5, known_providers=KNOWN)
    reg = _registry(metric_set)
    net = {"network": "synthetic", "layer": "all"}
    pop = {**net, "scope": "reachable", "dedup": "ip"}
    share = {**pop, "dimension": "provider", "key": "aws"}
    assert reg.get_sample_value(m.SHARE, share) > 0  # type: ignore[operator]
    assert reg.get_sample_value(m.SHARE_CI_LOW, share) < reg.get_sample_value(m.SHARE, share)  # type: ignore[operator]
    assert reg.get_sample_value(m.SHARE_CI_HIGH, share) > reg.get_sample_value(m.SHARE, share)  # type: ignore[operator]
    assert reg.get_sample_value(m.SHARE, {**share, "key": "other"}) is not None
    assert reg.get_sample_value(m.NODES, {**net, "scope": "discovered", "provider": "aws"}) > 0  # type: ignore[operator]
    assert 0 < reg.get_sample_value(m.HHI, {**pop, "dimension": "country", "family": "operators"}) <= 1  # type: ignore[operator]
    for threshold in ("0.33", "0.5"):
        nakamoto = {**pop, "dimension": "provider", "family": "operators", "threshold": threshold}
        assert reg.get_sample_value(m.NAKAMOTO, nakamoto) >= 1  # type: ignore[operator]
    units = reg.get_sample_value(m.POPULATION_UNITS, pop)
    assert units is not None and units > 1000
    claim = {"claim": "aws-23pct", "layer": "all", "denominator": "reachable/ip"}
    for name in (m.CLAIM_SHARE, m.CLAIM_SHARE_CI_LOW, m.CLAIM_SHARE_CI_HIGH, m.CLAIM_CONSISTENT, m.CLAIM_DESIGN_EFFECT):
        assert reg.get_sample_value(name, claim) is not None, name
    verdicts = [reg.get_sample_value(m.CLAIM_VERDICT, {**claim, "verdict": v}) for v in m_verdicts()]
    assert sorted(v or 0.0 for v in verdicts) == [0.0, 0.0, 0.0, 1.0] and None not in verdicts
    assert reg.get_sample_value(m.CRAWL_DURATION) == 12.5
    assert reg.get_sample_value(m.CRAWL_LAST_SUCCESS) == NOW - 60
    assert reg.get_sample_value(m.CRAWL_NODES_DISCOVERED) == 2000
    assert reg.get_sample_value(m.CRAWL_PACKETS, {"direction": "sent", "type": "ping"}) == 10
    assert reg.get_sample_value(m.CRAWL_PACKETS, {"direction": "received", "type": "pong"}) == 7
    assert reg.get_sample_value(m.CRAWL_PACKETS, {"direction": "received", "type": "enrresponse"}) == 0
    assert reg.get_sample_value(m.CRAWL_ERRORS, {"kind": "timeout_ping"}) == 3
    assert reg.get_sample_value(m.CRAWL_ERRORS, {"kind": "crawl_timeout"}) == 1
    assert reg.get_sample_value(m.CRAWL_ERRORS, {"kind": "decode"}) == 0
    assert reg.get_sample_value(m.CRAWLS, {"result": "success"}) == 1
    assert reg.get_sample_value(m.CRAWLS, {"result": "failure"}) == 1
    age = reg.get_sample_value(m.DATASET_AGE, {"dataset": "synthetic"})
    assert age is not None and 20 * 86400 < age < 400 * 86400
    assert reg.get_sample_value(m.SNAPSHOT_TIMESTAMP) == document["meta"]["started_at"]
    assert reg.get_sample_value(m.SIMULATED) == 1
    assert reg.get_sample_value(m.BUILD_INFO, {"version": __version__}) == 1
    names = {f.name for f in metric_set.families}
    assert {n.removesuffix("_total") for n in m.ALL_METRICS} == names


def m_verdicts() -> tuple[str, ...]:
    return ("consistent", "higher", "lower", "insufficient")


def test_cardinality_is_capped_and_shares_sum_to_one(document: dict[str, Any]) -> None:
    metric_set = build_metric_set(document, _health(), now=NOW, version="x", top_k=5, known_providers=KNOWN)
    for family in metric_set.families:
        for sample in family.samples:
            assert all(len(v) < 100 for v in sample.labels.values())
            assert not any(v.startswith("10.") for v in sample.labels.values())  # never an IP
    share = next(f for f in metric_set.families if f.name == m.SHARE)
    groups: dict[tuple[str, ...], list[float]] = {}
    for s in share.samples:
        key = (s.labels["layer"], s.labels["scope"], s.labels["dedup"], s.labels["dimension"])
        groups.setdefault(key, []).append(s.value)
    layers = {key[0] for key in groups}
    assert layers <= set(m.LAYERS) and "all" in layers
    # per layer with records: scopes (hosted included) x dedups x dimensions (category included)
    assert len(groups) == len(layers) * 4 * 3 * 6
    for key, values in groups.items():
        limit = {"provider": 5 + len(KNOWN) + 1, "client": 5 + 2}.get(key[3], 5 + 1)
        assert len(values) <= limit, key
        assert sum(values) == pytest.approx(1.0), key


def test_known_providers_exist_at_zero_and_other_takes_the_rest() -> None:
    shares = [{"key": "aws", "count": 5}, {"key": "x", "count": 3}, {"key": "y", "count": 2}]
    assert capped_counts(shares, 10, top_k=1, always=("gcp",)) == [("aws", 5), ("gcp", 0), ("other", 5)]
    # a category literally named "other" is folded into the remainder instead of duplicating the series
    assert capped_counts([{"key": "other", "count": 4}, {"key": "a", "count": 1}], 5, top_k=5) == [
        ("a", 1),
        ("other", 4),
    ]


def test_without_a_snapshot_only_health_series_exist_and_known_providers_are_precreated(
    document: dict[str, Any],
) -> None:
    empty = build_metric_set(None, CrawlHealth(), now=NOW, version="x", known_providers=KNOWN)
    reg = _registry(empty)
    assert reg.get_sample_value(m.SHARE, {}) is None
    assert reg.get_sample_value(m.CRAWLS, {"result": "failure"}) == 0
    assert reg.get_sample_value(m.CRAWL_LAST_SUCCESS) is None
    doc = dict(document)
    doc["analysis"] = dict(document["analysis"])
    gone = build_metric_set(doc, CrawlHealth(), now=NOW, version="x", known_providers=(*KNOWN, "tencent"))
    labels = {"network": "synthetic", "layer": "all", "scope": "discovered", "provider": "tencent"}
    assert _registry(gone).get_sample_value(m.NODES, labels) == 0


def test_collector_reads_the_current_set_only() -> None:
    sets = [build_metric_set(None, CrawlHealth(last_duration_s=float(i)), now=NOW, version="x") for i in range(2)]
    current = {"set": sets[0]}
    reg = CollectorRegistry()
    reg.register(SnapshotCollector(lambda: current["set"]))
    assert reg.get_sample_value(m.CRAWL_DURATION) == 0.0
    current["set"] = sets[1]
    assert reg.get_sample_value(m.CRAWL_DURATION) == 1.0
    assert generate_latest(reg) == sets[1].exposition


def test_promtool_accepts_the_exposition(document: dict[str, Any]) -> None:
    promtool = require_tool("promtool")
    metric_set = build_metric_set(document, _health(), now=NOW, version=__version__, known_providers=KNOWN)
    result = subprocess.run(
        [promtool, "check", "metrics"], input=metric_set.exposition, capture_output=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()


def test_synthetic_snapshots_are_deterministic() -> None:
    a, b = synthetic_snapshot(300, seed=9), synthetic_snapshot(300, seed=9)
    assert a == b
    assert len({n.attribution.provider for n in a.nodes if n.attribution}) > 10
