"""Generate the Grafana dashboards of eth-hosting-monitor from code.

    .venv/bin/python dashboards/generate.py           # rewrite the committed JSON
    .venv/bin/python dashboards/generate.py --check   # exit 1 if the committed JSON is not what this script makes

Needs ``grafana-foundation-sdk==1769699379!11.6.0`` (a Grafana 11.6 build of the SDK; an unpinned install picks an old
build). The JSON is committed so that Grafana provisioning (docker-compose.yml) needs no Python at all; the tests in
tests/dashboards/ check that the committed file equals this script's output, validate it against the dashboard schema of
``@grafana/schema`` 11.6.0 and run every query against a real Prometheus.

Metric names are the contract of ``monitor serve`` (see dashboards/README.md). Recording rules named ``eth_hosting:*``
come from dashboards/prometheus/rules/eth-hosting-recording.yml.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from grafana_foundation_sdk.builders import bargauge, dashboard, geomap, stat, table, timeseries
from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import prometheus as prom
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as dm
from grafana_foundation_sdk.models import prometheus as prom_models

HERE = Path(__file__).resolve().parent
OUT_DIR = HERE / "grafana" / "dashboards"
OVERVIEW_FILE = OUT_DIR / "eth-hosting-overview.json"
OVERVIEW_UID = "eth-hosting-overview"

DATASOURCE = dm.DataSourceRef(type_val="prometheus", uid="${datasource}")
CLAIM = "aws-23pct"

# Selectors shared by many panels; every one names the denominator's three coordinates.
POP = 'network="$network",scope="$scope",dedup="$dedup"'
NOT_REST = 'key!~"other|unknown"'

DENOMINATOR = (
    "Denominator: every unit of the selected scope ($scope: discovered = every node the crawl heard of, "
    "reachable = nodes that answered, mainnet = nodes whose fork id says mainnet) in network $network, counted once "
    "per $dedup (node = node id, ip = unique IP address, prefix = unique address prefix). The number of units n is in "
    "the 'Population' panel."
)
NODE_DENOMINATOR = (
    "Denominator: node ids of the selected scope ($scope) in network $network; this metric is not deduplicated by IP."
)
CLIENT_NOTE = (
    "A client name (geth, nethermind, erigon, besu, reth, ...) is known only for nodes the crawler dialed over RLPx "
    "and that sent a Hello; every other unit counts as 'unknown', so the client shares sum to 100 % over all units "
    "and 'Client known' says how much of the denominator rests on dialed nodes. "
)
CROSSTAB = 'eth_hosting_client_share_by_provider_ratio{network="$network",scope="$scope"}'


def _query(
    expr: str, legend: str = "__auto", *, instant: bool = False, ref: str = "A", table_format: bool = False
) -> Any:
    q = prom.Dataquery().expr(expr).legend_format(legend).ref_id(ref).datasource(DATASOURCE)
    q = q.instant() if instant else q.range()
    if table_format:
        q = q.format(prom_models.PromQueryFormat.TABLE)
    return q


def _thresholds(*steps: tuple[float | None, str]) -> dashboard.ThresholdsConfig:
    return (
        dashboard.ThresholdsConfig()
        .mode(dm.ThresholdsMode.ABSOLUTE)
        .steps([dm.Threshold(value=value, color=color) for value, color in steps])
    )


def _legend_table() -> common_builders.VizLegendOptions:
    return (
        common_builders.VizLegendOptions()
        .display_mode(common.LegendDisplayMode.TABLE)
        .placement(common.LegendPlacement.RIGHT)
        .show_legend(True)
        .calcs(["lastNotNull", "max"])
    )


def _legend_list() -> common_builders.VizLegendOptions:
    return (
        common_builders.VizLegendOptions()
        .display_mode(common.LegendDisplayMode.LIST)
        .placement(common.LegendPlacement.BOTTOM)
        .show_legend(True)
    )


def _tooltip() -> common_builders.VizTooltipOptions:
    return common_builders.VizTooltipOptions().mode(common.TooltipDisplayMode.MULTI).sort(common.SortOrder.DESCENDING)


def _series(title: str, description: str, unit: str, *targets: Any, width: int = 12, height: int = 8) -> Any:
    panel = (
        timeseries.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .unit(unit)
        .span(width)
        .height(height)
        .line_width(2)
        .fill_opacity(10)
        .show_points(common.VisibilityMode.NEVER)
        .span_nulls(True)
        .legend(_legend_list())
        .tooltip(_tooltip())
    )
    for target in targets:
        panel = panel.with_target(target)
    return panel


def _stat(title: str, description: str, unit: str, target: Any, *, width: int, height: int = 4) -> Any:
    return (
        stat.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .unit(unit)
        .span(width)
        .height(height)
        .graph_mode(common.BigValueGraphMode.NONE)
        .color_mode(common.BigValueColorMode.VALUE)
        .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
        .with_target(target)
    )


def _bars(title: str, description: str, unit: str, target: Any, *, width: int, height: int = 9) -> Any:
    return (
        bargauge.Panel()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .unit(unit)
        .span(width)
        .height(height)
        .orientation(common.VizOrientation.HORIZONTAL)
        .display_mode(common.BarGaugeDisplayMode.BASIC)
        .show_unfilled(True)
        .reduce_options(common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
        .with_target(target)
    )


def _override(name: str, *props: tuple[str, object]) -> tuple[str, list[dm.DynamicConfigValue]]:
    return name, [dm.DynamicConfigValue(id_val=key, value=value) for key, value in props]


def _variables() -> list[Any]:
    def label_values(name: str, query: str, label: str, description: str, default: str | None = None) -> Any:
        var = (
            dashboard.QueryVariable(name)
            .label(label)
            .description(description)
            .datasource(DATASOURCE)
            .query(query)
            .refresh(dm.VariableRefresh.ON_TIME_RANGE_CHANGED)
            .sort(dm.VariableSort.ALPHABETICAL_ASC)
        )
        if default is not None:
            var = var.current(dm.VariableOption(selected=True, text=default, value=default))
        return var

    return [
        dashboard.DatasourceVariable("datasource")
        .label("Data source")
        .description("The Prometheus that scrapes `monitor serve`.")
        .type("prometheus"),
        label_values(
            "network",
            "label_values(eth_hosting_population_units, network)",
            "Network",
            "The network the crawler ran against (the `network` label of every metric).",
            "mainnet",
        ),
        label_values(
            "scope",
            'label_values(eth_hosting_population_units{network="$network"}, scope)',
            "Scope",
            "discovered = every node the crawl heard of; reachable = nodes that answered; mainnet = nodes whose fork "
            "id says Ethereum mainnet.",
            "discovered",
        ),
        label_values(
            "dedup",
            'label_values(eth_hosting_population_units{network="$network",scope="$scope"}, dedup)',
            "Counted per",
            "node = one unit per node id; ip = one per unique IP address; prefix = one per unique address prefix.",
            "node",
        ),
        label_values(
            "provider",
            'label_values(eth_hosting_share_ratio{network="$network",dimension="provider"}, key)',
            "Providers to compare",
            "Providers shown in the reachable-vs-discovered and mainnet-vs-all comparisons.",
            "aws",
        )
        .multi(True)
        .include_all(False),
        label_values(
            "denominator",
            f'label_values(eth_hosting_claim_share_ratio{{claim="{CLAIM}"}}, denominator)',
            "Claim denominator",
            "scope/dedup pairs against which the AWS 23 % claim is checked; one claim panel is repeated per value.",
        )
        .multi(True)
        .include_all(True)
        .current(dm.VariableOption(selected=True, text=["All"], value=["$__all"])),
    ]


def _summary_panels() -> list[Any]:
    largest = _stat(
        "Largest single provider",
        "Share of the biggest named hosting provider (the rest bucket 'other' excluded). " + DENOMINATOR,
        "percentunit",
        _query(f'topk(1, eth_hosting_share_ratio{{{POP},dimension="provider",{NOT_REST}}})', "{{key}}", instant=True),
        width=4,
    )
    largest = largest.text_mode(common.BigValueTextMode.VALUE_AND_NAME).thresholds(
        _thresholds((None, "green"), (0.25, "orange"), (0.33, "red"))
    )
    hhi = _stat(
        "HHI (providers)",
        "Herfindahl-Hirschman index of provider shares, 0-1 (0.25 = 2,500 on the usual 10,000 scale; alert above "
        "0.25). " + DENOMINATOR,
        "none",
        _query(f'eth_hosting_hhi{{{POP},dimension="provider"}}', "HHI", instant=True),
        width=4,
    )
    hhi = hhi.decimals(3).thresholds(_thresholds((None, "green"), (0.15, "orange"), (0.25, "red")))
    nakamoto = []
    for threshold, label in (("0.33", "33 %"), ("0.5", "50 %")):
        panel = _stat(
            f"Nakamoto coefficient (providers, {label})",
            f"Fewest providers that together hold more than {label} of the units (alert at 2 or fewer). " + DENOMINATOR,
            "none",
            _query(
                f'eth_hosting_nakamoto_coefficient{{{POP},dimension="provider",threshold="{threshold}"}}',
                "providers",
                instant=True,
            ),
            width=3,
        )
        nakamoto.append(panel.decimals(0).thresholds(_thresholds((None, "red"), (3, "orange"), (5, "green"))))
    population = _stat(
        "Population (n)",
        "The denominator itself: how many units (nodes, IPs or prefixes, per 'Counted per') the shares are divided by.",
        "short",
        _query(f"eth_hosting_population_units{{{POP}}}", "n", instant=True),
        width=3,
    ).thresholds(_thresholds((None, "blue")))
    last_crawl = _stat(
        "Since last successful crawl",
        "Time since the last crawl that produced a snapshot. Alert when it exceeds two crawl intervals. "
        "Not a share: no denominator.",
        "s",
        _query("time() - eth_hosting_crawl_last_success_timestamp_seconds", "age", instant=True),
        width=4,
    ).thresholds(_thresholds((None, "green"), (3600, "orange"), (7200, "red")))
    simulated = (
        _stat(
            "Data source kind",
            "SIMULATED when the snapshot comes from the offline loopback devnet with a hosting overlay (demo data, not "
            "Ethereum). Not a share: no denominator.",
            "none",
            _query("max(eth_hosting_simulated)", "simulated", instant=True),
            width=3,
        )
        .mappings(
            [
                dm.ValueMap(
                    options={
                        "0": dm.ValueMappingResult(text="real network", color="green", index=0),
                        "1": dm.ValueMappingResult(text="SIMULATED", color="purple", index=1),
                    }
                )
            ]
        )
        .thresholds(_thresholds((None, "green"), (1, "purple")))
    )
    return [largest, hhi, *nakamoto, population, last_crawl, simulated]


def _provider_panels() -> list[Any]:
    shares = _series(
        "Provider shares over time",
        "Share of each of the top providers, plus 'other' for the rest; stacked, so the total is 100 %. " + DENOMINATOR,
        "percentunit",
        _query(f'eth_hosting_share_ratio{{{POP},dimension="provider"}}', "{{key}}"),
        width=16,
        height=10,
    )
    shares = (
        shares.stacking(common_builders.StackingConfig().mode(common.StackingMode.NORMAL))
        .fill_opacity(60)
        .line_width(1)
        .min(0)
        .max(1)
        .legend(_legend_table())
    )
    nodes = _bars(
        "Nodes per provider (latest crawl)",
        "Node count per top provider and 'other'. " + NODE_DENOMINATOR,
        "short",
        _query('sort_desc(eth_hosting_nodes{network="$network",scope="$scope"})', "{{provider}}", instant=True),
        width=8,
        height=10,
    ).thresholds(_thresholds((None, "blue")))
    return [shares, nodes]


def _claim_panels() -> list[Any]:
    verdict = (
        table.Panel()
        .title("AWS 23 % claim: verdict per denominator")
        .description(
            "The 2022 article claims AWS hosts 23 % of Ethereum nodes without saying of what. We test it against every "
            "denominator the snapshot supports (scope/dedup, e.g. reachable/ip = unique IPs of reachable nodes): "
            "consistent = 23 % lies inside the Wilson 95 % interval of the measured share; higher / lower = the whole "
            "interval lies above / below 23 %; insufficient = too few units to say."
        )
        .datasource(DATASOURCE)
        .unit("none")
        .span(24)
        .height(6)
        .frame_index(0)
        .show_header(True)
        .with_target(_query(f'eth_hosting_claim_verdict{{claim="{CLAIM}"}} == 1', "", instant=True, table_format=True))
        .with_transformation(
            dm.DataTransformerConfig(
                id_val="organize",
                options={
                    "excludeByName": {"Time": True, "Value": True, "__name__": True, "job": True, "instance": True},
                    "indexByName": {"denominator": 0, "verdict": 1, "claim": 2},
                    "renameByName": {
                        "denominator": "Denominator (scope/dedup)",
                        "verdict": "Verdict",
                        "claim": "Claim",
                    },
                },
            )
        )
        .override_by_name(
            "Verdict",
            [dm.DynamicConfigValue(id_val="custom.cellOptions", value={"type": "color-background"})],
        )
        .mappings(
            [
                dm.ValueMap(
                    options={
                        "consistent": dm.ValueMappingResult(text="consistent with 23 %", color="green", index=0),
                        "higher": dm.ValueMappingResult(text="AWS share higher than 23 %", color="orange", index=1),
                        "lower": dm.ValueMappingResult(text="AWS share lower than 23 %", color="blue", index=2),
                        "insufficient": dm.ValueMappingResult(text="too few units to say", color="text", index=3),
                    }
                )
            ]
        )
    )
    band = _series(
        "AWS share vs the claimed 23 % ($denominator)",
        "Measured AWS share with its Wilson 95 % interval (shaded band) against the article's 23 % (dashed). "
        "Denominator: the one in the title, as scope/dedup (scope: discovered, reachable or mainnet; dedup: "
        "node = node id, ip = unique IP, prefix = unique address prefix). One panel per value of 'Claim denominator'.",
        "percentunit",
        _query(
            f'eth_hosting_claim_share_ratio{{claim="{CLAIM}",denominator="$denominator"}}',
            "measured AWS share",
            ref="A",
        ),
        _query(
            f'eth_hosting_claim_share_ci_low_ratio{{claim="{CLAIM}",denominator="$denominator"}}',
            "95 % interval, low",
            ref="B",
        ),
        _query(
            f'eth_hosting_claim_share_ci_high_ratio{{claim="{CLAIM}",denominator="$denominator"}}',
            "95 % interval, high",
            ref="C",
        ),
        _query(f'eth_hosting:claim_claimed_share:ratio{{claim="{CLAIM}"}}', "claimed 23 % (article)", ref="D"),
        width=12,
        height=8,
    )
    band = (
        band.repeat("denominator")
        .repeat_direction("h")
        .max_per_row(2)
        .min(0)
        .axis_soft_max(0.5)
        .override_by_name(
            *_override(
                "95 % interval, high",
                ("custom.fillBelowTo", "95 % interval, low"),
                ("custom.lineWidth", 0),
                ("custom.fillOpacity", 25),
            )
        )
        .override_by_name(*_override("95 % interval, low", ("custom.lineWidth", 0), ("custom.fillOpacity", 0)))
        .override_by_name(
            *_override(
                "claimed 23 % (article)",
                ("color", {"mode": "fixed", "fixedColor": "red"}),
                ("custom.lineStyle", {"fill": "dash", "dash": [10, 10]}),
                ("custom.fillOpacity", 0),
            )
        )
    )
    return [verdict, band]


def _concentration_panels() -> list[Any]:
    hhi = _series(
        "HHI by dimension",
        "Herfindahl-Hirschman index (sum of squared shares, 0-1) of providers, regions, countries, ASNs and clients "
        "(clients: over units with client info only); the dashed line is the 0.25 alert threshold. " + DENOMINATOR,
        "none",
        _query(f"eth_hosting_hhi{{{POP}}}", "{{dimension}}"),
    )
    hhi = (
        hhi.decimals(3)
        .min(0)
        .thresholds(_thresholds((None, "transparent"), (0.25, "red")))
        .thresholds_style(common_builders.GraphThresholdsStyleConfig().mode(common.GraphThresholdsStyleMode.DASHED))
    )
    nakamoto = _series(
        "Nakamoto coefficient by dimension",
        "Fewest providers / regions / countries / ASNs / clients that together exceed 33 % or 50 % of the units "
        "(clients: of the units with client info); the dashed line is the alert level (2). " + DENOMINATOR,
        "none",
        _query(f"eth_hosting_nakamoto_coefficient{{{POP}}}", "{{dimension}} > {{threshold}}"),
    )
    nakamoto = (
        nakamoto.decimals(0)
        .min(0)
        .thresholds(_thresholds((None, "red"), (2.5, "transparent")))
        .thresholds_style(common_builders.GraphThresholdsStyleConfig().mode(common.GraphThresholdsStyleMode.DASHED))
    )
    return [hhi, nakamoto]


def _geography_panels() -> list[Any]:
    regions = _bars(
        "Top regions (provider/region)",
        "Share of the ten biggest provider regions (e.g. aws/us-east-1), latest crawl. " + DENOMINATOR,
        "percentunit",
        _query(f'topk(10, eth_hosting_share_ratio{{{POP},dimension="region",{NOT_REST}}})', "{{key}}", instant=True),
        width=8,
    ).thresholds(_thresholds((None, "green"), (0.15, "orange"), (0.25, "red")))
    location = (
        common_builders.FrameGeometrySource()
        .mode(common.FrameGeometrySourceMode.LOOKUP)
        .lookup("key")
        .gazetteer("public/gazetteer/countries.json")
    )
    layer = (
        common_builders.MapLayerOptions()
        .type("markers")
        .name("Share by country")
        .location(location)
        .tooltip(True)
        .config(
            {
                "showLegend": True,
                "style": {
                    "color": {"field": "Value", "fixed": "dark-green"},
                    "opacity": 0.5,
                    "size": {"field": "Value", "fixed": 5, "min": 4, "max": 30},
                    "symbol": {"fixed": "img/icons/marker/circle.svg", "mode": "fixed"},
                },
            }
        )
    )
    countries = (
        geomap.Panel()
        .title("Countries")
        .description(
            "Share per country (ISO code of the IP address's location), latest crawl; bubble size and colour follow "
            "the share. " + DENOMINATOR
        )
        .datasource(DATASOURCE)
        .unit("percentunit")
        .span(8)
        .height(9)
        .view(geomap.MapViewConfig().id("zero").lat(20).lon(0).zoom(1))
        .basemap(common_builders.MapLayerOptions().type("default").name("Basemap"))
        .layers([layer])
        .thresholds(_thresholds((None, "green"), (0.1, "orange"), (0.25, "red")))
        .color_scheme(dashboard.FieldColor().mode(dm.FieldColorModeId.CONTINUOUS_GR_YL_RD))
        .with_target(
            _query(
                f'eth_hosting_share_ratio{{{POP},dimension="country",{NOT_REST}}}',
                "{{key}}",
                instant=True,
                table_format=True,
            )
        )
    )
    asns = _bars(
        "Top networks (ASN)",
        "Share of the ten biggest autonomous systems (AS number), latest crawl. " + DENOMINATOR,
        "percentunit",
        _query(f'topk(10, eth_hosting_share_ratio{{{POP},dimension="asn",{NOT_REST}}})', "{{key}}", instant=True),
        width=8,
    ).thresholds(_thresholds((None, "green"), (0.15, "orange"), (0.25, "red")))
    return [regions, countries, asns]


def _scope_panels() -> list[Any]:
    population = _series(
        "Population by scope",
        "Units per scope (discovered ⊇ reachable; mainnet = discovered nodes whose fork id says mainnet), counted per "
        "$dedup in network $network. These are the denominators themselves.",
        "short",
        _query('eth_hosting_population_units{network="$network",dedup="$dedup"}', "{{scope}}"),
        width=8,
    )
    reachable = (
        _series(
            "Reachable fraction",
            "Reachable units divided by discovered units (counted per $dedup in network $network): how much of what "
            "the crawl heard of actually answered.",
            "percentunit",
            _query('eth_hosting:reachable_fraction:ratio{network="$network",dedup="$dedup"}', "reachable / discovered"),
            width=8,
        )
        .min(0)
        .max(1)
    )
    compare = _series(
        "Provider share: reachable vs discovered",
        "Share of the selected providers among reachable units and among all discovered units, counted per $dedup in "
        "network $network. A gap means that provider's nodes answer more (or less) often than the rest.",
        "percentunit",
        _query(
            'eth_hosting_share_ratio{network="$network",dedup="$dedup",dimension="provider",key=~"$provider",'
            'scope=~"discovered|reachable"}',
            "{{key}} · {{scope}}",
        ),
        width=8,
    ).min(0)
    return [population, reachable, compare]


def _network_panels() -> list[Any]:
    split = _series(
        "Mainnet vs other networks",
        "Discovered units split into Ethereum mainnet (fork id) and everything else (testnets, other chains, nodes "
        "without a fork id), counted per $dedup in network $network. Denominator of the split: all discovered units.",
        "short",
        _query('eth_hosting_population_units{network="$network",scope="mainnet",dedup="$dedup"}', "mainnet", ref="A"),
        _query('eth_hosting:non_mainnet_units:count{network="$network",dedup="$dedup"}', "other / unknown", ref="B"),
        width=12,
    )
    split = split.stacking(common_builders.StackingConfig().mode(common.StackingMode.NORMAL)).fill_opacity(50)
    compare = _series(
        "Provider share: mainnet vs all discovered",
        "Share of the selected providers among mainnet units and among all discovered units, counted per $dedup in "
        "network $network.",
        "percentunit",
        _query(
            'eth_hosting_share_ratio{network="$network",dedup="$dedup",dimension="provider",key=~"$provider",'
            'scope=~"discovered|mainnet"}',
            "{{key}} · {{scope}}",
        ),
        width=12,
    ).min(0)
    return [split, compare]


def _client_panels() -> list[Any]:
    known = (
        _stat(
            "Client known",
            "Fraction of the units with a client name (1 minus the 'unknown' client share): the denominator behind "
            "every named client share. " + CLIENT_NOTE + DENOMINATOR,
            "percentunit",
            _query(
                f'1 - eth_hosting_share_ratio{{{POP},dimension="client",key="unknown"}}', "client known", instant=True
            ),
            width=4,
            height=10,
        )
        .decimals(1)
        .thresholds(_thresholds((None, "orange"), (0.5, "green")))
    )
    shares = (
        _series(
            "Client shares over time",
            "Share of each of the top clients, 'other' for the rest and 'unknown' for units without client info; "
            "stacked, so the total is 100 %. " + CLIENT_NOTE + DENOMINATOR,
            "percentunit",
            _query(f'eth_hosting_share_ratio{{{POP},dimension="client"}}', "{{key}}"),
            width=12,
            height=10,
        )
        .stacking(common_builders.StackingConfig().mode(common.StackingMode.NORMAL))
        .fill_opacity(60)
        .line_width(1)
        .min(0)
        .max(1)
        .legend(_legend_table())
    )
    latest = _bars(
        "Clients (latest crawl)",
        "Share per client in the latest crawl, 'unknown' included. " + CLIENT_NOTE + DENOMINATOR,
        "percentunit",
        _query(f'sort_desc(eth_hosting_share_ratio{{{POP},dimension="client"}})', "{{key}}", instant=True),
        width=8,
        height=10,
    ).thresholds(_thresholds((None, "green"), (0.33, "orange"), (0.5, "red")))
    return [known, shares, latest, _client_by_provider_table()]


def _client_by_provider_table() -> Any:
    # The provider's n (its node ids), relabelled as one more "client" column of the pivoted table.
    n_expr = (
        'label_replace(eth_hosting_nodes{network="$network",scope="$scope"}, "client", "n (node ids)", "", "") '
        f"and on (network, scope, provider) group by (network, scope, provider) ({CROSSTAB})"
    )
    return (
        table.Panel()
        .title("Clients by provider (latest crawl)")
        .description(
            "Share of each client among the node ids of each top provider (rows), 'other' for the other clients and "
            "'unknown' for node ids without client info; each row sums to 100 %. Denominator of a row: the node ids "
            "of that provider in the selected scope ($scope) of network $network, shown as 'n (node ids)'; not "
            "deduplicated by IP. " + CLIENT_NOTE
        )
        .datasource(DATASOURCE)
        .unit("percentunit")
        .decimals(1)
        .span(24)
        .height(10)
        .show_header(True)
        .with_target(_query(CROSSTAB, "", instant=True, table_format=True, ref="A"))
        .with_target(_query(n_expr, "", instant=True, table_format=True, ref="B"))
        .with_transformation(dm.DataTransformerConfig(id_val="merge", options={}))
        .with_transformation(
            dm.DataTransformerConfig(
                id_val="groupingToMatrix",
                options={"columnField": "client", "rowField": "provider", "valueField": "Value"},
            )
        )
        .override_by_name(*_override("n (node ids)", ("unit", "short"), ("decimals", 0)))
    )


def _health_panels() -> list[Any]:
    discovered = _series(
        "Nodes discovered per crawl",
        "Nodes the latest crawl heard of, its 7-day median, and half the median (below it the 'far fewer nodes than "
        "usual' alert fires). Counts, not shares: no denominator.",
        "short",
        _query("eth_hosting_crawl_nodes_discovered", "discovered", ref="A"),
        _query("eth_hosting:crawl_nodes_discovered:median_7d", "7-day median", ref="B"),
        _query("0.5 * eth_hosting:crawl_nodes_discovered:median_7d", "alert level (50 % of median)", ref="C"),
        width=8,
    ).override_by_name(
        *_override("alert level (50 % of median)", ("custom.lineStyle", {"fill": "dash", "dash": [10, 10]}))
    )
    duration = _series(
        "Crawl duration",
        "Wall-clock time of the latest crawl. Not a share: no denominator.",
        "s",
        _query("eth_hosting_crawl_duration_seconds", "duration"),
        width=8,
    )
    packets = _series(
        "Discovery packets",
        "Packets per second sent and received by the crawler, per direction and message type. Not a share: no "
        "denominator.",
        "pps",
        _query(
            "sum by (direction, type) (rate(eth_hosting_crawl_packets_total[$__rate_interval]))",
            "{{direction}} {{type}}",
        ),
        width=8,
    )
    errors = _series(
        "Crawl errors (per hour)",
        "Errors per kind in the last hour (timeouts, bad packets, ...). Not a share: no denominator.",
        "short",
        _query("sum by (kind) (increase(eth_hosting_crawl_errors_total[1h]))", "{{kind}}"),
        width=6,
    )
    crawls = _bars(
        "Crawls in the last 24 h",
        "Crawls that succeeded or failed in the last 24 hours. Not a share: no denominator.",
        "short",
        _query("sum by (result) (increase(eth_hosting_crawls_total[24h]))", "{{result}}", instant=True),
        width=4,
        height=8,
    ).thresholds(_thresholds((None, "blue")))
    datasets = _bars(
        "IP dataset age",
        "Age of each IP-to-provider/ASN/country dataset used for attribution; red after 30 days (alert). Refresh with "
        "`monitor data update`. Not a share: no denominator.",
        "s",
        _query("sort_desc(eth_hosting_dataset_age_seconds)", "{{dataset}}", instant=True),
        width=6,
        height=8,
    ).thresholds(_thresholds((None, "green"), (14 * 86400, "orange"), (30 * 86400, "red")))
    snapshot = _stat(
        "Snapshot age",
        "Time since the snapshot behind every share on this dashboard was taken. Not a share: no denominator.",
        "s",
        _query("time() - eth_hosting_snapshot_timestamp_seconds", "age", instant=True),
        width=4,
        height=8,
    ).thresholds(_thresholds((None, "green"), (3600, "orange"), (7200, "red")))
    version = (
        _stat(
            "Exporter version",
            "Version of `monitor serve` (eth_hosting_build_info). Not a share: no denominator.",
            "none",
            _query("eth_hosting_build_info", "{{version}}", instant=True),
            width=4,
            height=8,
        )
        .text_mode(common.BigValueTextMode.NAME)
        .thresholds(_thresholds((None, "text")))
    )
    return [discovered, duration, packets, errors, crawls, datasets, snapshot, version]


def build_overview() -> dict[str, Any]:
    """The overview dashboard as a plain dict (what is written to JSON)."""
    builder = (
        dashboard.Dashboard("Ethereum node hosting: overview")
        .uid(OVERVIEW_UID)
        .description(
            "Who hosts Ethereum nodes, as measured by eth-hosting-monitor from the discovery network: provider, "
            "region, country, ASN and client shares with stated denominators, clients by provider, concentration "
            "indices, the AWS 23 % claim, crawl health."
        )
        .tags(["ethereum", "hosting", "eth-hosting-monitor"])
        .editable()
        .tooltip(dm.DashboardCursorSync.CROSSHAIR)
        .time("now-7d", "now")
        .refresh("5m")
        .timezone("utc")
        .variables(_variables())
    )
    sections: list[tuple[str, list[Any]]] = [
        ("Summary (selected scope and dedup)", _summary_panels()),
        ("Providers", _provider_panels()),
        ("The AWS 23 % claim", _claim_panels()),
        ("Concentration indices", _concentration_panels()),
        ("Regions, countries and networks", _geography_panels()),
        ("Clients (nodes dialed over RLPx)", _client_panels()),
        ("Reachable vs discovered", _scope_panels()),
        ("Mainnet vs other networks", _network_panels()),
        ("Crawl health and data freshness", _health_panels()),
    ]
    for title, panels in sections:
        builder = builder.with_row(dashboard.Row(title).collapsed(False))
        for panel in panels:
            builder = builder.with_panel(panel)
    result: dict[str, Any] = json.loads(json.dumps(builder.build(), cls=JSONEncoder))
    for number, panel in enumerate(result["panels"], start=1):
        panel["id"] = number
    for variable in result["templating"]["list"]:
        if variable["type"] != "interval":
            # The SDK writes interval-only keys on every variable; Grafana's dashboard schema has them nowhere else.
            for key in ("auto", "auto_count", "auto_min"):
                variable.pop(key, None)
    return result


def dashboards() -> dict[Path, dict[str, Any]]:
    """Every generated dashboard by its output path."""
    return {OVERVIEW_FILE: build_overview()}


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare with the committed files; exit 1 if stale")
    args = parser.parse_args(argv)
    stale = []
    for path, doc in dashboards().items():
        text = render(doc)
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            sys.stdout.write(f"wrote {path.relative_to(HERE.parent)}\n")
    for path in stale:
        sys.stderr.write(f"stale: {path.relative_to(HERE.parent)} (run dashboards/generate.py)\n")
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
