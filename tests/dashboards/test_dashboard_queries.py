"""Every panel query and variable query of the committed dashboards parses and returns data on a real Prometheus.

The Prometheus is the session's real stack (``real_stack``, tests/stack.py): a loopback devnet, `monitor serve`
crawling it, and Prometheus with the project's recording and alert rules scraping it every second. Prometheus's
/api/v1/query parses each expression (a syntax error comes back as an error) and the test asserts a non-empty result.

Dashboard variables are resolved the way Grafana resolves them on load: each variable's query runs against the
Prometheus (with the variables before it interpolated), the saved value is kept when it is among the options, else the
first option is taken (the devnet's network label is ``custom``, not the saved ``mainnet``). A panel repeated over a
variable is checked once per value.

A query that cannot have data on a fresh devnet stack is listed in NO_DATA_ON_DEVNET with the reason; for it the test
asserts that it parses, that it indeed returns nothing (so a stale entry fails), and that a witness query shows the
series it selects from exist.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from dash_tools import dashboard_files, load_dashboard, panels
from stack import Prometheus, Stack

pytestmark = [pytest.mark.slow]

# Grafana's built-in variables, as it would interpolate them for a short time range.
BUILTINS = {"__rate_interval": "1m", "__interval": "30s", "__range": "1h"}

# (dashboard stem, panel title) -> (why it has no data on a devnet stack, a witness query that must have data).
# Empty: every panel has data on the devnet stack (its hosting overlay names each block's AS). An entry here needs
# the reason why its query cannot have data on a fresh devnet, and a witness query (see the module docstring).
NO_DATA_ON_DEVNET: dict[tuple[str, str], tuple[str, str]] = {}

Query = tuple[str, str, str, Path, dict[str, Any] | None]  # id, kind, expression, dashboard, panel


def _queries() -> list[Query]:
    """(test id, kind, expression, dashboard, panel) for every panel target and every query variable of every
    dashboard."""
    found: list[Query] = []
    for path in dashboard_files():
        doc = load_dashboard(path)
        for panel in panels(doc):
            for target in panel.get("targets", []):
                if target.get("expr"):
                    test_id = f"{path.stem}:{panel['id']}{target.get('refId', '')}:{panel.get('title')}"
                    found.append((test_id, "panel", target["expr"], path, panel))
        for var in doc.get("templating", {}).get("list", []):
            if var.get("type") == "query":
                found.append((f"{path.stem}:var:{var['name']}", "variable", _variable_query(var), path, None))
    return found


def _variable_query(var: dict[str, Any]) -> str:
    query = var["query"]
    return str(query if isinstance(query, str) else query.get("query", ""))


def interpolate(expr: str, values: dict[str, list[str]]) -> str:
    """Grafana's interpolation for Prometheus: one value as is, several as a regex alternation."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name in BUILTINS:
            return BUILTINS[name]
        if name not in values:
            raise AssertionError(f"query uses an unknown dashboard variable ${name}: {expr}")
        chosen = values[name]
        return chosen[0] if len(chosen) == 1 else "|".join(re.escape(v) for v in chosen)

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", value, expr)


LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(.*?)\s*,\s*(\w+)\s*\)\s*$", re.S)


def to_promql(kind: str, expr: str, values: dict[str, list[str]]) -> tuple[str, str | None]:
    """PromQL for an expression; Grafana's label_values(selector, label) becomes `group by (label) (selector)`."""
    if kind == "variable":
        match = LABEL_VALUES.match(expr)
        assert match, f"variable query is not label_values(selector, label): {expr}"
        selector, label = match.groups()
        return f"group by ({label}) ({interpolate(selector, values)})", label
    return interpolate(expr, values), None


def resolve_variables(prometheus: Prometheus, path: Path) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """(selected values, all options) of every query variable of a dashboard, resolved in order as Grafana does."""
    selected: dict[str, list[str]] = {}
    options: dict[str, list[str]] = {}
    for var in load_dashboard(path).get("templating", {}).get("list", []):
        if var.get("type") != "query":
            continue
        name = var["name"]
        promql, label = to_promql("variable", _variable_query(var), selected)
        found = {str(s["metric"].get(label)) for s in prometheus.result(promql) if s["metric"].get(label)}
        values = sorted(found, reverse=var.get("sort") in (2, 4, 6))
        assert values, f"variable ${name} has no options: {promql}"
        current = (var.get("current") or {}).get("value") or []
        current = [current] if isinstance(current, str) else list(current)
        # All: every option; else the saved values that are options; else (none is) the first option.
        chosen = values if "$__all" in current else [v for v in current if v in values] or values[:1]
        options[name], selected[name] = values, chosen
    return selected, options


