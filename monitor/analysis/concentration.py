"""Shares and concentration indices of one population along one dimension (provider, region, country, ASN, client,
category).

Shares cover every unit, unattributed ones included as "unknown", so they always sum to 1 over the denominator.
The indices (HHI, Nakamoto, top-k, entropy) are computed over *attributed* units only: "unknown" is not an operator,
and treating thousands of unattributed nodes as one giant provider would invent concentration. How many units the
indices leave out is stated in their own denominator.

Two families of indices: ``indices`` over all operators (every ISP network its own operator) and ``hosted_indices``
over the units in data centres only (attribution category cloud or hosting); the ``category`` dimension gives the
split itself (hosted / other, the residential and other access networks).

The client dimension follows the same rule: a unit whose records gave no client name (not dialed over RLPx, or no
Hello) is "unknown" in the shares, and the client indices count only the units with client info.

The computation itself runs on columns (:mod:`monitor.analysis.engine`); :func:`analyse_dimension` is the
object-level form for a :class:`~monitor.analysis.population.Population`.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from typing import Literal

from monitor.analysis.bootstrap import DEFAULT_SAMPLES, bootstrap_indices
from monitor.analysis.columns import UNKNOWN, dimension_text
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
    "make_indices",
    "KNOWN_UNITS",
    "ATTRIBUTED",
    "analyse_dimension",
]

Dimension = Literal["provider", "region", "country", "asn", "client", "category"]
DIMENSIONS: tuple[Dimension, ...] = ("provider", "region", "country", "asn", "client", "category")
# Exactly one third (finality halts when more than 1/3 of the stake is offline or misbehaves) and one half (a
# majority); indices compare exactly against the rationals these floats stand for (stats.exact_fraction).
NAKAMOTO_THRESHOLDS: tuple[float, ...] = (1 / 3, 1 / 2)
TOP_K: tuple[int, ...] = (1, 3, 5)


def dimension_key(attribution: Attribution | None, dimension: Dimension) -> str:
    """The category a unit falls in. Regions are qualified by provider ("aws/us-east-1"): region names collide."""
    if dimension == "client":
        raise ValueError("the client dimension is a property of the unit, not of its attribution: use unit_key")
    return dimension_text(attribution, dimension)


def unit_key(unit: Unit, dimension: Dimension) -> str:
    """The category a unit falls in: its client name for "client", else what its attribution says.

    A merged unit carries its own key per dimension (the majority rule of :mod:`monitor.analysis.units`).
    """
    if unit.keys is not None and dimension in unit.keys:
        return unit.keys[dimension]
    if dimension == "client":
        return unit.client or UNKNOWN
    return dimension_key(unit.attribution, dimension)


# What the indices of a dimension count when "unknown" is left out: (denominator name suffix, description).
KNOWN_UNITS: dict[Dimension, tuple[str, str]] = {"client": ("client_known", "units with client info only")}
ATTRIBUTED = ("attributed", "attributed units only")


@dataclass(frozen=True, slots=True)
class Share:
    key: str
    count: int
    share: float
    ci: Interval  # Wilson 95 %; for per-node populations at the cluster-robust effective n (IP as cluster)
    design_effect: float = 1.0  # variance over the binomial variance; 1 where units are independent
    effective_n: float | None = None  # n / design_effect when clustering was accounted for


@dataclass(frozen=True, slots=True)
class NakamotoFigure:
    threshold: float
    value: int | None  # None when there are no attributed units
    ci: Interval | None  # bootstrap; None when switched off or nothing to resample
    ci_excludes_estimate: bool = False  # the percentile interval does not contain ``value`` (see resample.py)


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
    hhi_ci_excludes_estimate: bool = False  # the percentile interval does not contain ``hhi``
    family: str = "all_operators"  # or "hosted_only": units in data centres (cloud / hosting) only
    clustered: bool = False  # the bootstrap resampled IPs (per-node populations), not units


@dataclass(frozen=True, slots=True)
class DimensionAnalysis:
    dimension: Dimension
    denominator: Denominator
    shares: tuple[Share, ...]  # largest first; ties by key
    indices: Indices
    hosted_indices: Indices | None = None  # the same indices over hosted units only (None for client / category)

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
    known_units: tuple[str, str] = ATTRIBUTED,
) -> Indices:
    """Indices over the known categories of ``counts`` (the key ``UNKNOWN`` is left out and counted).

    ``known_units`` names what the known units are (suffix of the denominator name, and its description).
    """
    known = [c for k, c in counts.items() if k != UNKNOWN and c > 0]
    unknown = counts.get(UNKNOWN, 0)
    boot = bootstrap_indices(known, NAKAMOTO_THRESHOLDS, rng, samples)
    boot_nakamoto = dict(boot.nakamoto) if boot else {}
    return make_indices(
        denominator, known_units, unknown, known, boot.hhi if boot else None, boot_nakamoto, boot.samples if boot else 0
    )


def make_indices(
    denominator: Denominator,
    known_units: tuple[str, str],
    unknown: int,
    known: list[int],
    hhi_ci: Interval | None,
    nakamoto_ci: dict[float, Interval],
    samples: int,
    family: str = "all_operators",
    clustered: bool = False,
) -> Indices:
    """Indices from the known counts and (when bootstrapped) their intervals, flagging intervals that miss the
    estimate."""
    suffix, what = known_units
    point_hhi = hhi(known)
    figures = []
    for t in NAKAMOTO_THRESHOLDS:
        value, ci = nakamoto(known, t), nakamoto_ci.get(t)
        figures.append(NakamotoFigure(t, value, ci, ci is not None and value is not None and not ci.contains(value)))
    return Indices(
        denominator=Denominator(
            f"{denominator.name}:{suffix}",
            f"{denominator.description}; {what} ({unknown} unknown left out)",
            sum(known),
        ),
        unknown_excluded=unknown,
        categories=len(known),
        hhi=point_hhi,
        hhi_ci=hhi_ci,
        nakamoto=tuple(figures),
        top=tuple(TopShare(k, top_k_share(known, k)) for k in TOP_K),
        entropy_bits=shannon_entropy(known),
        bootstrap_samples=samples,
        hhi_ci_excludes_estimate=hhi_ci is not None and point_hhi is not None and not hhi_ci.contains(point_hhi),
        family=family,
        clustered=clustered,
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
        indices=compute_indices(counts, population.denominator, rng, samples, KNOWN_UNITS.get(dimension, ATTRIBUTED)),
    )
