"""The layer and family labels (issues 12, 14, 15): layer views beside all records, the two index families, the
residential / other share, AWS among hosted nodes, and claims per layer with the primary flag."""

from __future__ import annotations

import dataclasses
import random
from typing import Any

import pytest
from exporter_helpers import KNOWN
from prometheus_client import CollectorRegistry

from monitor.analysis import analyse
from monitor.analysis.jsonform import analysis_to_dict
from monitor.exporter import metrics as m
from monitor.exporter.collector import SnapshotCollector
from monitor.exporter.families import build_metric_set, iter_samples
from monitor.exporter.service import snapshot_document
from monitor.exporter.state import CrawlHealth
from monitor.seeds import load_claims
from monitor.sim.synthetic import synthetic_snapshot
from monitor.snapshot import Snapshot

NOW = 1_800_000_000.0


def _two_layers(snap: Snapshot) -> Snapshot:
    """Every third record on the consensus layer, the rest on the execution layer."""
    nodes = tuple(
        dataclasses.replace(n, layer="consensus" if i % 3 == 0 else "execution") for i, n in enumerate(snap.nodes)
    )
    return dataclasses.replace(snap, nodes=nodes)


@pytest.fixture(scope="module")
def snap() -> Snapshot:
    return _two_layers(synthetic_snapshot(1500, seed=5))


@pytest.fixture(scope="module")
def analysis(snap: Snapshot) -> dict[str, Any]:
    result = analyse(snap, rng=random.Random(1), claims=load_claims(None), bootstrap_samples=0)
    return analysis_to_dict(result)


@pytest.fixture(scope="module")
def reg(snap: Snapshot, analysis: dict[str, Any]) -> CollectorRegistry:
    doc = snapshot_document(snap, analysis)
    metric_set = build_metric_set(doc, CrawlHealth(), now=NOW, version="x", top_k=5, known_providers=KNOWN)
    registry = CollectorRegistry()
    registry.register(SnapshotCollector(lambda: metric_set))
    return registry


def _population(analysis: dict[str, Any], layer: str, name: str) -> dict[str, Any]:
    pops = analysis["populations"] if layer == "all" else next(v for v in analysis["layers"] if v["layer"] == layer)
    pops = pops if layer == "all" else pops["populations"]
    prefix = "" if layer == "all" else f"{layer}:"
    found: dict[str, Any] = next(p for p in pops if p["denominator"]["name"] == prefix + name)
    return found


@pytest.mark.parametrize("layer", ["all", "execution", "consensus"])
def test_population_units_per_layer_are_the_analysis_n(
    reg: CollectorRegistry, analysis: dict[str, Any], layer: str
) -> None:
    for name in ("discovered/node", "reachable/ip", "hosted/prefix"):
        scope, dedup = name.split("/")
        labels = {"network": "synthetic", "layer": layer, "scope": scope, "dedup": dedup}
        assert (
            reg.get_sample_value(m.POPULATION_UNITS, labels) == _population(analysis, layer, name)["denominator"]["n"]
        )


def test_layers_partition_the_records(reg: CollectorRegistry) -> None:
    units = {
        layer: reg.get_sample_value(
            m.POPULATION_UNITS, {"network": "synthetic", "layer": layer, "scope": "discovered", "dedup": "node"}
        )
        for layer in m.LAYERS
    }
    assert units["execution"] == 1000 and units["consensus"] == 500 and units["all"] == 1500


def test_two_index_families_carry_the_analysis_indices(reg: CollectorRegistry, analysis: dict[str, Any]) -> None:
    dim = next(
        d for d in _population(analysis, "execution", "reachable/node")["dimensions"] if d["dimension"] == "provider"
    )
    labels = {
        "network": "synthetic",
        "layer": "execution",
        "scope": "reachable",
        "dedup": "node",
        "dimension": "provider",
    }
    operators = reg.get_sample_value(m.HHI, {**labels, "family": "operators"})
    hosted = reg.get_sample_value(m.HHI, {**labels, "family": "hosted"})
    assert operators == pytest.approx(dim["indices"]["hhi"])
    assert hosted == pytest.approx(dim["hosted_indices"]["hhi"])
    assert hosted != operators  # the synthetic mix has ISP networks, which only the operators family counts
    for fig in dim["hosted_indices"]["nakamoto"]:
        threshold = "0.33" if fig["threshold"] < 0.4 else "0.5"
        got = reg.get_sample_value(m.NAKAMOTO, {**labels, "family": "hosted", "threshold": threshold})
        assert got == fig["value"]


