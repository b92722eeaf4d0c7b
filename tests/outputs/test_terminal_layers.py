"""The layer and hosting parts of the terminal report: per-layer summary, claims grouped by layer, withheld verdicts,
hosted vs residential and the hosted index family, the design effect where clustering matters, flagged intervals."""

from __future__ import annotations

import io
import random
import re

import pytest
from rich.console import Console

from monitor.analysis import analyse
from monitor.analysis.report import Analysis
from monitor.outputs.terminal.report import render_report
from monitor.seeds import load_claims
from monitor.sim.synthetic import layered_nodes, record, report_snapshot
from monitor.snapshot import Attribution


def _render(analysis: Analysis, width: int = 80) -> str:
    console = Console(file=io.StringIO(), record=True, width=width, color_system=None)
    render_report(console, analysis)
    return console.export_text()


@pytest.fixture(scope="module")
def two_layers() -> Analysis:
    nodes = [*layered_nodes("execution", 0, 1), *layered_nodes("consensus", 1000, 2, scale=2)]
    return analyse(report_snapshot(nodes), rng=random.Random(1), claims=load_claims(), bootstrap_samples=30)


def test_layer_summary_has_n_and_top_providers_per_layer(two_layers: Analysis) -> None:
    text = _render(two_layers)
    assert "Layers — reachable/node per layer" in text
    assert re.search(r"^execution\s+100\s+100\s+0\s+other:Comcast Cable 40\.0, aws 30\.0,", text, re.M)
    assert re.search(r"^consensus\s+200\s+200\s+0\s+other:Comcast Cable 40\.0, aws 30\.0,", text, re.M)
    assert re.search(r"^all\s+300\s+300\s+0\s", text, re.M)


def test_claims_show_the_own_layer_first_and_the_others_as_context(two_layers: Analysis) -> None:
    text = _render(two_layers)
    own = text.index("aws-23pct: aws at 23.0 % claimed — execution layer (the claim's own)")
    context = text.index("other layers (context, not the claim's own layer)")
    assert own < context
    assert re.search(r"^execution:reachable/node\s+100\s+30\s+30\.0\s", text, re.M)
    # the context table: one row per denominator, a column per other layer
    assert re.search(r"^denominator\s+all: % verdict\s+consensus: % verdict", text, re.M)
    # 30 % of 300 and of 200 independent nodes: the intervals lie above the claimed 23 %
    assert re.search(r"^reachable/node\s+30\.0 higher\s+30\.0 higher", text, re.M)


def test_hosted_split_aws_of_hosted_and_the_hosted_index_family(two_layers: Analysis) -> None:
    text = _render(two_layers, 120)
    assert re.search(r"^reachable/node\s+300\s+50\.0\s+50\.0\s+0\.0$", text, re.M)  # hosted | resid./other | unk
    assert "AWS share of hosted units (95% CI): node ids 60.0 (" in text  # 30 of the 50 hosted per 100
    hosted = text[text.index("over hosted providers only") :]
    # two hosted providers, 60/40: HHI 0.52, one of them holds more than a third and more than half
    assert re.search(r"^reachable/ip\s+150\s+0\s+0\.520\s+1\s+1\s", hosted, re.M)
    operators = text[text.index("over all operators") :]
    # four operators, 30/20/40/10: HHI 0.30, Comcast alone holds more than a third, two more than half
    assert re.search(r"^reachable/ip\s+300\s+0\s+0\.300\s+1\s+2\s", operators, re.M)


def test_withheld_verdict_says_why() -> None:
    nodes = [
        record(i, f"10.3.0.{i}", Attribution("aws", category="cloud") if i < 20 else None, layer="execution")
        for i in range(1, 101)
    ]
    analysis = analyse(report_snapshot(nodes), rng=random.Random(1), claims=load_claims(), bootstrap_samples=0)
    text = _render(analysis)
    assert re.search(r"^execution:reachable/node\s+100\s+19\s+19\.0\s.*withheld: attrib\.\s*$", text, re.M)
    assert "insufficient attribution" in text  # the conclusion says it in words
    assert max(len(line) for line in text.splitlines()) <= 80


def test_design_effect_is_shown_where_node_ids_share_ips() -> None:
    nodes = [record(i, f"10.4.{i // 200}.{i % 200}", Attribution("ovh", category="hosting")) for i in range(240)]
    nodes += [record(1000 + i, "10.4.9.9", Attribution("aws", category="cloud")) for i in range(60)]
    analysis = analyse(report_snapshot(nodes), rng=random.Random(1), claims=load_claims(), bootstrap_samples=0)
    text = _render(analysis)
    header = re.search(r"^provider\s+count\s+%\s+95% CI\s+deff$", text, re.M)
    assert header, "no deff column although one IP carries 60 node ids"
    row = re.search(r"^aws\s+60\s+20\.0\s+(\d+\.\d)-(\d+\.\d)\s+(\d+\.\d)$", text, re.M)
    assert row is not None and float(row.group(3)) > 10
    assert float(row.group(2)) - float(row.group(1)) > 30  # the cluster-robust interval, not Wilson on 300 nodes


def test_no_design_effect_column_for_independentlayered_nodes(two_layers: Analysis) -> None:
    assert not re.search(r"^provider\s+count\s+%\s+95% CI\s+deff$", _render(two_layers), re.M)


def test_flagged_bootstrap_interval_is_marked() -> None:
    # four providers with 25 % each: the percentile interval of N50 excludes its estimate (METHOD.md)
    providers = ["aws", "hetzner", "ovh", "gcp"]
    nodes = [
        record(i, f"10.5.{i // 200}.{i % 200}", Attribution(providers[i % 4], category="cloud")) for i in range(400)
    ]
    analysis = analyse(report_snapshot(nodes), rng=random.Random(1), claims=load_claims(), bootstrap_samples=200)
    flagged = [
        f for p in analysis.populations for d in p.dimensions for f in d.indices.nakamoto if f.ci_excludes_estimate
    ]
    assert flagged, "the analysis flags no interval for this snapshot"
    text = _render(analysis, 120)
    assert re.search(r"\d \(\d-\d\)!", text)
    assert "the bootstrap interval does not contain the estimate" in text
