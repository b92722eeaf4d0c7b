"""The claim checker: a claimed share against our measured share, per denominator, with a plain-language conclusion.

Verdict rule, with [low, high] the Wilson 95 % interval of our share:
``consistent`` when low <= claimed <= high (ends included), ``higher`` when low > claimed (our share is above the
claim), ``lower`` when high < claimed, and ``insufficient`` when the denominator has fewer than ``min_n`` units.

Unknowns: units without a provider can be anything, so the verdict must hold whichever way they fall. ``higher``
needs the interval of the share with every unknown counted as not-the-provider to lie above the claim; ``lower``
needs the interval of the share with every unknown counted as the provider (``share_upper``) to lie below it. When
fewer than ``MIN_ATTRIBUTED_FRACTION`` (80 %) of the units are attributed the verdict is withheld ("insufficient
attribution"): the two bounds are then at least 20 points apart, as wide as the claims themselves (about 23 %).

Clustering: per-node denominators use the cluster-robust interval (IP as cluster, :mod:`monitor.analysis.tables`),
so sixty node ids on one host weigh like the one machine they are.

Layers: each claim names the layer it is about (``execution``); its verdicts on that layer come first
(``primary``), those on the other layer and on all records follow as context.

Why a minimum n: the Wilson interval is honest at any n, but a verdict is a headline, and a handful of nodes (a
failed crawl, a devnet, a mainnet filter that matched almost nothing) says nothing about "Ethereum nodes". We use the
conventional small-sample cut-off of 30 units; at the claimed 23 % it also keeps the expected count of both outcomes
above 5 (30 * 0.23 = 6.9), where Wilson coverage is close to nominal. Below the minimum the share and interval are
still reported; only the verdict is withheld (``min_n`` is a parameter and a command-line flag).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from monitor.analysis.claims import Claim
from monitor.analysis.clusters import RecordPairs, cluster_counts, record_pairs
from monitor.analysis.columns import NodeColumns, build_columns, collector_paused
from monitor.analysis.concentration import unit_key
from monitor.analysis.context import SnapshotContext, snapshot_context
from monitor.analysis.population import ALL_SPECS, Denominator, Population, PopulationSpec
from monitor.analysis.stats import Interval, wilson_interval
from monitor.analysis.tables import share_columns, wilson_arrays
from monitor.analysis.units import LAYER_VIEWS, UnitTable, unit_table
from monitor.snapshot import Snapshot

__all__ = [
    "Verdict",
    "VERDICTS",
    "MIN_N_FOR_VERDICT",
    "MIN_ATTRIBUTED_FRACTION",
    "denominator_name",
    "claim_layers",
    "claims_for_table",
    "order_claim_results",
    "ClaimResult",
    "verdict_for",
    "evaluate_claim",
    "evaluate_claims",
    "check_claims",
]

Verdict = Literal["consistent", "higher", "lower", "insufficient"]
VERDICTS: tuple[Verdict, ...] = ("consistent", "higher", "lower", "insufficient")
MIN_N_FOR_VERDICT = 30
MIN_ATTRIBUTED_FRACTION = 0.8


@dataclass(frozen=True, slots=True)
class ClaimResult:
    claim_id: str
    provider: str
    claimed_share: float
    denominator: Denominator
    count: int
    share: float | None  # None when the denominator is empty
    ci: Interval  # Wilson 95 %
    verdict: Verdict
    conclusion: str
    layer: str = "all"  # the records counted: "execution", "consensus" or "all"
    primary: bool = True  # the claim's own layer (False: context on another layer)
    unattributed: int = 0  # units without a provider, in the denominator
    attributed_fraction: float | None = None
    share_upper: float | None = None  # the share if every unattributed unit were the provider
    ci_bounds: Interval | None = None  # from the low end (unknowns not the provider) to the high end (all are)
    design_effect: float = 1.0  # of the provider's share (IP as cluster, per-node denominators)
    withheld: str | None = None  # why there is no verdict: "small_n" or "attribution"


def verdict_for(claimed: float, ci: Interval, n: int, min_n: int = MIN_N_FOR_VERDICT) -> Verdict:
    if n < max(min_n, 1):
        return "insufficient"
    if ci.low > claimed:
        return "higher"
    if ci.high < claimed:
        return "lower"
    return "consistent"


def _pct(x: float) -> str:
    return f"{100 * x:.1f} %"


def _omissions(claim: Claim) -> str:
    missing = [
        label
        for label, stated in (
            ("denominator", claim.denominator_stated),
            ("method", claim.method_stated),
            ("date of measurement", claim.measurement_date_stated),
            ("data source", claim.data_source_stated),
        )
        if not stated
    ]
    src = claim.source
    outlet = f"{src.outlet} (republishing {src.original_publisher})" if src.original_publisher else src.outlet
    where = f'{outlet}, "{src.title}", {src.date.isoformat()}'
    if not missing:
        return f"The claim comes from {where}, which counted {claim.denominator or 'an unnamed population'}."
    text = missing[0] if len(missing) == 1 else ", ".join(missing[:-1]) + " or " + missing[-1]
    return (
        f"The claim comes from {where}, which stated no {text}, so this compares the claim with one reasonable "
        "reading of it, not with the article's own count."
    )


_VERDICT_TEXT: dict[Verdict, str] = {
    "consistent": "The claimed {claimed} lies inside this interval: consistent with the claim under this denominator.",
    "higher": "The whole interval lies above the claimed {claimed}: the share we measure is higher than claimed.",
    "lower": "The whole interval lies below the claimed {claimed}: the share we measure is lower than claimed.",
    "insufficient": "With fewer than {min_n} units this denominator is too small for a verdict on {claimed}.",
}
_ATTRIBUTION_TEXT = (
    "Only {attributed} of these units are attributed to any provider (a verdict needs {needed}): insufficient "
    "attribution for a verdict on {claimed}."
)


def _verdict_text(claim: Claim, result: ClaimResult, min_n: int) -> str:
    if result.withheld == "attribution":
        return _ATTRIBUTION_TEXT.format(
            attributed=_pct(result.attributed_fraction or 0.0),
            needed=_pct(MIN_ATTRIBUTED_FRACTION),
            claimed=_pct(claim.share),
        )
    text = _VERDICT_TEXT[result.verdict].format(claimed=_pct(claim.share), min_n=min_n)
    notes = []
    if result.unattributed and result.share_upper is not None and result.ci_bounds is not None:
        notes.append(
            f"{result.unattributed:,} units are unattributed: counting all of them as {claim.provider} would make "
            f"the share {_pct(result.share_upper)} (bounds {_pct(result.ci_bounds.low)} to "
            f"{_pct(result.ci_bounds.high)})."
        )
    if result.design_effect > 1.0:
        notes.append(
            f"The interval counts node ids behind one IP as one cluster (design effect {result.design_effect:.1f})."
        )
    return " ".join([text, *notes])


def _conclusion(claim: Claim, result: ClaimResult, ctx: SnapshotContext, min_n: int) -> str:
    d = result.denominator
    prefix = "SIMULATED DATA, not a measurement of Ethereum. " if ctx.simulated else ""
    if d.n == 0:
        measured = f"Under denominator {d.name} ({d.description}) snapshot {ctx.snapshot_id} ({ctx.period}) has n = 0."
    else:
        assert result.share is not None
        measured = (
            f"Under denominator {d.name} ({d.description}; n = {d.n:,}) in snapshot {ctx.snapshot_id} ({ctx.period}; "
            f"attribution data: {ctx.datasets_text()}), {result.count:,} units are attributed to {claim.provider}: "
            f"{_pct(result.share)} (95 % Wilson interval {_pct(result.ci.low)} to {_pct(result.ci.high)})."
        )
    verdict = _verdict_text(claim, result, min_n)
    records = "all records" if result.layer == "all" else f"{result.layer}-layer records"
    role = "" if result.primary else " (context, not the claim's own layer)"
    layer = f"The claim concerns the {claim.layer} layer; this counts {records}{role}" + (
        f", from {', '.join(ctx.sources)} discovery." if ctx.sources else "."
    )
    return " ".join(part for part in (prefix + measured, verdict, layer, _omissions(claim)) if part)


def _interval(count: int, n: int, effective_n: float) -> Interval:
    """Wilson 95 % of count / n, at the effective sample size when clustering shrank it."""
    if n and effective_n < n:
        low, high = wilson_arrays(np.array([count / n * effective_n]), np.array([effective_n]))
        return Interval(float(low[0]), float(high[0]))
    return wilson_interval(count, n)


def _decide(
    claimed: float, ci: Interval, upper_ci: Interval, n: int, fraction: float | None, min_n: int
) -> tuple[str | None, Verdict]:
    """(why withheld, verdict): ``ci`` counts unknowns as not the provider, ``upper_ci`` as the provider."""
    if n < max(min_n, 1):
        return "small_n", "insufficient"
    if fraction is not None and fraction < MIN_ATTRIBUTED_FRACTION:
        return "attribution", "insufficient"
    if ci.low > claimed:
        return None, "higher"
    if upper_ci.high < claimed:
        return None, "lower"
    return None, "consistent"


def claim_result(
    claim: Claim,
    denominator: Denominator,
    count: int,
    unknown: int,
    effective_n: float,
    design_effect: float,
    ctx: SnapshotContext,
    min_n: int = MIN_N_FOR_VERDICT,
    layer: str = "all",
) -> ClaimResult:
    """The verdict on ``claim`` from the provider's count and the unattributed count under one denominator."""
    n = denominator.n
    ci = _interval(count, n, effective_n)
    upper = count + unknown
    upper_ci = ci if unknown == 0 else _interval(upper, n, effective_n)
    fraction = (n - unknown) / n if n else None
    withheld, verdict = _decide(claim.share, ci, upper_ci, n, fraction, min_n)
    partial = ClaimResult(
        claim_id=claim.id,
        provider=claim.provider,
        claimed_share=claim.share,
        denominator=denominator,
        count=count,
        share=count / n if n else None,
        ci=ci,
        verdict=verdict,
        conclusion="",
        layer=layer,
        primary=claim_layers(claim)[0] == layer,
        unattributed=unknown,
        attributed_fraction=fraction,
        share_upper=upper / n if n else None,
        ci_bounds=Interval(ci.low, upper_ci.high),
        design_effect=design_effect,
        withheld=withheld,
    )
    return dataclasses.replace(partial, conclusion=_conclusion(claim, partial, ctx, min_n))


