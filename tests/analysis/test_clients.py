"""The client dimension and the provider x client cross-tab: hand-computed figures, edge cases, merged units, and
properties (every cross-tab row sums to 1)."""

from __future__ import annotations

import json
import random

import pytest
from analysis_factories import node, snapshot
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from monitor.analysis import analyse
from monitor.analysis.clients import client_columns, clients_by_provider, row_counts
from monitor.analysis.concentration import UNKNOWN, analyse_dimension, dimension_key
from monitor.analysis.jsonform import analysis_to_dict
from monitor.analysis.population import PopulationSpec, client_name, select_population
from monitor.analysis.stats import wilson_interval
from monitor.outputs.terminal.report import render_report

NODE = PopulationSpec("discovered", "node")


def _hand_nodes() -> list:  # type: ignore[type-arg]
    """aws: 4 nodes (geth 2, nethermind 1, not dialed 1); hetzner: 3 (geth, reth, not dialed); 1 unattributed geth."""
    return [
        node("1.0.0.1", "aws", client="geth"),
        node("1.0.0.2", "aws", client="geth"),
        node("1.0.0.3", "aws", client="nethermind"),
        node("1.0.0.4", "aws"),
        node("2.0.0.1", "hetzner", client="geth"),
        node("2.0.0.2", "hetzner", client="reth"),
        node("2.0.0.3", "hetzner"),
        node("3.0.0.1", None, client="geth"),
    ]


def test_client_shares_by_hand() -> None:
    dim = analyse_dimension(select_population(_hand_nodes(), NODE), "client", random.Random(0), samples=0)
    assert [(s.key, s.count) for s in dim.shares] == [("geth", 4), ("unknown", 2), ("nethermind", 1), ("reth", 1)]
    assert dim.share_of("geth").share == 0.5
    assert dim.share_of("geth").ci == wilson_interval(4, 8)
    assert sum(s.share for s in dim.shares) == pytest.approx(1.0)
    # indices over the 6 units with client info: geth 4, nethermind 1, reth 1
    ix = dim.indices
    assert ix.denominator.n == 6 and ix.unknown_excluded == 2 and ix.categories == 3
    assert ix.denominator.name == "discovered/node:client_known"
    assert "units with client info only (2 unknown left out)" in ix.denominator.description
    assert ix.hhi == pytest.approx((16 + 1 + 1) / 36)
    assert [f.value for f in ix.nakamoto] == [1, 1]  # geth alone holds 4/6 > 50 %


def test_cross_tab_by_hand() -> None:
    table = clients_by_provider(select_population(_hand_nodes(), NODE))
    assert table.denominator.n == 8 and table.client_known == 6 and table.client_known_share == 0.75
    assert [(r.provider, r.n, r.client_known) for r in table.rows] == [("aws", 4, 3), ("hetzner", 3, 2)]
    aws, hetzner = table.rows
    assert [(s.key, s.count, s.share) for s in aws.shares] == [("geth", 2, 0.5), ("nethermind", 1, 0.25),
                                                               ("unknown", 1, 0.25)]  # fmt: skip
    assert aws.shares[0].ci == wilson_interval(2, 4)
    assert hetzner.share_of("reth") == pytest.approx(1 / 3) and hetzner.share_of("nethermind") == 0.0
    assert table.providers_left_out == 0 and table.units_left_out == 1  # the unattributed geth node
    columns = client_columns(table, 1)
    assert columns == ("geth", "other", "unknown")
    assert row_counts(aws, columns) == [("geth", 2), ("other", 1), ("unknown", 1)]
    assert row_counts(hetzner, columns) == [("geth", 1), ("other", 1), ("unknown", 1)]
    assert client_columns(table, 5) == ("geth", "nethermind", "reth", "unknown")  # nothing left for "other"
    top1 = clients_by_provider(select_population(_hand_nodes(), NODE), top=1)
    assert [r.provider for r in top1.rows] == ["aws"] and top1.providers_left_out == 1 and top1.units_left_out == 4


def test_empty_population() -> None:
    pop = select_population([], NODE)
    dim = analyse_dimension(pop, "client", random.Random(0))
    assert dim.shares == () and dim.indices.hhi is None and dim.indices.denominator.n == 0
    table = clients_by_provider(pop)
    assert table.rows == () and table.client_known == 0 and table.client_known_share is None
    assert table.units_left_out == 0 and client_columns(table, 5) == ("unknown",)


def test_one_node() -> None:
    pop = select_population([node("1.1.1.1", "aws", client="erigon")], NODE)
    dim = analyse_dimension(pop, "client", random.Random(0))
    assert [(s.key, s.share) for s in dim.shares] == [("erigon", 1.0)]
    assert dim.indices.hhi == 1.0 and [f.value for f in dim.indices.nakamoto] == [1, 1]
    (row,) = clients_by_provider(pop).rows
    assert (row.provider, row.n, row.client_known, row.share_of("erigon")) == ("aws", 1, 1, 1.0)


def test_no_client_info_is_counted_as_unknown_never_dropped() -> None:
    nodes = [node(f"1.1.1.{i}", "aws") for i in range(5)] + [node("2.2.2.2", None)]
    pop = select_population(nodes, NODE)
    dim = analyse_dimension(pop, "client", random.Random(0))
    assert [(s.key, s.count, s.share) for s in dim.shares] == [(UNKNOWN, 6, 1.0)]
    assert dim.indices.denominator.n == 0 and dim.indices.unknown_excluded == 6 and dim.indices.hhi is None
    table = clients_by_provider(pop)
    assert table.client_known == 0 and [(r.provider, r.n, r.client_known) for r in table.rows] == [("aws", 5, 0)]
    assert table.rows[0].share_of(UNKNOWN) == 1.0


