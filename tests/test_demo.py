"""`make demo` end to end (smaller): devnet subprocess -> snapshot -> report, all offline and marked simulated."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.timeout(180)
def test_demo_runs_offline_and_says_simulated(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "monitor.sim.demo", "--out", str(tmp_path), "--nodes", "60"],
        capture_output=True,
        text=True,
        timeout=170,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.count("SIMULATED") >= 3
    snapshot = json.loads(next(tmp_path.glob("snapshot-*.json")).read_text())
    assert snapshot["meta"]["simulated"] is True
    assert snapshot["meta"]["counters"]["discovered"] == 60
    providers = {n["attribution"]["provider"] for n in snapshot["nodes"]}
    assert "aws" in providers and all(n["attribution"]["source"].startswith("overlay:") for n in snapshot["nodes"])
    html = (tmp_path / "report.html").read_text()
    assert "SIMULATED" in html and "aws-23pct" in html
