"""Row "Concentration indices": HHI and Nakamoto coefficient of every dimension over time, one pair of panels per
index family (all operators; hosted providers only)."""

from __future__ import annotations

from typing import Any

from dashgen.common import DENOMINATOR, FAMILIES, POP, dashed_thresholds, query, series, thresholds


def _family_panels(family: str) -> list[Any]:
    name, note = FAMILIES[family]
    selector = f'{POP},family="{family}"'
    hhi = series(
        f"HHI by dimension ({name})",
        "Herfindahl-Hirschman index (sum of squared shares, 0-1) of providers, regions, countries and ASNs"
        + (" and clients (clients: over units with client info only)" if family == "operators" else "")
        + "; the dashed line is the 0.25 alert threshold. "
        + note
        + DENOMINATOR,
        "none",
        query(f"eth_hosting_hhi{{{selector}}}", "{{dimension}}"),
        width=6,
    )
    hhi = hhi.decimals(3).min(0).thresholds(thresholds((None, "transparent"), (0.25, "red")))
    nakamoto = series(
        f"Nakamoto coefficient by dimension ({name})",
        "Fewest providers / regions / countries / ASNs that together hold more than 1/3 or 1/2 of the units; the "
        "dashed line is the alert level (2). " + note + DENOMINATOR,
        "none",
        query(f"eth_hosting_nakamoto_coefficient{{{selector}}}", "{{dimension}} > {{threshold}}"),
        width=6,
    )
    nakamoto = nakamoto.decimals(0).min(0).thresholds(thresholds((None, "red"), (2.5, "transparent")))
    return [panel.thresholds_style(dashed_thresholds()) for panel in (hhi, nakamoto)]


def concentration_panels() -> list[Any]:
    return [*_family_panels("operators"), *_family_panels("hosted")]
