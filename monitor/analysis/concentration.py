"""Shares and concentration indices of one population along one dimension (provider, region, country, ASN, client).

Shares cover every unit, unattributed ones included as "unknown", so they always sum to 1 over the denominator.
The indices (HHI, Nakamoto, top-k, entropy) are computed over *attributed* units only: "unknown" is not an operator,
and treating thousands of unattributed nodes as one giant provider would invent concentration. How many units the
indices leave out is stated in their own denominator.

The client dimension follows the same rule: a unit whose records gave no client name (not dialed over RLPx, or no
Hello) is "unknown" in the shares, and the client indices count only the units with client info.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from typing import Literal

from monitor.analysis.bootstrap import DEFAULT_SAMPLES, bootstrap_indices
from monitor.analysis.population import Denominator, Population, Unit
from monitor.analysis.stats import Interval, hhi, nakamoto, shannon_entropy, top_k_share, wilson_interval
from monitor.snapshot import Attribution

__all__ = [
    "Dimension",
    "DIMENSIONS",
    "UNKNOWN",
    "NAKAMOTO_THRESHOLDS",
    "TOP_K",
    "dimension_key",
    "unit_key",
    "Share",
    "NakamotoFigure",
    "TopShare",
    "Indices",
    "DimensionAnalysis",
    "share_table",
    "compute_indices",
    "analyse_dimension",
]

Dimension = Literal["provider", "region", "country", "asn", "client"]
DIMENSIONS: tuple[Dimension, ...] = ("provider", "region", "country", "asn", "client")
UNKNOWN = "unknown"
NAKAMOTO_THRESHOLDS: tuple[float, ...] = (0.33, 0.50)
TOP_K: tuple[int, ...] = (1, 3, 5)


def dimension_key(attribution: Attribution | None, dimension: Dimension) -> str:
    """The category a unit falls in. Regions are qualified by provider ("aws/us-east-1"): region names collide."""
    if dimension == "client":
        raise ValueError("the client dimension is a property of the unit, not of its attribution: use unit_key")
    if attribution is None or attribution.provider in ("", UNKNOWN):
        return UNKNOWN
    if dimension == "provider":
        return attribution.provider
    if dimension == "region":
        return f"{attribution.provider}/{attribution.region or UNKNOWN}"
    if dimension == "country":
        return attribution.country or UNKNOWN
    if attribution.asn is not None:
        return f"AS{attribution.asn}"
    # The offline AS table (GeoLite2 via geoip2fast) names networks but carries no numbers: the name still
    # identifies the operator, which is what the ASN dimension is for.
    return f"AS-name:{attribution.as_name}" if attribution.as_name else UNKNOWN


def unit_key(unit: Unit, dimension: Dimension) -> str:
    """The category a unit falls in: its client name for "client", else what its attribution says."""
    if dimension == "client":
        return unit.client or UNKNOWN
    return dimension_key(unit.attribution, dimension)


# What the indices of a dimension count when "unknown" is left out: (denominator name suffix, description).
_KNOWN_UNITS: dict[Dimension, tuple[str, str]] = {"client": ("client_known", "units with client info only")}
_ATTRIBUTED = ("attributed", "attributed units only")


@dataclass(frozen=True, slots=True)
class Share:
    key: str
    count: int
    share: float
    ci: Interval  # Wilson 95 %


@dataclass(frozen=True, slots=True)
class NakamotoFigure:
    threshold: float
    value: int | None  # None when there are no attributed units
    ci: Interval | None  # bootstrap; None when switched off or nothing to resample


@dataclass(frozen=True, slots=True)
class TopShare:
    k: int
    share: float | None


@dataclass(frozen=True, slots=True)
class Indices:
    denominator: Denominator  # attributed units only
    unknown_excluded: int
    categories: int
    hhi: float | None
    hhi_ci: Interval | None
    nakamoto: tuple[NakamotoFigure, ...]
    top: tuple[TopShare, ...]
    entropy_bits: float | None
    bootstrap_samples: int


@dataclass(frozen=True, slots=True)
class DimensionAnalysis:
    dimension: Dimension
    denominator: Denominator
    shares: tuple[Share, ...]  # largest first; ties by key
    indices: Indices

    def share_of(self, key: str) -> Share:
        """The share of ``key``, a zero share (with its interval) when no unit falls in it."""
        for s in self.shares:
            if s.key == key:
                return s
        return Share(key, 0, 0.0, wilson_interval(0, self.denominator.n))


def share_table(counts: Counter[str], n: int) -> tuple[Share, ...]:
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return tuple(Share(k, c, c / n, wilson_interval(c, n)) for k, c in ordered if c > 0)


def compute_indices(
    counts: Counter[str],
    denominator: Denominator,
    rng: random.Random,
    samples: int = DEFAULT_SAMPLES,
    known_units: tuple[str, str] = _ATTRIBUTED,
) -> Indices:
    """Indices over the known categories of ``counts`` (the key ``UNKNOWN`` is left out and counted).

    ``known_units`` names what the known units are (suffix of the denominator name, and its description).
    """
    known = [c for k, c in counts.items() if k != UNKNOWN and c > 0]
    unknown = counts.get(UNKNOWN, 0)
    n_known = sum(known)
    boot = bootstrap_indices(known, NAKAMOTO_THRESHOLDS, rng, samples)
    boot_nakamoto = dict(boot.nakamoto) if boot else {}
    suffix, what = known_units
    return Indices(
        denominator=Denominator(
            f"{denominator.name}:{suffix}",
            f"{denominator.description}; {what} ({unknown} unknown left out)",
            n_known,
        ),
        unknown_excluded=unknown,
        categories=len(known),
        hhi=hhi(known),
        hhi_ci=boot.hhi if boot else None,
        nakamoto=tuple(NakamotoFigure(t, nakamoto(known, t), boot_nakamoto.get(t)) for t in NAKAMOTO_THRESHOLDS),
        top=tuple(TopShare(k, top_k_share(known, k)) for k in TOP_K),
        entropy_bits=shannon_entropy(known),
        bootstrap_samples=boot.samples if boot else 0,
    )


def analyse_dimension(
    population: Population,
    dimension: Dimension,
    rng: random.Random,
    samples: int = DEFAULT_SAMPLES,
) -> DimensionAnalysis:
    counts = Counter(unit_key(u, dimension) for u in population.units)
    return DimensionAnalysis(
        dimension=dimension,
        denominator=population.denominator,
        shares=share_table(counts, population.denominator.n),
        indices=compute_indices(counts, population.denominator, rng, samples, _KNOWN_UNITS.get(dimension, _ATTRIBUTED)),
    )
