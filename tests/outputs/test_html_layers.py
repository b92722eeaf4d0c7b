"""The HTML report's layer and hosting parts: layers side by side, hosted vs residential, the two index families,
claim verdicts grouped by layer (own layer first), withheld verdicts and flagged intervals."""

from __future__ import annotations

import html
import random
import re
from html.parser import HTMLParser

import pytest

from monitor.analysis import analyse
from monitor.outputs.html import render_html
from monitor.seeds import load_claims
from monitor.sim.synthetic import layered_nodes, record, report_snapshot
from monitor.snapshot import Attribution, Snapshot


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _text(page: str) -> str:
    parser = _Text()
    parser.feed(page)
    return re.sub(r"\s+", " ", " ".join(parser.parts))


def _render(snap: Snapshot, bootstrap: int = 30) -> str:
    analysis = analyse(snap, rng=random.Random(1), claims=load_claims(), bootstrap_samples=bootstrap)
    return render_html(analysis, snap.meta)


def _section(page: str, anchor: str) -> str:
    start = page.index(f'<section id="{anchor}">')
    return page[start : page.index("</section>", start)]


@pytest.fixture(scope="module")
def page() -> str:
    return _render(report_snapshot([*layered_nodes("execution", 0, 1), *layered_nodes("consensus", 1000, 2, scale=2)]))


def test_layers_side_by_side(page: str) -> None:
    layers = _section(page, "layers")
    headers = re.findall(r'<th scope="col"[^>]*>([a-z]+)<br>', layers)
    assert headers == ["execution", "consensus", "all"]
    text = _text(layers)
    assert "node records of the layer 100 200 300" in text
    assert "n (units of the denominator) 100 200 300" in text
    assert "HHI, all operators 0.300 0.300 0.300" in text  # 30/20/40/10 on each layer
    assert "HHI, hosted providers only 0.520 0.520 0.520" in text  # aws 60 / hetzner 40 of the hosted units
    assert "Nakamoto >1/2, hosted providers only 1 1 1" in text


def test_hosted_vs_residential_and_aws_of_hosted(page: str) -> None:
    hosted = _section(page, "hosted")
    text = _text(hosted)
    assert re.search(r"reachable/node 300 50\.0 % [\d. to]+% 50\.0 % [\d. to]+% 0\.0 %", text), text[:2000]
    assert "Providers among hosted nodes — hosted/node, n = 150" in hosted
    assert re.search(
        r"hosted/node 60\.0 % [\d. to]+% n = 50 60\.0 % [\d. to]+% n = 100 60\.0 % [\d. to]+% n = 150", text
    )


def test_both_index_families(page: str) -> None:
    text = _text(_section(page, "indices"))
    assert "over all operators (each ISP network its own operator)" in text
    assert "over hosted providers only (cloud + hosting units)" in text
    assert re.search(r"hosted providers only .*reachable/ip 150 0 2 0\.520", text)


def test_claim_verdicts_grouped_by_layer_own_layer_first(page: str) -> None:
    claims = _section(page, "claims")
    captions = re.findall(r"<caption>Verdicts — ([^(<]+) \(([^)]*)\)", html.unescape(claims))
    assert [layer for layer, _ in captions] == ["execution layer", "all records", "consensus layer"]
    assert captions[0][1] == "the claim's own layer"
    assert all(role == "context, not the claim's own layer" for _, role in captions[1:])
    assert "Conclusion under execution:reachable/node:" in _text(claims)
    assert "Claim aws-23pct against every denominator (execution layer)" in claims


def test_withheld_verdicts_are_shown_as_such() -> None:
    nodes = [
        record(i, f"10.3.0.{i}", Attribution("aws", category="cloud") if i < 20 else None, layer="execution")
        for i in range(1, 101)
    ]
    page = _render(report_snapshot(nodes), bootstrap=0)
    claims = _section(page, "claims")
    assert '<span class="verdict insufficient">withheld: insufficient attribution</span>' in claims
    assert '<span class="verdict insufficient">withheld: too few units</span>' in claims
    assert "insufficient attribution" in _text(claims)


def test_flagged_intervals_are_marked() -> None:
    providers = ["aws", "hetzner", "ovh", "gcp"]
    nodes = [
        record(i, f"10.5.{i // 200}.{i % 200}", Attribution(providers[i % 4], category="cloud")) for i in range(400)
    ]
    text = _text(_section(_render(report_snapshot(nodes), bootstrap=200), "indices"))
    assert re.search(r"\d \[\d, \d\] †", text), "a flagged Nakamoto interval carries the mark"
    assert "† = the interval does not contain the estimate" in text