def test_client_names_are_normalised() -> None:
    assert client_name(node(client="  Geth ")) == "geth"
    assert client_name(node(client="")) is None
    assert client_name(node(client="Unknown")) is None  # would otherwise be counted with the undialed nodes
    assert client_name(node()) is None
    with pytest.raises(ValueError, match="unit_key"):
        dimension_key(None, "client")


def test_merged_units_follow_the_representative_rule() -> None:
    """One IP, three node ids: the unit takes the most common known client, a tie breaks by name, and a unit with no
    client info among its records is unknown; provider and client are chosen independently."""
    nodes = [
        node("1.0.0.1", "aws", client="nethermind"),
        node("1.0.0.1", "aws", client="geth"),
        node("1.0.0.1", "aws", client="geth"),
        node("1.0.0.2", "aws"),
        node("1.0.0.2", "aws", client="reth"),  # a known client beats the undialed record
        node("1.0.0.3", "hetzner", client="reth"),
        node("1.0.0.3", "hetzner", client="besu"),  # tie: by name
        node("1.0.0.4", "ovh"),
        node("1.0.0.4", "ovh"),
    ]
    ip = select_population(nodes, PopulationSpec("discovered", "ip"))
    assert {u.key: u.client for u in ip.units} == {
        "1.0.0.1": "geth", "1.0.0.2": "reth", "1.0.0.3": "besu", "1.0.0.4": None,
    }  # fmt: skip
    shuffled = select_population(list(reversed(nodes)), PopulationSpec("discovered", "ip"))
    assert [u.client for u in shuffled.units] == [u.client for u in ip.units]
    prefix = select_population(nodes, PopulationSpec("discovered", "prefix"))
    (unit,) = prefix.units  # 1.0.0.0/24: reth 2, geth 2, nethermind 1, besu 1 -> tie geth/reth, by name
    assert unit.client == "geth" and unit.attribution is not None and unit.attribution.provider == "aws"
    dim = analyse_dimension(ip, "client", random.Random(0))
    assert {s.key: s.count for s in dim.shares} == {"geth": 1, "reth": 1, "besu": 1, UNKNOWN: 1}
    table = clients_by_provider(ip)
    assert {r.provider: r.n for r in table.rows} == {"aws": 2, "hetzner": 1, "ovh": 1}


_PROVIDERS = st.sampled_from(["aws", "hetzner", "ovh", "other:ISP", None])
_CLIENTS = st.sampled_from(["geth", "nethermind", "erigon", "besu", "reth", "other", None])


@given(
    st.lists(st.tuples(_PROVIDERS, _CLIENTS, st.integers(0, 20)), max_size=60),
    st.sampled_from(["node", "ip", "prefix"]),
    st.integers(0, 6),
    st.integers(0, 4),
)
def test_cross_tab_rows_sum_to_one(records: list, dedup: str, top: int, columns: int) -> None:  # type: ignore[type-arg]
    nodes = [node(f"10.{i % 3}.0.{ip}", p, client=c) for i, (p, c, ip) in enumerate(records)]
    pop = select_population(nodes, PopulationSpec("discovered", dedup))  # type: ignore[arg-type]
    table = clients_by_provider(pop, top=top)
    assert len(table.rows) <= top
    assert [r.n for r in table.rows] == sorted((r.n for r in table.rows), reverse=True)
    assert sum(r.n for r in table.rows) + table.units_left_out == pop.denominator.n
    dim = analyse_dimension(pop, "client", random.Random(0), samples=0)
    assert table.client_known == pop.denominator.n - dim.share_of(UNKNOWN).count
    names = client_columns(table, columns)
    for row in table.rows:
        assert row.n > 0
        assert sum(s.share for s in row.shares) == pytest.approx(1.0)
        assert sum(s.count for s in row.shares) == row.n
        assert row.client_known == row.n - sum(s.count for s in row.shares if s.key == UNKNOWN)
        assert sum(c for _, c in row_counts(row, names)) == row.n


def test_analysis_carries_the_cross_tab_into_json_and_the_report() -> None:
    snap = snapshot(_hand_nodes())
    analysis = analyse(snap, rng=random.Random(1), bootstrap_samples=20)
    assert analysis.nodes_with_client == 6
    primary = analysis.primary()
    assert primary is not None and primary.clients_by_provider is not None
    data = json.loads(json.dumps(analysis_to_dict(analysis)))
    assert data["nodes_with_client"] == 6
    pop = next(p for p in data["populations"] if p["denominator"]["name"] == "reachable/ip")
    assert [d["dimension"] for d in pop["dimensions"]][-2:] == ["client", "category"]
    assert [r["provider"] for r in pop["clients_by_provider"]["rows"]] == ["aws", "hetzner"]
    assert pop["clients_by_provider"]["client_known"] == 6
    console = Console(record=True, width=220, color_system=None)
    render_report(console, analysis)
    text = console.export_text()
    for expected in (
        "client info (RLPx Hello)",
        "client known for 6 of 8 units (75.0 %)",
        "Clients — reachable/node, n = 8",
        "Client known for 6 of 8 units (75.0 %): only nodes dialed over RLPx",
        "Clients per provider — reachable/node",
        "50 (15-85)",  # aws geth: 2 of 4 with its Wilson interval
    ):
        assert expected in text, expected


def test_without_the_client_dimension_there_is_no_cross_tab_and_the_report_still_renders() -> None:
    analysis = analyse(snapshot(_hand_nodes()), rng=random.Random(1), dimensions=("provider", "region", "country"))
    assert all(p.clients_by_provider is None for p in analysis.populations)
    console = Console(record=True, width=200, color_system=None)
    render_report(console, analysis)
    assert "Clients per provider" not in console.export_text()
