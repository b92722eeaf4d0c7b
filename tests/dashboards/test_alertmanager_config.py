"""amtool checks the Alertmanager config, and the routing tree sends every alert to the webhook receiver."""

from __future__ import annotations

from dash_tools import ALERTMANAGER_CONFIG, require_tool, run


def test_amtool_check_config() -> None:
    amtool = require_tool("amtool")
    result = run([amtool, "check-config", str(ALERTMANAGER_CONFIG)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_routes_reach_the_webhook() -> None:
    amtool = require_tool("amtool")
    for labels in (
        ["alertname=EthHostingProviderShareHigh", "severity=warning", "key=aws"],
        ["alertname=EthHostingDatasetOld", "severity=info", "dataset=geoip2fast"],
        ["alertname=EthHostingExporterDown", "severity=critical"],
    ):
        result = run([amtool, "config", "routes", "test", f"--config.file={ALERTMANAGER_CONFIG}", *labels])
        assert result.returncode == 0, result.stdout + result.stderr
        assert result.stdout.strip() == "eth-hosting-webhook", result.stdout


def test_webhook_receiver_example() -> None:
    text = ALERTMANAGER_CONFIG.read_text()
    assert "webhook_configs:" in text
    assert "send_resolved: true" in text