def claim_layers(claim: Claim) -> tuple[str, ...]:
    """The layer views to check ``claim`` on: its own layer first (all records when it names none we split by)."""
    own = claim.layer if claim.layer in LAYER_VIEWS else "all"
    return (own, *(v for v in LAYER_VIEWS if v != own))


def denominator_name(spec: PopulationSpec, layer: str) -> str:
    """ "reachable/node" for all records, "execution:reachable/node" for one layer's records."""
    return spec.name if layer == "all" else f"{layer}:{spec.name}"


def evaluate_claim(
    claim: Claim, population: Population, ctx: SnapshotContext, min_n: int = MIN_N_FOR_VERDICT
) -> ClaimResult:
    """Object form: the units of ``population`` as independent (no clustering), all records."""
    keys = [unit_key(u, "provider") for u in population.units]
    count = sum(1 for k in keys if k == claim.provider)
    unknown = sum(1 for k in keys if k == "unknown")
    d = population.denominator
    return claim_result(claim, d, count, unknown, float(d.n), 1.0, ctx, min_n)


def evaluate_claims(
    claims: Iterable[Claim],
    populations: Sequence[Population],
    ctx: SnapshotContext,
    min_n: int = MIN_N_FOR_VERDICT,
) -> tuple[ClaimResult, ...]:
    """Every claim against every population, claims in file order, populations in the order given."""
    return tuple(evaluate_claim(c, p, ctx, min_n) for c in claims for p in populations)