def test_no_hosted_family_where_units_have_no_hosting_category(reg: CollectorRegistry) -> None:
    labels = {"network": "synthetic", "layer": "all", "scope": "discovered", "dedup": "node", "family": "hosted"}
    assert reg.get_sample_value(m.HHI, {**labels, "dimension": "client"}) is None
    assert reg.get_sample_value(m.HHI, {**labels, "dimension": "category"}) is None


def test_residential_share_and_aws_among_hosted(reg: CollectorRegistry, analysis: dict[str, Any]) -> None:
    pop = {"network": "synthetic", "layer": "all", "scope": "discovered", "dedup": "ip", "dimension": "category"}
    values = {key: reg.get_sample_value(m.SHARE, {**pop, "key": key}) for key in m.CATEGORY_KEYS}
    assert None not in values and sum(v or 0.0 for v in values.values()) == pytest.approx(1.0)
    shares = next(
        d for d in _population(analysis, "all", "discovered/ip")["dimensions"] if d["dimension"] == "category"
    )
    other = next(s["share"] for s in shares["shares"] if s["key"] == "other")
    assert values["other"] == pytest.approx(other) and 0 < other < 1
    hosted = {"network": "synthetic", "layer": "all", "scope": "hosted", "dedup": "node", "dimension": "provider"}
    aws = reg.get_sample_value(m.SHARE, {**hosted, "key": "aws"})
    everyone = reg.get_sample_value(m.SHARE, {**hosted, "scope": "discovered", "key": "aws"})
    assert aws is not None and everyone is not None and aws > everyone  # fewer units in the hosted denominator


def test_per_node_share_intervals_are_the_analysis_cluster_robust_ones(
    reg: CollectorRegistry, analysis: dict[str, Any]
) -> None:
    dim = next(d for d in _population(analysis, "all", "discovered/node")["dimensions"] if d["dimension"] == "provider")
    aws = next(s for s in dim["shares"] if s["key"] == "aws")
    labels = {"network": "synthetic", "layer": "all", "scope": "discovered", "dedup": "node", "dimension": "provider"}
    assert reg.get_sample_value(m.SHARE_CI_LOW, {**labels, "key": "aws"}) == pytest.approx(aws["ci"]["low"])
    assert reg.get_sample_value(m.SHARE_CI_HIGH, {**labels, "key": "aws"}) == pytest.approx(aws["ci"]["high"])


def test_claims_per_layer_with_the_primary_flag(reg: CollectorRegistry, analysis: dict[str, Any]) -> None:
    for c in analysis["claims"]:
        layer = c["layer"]
        labels = {
            "claim": c["claim_id"],
            "layer": layer,
            "denominator": c["denominator"]["name"].removeprefix(f"{layer}:"),
        }
        assert reg.get_sample_value(m.CLAIM_PRIMARY, labels) == (1.0 if c["primary"] else 0.0)
        assert reg.get_sample_value(m.CLAIM_VERDICT, {**labels, "verdict": c["verdict"]}) == 1.0
        assert reg.get_sample_value(m.CLAIM_DESIGN_EFFECT, labels) == pytest.approx(c["design_effect"])
    primary = {c["layer"] for c in analysis["claims"] if c["primary"]}
    assert primary == {"execution"}  # the AWS 23 % claim is about execution-layer nodes


def test_label_sets_stay_fixed(snap: Snapshot, analysis: dict[str, Any]) -> None:
    doc = snapshot_document(snap, analysis)
    metric_set = build_metric_set(doc, CrawlHealth(), now=NOW, version="x", top_k=5, known_providers=KNOWN)
    for _, labels, _ in iter_samples(metric_set):
        assert labels.get("layer", "all") in m.LAYERS
        assert labels.get("family", "operators") in m.FAMILIES
        assert ":" not in labels.get("denominator", "")
