"""Row "Concentration indices": HHI and Nakamoto coefficient of every dimension over time."""

from __future__ import annotations

from typing import Any

from dashgen.common import DENOMINATOR, POP, dashed_thresholds, query, series, thresholds


def concentration_panels() -> list[Any]:
    hhi = series(
        "HHI by dimension",
        "Herfindahl-Hirschman index (sum of squared shares, 0-1) of providers, regions, countries, ASNs and clients "
        "(clients: over units with client info only); the dashed line is the 0.25 alert threshold. " + DENOMINATOR,
        "none",
        query(f"eth_hosting_hhi{{{POP}}}", "{{dimension}}"),
    )
    hhi = hhi.decimals(3).min(0).thresholds(thresholds((None, "transparent"), (0.25, "red")))
    nakamoto = series(
        "Nakamoto coefficient by dimension",
        "Fewest providers / regions / countries / ASNs / clients that together exceed 33 % or 50 % of the units "
        "(clients: of the units with client info); the dashed line is the alert level (2). " + DENOMINATOR,
        "none",
        query(f"eth_hosting_nakamoto_coefficient{{{POP}}}", "{{dimension}} > {{threshold}}"),
    )
    nakamoto = nakamoto.decimals(0).min(0).thresholds(thresholds((None, "red"), (2.5, "transparent")))
    return [panel.thresholds_style(dashed_thresholds()) for panel in (hhi, nakamoto)]