def _claim_on_table(
    claim: Claim,
    cols: NodeColumns,
    table: UnitTable,
    spec: PopulationSpec,
    ctx: SnapshotContext,
    min_n: int,
    pairs: RecordPairs,
) -> ClaimResult:
    codes = table.codes["provider"]
    vocab_size = len(cols.vocab["provider"])
    clustered = spec.dedup == "node"
    sc = share_columns(codes, vocab_size, cluster_counts(table, codes, vocab_size, pairs) if clustered else None)
    code = cols.code_of("provider", claim.provider)
    count = int(sc.counts[code]) if code else 0
    deff = float(sc.deff[code]) if code else 1.0
    d = Denominator(denominator_name(spec, table.layer), spec.describe(), table.n)
    effective = table.n / deff
    return claim_result(claim, d, count, int(sc.counts[0]), effective, deff, ctx, min_n, table.layer)


def claims_for_table(
    claims: Sequence[Claim],
    cols: NodeColumns,
    table: UnitTable,
    spec: PopulationSpec,
    ctx: SnapshotContext,
    min_n: int,
    pairs: RecordPairs,
) -> list[ClaimResult]:
    """Every claim under one population (one layer view of one spec), in file order."""
    return [_claim_on_table(c, cols, table, spec, ctx, min_n, pairs) for c in claims]


def order_claim_results(
    claims: Sequence[Claim], specs: Sequence[PopulationSpec], per_table: dict[tuple[str, str], list[ClaimResult]]
) -> tuple[ClaimResult, ...]:
    """Per claim in file order: its own layer under every spec, then the other layer views as context.

    ``per_table`` maps (layer, spec name) to the results of :func:`claims_for_table`.
    """
    return tuple(
        per_table[(layer, spec.name)][i] for i, c in enumerate(claims) for layer in claim_layers(c) for spec in specs
    )


@collector_paused
def check_claims(
    claims: Iterable[Claim],
    snapshot: Snapshot,
    specs: Sequence[PopulationSpec] = ALL_SPECS,
    min_n: int = MIN_N_FOR_VERDICT,
) -> tuple[ClaimResult, ...]:
    """Evaluate ``claims`` on ``snapshot`` under each denominator in ``specs`` and each layer view."""
    claims = tuple(claims)
    cols = build_columns(snapshot.nodes)
    ctx = snapshot_context(snapshot)
    pairs = record_pairs(cols, "provider")
    per_table = {
        (layer, spec.name): claims_for_table(
            claims, cols, unit_table(cols, spec.scope, spec.dedup, layer, ("provider",)), spec, ctx, min_n, pairs
        )
        for layer in LAYER_VIEWS
        for spec in specs
    }
    return order_claim_results(claims, specs, per_table)
