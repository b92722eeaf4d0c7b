"""Denominators: scopes, dedup modes, exclusion counts, unknowns kept, nodes per IP."""

from __future__ import annotations

import dataclasses

from analysis_factories import attribution, node

from monitor.analysis.population import (
    ALL_SPECS,
    PopulationSpec,
    network_prefix,
    nodes_per_ip,
    select_population,
)


def _nodes() -> list:  # type: ignore[type-arg]
    return [
        node("1.2.3.4", "aws"),
        node("1.2.3.4", "aws"),  # same IP, second node id
        node("1.2.3.9", "aws", reachable=False),  # same /24
        node("5.6.7.8", "hetzner", network="other"),
        node("5.6.8.1", None, network="unknown"),  # no attribution: counted as unknown
        node(None, "ovh"),  # no IP known
        node("2001:db8:1:2::1", "google"),
        node("2001:db8:1:3::1", "google"),  # same /48
    ]


def test_specs_cover_every_scope_and_dedup() -> None:
    assert [s.name for s in ALL_SPECS] == [
        "discovered/node", "discovered/ip", "discovered/prefix",
        "reachable/node", "reachable/ip", "reachable/prefix",
        "mainnet/node", "mainnet/ip", "mainnet/prefix",
        "hosted/node", "hosted/ip", "hosted/prefix",
    ]  # fmt: skip
    assert "unique IP" in PopulationSpec("reachable", "ip").describe()


def test_discovered_node_keeps_everything() -> None:
    pop = select_population(_nodes(), PopulationSpec("discovered", "node"))
    assert pop.denominator.n == 8 and pop.denominator.name == "discovered/node"
    assert pop.unattributed == 1
    assert pop.excluded == {"duplicate_node_id": 0}


def test_ip_and_prefix_dedup_count_what_they_merge_and_drop() -> None:
    ip = select_population(_nodes(), PopulationSpec("discovered", "ip"))
    assert ip.denominator.n == 6
    assert ip.excluded == {"no_ip": 1, "bad_ip": 0, "same_ip": 1}
    prefix = select_population(_nodes(), PopulationSpec("discovered", "prefix"))
    assert {u.key for u in prefix.units} == {"1.2.3.0/24", "5.6.7.0/24", "5.6.8.0/24", "2001:db8:1::/48"}
    assert prefix.excluded == {"no_ip": 1, "bad_ip": 0, "same_prefix": 3}
    # Every record is either counted in a unit or counted as left out.
    for pop in (ip, prefix):
        assert sum(u.nodes for u in pop.units) + pop.excluded["no_ip"] + pop.excluded["bad_ip"] == 8


def test_scopes_report_their_exclusions() -> None:
    reachable = select_population(_nodes(), PopulationSpec("reachable", "node"))
    assert reachable.denominator.n == 7 and reachable.excluded["not_reachable"] == 1
    mainnet = select_population(_nodes(), PopulationSpec("mainnet", "node"))
    assert mainnet.denominator.n == 6
    assert mainnet.excluded == {"network_other": 1, "network_unknown": 1, "duplicate_node_id": 0}


def test_duplicate_node_ids_merge() -> None:
    a = node("1.1.1.1", "aws", node_id="ab" * 32)
    b = dataclasses.replace(a, ip="1.1.1.2")
    pop = select_population([a, b], PopulationSpec("discovered", "node"))
    assert pop.denominator.n == 1 and pop.excluded["duplicate_node_id"] == 1


def test_bad_ip_is_counted_not_dropped() -> None:
    pop = select_population([node("not-an-ip", "aws")], PopulationSpec("discovered", "ip"))
    assert pop.denominator.n == 0 and pop.excluded["bad_ip"] == 1


def test_merged_unit_takes_majority_attribution_independent_of_order() -> None:
    nodes = [node("9.9.9.1", None), node("9.9.9.2", "ovh"), node("9.9.9.3", "aws"), node("9.9.9.4", "aws")]
    for ordering in (nodes, nodes[::-1]):
        (unit,) = select_population(ordering, PopulationSpec("discovered", "prefix")).units
        assert unit.attribution == attribution("aws") and unit.nodes == 4
    (tie,) = select_population(nodes[:3], PopulationSpec("discovered", "prefix")).units
    assert tie.attribution is not None and tie.attribution.provider == "aws"  # tie broken by the fields, not order


def test_network_prefix() -> None:
    assert network_prefix("192.0.2.77") == "192.0.2.0/24"
    assert network_prefix("2001:db8:abcd:12::1") == "2001:db8:abcd::/48"
    assert network_prefix("nope") is None


def test_nodes_per_ip_distribution() -> None:
    dist = nodes_per_ip(_nodes())
    assert dist.denominator.name == "discovered/ip" and dist.denominator.n == 6
    assert dist.histogram == ((1, 5), (2, 1))
    assert (dist.nodes, dist.without_ip, dist.max_nodes_per_ip, dist.ips_with_several) == (7, 1, 2, 1)
    empty = nodes_per_ip([])
    assert empty.histogram == () and empty.max_nodes_per_ip == 0 and empty.denominator.n == 0
