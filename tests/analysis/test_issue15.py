"""Issue 15 ("Figures a statistician would sign"): each numbered defect as a regression test, with the reproduction
the issue gives, plus property tests of the merge rule."""

from __future__ import annotations

import dataclasses
import random

from analysis_factories import attribution, node, snapshot
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.analysis import analyse
from monitor.analysis.population import PopulationSpec, network_prefix, select_population
from monitor.analysis.stats import nakamoto, wilson_interval
from monitor.analysis.verdict import MIN_ATTRIBUTED_FRACTION, check_claims
from monitor.seeds import load_claims
from monitor.snapshot import NodeRecord

NODE = [PopulationSpec("discovered", "node")]
IP = [PopulationSpec("discovered", "ip")]


def _primary(results):  # type: ignore[no-untyped-def]
    return [r for r in results if r.primary]


# --- 1. nodes behind one IP are not independent ---------------------------------------------------------------------


def _one_busy_host() -> list[NodeRecord]:
    """240 nodes on distinct IPs (20 % AWS) plus one IP carrying 60 AWS node ids."""
    spread = [node(f"10.1.{i // 200}.{i % 200}", "aws" if i < 48 else "hetzner") for i in range(240)]
    return spread + [node("10.9.9.9", "aws") for _ in range(60)]


def test_per_node_interval_treats_the_ip_as_cluster() -> None:
    (result,) = _primary(check_claims(load_claims().claims, snapshot(_one_busy_host()), specs=NODE))
    assert result.share == 0.36
    # The independent-nodes interval was [30.8, 41.6] %, which put the claimed 23 % below it: "higher".
    plain = wilson_interval(108, 300)
    assert round(plain.low, 3) == 0.308 and round(plain.high, 3) == 0.416
    # With the IP as cluster: design effect about 22, interval about [16, 62] %, so the claim is consistent.
    assert 21.5 < result.design_effect < 22.5
    assert 0.15 < result.ci.low < 0.17 and 0.60 < result.ci.high < 0.63
    assert result.verdict == "consistent"
    assert "design effect 22.1" in result.conclusion
    # Per IP nothing changes: 49 of 241 (20.3 %), each IP its own cluster.
    (per_ip,) = _primary(check_claims(load_claims().claims, snapshot(_one_busy_host()), specs=IP))
    assert (per_ip.count, per_ip.denominator.n, per_ip.design_effect) == (49, 241, 1.0)
    assert per_ip.ci == wilson_interval(49, 241) and per_ip.verdict == "consistent"


def test_share_tables_carry_the_design_effect_and_the_bootstrap_resamples_ips() -> None:
    analysis = analyse(snapshot(_one_busy_host()), rng=random.Random(1), bootstrap_samples=200)
    provider = analysis.population("discovered/node").dimension("provider")
    aws = provider.share_of("aws")
    assert aws.design_effect > 20 and aws.effective_n is not None and aws.effective_n < 15
    assert provider.indices.clustered and provider.indices.hhi_ci is not None
    # Resampling IPs moves the 60 node ids together: the HHI interval is far wider than per-node resampling gives.
    hhi_ci = provider.indices.hhi_ci
    assert hhi_ci.high - hhi_ci.low > 0.15
    per_ip = analysis.population("discovered/ip").dimension("provider").indices
    assert not per_ip.clustered and per_ip.hhi_ci is None  # no bootstrap for ip dedup by default


# --- 2. merged units take the majority value of each dimension ------------------------------------------------------


def test_merged_ip_takes_majority_provider_not_majority_record() -> None:
    records = [node("10.0.0.1", "aws", region=r) for r in ("us-east-1", "eu-west-1", "ap-south-1")]
    records += [node("10.0.0.1", "ovh", region="gra")] * 2
    (unit,) = select_population(records, PopulationSpec("discovered", "ip")).units
    assert unit.keys is not None and unit.keys["provider"] == "aws"  # was "ovh": the most common whole record
    assert unit.keys["region"] == "ovh/gra"  # two of five records; each AWS region has one


def test_merged_prefix_prefers_a_known_value_to_unknown() -> None:
    records = [node("10.0.0.1", None), node("10.0.0.2", "unknown"), node("10.0.0.3", "aws")]
    analysis = analyse(snapshot(records), rng=random.Random(0), bootstrap_samples=0)
    prefix = analysis.population("discovered/prefix")
    assert [(s.key, s.count) for s in prefix.dimension("provider").shares] == [("aws", 1)]  # was "unknown"
    assert prefix.unattributed == 0


