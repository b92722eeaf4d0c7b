"""Row "The AWS 23 % claim": a verdict per denominator and the measured share with its interval per denominator."""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.builders import table
from grafana_foundation_sdk.models import dashboard as dm

from dashgen.common import CLAIM, framed, override, query, series, value_map

_HIGH = "95 % interval, high"
_LOW = "95 % interval, low"
_CLAIMED = "claimed 23 % (article)"


def _verdict_table() -> Any:
    return (
        framed(
            table.Panel(),
            "AWS 23 % claim: verdict per denominator",
            "The 2022 article claims AWS hosts 23 % of Ethereum nodes without saying of what. We test it against every "
            "denominator the snapshot supports (scope/dedup, e.g. reachable/ip = unique IPs of reachable nodes): "
            "consistent = 23 % lies inside the Wilson 95 % interval of the measured share; higher / lower = the whole "
            "interval lies above / below 23 % whichever way the unattributed units fall; insufficient = verdict "
            "withheld (fewer than 30 units, or fewer than 80 % of them attributed: insufficient attribution). Layer: "
            "the $layer-layer records (all = both layers). The claim is about execution-layer nodes, so the verdicts "
            "with Layer = execution are the claim's own (primary); the consensus and all-record verdicts are context.",
            "none",
            width=24,
            height=6,
        )
        .frame_index(0)
        .show_header(True)
        .with_target(
            query(
                f'eth_hosting_claim_verdict{{claim="{CLAIM}",layer="$layer"}} == 1', "", instant=True, table_format=True
            )
        )
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
        .override_by_name(*override("Verdict", ("custom.cellOptions", {"type": "color-background"})))
        .mappings(
            value_map(
                ("consistent", "consistent with 23 %", "green"),
                ("higher", "AWS share higher than 23 %", "orange"),
                ("lower", "AWS share lower than 23 %", "blue"),
                ("insufficient", "withheld: too few units or insufficient attribution", "text"),
            )
        )
    )


def _claim_query(metric: str, legend: str, ref: str) -> Any:
    return query(f'{metric}{{claim="{CLAIM}",layer="$layer",denominator="$denominator"}}', legend, ref=ref)


def _band_series() -> Any:
    return series(
        "AWS share vs the claimed 23 % ($denominator)",
        "Measured AWS share with its Wilson 95 % interval (shaded band; for per-node denominators at the "
        "cluster-robust effective n, node ids behind one IP counted as one cluster) against the article's 23 % "
        "(dashed), on the $layer-layer records (the claim's own layer is execution). "
        "Denominator: the one in the title, as scope/dedup (scope: discovered, reachable or mainnet; dedup: "
        "node = node id, ip = unique IP, prefix = unique address prefix). One panel per value of 'Claim denominator'.",
        "percentunit",
        _claim_query("eth_hosting_claim_share_ratio", "measured AWS share", "A"),
        _claim_query("eth_hosting_claim_share_ci_low_ratio", _LOW, "B"),
        _claim_query("eth_hosting_claim_share_ci_high_ratio", _HIGH, "C"),
        query(f'eth_hosting:claim_claimed_share:ratio{{claim="{CLAIM}"}}', _CLAIMED, ref="D"),
        width=12,
        height=8,
    )


def _band() -> Any:
    return (
        _band_series()
        .repeat("denominator")
        .repeat_direction("h")
        .max_per_row(2)
        .min(0)
        .axis_soft_max(0.5)
        .override_by_name(
            *override(_HIGH, ("custom.fillBelowTo", _LOW), ("custom.lineWidth", 0), ("custom.fillOpacity", 25))
        )
        .override_by_name(*override(_LOW, ("custom.lineWidth", 0), ("custom.fillOpacity", 0)))
        .override_by_name(
            *override(
                _CLAIMED,
                ("color", {"mode": "fixed", "fixedColor": "red"}),
                ("custom.lineStyle", {"fill": "dash", "dash": [10, 10]}),
                ("custom.fillOpacity", 0),
            )
        )
    )


def claim_panels() -> list[Any]:
    return [_verdict_table(), _band()]