@pytest.fixture(scope="module")
def prometheus(real_stack: Stack) -> Prometheus:
    return real_stack.prometheus


@pytest.fixture(scope="module")
def variables(prometheus: Prometheus) -> Any:
    """Per dashboard: its variables resolved against the real Prometheus."""
    return cache(lambda path: resolve_variables(prometheus, path))


def expansions(expr: str, path: Path, panel: dict[str, Any] | None, variables: Any) -> list[str]:
    """The PromQL Grafana would run for a panel target: one query, or one per value of the panel's repeat variable."""
    selected, _ = variables(path)
    repeat = (panel or {}).get("repeat")
    if not repeat:
        return [interpolate(expr, selected)]
    assert repeat in selected, f"panel repeats over an unknown variable ${repeat}"
    return [interpolate(expr, {**selected, repeat: [value]}) for value in selected[repeat]]


QUERIES = _queries()
PANELS = [q for q in QUERIES if q[1] == "panel"]


def test_dashboards_have_queries() -> None:
    assert dashboard_files(), "no dashboard JSON under dashboards/grafana/dashboards"
    assert len(PANELS) >= 20


def test_no_data_allow_list_names_real_panels() -> None:
    titles = {
        (path.stem, str(panel.get("title"))) for path in dashboard_files() for panel in panels(load_dashboard(path))
    }
    assert set(NO_DATA_ON_DEVNET) <= titles, set(NO_DATA_ON_DEVNET) - titles


@pytest.mark.parametrize(("kind", "expr", "path", "panel"), [q[1:] for q in QUERIES], ids=[q[0] for q in QUERIES])
def test_query_parses_and_returns_data(
    prometheus: Prometheus, variables: Any, kind: str, expr: str, path: Path, panel: dict[str, Any] | None
) -> None:
    if kind == "variable":
        promql, label = to_promql(kind, expr, variables(path)[0])
        queries = [promql]
    else:
        label, queries = None, expansions(expr, path, panel, variables)
    no_data = NO_DATA_ON_DEVNET.get((path.stem, str((panel or {}).get("title"))))
    for promql in queries:
        answer = prometheus.query(promql)
        assert answer.get("status") == "success", f"{promql}\n -> {answer.get('errorType')}: {answer.get('error')}"
        result = answer["data"]["result"]
        if no_data is not None:
            reason, witness = no_data
            assert not result, f"has data now, remove it from NO_DATA_ON_DEVNET ({reason}):\n{promql}"
            witness_promql = interpolate(witness, variables(path)[0])
            assert prometheus.result(witness_promql), f"witness of the no-data reason has no data: {witness_promql}"
            continue
        assert result, f"no data for {promql}"
        if label is not None:
            assert all(sample["metric"].get(label) for sample in result), f"no values of label {label}: {result}"


@pytest.mark.parametrize(("expr", "path", "panel"), [q[2:] for q in PANELS], ids=[q[0] for q in PANELS])
def test_legend_labels_exist(
    prometheus: Prometheus, variables: Any, expr: str, path: Path, panel: dict[str, Any]
) -> None:
    """A legend like {{key}} names a label that the query's series actually carry."""
    legends = {target.get("legendFormat", "") for target in panel.get("targets", []) if target.get("expr") == expr}
    names = {name for legend in legends for name in re.findall(r"\{\{\s*(\w+)\s*\}\}", legend)}
    if not names:
        return
    for promql in expansions(expr, path, panel, variables):
        for sample in prometheus.result(promql):
            absent = names - set(sample["metric"])
            assert not absent, f"legend label(s) {absent} not on series {sample['metric']} of {promql}"


def test_broken_query_is_reported(prometheus: Prometheus) -> None:
    """The parse check is real: Prometheus rejects a malformed expression."""
    answer = prometheus.query("sum by (key (eth_hosting_share_ratio)")
    assert answer.get("status") == "error"
    assert answer.get("errorType") == "bad_data"


def test_every_alert_rule_is_loaded_with_severity_and_annotations(prometheus: Prometheus) -> None:
    rules = prometheus.rules()
    alerts = [rule for rule in rules if rule["type"] == "alerting"]
    assert len(alerts) >= 8
    for rule in alerts:
        assert rule["health"] == "ok", rule
        assert rule["labels"].get("severity") in {"info", "warning", "critical"}, rule["name"]
        assert rule["annotations"].get("summary"), rule["name"]
        assert rule["annotations"].get("description"), rule["name"]
    recordings = [rule for rule in rules if rule["type"] == "recording"]
    assert recordings and all(rule["health"] == "ok" for rule in recordings), recordings
