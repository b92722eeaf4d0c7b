"""What every panel shares: the data source, the label selectors, the denominator texts and the panel builders.

Metric names are the contract of ``monitor serve`` (see dashboards/README.md). Recording rules named ``eth_hosting:*``
come from dashboards/prometheus/rules/eth-hosting-recording.yml.
"""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.builders import bargauge, dashboard, stat, timeseries
from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import prometheus as prom
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as dm
from grafana_foundation_sdk.models import prometheus as prom_models

DATASOURCE = dm.DataSourceRef(type_val="prometheus", uid="${datasource}")
CLAIM = "aws-23pct"

# Selectors shared by many panels; every one names the denominator's coordinates: the layer of the records counted,
# the scope and the dedup.
LAYER = 'network="$network",layer="$layer"'
POP = f'{LAYER},scope="$scope",dedup="$dedup"'
NOT_REST = 'key!~"other|unknown"'

DENOMINATOR = (
    "Denominator: every unit of the selected scope ($scope: discovered = every node the crawl heard of, "
    "reachable = nodes that answered, mainnet = nodes whose fork id says mainnet, hosted = nodes in data centres, "
    "cloud + hosting) among the $layer-layer records (all = both layers) in network $network, counted once per $dedup "
    "(node = node id, ip = unique IP address, prefix = unique address prefix). The number of units n is in the "
    "'Population' panel."
)
NODE_DENOMINATOR = (
    "Denominator: node ids of the selected scope ($scope) among the $layer-layer records in network $network; this "
    "metric is not deduplicated by IP."
)
# What the two index families count (the `family` label of eth_hosting_hhi and eth_hosting_nakamoto_coefficient).
FAMILIES: dict[str, tuple[str, str]] = {
    "operators": (
        "all operators",
        "Index family: all operators, every attributed unit, each ISP or other access network counted as its own "
        "operator (so thousands of home connections look like many small operators). ",
    ),
    "hosted": (
        "hosted providers only",
        "Index family: hosted providers only, the units in data centres (cloud + hosting); residential and other "
        "networks are left out, so this is the concentration among the hosting providers themselves. ",
    ),
}
NO_DENOMINATOR = "Not a share: no denominator."

# Threshold steps used by several panels: (value, colour), the first value None.
Steps = tuple[tuple[float | None, str], ...]
CONCENTRATED: Steps = ((None, "green"), (0.15, "orange"), (0.25, "red"))
AGE: Steps = ((None, "green"), (3600, "orange"), (7200, "red"))
COUNT: Steps = ((None, "blue"),)


def query(
    expr: str, legend: str = "__auto", *, instant: bool = False, ref: str = "A", table_format: bool = False
) -> Any:
    q = prom.Dataquery().expr(expr).legend_format(legend).ref_id(ref).datasource(DATASOURCE)
    q = q.instant() if instant else q.range()
    if table_format:
        q = q.format(prom_models.PromQueryFormat.TABLE)
    return q


def share_expr(dimension: str, extra: str = "") -> str:
    """``eth_hosting_share_ratio`` of one dimension over the selected population, ``extra`` matchers appended."""
    matchers = f'{POP},dimension="{dimension}"' + (f",{extra}" if extra else "")
    return f"eth_hosting_share_ratio{{{matchers}}}"


def thresholds(*steps: tuple[float | None, str]) -> dashboard.ThresholdsConfig:
    return (
        dashboard.ThresholdsConfig()
        .mode(dm.ThresholdsMode.ABSOLUTE)
        .steps([dm.Threshold(value=value, color=color) for value, color in steps])
    )


def dashed_thresholds() -> common_builders.GraphThresholdsStyleConfig:
    return common_builders.GraphThresholdsStyleConfig().mode(common.GraphThresholdsStyleMode.DASHED)


def override(name: str, *props: tuple[str, object]) -> tuple[str, list[dm.DynamicConfigValue]]:
    """Arguments of ``override_by_name``: the field name and its properties as (id, value) pairs."""
    return name, [dm.DynamicConfigValue(id_val=key, value=value) for key, value in props]


def value_map(*entries: tuple[str, str, str]) -> list[dm.ValueMap]:
    """One value mapping from (value, text, colour) entries, indexed in the given order."""
    options = {
        value: dm.ValueMappingResult(text=text, color=color, index=index)
        for index, (value, text, color) in enumerate(entries)
    }
    return [dm.ValueMap(options=options)]


def legend_table() -> common_builders.VizLegendOptions:
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


def _last_value() -> common_builders.ReduceDataOptions:
    return common_builders.ReduceDataOptions().calcs(["lastNotNull"]).values(False)


def framed(panel: Any, title: str, description: str, unit: str, *, width: int, height: int) -> Any:
    """Any panel builder with what every panel has: title, description, the data source, unit and size."""
    return panel.title(title).description(description).datasource(DATASOURCE).unit(unit).span(width).height(height)


def series(title: str, description: str, unit: str, *targets: Any, width: int = 12, height: int = 8) -> Any:
    panel = (
        framed(timeseries.Panel(), title, description, unit, width=width, height=height)
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


def stacked_shares(title: str, description: str, target: Any, *, width: int, height: int) -> Any:
    """Shares over time stacked to 100 %, with a legend table."""
    return (
        series(title, description, "percentunit", target, width=width, height=height)
        .stacking(common_builders.StackingConfig().mode(common.StackingMode.NORMAL))
        .fill_opacity(60)
        .line_width(1)
        .min(0)
        .max(1)
        .legend(legend_table())
    )


def stat_panel(title: str, description: str, unit: str, target: Any, *, width: int, height: int = 4) -> Any:
    return (
        framed(stat.Panel(), title, description, unit, width=width, height=height)
        .graph_mode(common.BigValueGraphMode.NONE)
        .color_mode(common.BigValueColorMode.VALUE)
        .reduce_options(_last_value())
        .with_target(target)
    )


def bars(title: str, description: str, unit: str, target: Any, *, width: int, height: int = 9) -> Any:
    return (
        framed(bargauge.Panel(), title, description, unit, width=width, height=height)
        .orientation(common.VizOrientation.HORIZONTAL)
        .display_mode(common.BarGaugeDisplayMode.BASIC)
        .show_unfilled(True)
        .reduce_options(_last_value())
        .with_target(target)
    )
