"""Row "Regions, countries and networks": top regions, a map of countries and top autonomous systems."""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.builders import common as common_builders
from grafana_foundation_sdk.builders import dashboard, geomap
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as dm

from dashgen.common import CONCENTRATED, DENOMINATOR, NOT_REST, bars, framed, query, share_expr, thresholds

_MARKER_STYLE = {
    "color": {"field": "Value", "fixed": "dark-green"},
    "opacity": 0.5,
    "size": {"field": "Value", "fixed": 5, "min": 4, "max": 30},
    "symbol": {"fixed": "img/icons/marker/circle.svg", "mode": "fixed"},
}


def _top10(title: str, what: str, dimension: str) -> Any:
    """Bars of the ten biggest keys of one dimension in the latest crawl."""
    return bars(
        title,
        f"Share of the ten biggest {what}, latest crawl. " + DENOMINATOR,
        "percentunit",
        query(f"topk(10, {share_expr(dimension, NOT_REST)})", "{{key}}", instant=True),
        width=8,
    ).thresholds(thresholds(*CONCENTRATED))


def _country_layer() -> common_builders.MapLayerOptions:
    location = (
        common_builders.FrameGeometrySource()
        .mode(common.FrameGeometrySourceMode.LOOKUP)
        .lookup("key")
        .gazetteer("public/gazetteer/countries.json")
    )
    return (
        common_builders.MapLayerOptions()
        .type("markers")
        .name("Share by country")
        .location(location)
        .tooltip(True)
        .config({"showLegend": True, "style": _MARKER_STYLE})
    )


def _countries() -> Any:
    return (
        framed(
            geomap.Panel(),
            "Countries",
            "Share per country (ISO code of the IP address's location), latest crawl; bubble size and colour follow "
            "the share. " + DENOMINATOR,
            "percentunit",
            width=8,
            height=9,
        )
        .view(geomap.MapViewConfig().id("zero").lat(20).lon(0).zoom(1))
        .basemap(common_builders.MapLayerOptions().type("default").name("Basemap"))
        .layers([_country_layer()])
        .thresholds(thresholds((None, "green"), (0.1, "orange"), (0.25, "red")))
        .color_scheme(dashboard.FieldColor().mode(dm.FieldColorModeId.CONTINUOUS_GR_YL_RD))
        .with_target(query(share_expr("country", NOT_REST), "{{key}}", instant=True, table_format=True))
    )


def geography_panels() -> list[Any]:
    return [
        _top10("Top regions (provider/region)", "provider regions (e.g. aws/us-east-1)", "region"),
        _countries(),
        _top10("Top networks (ASN)", "autonomous systems (AS number)", "asn"),
    ]
