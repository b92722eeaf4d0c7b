"""The claim checker: a claimed share against our measured share, per denominator, with a plain-language conclusion.

Verdict rule, with [low, high] the Wilson 95 % interval of our share:
``consistent`` when low <= claimed <= high (ends included), ``higher`` when low > claimed (our share is above the
claim), ``lower`` when high < claimed, and ``insufficient`` when the denominator has fewer than ``min_n`` units.

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

from monitor.analysis.claims import Claim
from monitor.analysis.concentration import dimension_key
from monitor.analysis.context import SnapshotContext, snapshot_context
from monitor.analysis.population import ALL_SPECS, Denominator, Population, PopulationSpec, select_population
from monitor.analysis.stats import Interval, wilson_interval
from monitor.snapshot import Snapshot

__all__ = [
    "Verdict",
    "VERDICTS",
    "MIN_N_FOR_VERDICT",
    "ClaimResult",
    "verdict_for",
    "evaluate_claim",
    "evaluate_claims",
    "check_claims",
]

Verdict = Literal["consistent", "higher", "lower", "insufficient"]
VERDICTS: tuple[Verdict, ...] = ("consistent", "higher", "lower", "insufficient")
MIN_N_FOR_VERDICT = 30


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
    verdict = _VERDICT_TEXT[result.verdict].format(claimed=_pct(claim.share), min_n=min_n)
    layer = (
        f"The claim concerns the {claim.layer} layer; these records come from {', '.join(ctx.sources)} discovery."
        if ctx.sources
        else ""
    )
    return " ".join(part for part in (prefix + measured, verdict, layer, _omissions(claim)) if part)


def evaluate_claim(
    claim: Claim, population: Population, ctx: SnapshotContext, min_n: int = MIN_N_FOR_VERDICT
) -> ClaimResult:
    d = population.denominator
    count = sum(1 for u in population.units if dimension_key(u.attribution, "provider") == claim.provider)
    ci = wilson_interval(count, d.n)
    partial = ClaimResult(
        claim_id=claim.id,
        provider=claim.provider,
        claimed_share=claim.share,
        denominator=d,
        count=count,
        share=count / d.n if d.n else None,
        ci=ci,
        verdict=verdict_for(claim.share, ci, d.n, min_n),
        conclusion="",
    )
    return dataclasses.replace(partial, conclusion=_conclusion(claim, partial, ctx, min_n))


def evaluate_claims(
    claims: Iterable[Claim],
    populations: Sequence[Population],
    ctx: SnapshotContext,
    min_n: int = MIN_N_FOR_VERDICT,
) -> tuple[ClaimResult, ...]:
    """Every claim against every population, claims in file order, populations in the order given."""
    return tuple(evaluate_claim(c, p, ctx, min_n) for c in claims for p in populations)


def check_claims(
    claims: Iterable[Claim],
    snapshot: Snapshot,
    specs: Sequence[PopulationSpec] = ALL_SPECS,
    min_n: int = MIN_N_FOR_VERDICT,
) -> tuple[ClaimResult, ...]:
    """Evaluate ``claims`` on ``snapshot`` under each denominator in ``specs`` (all nine by default)."""
    populations = [select_population(snapshot.nodes, spec) for spec in specs]
    return evaluate_claims(claims, populations, snapshot_context(snapshot), min_n)
