"""Helpers for the tests of dashboards/, Prometheus rules, Alertmanager config and docker-compose.yml.

External tools (Debian ``prometheus``, ``prometheus-alertmanager``, ``docker-compose``; npm packages in
dashboards/schema-tools) are looked up through tests/external_tools.py: without one a test skips with the reason,
except under CI, where a missing tool fails the test.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from external_tools import missing, require_tool

REPO = Path(__file__).resolve().parents[2]
DASHBOARDS = REPO / "dashboards"
GENERATOR = DASHBOARDS / "generate.py"
GRAFANA_DASHBOARDS = DASHBOARDS / "grafana" / "dashboards"
PROMETHEUS_DIR = DASHBOARDS / "prometheus"
RULES_DIR = PROMETHEUS_DIR / "rules"
RULE_FILES = sorted(RULES_DIR.glob("*.yml"))
RULE_TESTS_DIR = PROMETHEUS_DIR / "tests"
ALERTMANAGER_CONFIG = DASHBOARDS / "alertmanager" / "alertmanager.yml"
SCHEMA_TOOLS = DASHBOARDS / "schema-tools"
COMPOSE_FILE = REPO / "docker-compose.yml"


def require_schema_tools() -> Path:
    require_tool("node")
    for package in ("@grafana/schema", "ajv", "ts-json-schema-generator"):
        if not (SCHEMA_TOOLS / "node_modules" / package / "package.json").is_file():
            missing(f"npm package {package} missing: run `npm ci` in {SCHEMA_TOOLS.relative_to(REPO)}")
    return SCHEMA_TOOLS / "validate.mjs"


def load_generator() -> ModuleType:
    """dashboards/generate.py as a module (it needs grafana-foundation-sdk)."""
    if importlib.util.find_spec("grafana_foundation_sdk") is None:
        missing("grafana-foundation-sdk not installed: pip install 'grafana-foundation-sdk==1769699379!11.6.0'")
    name = "eth_hosting_dashboards_generate"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def dashboard_files() -> list[Path]:
    return sorted(GRAFANA_DASHBOARDS.glob("*.json"))


def load_dashboard(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    """Every panel, rows' nested panels included."""
    out = []
    for panel in dashboard.get("panels", []):
        out.append(panel)
        out.extend(panel.get("panels", []))
    return out


def run(cmd: list[str], *, timeout: float = 120, env: dict[str, str] | None = None, cwd: Path | None = None) -> Any:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd or REPO, check=False)
