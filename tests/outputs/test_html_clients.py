"""The Clients section of the HTML report: chart, share table, provider x client table, denominators, escaping."""

from __future__ import annotations

import dataclasses
import random
import re
from html.parser import HTMLParser

import pytest

from monitor.analysis import analyse
from monitor.analysis.report import Analysis
from monitor.outputs.html import render_html
from monitor.outputs.html_clients import clients_by_provider_table
from monitor.sim.synthetic import HOSTILE_CLIENT, mixed_nodes, record, report_snapshot, with_clients
from monitor.snapshot import Attribution, ClientInfo


def _analysis(nodes: list) -> Analysis:  # type: ignore[type-arg]
    return analyse(report_snapshot(nodes), rng=random.Random(1), bootstrap_samples=20)


def _section(page: str) -> str:
    match = re.search(r'<section id="clients">.*?</section>', page, re.S)
    assert match, "no clients section"
    return match.group(0)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)


@pytest.fixture(scope="module")
def dialed() -> tuple[Analysis, str]:
    analysis = _analysis(with_clients(mixed_nodes()))
    return analysis, render_html(analysis)


def test_clients_section_has_chart_tables_and_denominators(dialed: tuple[Analysis, str]) -> None:
    analysis, page = dialed
    primary = analysis.primary()
    assert primary is not None and primary.clients_by_provider is not None
    section = _section(page)
    text = _text(section)
    n = primary.denominator.n
    known = primary.clients_by_provider.client_known
    assert 0 < known < n
    assert f"client known for {known:,} of {n:,} units" in text
    assert f"client known for {analysis.nodes_with_client:,} of {analysis.nodes_total:,} node records" in text
    assert f"Client shares — reachable/node, n = {n:,}" in text
    assert "'unknown' = no client info (not dialed over RLPx, or no Hello)" in text
    assert "Clients per provider — reachable/node" in text and "row n = that provider's units" in text
    assert section.count("<svg") == 1 and section.count("<table") == 2
    assert 'id="chart-clients-t"' in section
    for client in ("geth", "nethermind", "reth", "unknown"):
        assert f">{client}<" in section, client
    header = _text(page[: page.index("<nav")])
    assert f"{analysis.nodes_with_client:,} of {analysis.nodes_total:,} node records" in header
    assert 'href="#clients"' in page


def test_cross_tab_cells_state_count_n_and_interval(dialed: tuple[Analysis, str]) -> None:
    analysis, _ = dialed
    primary = analysis.primary()
    assert primary is not None and primary.clients_by_provider is not None
    crosstab = primary.clients_by_provider
    html = clients_by_provider_table(crosstab, columns=3)
    top = crosstab.rows[0]
    geth = next(s for s in top.shares if s.key == "geth")
    assert f'title="{geth.count:,} of {top.n:,}"' in html
    headers = re.findall(r'<th scope="col"[^>]*>([^<]*)</th>', html)
    assert headers[:3] == ["provider", "n (units)", "client known"]
    assert headers[-2:] == ["other", "unknown"] and len(headers) == 3 + 3 + 2
    rows = re.findall(r"<tr><th scope=\"row\">.*?</tr>", html, re.S)
    assert len(rows) == len(crosstab.rows) <= 10
    # the cells of each row add up to 100 % (up to the rounding of the printed percentages)
    for row in rows:
        shares = [float(x) for x in re.findall(r'<span title="[^"]*">([\d.]+) %</span>', row)]
        assert sum(shares) == pytest.approx(100.0, abs=0.05 * len(shares) + 1e-9)


def test_client_names_from_the_network_are_escaped(dialed: tuple[Analysis, str]) -> None:
    _, page = dialed
    assert HOSTILE_CLIENT.lower() not in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page


def test_no_client_info_renders_all_unknown() -> None:
    page = render_html(_analysis(mixed_nodes()))
    text = _text(_section(page))
    assert "client known for 0 of " in text and "(0.0 %)" in text
    assert "Clients per provider" in text and "100.0 %" in text


def test_empty_and_one_node_snapshots_have_a_clients_section() -> None:
    empty = _section(render_html(_analysis([])))
    assert "n = 0" in empty and "no attributed units" in empty
    one = record(1, "3.3.3.3", Attribution("aws", "us-east-1", "US", 16509, "AMAZON-02"))
    page = render_html(_analysis([dataclasses.replace(one, client=ClientInfo(raw="Geth/v1", name="geth"))]))
    section = _section(page)
    assert "client known for 1 of 1 units (100.0 %)" in _text(section) and ">geth<" in section
