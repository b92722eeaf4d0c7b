"""Shares and indices per dimension: keys, unknowns, hand-computed figures, relabelling invariance."""

from __future__ import annotations

import random

from analysis_factories import attribution, node
from hypothesis import given
from hypothesis import strategies as st

from monitor.analysis.concentration import UNKNOWN, analyse_dimension, dimension_key
from monitor.analysis.population import PopulationSpec, select_population
from monitor.analysis.stats import Interval

SPEC = PopulationSpec("discovered", "node")


def test_dimension_keys() -> None:
    a = attribution("aws", region="us-east-1", country="US", asn=16509)
    assert [dimension_key(a, d) for d in ("provider", "region", "country", "asn")] == [
        "aws", "aws/us-east-1", "US", "AS16509",
    ]  # fmt: skip
    bare = attribution("hetzner")
    assert [dimension_key(bare, d) for d in ("provider", "region", "country", "asn")] == [
        "hetzner", "hetzner/unknown", UNKNOWN, UNKNOWN,
    ]  # fmt: skip
    assert dimension_key(None, "provider") == UNKNOWN
    # Issue 15 item 3: the country is kept when the provider is unknown (was "unknown").
    assert dimension_key(attribution("unknown", country="DE"), "country") == "DE"


def test_hand_computed_provider_analysis() -> None:
    # 5 aws, 3 hetzner, 2 ovh attributed, 2 unattributed: n = 12 for shares, 10 for indices.
    nodes = (
        [node(f"10.0.0.{i}", "aws") for i in range(5)]
        + [node(f"10.0.1.{i}", "hetzner") for i in range(3)]
        + [node(f"10.0.2.{i}", "ovh") for i in range(2)]
        + [node(f"10.0.3.{i}", None) for i in range(2)]
    )
    dim = analyse_dimension(select_population(nodes, SPEC), "provider", random.Random(0), samples=200)
    assert dim.denominator.n == 12
    assert [(s.key, s.count) for s in dim.shares] == [("aws", 5), ("hetzner", 3), ("ovh", 2), (UNKNOWN, 2)]
    assert dim.shares[0].share == 5 / 12
    ix = dim.indices
    assert ix.denominator.n == 10 and ix.unknown_excluded == 2 and ix.categories == 3
    assert ix.hhi == 0.38  # 0.5^2 + 0.3^2 + 0.2^2
    assert [(f.threshold, f.value) for f in ix.nakamoto] == [(1 / 3, 1), (0.5, 2)]
    assert [(t.k, t.share) for t in ix.top] == [(1, 0.5), (3, 1.0), (5, 1.0)]
    assert ix.hhi_ci is not None and ix.bootstrap_samples == 200
    assert dim.share_of("aws") is dim.shares[0]
    missing = dim.share_of("google")
    assert missing.count == 0 and missing.ci.low == 0.0 and missing.ci.high > 0.0


def test_empty_population_is_explicit() -> None:
    dim = analyse_dimension(select_population([], SPEC), "provider", random.Random(0))
    assert dim.denominator.n == 0 and dim.shares == ()
    ix = dim.indices
    assert ix.hhi is None and ix.hhi_ci is None and ix.entropy_bits is None and ix.bootstrap_samples == 0
    assert all(f.value is None and f.ci is None for f in ix.nakamoto)
    assert dim.share_of("aws").ci == Interval(0.0, 1.0)


def test_only_unknown_nodes() -> None:
    dim = analyse_dimension(select_population([node("1.1.1.1", None)], SPEC), "asn", random.Random(0))
    assert [(s.key, s.count, s.share) for s in dim.shares] == [(UNKNOWN, 1, 1.0)]
    assert dim.indices.denominator.n == 0 and dim.indices.hhi is None


@given(
    st.lists(st.sampled_from(["aws", "hetzner", "ovh", "google", None]), min_size=1, max_size=60),
    st.permutations(["p1", "p2", "p3", "p4"]),
)
def test_indices_invariant_under_relabelling(providers: list[str | None], names: list[str]) -> None:
    rename = dict(zip(["aws", "hetzner", "ovh", "google"], names, strict=True))
    original = [node(f"10.1.{i // 250}.{i % 250}", p) for i, p in enumerate(providers)]
    relabelled = [node(f"10.1.{i // 250}.{i % 250}", rename.get(p) if p else None) for i, p in enumerate(providers)]
    a = analyse_dimension(select_population(original, SPEC), "provider", random.Random(1), samples=20)
    b = analyse_dimension(select_population(relabelled, SPEC), "provider", random.Random(1), samples=20)
    assert a.indices.hhi == b.indices.hhi
    assert a.indices.hhi_ci == b.indices.hhi_ci  # the bootstrap never sees labels either
    assert [f.value for f in a.indices.nakamoto] == [f.value for f in b.indices.nakamoto]
    assert sorted(s.count for s in a.shares) == sorted(s.count for s in b.shares)
    assert abs(sum(s.share for s in a.shares) - 1.0) < 1e-9
