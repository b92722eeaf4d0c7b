"""promtool checks the Prometheus config and rules, and runs the rule unit tests in dashboards/prometheus/tests/.

Every alert must have a unit test in which it fires and one evaluation at which it must not; and moving any threshold
constant by a hair in either direction must break those tests (so they really sit on the boundary).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from dash_tools import PROMETHEUS_DIR, RULE_FILES, RULE_TESTS_DIR, RULES_DIR, require_tool, run

ALERTS_FILE = RULES_DIR / "eth-hosting-alerts.yml"
RULE_TESTS = sorted(RULE_TESTS_DIR.glob("*.test.yml"))


def _alert_names() -> list[str]:
    return re.findall(r"^\s*- alert:\s*(\w+)\s*$", ALERTS_FILE.read_text(), re.M)


def test_promtool_check_config() -> None:
    promtool = require_tool("promtool")
    result = run([promtool, "check", "config", str(PROMETHEUS_DIR / "prometheus.yml")])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 rule files found" in result.stdout + result.stderr


def test_promtool_check_rules() -> None:
    promtool = require_tool("promtool")
    result = run([promtool, "check", "rules", *map(str, RULE_FILES)])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("test_file", RULE_TESTS, ids=[p.name for p in RULE_TESTS])
def test_promtool_test_rules(test_file: Path) -> None:
    promtool = require_tool("promtool")
    result = run([promtool, "test", "rules", str(test_file)], cwd=RULE_TESTS_DIR)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_firing_and_silent_unit_tests() -> None:
    names = _alert_names()
    assert len(names) >= 8
    text = "\n".join(p.read_text() for p in RULE_TESTS)
    for name in names:
        blocks = re.findall(
            rf"alertname: {name}\n\s*exp_alerts:(.*?)(?=\n\s*- eval_time:|\n\s*- name:|\n\s*promql|\Z)", text, re.S
        )
        assert any(b.strip() == "[]" for b in blocks), f"{name}: no evaluation where it must stay silent"
        assert any("exp_labels" in b for b in blocks), f"{name}: no evaluation where it must fire"


def test_alerts_carry_severity_summary_description() -> None:
    text = ALERTS_FILE.read_text()
    chunks = re.split(r"^\s*- alert:", text, flags=re.M)[1:]
    assert len(chunks) == len(_alert_names())
    for chunk in chunks:
        name = chunk.split()[0]
        assert re.search(r"severity: (info|warning|critical)\b", chunk), name
        assert "summary:" in chunk, name
        assert "description:" in chunk, name


# threshold record -> (value just below, value just above) the default; each must make its unit test file fail.
MUTATIONS = {
    "eth_hosting:alert_threshold_provider_share:ratio": ("0.3299", "0.3302"),
    "eth_hosting:alert_threshold_region_share:ratio": ("0.2499", "0.2502"),
    "eth_hosting:alert_threshold_hhi:ratio": ("0.2499", "0.2502"),
    "eth_hosting:alert_threshold_nakamoto:count": ("1", "3"),
    "eth_hosting:alert_crawl_interval:seconds": ("1799", "1831"),
    "eth_hosting:alert_threshold_nodes_drop:ratio": ("0.4989", "0.5001"),
    "eth_hosting:alert_threshold_dataset_age:seconds": ("2591999", "2592061"),
}
MUTATION_TESTS = {
    "eth_hosting:alert_crawl_interval:seconds": "crawl-health.test.yml",
    "eth_hosting:alert_threshold_dataset_age:seconds": "crawl-health.test.yml",
    "eth_hosting:alert_threshold_nodes_drop:ratio": "crawl-nodes-drop.test.yml",
}


def test_every_threshold_is_configurable_by_one_constant() -> None:
    text = ALERTS_FILE.read_text()
    records = re.findall(r"^\s*- record:\s*(eth_hosting:alert_[\w:]+)\s*$", text, re.M)
    assert sorted(records) == sorted(MUTATIONS)
    for record in records:
        assert len(re.findall(re.escape(record), text)) >= 2, f"{record} is defined but no alert reads it"


@pytest.mark.parametrize(("record", "direction"), [(r, d) for r in MUTATIONS for d in (0, 1)])
def test_unit_tests_sit_on_the_boundary(tmp_path: Path, record: str, direction: int) -> None:
    promtool = require_tool("promtool")
    rules = tmp_path / "rules"
    tests = tmp_path / "tests"
    shutil.copytree(RULES_DIR, rules)
    shutil.copytree(RULE_TESTS_DIR, tests)
    alerts = rules / ALERTS_FILE.name
    text = alerts.read_text()
    pattern = re.compile(rf"(- record: {re.escape(record)}\n\s*expr: vector\()([0-9.]+)(\))")
    assert pattern.search(text), record
    alerts.write_text(pattern.sub(rf"\g<1>{MUTATIONS[record][direction]}\g<3>", text))
    result = run([promtool, "test", "rules", MUTATION_TESTS.get(record, "concentration.test.yml")], cwd=tests)
    assert result.returncode != 0, f"moving {record} to {MUTATIONS[record][direction]} broke no unit test"
