"""The overview dashboard: variables and rows put together, as the plain dict that is written to JSON."""

from __future__ import annotations

import json
from typing import Any

from grafana_foundation_sdk.builders import dashboard
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as dm

from dashgen.panels_claim import claim_panels
from dashgen.panels_clients import client_panels
from dashgen.panels_concentration import concentration_panels
from dashgen.panels_geo import geography_panels
from dashgen.panels_health import health_panels
from dashgen.panels_hosted import hosted_panels
from dashgen.panels_providers import provider_panels
from dashgen.panels_scope import network_panels, scope_panels
from dashgen.panels_summary import summary_panels
from dashgen.panels_vantage import vantage_panels
from dashgen.variables import variables

OVERVIEW_UID = "eth-hosting-overview"


def _sections() -> list[tuple[str, list[Any]]]:
    """The rows, top to bottom, each with its panels."""
    return [
        ("Summary (selected layer, scope and dedup)", summary_panels()),
        ("Providers", provider_panels()),
        ("Hosted vs residential", hosted_panels()),
        ("The AWS 23 % claim", claim_panels()),
        ("Concentration indices (all operators | hosted providers only)", concentration_panels()),
        ("Regions, countries and networks", geography_panels()),
        ("Clients (nodes dialed over RLPx)", client_panels()),
        ("Reachable vs discovered", scope_panels()),
        ("Mainnet vs other networks", network_panels()),
        ("Vantage points", vantage_panels()),
        ("Crawl health and data freshness", health_panels()),
    ]


def _builder() -> dashboard.Dashboard:
    builder = (
        dashboard.Dashboard("Ethereum node hosting: overview")
        .uid(OVERVIEW_UID)
        .description(
            "Who hosts Ethereum nodes, as measured by eth-hosting-monitor from the discovery networks: per layer "
            "(execution, consensus, all), provider, region, country, ASN and client shares with stated denominators, "
            "hosted vs residential, clients by provider, concentration indices over all operators and over hosted "
            "providers only, the AWS 23 % claim, vantage points, crawl health."
        )
        .tags(["ethereum", "hosting", "eth-hosting-monitor"])
        .editable()
        .tooltip(dm.DashboardCursorSync.CROSSHAIR)
        .time("now-7d", "now")
        .refresh("5m")
        .timezone("utc")
        .variables(variables())
    )
    for title, panels in _sections():
        builder = builder.with_row(dashboard.Row(title).collapsed(False))
        for panel in panels:
            builder = builder.with_panel(panel)
    return builder


def build_overview() -> dict[str, Any]:
    """The overview dashboard as a plain dict (what is written to JSON)."""
    result: dict[str, Any] = json.loads(json.dumps(_builder().build(), cls=JSONEncoder))
    for number, panel in enumerate(result["panels"], start=1):
        panel["id"] = number
    for variable in result["templating"]["list"]:
        if variable["type"] != "interval":
            # The SDK writes interval-only keys on every variable; Grafana's dashboard schema has them nowhere else.
            for key in ("auto", "auto_count", "auto_min"):
                variable.pop(key, None)
    return result
