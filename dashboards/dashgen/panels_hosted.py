"""Row "Hosted vs residential": how much of the network runs in data centres, and AWS among the hosted nodes."""

from __future__ import annotations

from typing import Any

from dashgen.common import LAYER, override, query, series, share_expr, stacked_shares

_HIGH = "95 % interval, high"
_LOW = "95 % interval, low"
_CATEGORIES = (
    "Categories: hosted = cloud + hosting providers (data centres); other = residential, mobile and business access "
    "networks, education and government (the residential / other share); unknown = not attributed. "
)


def _split() -> Any:
    return stacked_shares(
        "Hosted vs residential / other",
        "Share of the units in data centres (hosted) and in residential and other networks, stacked to 100 %. "
        + _CATEGORIES
        + "Denominator: every unit of the selected scope ($scope) among the $layer-layer records in network "
        "$network, counted per $dedup.",
        query(share_expr("category"), "{{key}}"),
        width=12,
        height=8,
    )


def _aws_of_hosted() -> Any:
    selector = f'{LAYER},scope="hosted",dedup="$dedup",dimension="provider",key="aws"'
    return (
        series(
            "AWS share of hosted nodes",
            "AWS's share of the hosted units only (cloud + hosting, residential networks left out), with its 95 % "
            "interval (cluster-robust for per-node counts: node ids behind one IP move together). This is the "
            "denominator of figures such as 'AWS hosts over half of hosted nodes'. Denominator: hosted units among "
            "the $layer-layer records in network $network, counted per $dedup (independent of the Scope variable).",
            "percentunit",
            query(f"eth_hosting_share_ratio{{{selector}}}", "AWS share of hosted", ref="A"),
            query(f"eth_hosting_share_ci_low_ratio{{{selector}}}", _LOW, ref="B"),
            query(f"eth_hosting_share_ci_high_ratio{{{selector}}}", _HIGH, ref="C"),
            width=12,
            height=8,
        )
        .min(0)
        .max(1)
        .override_by_name(
            *override(_HIGH, ("custom.fillBelowTo", _LOW), ("custom.lineWidth", 0), ("custom.fillOpacity", 25))
        )
        .override_by_name(*override(_LOW, ("custom.lineWidth", 0), ("custom.fillOpacity", 0)))
    )


def hosted_panels() -> list[Any]:
    return [_split(), _aws_of_hosted()]
