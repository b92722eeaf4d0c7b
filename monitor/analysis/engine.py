"""One population's analysis on columns: share tables, intervals, both index families and the client cross-tab.

Every table here is a grouped count over the unit codes of a :class:`~monitor.analysis.units.UnitTable`; text
appears only when the result objects are built.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from monitor.analysis.clients import ClientsByProvider, clients_from_pairs
from monitor.analysis.clusters import ClusterCounts, RecordPairs, cluster_counts, cluster_sizes, record_pairs
from monitor.analysis.columns import HOSTED, IntArray, NodeColumns
from monitor.analysis.concentration import (
    ATTRIBUTED,
    KNOWN_UNITS,
    NAKAMOTO_THRESHOLDS,
    TOP_K,
    Dimension,
    DimensionAnalysis,
    Indices,
    NakamotoFigure,
    Share,
    TopShare,
)
from monitor.analysis.population import Denominator
from monitor.analysis.resample import cluster_bootstrap, cluster_types
from monitor.analysis.stats import Interval
from monitor.analysis.tables import point_indices, share_columns
from monitor.analysis.units import UnitTable

__all__ = ["HOSTED_FAMILY_DIMENSIONS", "TableAnalysis", "analyse_table"]

# The hosted-only family is about operators of data centres: it means nothing for clients or the category split.
HOSTED_FAMILY_DIMENSIONS: frozenset[str] = frozenset({"provider", "region", "country", "asn"})
_HOSTED_UNITS = ("hosted", "hosted units only (cloud or hosting networks)")


@dataclass(frozen=True, slots=True)
class TableAnalysis:
    dimensions: tuple[DimensionAnalysis, ...]
    clients_by_provider: ClientsByProvider | None


def _shares(cols: NodeColumns, table: UnitTable, dimension: str, cc: ClusterCounts) -> tuple[Share, ...]:
    codes, vocab = table.codes[dimension], cols.vocab[dimension]
    clustered = table.dedup == "node"
    sc = share_columns(codes, len(vocab), cc if clustered else None)
    counts = sc.counts.tolist()
    # Largest first, ties by key text ("unknown" sorts among the keys like any other text).
    order = sorted(np.flatnonzero(sc.counts).tolist(), key=lambda c: (-counts[c], vocab[c]))
    n = table.n
    low, high = sc.low.tolist(), sc.high.tolist()
    deff, eff = sc.deff.tolist(), sc.effective_n.tolist()
    return tuple(
        Share(vocab[c], counts[c], counts[c] / n, Interval(low[c], high[c]), deff[c], eff[c] if clustered else None)
        for c in order
    )


def _indices(
    known: IntArray,
    unknown: int,
    denominator: Denominator,
    known_units: tuple[str, str],
    boot_source: ClusterCounts | None,
    gen: np.random.Generator,
    samples: int,
    family: str,
    clustered: bool,
) -> Indices:
    """Indices of the known counts; bootstrapped from (cluster, codes, vocab size) when given and samples > 0."""
    points = point_indices(known, NAKAMOTO_THRESHOLDS, TOP_K)
    boot = None
    if boot_source is not None and samples > 0 and points.n > 0:
        boot = cluster_bootstrap(cluster_types(boot_source), NAKAMOTO_THRESHOLDS, gen, samples)
    boot_nakamoto = dict(boot.nakamoto) if boot else {}
    figures = []
    for t, value in zip(NAKAMOTO_THRESHOLDS, points.nakamoto, strict=True):
        ci = boot_nakamoto.get(t)
        figures.append(NakamotoFigure(t, value, ci, ci is not None and value is not None and not ci.contains(value)))
    hhi_ci = boot.hhi if boot else None
    suffix, what = known_units
    return Indices(
        denominator=Denominator(
            f"{denominator.name}:{suffix}",
            f"{denominator.description}; {what} ({unknown} unknown left out)",
            points.n,
        ),
        unknown_excluded=unknown,
        categories=points.categories,
        hhi=points.hhi,
        hhi_ci=hhi_ci,
        nakamoto=tuple(figures),
        top=tuple(TopShare(k, v) for k, v in zip(TOP_K, points.top, strict=True)),
        entropy_bits=points.entropy_bits,
        bootstrap_samples=boot.samples if boot else 0,
        hhi_ci_excludes_estimate=hhi_ci is not None and points.hhi is not None and not hhi_ci.contains(points.hhi),
        family=family,
        clustered=clustered and boot is not None,
    )


def _dimension(
    cols: NodeColumns,
    table: UnitTable,
    dimension: Dimension,
    denominator: Denominator,
    gen: np.random.Generator,
    samples: int,
    pairs: RecordPairs,
    sizes: IntArray | None = None,
) -> DimensionAnalysis:
    codes, vocab_size = table.codes[dimension], len(cols.vocab[dimension])
    counts = np.bincount(codes, minlength=vocab_size)
    clustered = table.dedup == "node"
    cc = cluster_counts(table, codes, vocab_size, pairs, sizes)
    indices = _indices(
        counts[1:],
        int(counts[0]),
        denominator,
        KNOWN_UNITS.get(dimension, ATTRIBUTED),
        cc,
        gen,
        samples,
        "all_operators",
        clustered,
    )
    hosted = None
    if dimension in HOSTED_FAMILY_DIMENSIONS:
        hosted_code = cols.code_of("category", HOSTED)
        in_dc = table.codes["category"] == (hosted_code if hosted_code is not None else -1)
        hosted_counts = np.bincount(codes[in_dc], minlength=vocab_size)
        hosted = _indices(
            hosted_counts[1:], int(hosted_counts[0]), denominator, _HOSTED_UNITS, None, gen, 0, "hosted_only", False
        )
    return DimensionAnalysis(
        dimension=dimension,
        denominator=denominator,
        shares=_shares(cols, table, dimension, cc),
        indices=indices,
        hosted_indices=hosted,
    )


_DENSE_PAIRS = 1 << 20


def _crosstab(cols: NodeColumns, table: UnitTable, denominator: Denominator) -> ClientsByProvider:
    provider, client = table.codes["provider"], table.codes["client"]
    width = len(cols.vocab["client"])
    space = len(cols.vocab["provider"]) * width
    if space <= _DENSE_PAIRS:
        # A count per possible pair: one pass, no sort (the pair space is small: providers x client names).
        dense = np.bincount(provider * width + client, minlength=space)
        pairs = np.flatnonzero(dense)
        counts = dense[pairs]
    else:
        pairs, counts = np.unique(provider * width + client, return_counts=True)
    pv, cv = cols.vocab["provider"], cols.vocab["client"]
    by_text: Counter[tuple[str, str]] = Counter(
        {(pv[p // width], cv[p % width]): c for p, c in zip(pairs.tolist(), counts.tolist(), strict=True)}
    )
    client_known = int(np.count_nonzero(client))
    return clients_from_pairs(by_text, denominator, client_known)


def analyse_table(
    cols: NodeColumns,
    table: UnitTable,
    denominator: Denominator,
    dimensions: tuple[Dimension, ...],
    gen: np.random.Generator,
    samples: int,
    pairs: dict[str, RecordPairs] | None = None,
) -> TableAnalysis:
    """``pairs``: the snapshot's record pairs per dimension (:func:`record_pairs`), shared by the populations."""
    crosstab = "provider" in dimensions and "client" in dimensions
    pairs = pairs or {}
    resolved = {d: pairs.get(d) or record_pairs(cols, d) for d in dimensions}
    # Cluster sizes do not depend on the dimension (clusters are IPs): one count for all of them.
    sizes = cluster_sizes(table, resolved[dimensions[0]]) if dimensions and table.dedup == "node" else None
    return TableAnalysis(
        dimensions=tuple(_dimension(cols, table, d, denominator, gen, samples, resolved[d], sizes) for d in dimensions),
        clients_by_provider=_crosstab(cols, table, denominator) if crosstab else None,
    )