_PROVIDERS = st.sampled_from([None, "unknown", "aws", "ovh", "hetzner"])


@settings(max_examples=80, deadline=None)
@given(st.lists(_PROVIDERS, min_size=1, max_size=12), st.randoms(use_true_random=False))
def test_unknown_never_beats_a_known_value_and_order_does_not_matter(
    providers: list[str | None], shuffle: random.Random
) -> None:
    records = [node(f"10.0.0.{i % 3}", p) for i, p in enumerate(providers)]
    spec = PopulationSpec("discovered", "prefix")
    (unit,) = select_population(records, spec).units
    key = unit.keys["provider"] if unit.keys is not None else (unit.attribution.provider if unit.attribution else None)
    known = [p for p in providers if p not in (None, "unknown")]
    if known:
        assert key in known and known.count(key) == max(known.count(p) for p in known)
    else:
        assert key in (None, "unknown")
    shuffle.shuffle(records)
    (again,) = select_population(records, spec).units
    assert again.keys == unit.keys and again.attribution == unit.attribution


@settings(max_examples=60, deadline=None)
@given(st.lists(_PROVIDERS, min_size=1, max_size=12))
def test_merge_rule_is_invariant_under_order_preserving_relabelling(providers: list[str | None]) -> None:
    def rename(p: str | None) -> str | None:
        return p if p in (None, "unknown") else f"net-{p}"

    spec = PopulationSpec("discovered", "ip")
    plain = select_population([node("10.0.0.1", p) for p in providers], spec).units[0]
    renamed = select_population([node("10.0.0.1", rename(p)) for p in providers], spec).units[0]
    keys = plain.keys["provider"] if plain.keys else (plain.attribution.provider if plain.attribution else None)
    renamed_keys = (
        renamed.keys["provider"] if renamed.keys else (renamed.attribution.provider if renamed.attribution else None)
    )
    assert renamed_keys == rename(keys)


# --- 3. unknowns ----------------------------------------------------------------------------------------------------


def test_unattributed_counts_the_unknown_provider_the_resolver_writes() -> None:
    analysis = analyse(snapshot([node(f"10.0.0.{i}", "unknown") for i in range(40)]), rng=random.Random(0))
    assert analysis.population("discovered/node").unattributed == 40  # was 0: only null attributions counted


def test_claim_verdict_is_withheld_when_nothing_is_attributed() -> None:
    records = [node(f"10.0.{i // 200}.{i % 200}", "unknown") for i in range(50)]
    (result,) = _primary(check_claims(load_claims().claims, snapshot(records), specs=NODE))
    assert result.verdict == "insufficient" and result.withheld == "attribution"  # was "lower" (0 %, [0, 7.1 %])
    assert "insufficient attribution" in result.conclusion


def test_claim_with_some_unknowns_reports_bounds_and_judges_on_both() -> None:
    # 100 nodes: 20 AWS, 70 Hetzner, 10 unknown (90 % attributed, above the threshold).
    records = [node(f"10.0.0.{i}", "aws" if i < 20 else ("hetzner" if i < 90 else "unknown")) for i in range(100)]
    (result,) = _primary(check_claims(load_claims().claims, snapshot(records), specs=NODE))
    assert MIN_ATTRIBUTED_FRACTION <= result.attributed_fraction == 0.9
    assert (result.share, result.share_upper, result.unattributed) == (0.2, 0.3, 10)
    assert result.ci_bounds is not None
    assert (
        result.ci_bounds.low == wilson_interval(20, 100).low and result.ci_bounds.high == wilson_interval(30, 100).high
    )
    assert result.verdict == "consistent"


def test_country_is_kept_when_the_provider_is_unknown() -> None:
    records = [node("10.0.0.1", "unknown", country="DE"), node("10.0.0.2", None)]
    analysis = analyse(snapshot(records), rng=random.Random(0), bootstrap_samples=0)
    countries = analysis.population("discovered/node").dimension("country").shares
    assert [(s.key, s.count) for s in countries] == [("DE", 1), ("unknown", 1)]


# --- 4. two index families -------------------------------------------------------------------------------------------


