"""The committed dashboard JSON is exactly what dashboards/generate.py makes, and it follows the house rules."""

from __future__ import annotations

import re
from typing import Any

import pytest
from dash_tools import GRAFANA_DASHBOARDS, REPO, dashboard_files, load_dashboard, load_generator, panels

DENOMINATOR_WORDS = ("denominator", "no denominator", "divided by", "counted per")


def test_committed_json_equals_generator_output() -> None:
    generator = load_generator()
    generated = generator.dashboards()
    assert generated, "the generator makes no dashboard"
    for path, doc in generated.items():
        assert path.parent == GRAFANA_DASHBOARDS
        assert path.is_file(), f"{path.relative_to(REPO)} not committed: run dashboards/generate.py"
        assert path.read_text(encoding="utf-8") == generator.render(doc), (
            f"{path.relative_to(REPO)} differs from the generator's output: run .venv/bin/python dashboards/generate.py"
        )
    assert sorted(generated) == dashboard_files(), "a dashboard JSON file that the generator does not make"


def test_generator_check_mode() -> None:
    assert load_generator().main(["--check"]) == 0


@pytest.fixture(params=[p.name for p in dashboard_files()])
def dashboard(request: pytest.FixtureRequest) -> dict[str, Any]:
    return load_dashboard(GRAFANA_DASHBOARDS / request.param)


def test_datasource_variable_used_everywhere(dashboard: dict[str, Any]) -> None:
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    for panel in panels(dashboard):
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
    for var in variables.values():
        if var["type"] == "query":
            assert var["datasource"]["uid"] == "${datasource}", var["name"]


def test_every_panel_has_unit_and_description_with_denominator(dashboard: dict[str, Any]) -> None:
    for panel in panels(dashboard):
        if panel["type"] == "row":
            continue
        assert panel["fieldConfig"]["defaults"].get("unit"), f"panel {panel['title']!r} has no unit"
        description = panel.get("description", "").lower()
        assert any(word in description for word in DENOMINATOR_WORDS), (
            f"panel {panel['title']!r}: the description must state the denominator (or that there is none)"
        )


def test_ratio_panels_use_percent_unit(dashboard: dict[str, Any]) -> None:
    for panel in panels(dashboard):
        exprs = [t["expr"] for t in panel.get("targets", [])]
        if exprs and all("_ratio" in e or ":ratio" in e for e in exprs) and "hhi" not in panel["title"].lower():
            assert panel["fieldConfig"]["defaults"]["unit"] == "percentunit", panel["title"]


def test_ids_unique_and_grid_without_overlap(dashboard: dict[str, Any]) -> None:
    ids = [p["id"] for p in panels(dashboard)]
    assert len(ids) == len(set(ids))
    cells: dict[tuple[int, int], str] = {}
    for panel in panels(dashboard):
        pos = panel["gridPos"]
        assert pos["x"] >= 0 and pos["x"] + pos["w"] <= 24, panel["title"]
        for x in range(pos["x"], pos["x"] + pos["w"]):
            for y in range(pos["y"], pos["y"] + pos["h"]):
                assert (x, y) not in cells, f"{panel['title']!r} overlaps {cells[(x, y)]!r}"
                cells[(x, y)] = panel["title"]


def test_overview_has_the_panels_the_issue_asks_for() -> None:
    doc = load_dashboard(GRAFANA_DASHBOARDS / "eth-hosting-overview.json")
    by_type: dict[str, list[dict[str, Any]]] = {}
    for panel in panels(doc):
        by_type.setdefault(panel["type"], []).append(panel)
    exprs = " ".join(t["expr"] for p in panels(doc) for t in p.get("targets", []))
    for metric in (
        'dimension="provider"',
        "eth_hosting_claim_share_ci_low_ratio",
        "eth_hosting_claim_share_ci_high_ratio",
        "eth_hosting:claim_claimed_share:ratio",
        "eth_hosting_hhi",
        "eth_hosting_nakamoto_coefficient",
        'dimension="region"',
        'dimension="country"',
        'scope=~"discovered|reachable"',
        'scope=~"discovered|mainnet"',
        "eth_hosting_crawl_last_success_timestamp_seconds",
        "eth_hosting_crawl_packets_total",
        "eth_hosting_crawl_errors_total",
        "eth_hosting_crawls_total",
        "eth_hosting_dataset_age_seconds",
        "eth_hosting_simulated",
    ):
        assert metric in exprs, metric
    assert by_type["geomap"][0]["options"]["layers"][0]["location"]["mode"] == "lookup"
    claim = next(p for p in by_type["timeseries"] if "claimed 23" in p["title"])
    assert claim["repeat"] == "denominator"
    band = {
        o["matcher"]["options"]: {prop["id"]: prop.get("value") for prop in o["properties"]}
        for o in claim["fieldConfig"]["overrides"]
    }
    assert band["95 % interval, high"]["custom.fillBelowTo"] == "95 % interval, low"


# Families whose series carry a `layer` label (monitor/exporter/metrics.py): a panel reading one follows $layer.
LAYERED = re.compile(
    r"eth_hosting_(share_ratio|share_ci_low_ratio|share_ci_high_ratio|hhi|nakamoto_coefficient|population_units|nodes"
    r"|client_share_by_provider_ratio|claim_\w+)\{([^}]*)\}"
)


def test_every_layered_query_follows_the_layer_variable(dashboard: dict[str, Any]) -> None:
    checked = 0
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            for match in LAYERED.finditer(target.get("expr", "")):
                checked += 1
                assert 'layer="$layer"' in match.group(2), f"{panel['title']!r}: {match.group(0)}"
    assert checked >= 20
    variables = [v["name"] for v in dashboard["templating"]["list"]]
    assert variables.index("layer") < variables.index("scope")  # scope and dedup options depend on the layer
    for var in dashboard["templating"]["list"]:
        if var["name"] in ("scope", "dedup", "provider", "denominator"):
            assert 'layer="$layer"' in str(var["query"]), var["name"]


def test_every_index_query_names_its_family(dashboard: dict[str, Any]) -> None:
    families: set[str] = set()
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            for match in re.finditer(r"eth_hosting_(hhi|nakamoto_coefficient)\{([^}]*)\}", target.get("expr", "")):
                family = re.search(r'family="(\w+)"', match.group(2))
                assert family, f"{panel['title']!r} mixes both index families: {match.group(0)}"
                families.add(family.group(1))
    assert families == {"operators", "hosted"}


def test_hosted_and_vantage_panels_exist(dashboard: dict[str, Any]) -> None:
    titles = {str(panel.get("title")) for panel in panels(dashboard)}
    for title in (
        "Hosted vs residential / other",
        "AWS share of hosted nodes",
        "Coverage per vantage point",
        "Overlap and exclusive nodes",
        "Nodes per vantage point (and combined)",
        "HHI by dimension (hosted providers only)",
        "Nakamoto coefficient by dimension (all operators)",
    ):
        assert title in titles, title
