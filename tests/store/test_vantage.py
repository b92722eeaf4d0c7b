"""Coverage and overlap of vantage points, their combined snapshot and their metric families (pure functions)."""

from __future__ import annotations

import pytest

from monitor.exporter import metrics as m
from monitor.exporter.families import build_metric_set, iter_samples
from monitor.exporter.state import CrawlHealth
from monitor.store.base import ObservedNode, VantageCrawl
from monitor.store.vantage import COMBINED, combined_snapshot, summarise, valid_vantage


def node(i: int, provider: str = "aws", reachable: bool = True, ip: str = "10.0.0.1") -> ObservedNode:
    return ObservedNode(f"{i:064x}", ip, reachable, "mainnet", provider, None, "DE", 1, "cloud", None)


def vantage_crawl(name: str, started: float, nodes: list[ObservedNode]) -> VantageCrawl:
    return VantageCrawl(name, f"{name}-snap", started, started + 60, "mainnet", False, tuple(nodes))


CRAWLS = [
    vantage_crawl("eu", 100.0, [node(i, "aws" if i < 6 else "ovh") for i in range(10)]),  # 0..9
    vantage_crawl("us", 200.0, [node(i, "aws", reachable=False) for i in range(5, 13)]),  # 5..12
    vantage_crawl("home", 150.0, [node(i, "hetzner") for i in (0, 5, 9, 20)]),
]


def test_union_intersection_coverage_and_exclusive_counts() -> None:
    s = summarise(CRAWLS, top_k=2)
    assert (s.union, s.intersection, s.vantage_points) == (14, 2, 3)  # ids 0..12 and 20; 5 and 9 seen by all
    by = {v.vantage: v for v in s.vantages}
    assert [v.vantage for v in s.vantages] == ["us", "home", "eu"]  # newest first
    assert (by["eu"].nodes, by["eu"].exclusive, by["eu"].coverage) == (10, 4, pytest.approx(10 / 14))  # 1, 2, 3, 4
    assert (by["us"].exclusive, by["home"].exclusive) == (3, 1)  # 10,11,12 and 20
    assert by["us"].reachable == 0 and s.union_reachable == 11  # us reached none; 10, 11, 12 nobody reached
    for v in s.vantages:
        assert sum(share for _, share in v.providers) == pytest.approx(1.0)
        assert {p for p, _ in v.providers} <= {"aws", "hetzner", "ovh", "other"}


def test_the_vantage_label_is_bounded() -> None:
    s = summarise(CRAWLS, max_vantages=2)
    assert [v.vantage for v in s.vantages] == ["us", "home"] and s.vantage_points == 3 and s.union == 14


def test_combined_snapshot_takes_the_newest_observation_and_any_reachability() -> None:
    snap = combined_snapshot(CRAWLS, {"ipinfo": "2026-11-01"})
    by_id = {n.node_id: n for n in snap.nodes}
    assert len(by_id) == 14 and snap.meta.vantage == COMBINED and snap.meta.datasets == {"ipinfo": "2026-11-01"}
    five = by_id[f"{5:064x}"]  # seen by all three: us (newest) says aws, not reachable; others reached it
    assert five.attribution is not None and five.attribution.provider == "aws" and five.answered_ping
    assert not by_id[f"{12:064x}"].answered_ping
    assert snap.meta.settings["vantages"] == ["eu", "home", "us"]
    assert combined_snapshot(list(reversed(CRAWLS))).meta.id == snap.meta.id  # the id names the set of crawls


def test_vantage_families_carry_each_vantage_and_the_combined_series() -> None:
    s = summarise(CRAWLS, top_k=2)
    samples = list(iter_samples(build_metric_set(None, CrawlHealth(), now=0, version="x", vantages=s)))
    nodes = {(lb["vantage"], lb["scope"]): v for n, lb, v in samples if n == m.VANTAGE_NODES}
    assert (
        nodes[(COMBINED, "discovered")] == 14 and nodes[("eu", "discovered")] == 10 and nodes[("us", "reachable")] == 0
    )
    assert [v for n, _, v in samples if n == m.VANTAGE_OVERLAP_NODES] == [2]
    coverage = {lb["vantage"]: v for n, lb, v in samples if n == m.VANTAGE_COVERAGE}
    assert set(coverage) == {"eu", "us", "home"}
    shares = [v for n, lb, v in samples if n == m.VANTAGE_PROVIDER_SHARE and lb["vantage"] == COMBINED]
    assert sum(shares) == pytest.approx(1.0)
    empty = list(iter_samples(build_metric_set(None, CrawlHealth(), now=0, version="x")))
    assert not [n for n, _, _ in empty if n.startswith("eth_hosting_vantage_")]


@pytest.mark.parametrize(("name", "ok"), [("eu-1", True), ("host.example_2", True), ("", False), ("a b", False),
                                           ("combined", False), ("x" * 64, False), ("-lead", False)])  # fmt: skip
def test_vantage_names(name: str, ok: bool) -> None:
    assert valid_vantage(name) is ok