def test_indices_over_all_operators_and_over_hosted_only() -> None:
    records = [node(f"10.0.0.{i}", "aws", category="cloud") for i in range(30)]
    records += [node(f"10.0.1.{i}", "hetzner", category="hosting") for i in range(20)]
    records += [node(f"10.0.2.{i}", f"other:ISP {i}", category="isp") for i in range(50)]
    analysis = analyse(snapshot(records), rng=random.Random(0), bootstrap_samples=0)
    pop = analysis.population("discovered/node")
    provider = pop.dimension("provider")
    assert provider.indices.family == "all_operators" and provider.indices.hhi == (900 + 400 + 50) / 100**2
    hosted = provider.hosted_indices
    assert hosted is not None and hosted.family == "hosted_only"
    assert hosted.hhi == (900 + 400) / 50**2 and [f.value for f in hosted.nakamoto] == [1, 1]
    assert [f.value for f in provider.indices.nakamoto] == [2, 3]  # 30 + 20 of 100 is not more than half
    split = {s.key: s.count for s in pop.dimension("category").shares}
    assert split == {"hosted": 50, "other": 50}  # hosted vs residential / other networks
    hosted_scope = analysis.population("hosted/node")
    assert hosted_scope.denominator.n == 50 and hosted_scope.excluded["not_hosted"] == 50
    assert hosted_scope.dimension("provider").share_of("aws").share == 0.6  # "AWS share of hosted nodes"


# --- 5. thresholds, intervals that miss the estimate, IPv4-mapped IPv6 ---------------------------------------------


def test_nakamoto_one_third_is_exactly_one_third() -> None:
    counts = [332, 332, 332, 4]  # the largest holds 33.2 %: more than 0.33, not more than a third
    assert nakamoto(counts, 0.33) == 1
    assert nakamoto(counts, 1 / 3) == 2
    records = [node(f"10.{i // 250}.{i % 250}.1", p) for i, p in enumerate(["a"] * 332 + ["b"] * 332 + ["c"] * 336)]
    analysis = analyse(snapshot(records), rng=random.Random(0), bootstrap_samples=0)
    figures = analysis.population("discovered/node").dimension("provider").indices.nakamoto
    assert [(f.threshold, f.value) for f in figures] == [(1 / 3, 1), (0.5, 2)]


def test_bootstrap_interval_that_excludes_its_estimate_is_flagged() -> None:
    # 4 x 25 %: N50 = 3, but almost every replicate has a provider above 25 %, so the interval is [2, 2].
    records = [node(f"10.0.{i}.1", f"p{i % 4}") for i in range(100)]
    analysis = analyse(snapshot(records), rng=random.Random(3), bootstrap_samples=500)
    indices = analysis.population("discovered/node").dimension("provider").indices
    half = indices.nakamoto[1]
    assert half.value == 3 and half.ci is not None and not half.ci.contains(3)
    assert half.ci_excludes_estimate
    assert indices.hhi == 0.25 and indices.hhi_ci is not None and indices.hhi_ci.low > 0.25
    assert indices.hhi_ci_excludes_estimate


def test_ipv4_mapped_ipv6_is_the_ipv4_address() -> None:
    records = [node("1.2.3.4", "aws"), node("::ffff:1.2.3.4", "aws"), node("::ffff:5.6.7.8", "aws")]
    ip = select_population(records, PopulationSpec("discovered", "ip"))
    assert [(u.key, u.nodes) for u in ip.units] == [("1.2.3.4", 2), ("5.6.7.8", 1)]
    prefix = select_population(records, PopulationSpec("discovered", "prefix"))
    assert [u.key for u in prefix.units] == ["1.2.3.0/24", "5.6.7.0/24"]  # not one "::/48" for every mapped address
    assert network_prefix("::ffff:5.6.7.8") == "5.6.7.0/24"


def test_records_keep_their_attribution_on_unmerged_units() -> None:
    a = attribution("aws", region="us-east-1")
    (unit,) = select_population([dataclasses.replace(node("10.0.0.1"), attribution=a)], NODE[0]).units
    assert unit.attribution == a and unit.keys is None


def test_merged_duplicate_node_ids_keep_their_ip_cluster() -> None:
    # A node id reported twice is one unit; its cluster is still its IP, so the design effect is unchanged.
    nodes = _one_busy_host()
    again = [*nodes, dataclasses.replace(nodes[-1])]
    plain = analyse(snapshot(nodes), rng=random.Random(0), bootstrap_samples=0).population("discovered/node")
    merged = analyse(snapshot(again), rng=random.Random(0), bootstrap_samples=0).population("discovered/node")
    assert merged.excluded["duplicate_node_id"] == 1 and merged.denominator.n == plain.denominator.n
    assert merged.dimension("provider").share_of("aws") == plain.dimension("provider").share_of("aws")
