"""Every dashboard validates against Grafana's own dashboard schema (@grafana/schema 11.6.0), offline.

dashboards/schema-tools/validate.mjs turns the TypeScript types that @grafana/schema ships into JSON schemas
(ts-json-schema-generator) and checks with ajv: the dashboard model, and each panel's options and custom field config
against its plugin's panelcfg types; unknown keys are errors. `npm ci` in dashboards/schema-tools installs the tools.
"""

from __future__ import annotations

import json
from pathlib import Path

from dash_tools import SCHEMA_TOOLS, dashboard_files, load_dashboard, require_schema_tools, require_tool, run


def _validate(*files: Path) -> tuple[int, str]:
    script = require_schema_tools()
    node = require_tool("node")
    result = run([node, str(script), *map(str, files)], cwd=SCHEMA_TOOLS, timeout=300)
    return result.returncode, result.stdout + result.stderr


def test_schema_tools_pinned() -> None:
    package = json.loads((SCHEMA_TOOLS / "package.json").read_text())
    assert package["dependencies"]["@grafana/schema"] == "11.6.0"
    lock = json.loads((SCHEMA_TOOLS / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/@grafana/schema"]["version"] == "11.6.0"


def test_dashboards_validate_against_grafana_schema() -> None:
    files = dashboard_files()
    assert files
    code, output = _validate(*files)
    assert code == 0, output
    assert output.count("ok: ") == len(files), output


def test_validator_rejects_broken_dashboards(tmp_path: Path) -> None:
    """The validation is not vacuous: a misspelt key, a wrong type and a bad panel option are each reported."""
    doc = load_dashboard(dashboard_files()[0])
    doc["refrsh"] = "5m"
    doc["schemaVersion"] = "41"
    stat = next(p for p in doc["panels"] if p["type"] == "stat")
    stat["options"]["graphMode"] = "sparkline-please"
    series = next(p for p in doc["panels"] if p["type"] == "timeseries")
    series["fieldConfig"]["defaults"]["custom"] = {"lineWidht": 2}
    doc["panels"].append({"type": "timeseris", "id": 999, "title": "typo"})
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(doc))
    code, output = _validate(broken)
    assert code == 1, output
    for needle in ("refrsh", "schemaVersion", "graphMode", "lineWidht", "timeseris"):
        assert needle in output, f"{needle} not reported:\n{output}"
