"""The claim part of the terminal report: one small table per claim (every denominator, a verdict each), the plain
conclusions, and the external published figures with their own denominators."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from monitor.analysis.claims import ExternalFigure
from monitor.analysis.context import SnapshotContext
from monitor.analysis.verdict import ClaimResult
from monitor.outputs.terminal.layout import Col, ci_pct, pct, print_pairs, print_table, print_title

__all__ = ["render_banner", "render_claim_tables", "render_external", "render_claims", "verdict_text"]

_VERDICT_STYLE = {"consistent": "green", "higher": "yellow", "lower": "cyan", "insufficient": "dim"}
_RELATION_TEXT = {"approx": "≈", "above": ">", "equal": ""}


def render_banner(console: Console, ctx: SnapshotContext) -> None:
    if ctx.simulated:
        console.print(
            Panel(
                "SIMULATED: a local devnet with a made-up hosting overlay. No figure here describes Ethereum.",
                title="SIMULATED",
                style="bold red",
            )
        )


def _grouped(results: Sequence[ClaimResult]) -> list[list[ClaimResult]]:
    """Results of the same claim together, in the order the claims come: the claim goes in the title, not each row."""
    groups: dict[tuple[str, str, float], list[ClaimResult]] = {}
    for r in results:
        groups.setdefault((r.claim_id, r.provider, r.claimed_share), []).append(r)
    return list(groups.values())


def verdict_text(r: ClaimResult) -> str:
    """The verdict as the report shows it: a withheld one says why ("withheld: attrib." for insufficient attribution,
    "withheld: n" for too few units); short, so that a claim row fits 80 columns."""
    if r.withheld == "attribution":
        return "withheld: attrib."
    if r.withheld == "small_n" or r.verdict == "insufficient":
        return "withheld: n"
    return r.verdict


def _verdict_cell(r: ClaimResult) -> Text:
    return Text(verdict_text(r), style=_VERDICT_STYLE[r.verdict])


def _primary_table(console: Console, group: Sequence[ClaimResult]) -> None:
    first = group[0]
    cols = [
        Col("denominator", [r.denominator.name for r in group]),
        Col("n", [f"{r.denominator.n:,}" for r in group], right=True),
        Col("count", [f"{r.count:,}" for r in group], right=True),
        Col("%", [pct(r.share) for r in group], right=True),
        Col("95% CI", [ci_pct(r.ci) for r in group], right=True),
        Col("verdict", [_verdict_cell(r) for r in group]),
    ]
    if any(r.unattributed for r in group):
        cols.insert(5, Col("if unk", [pct(r.share_upper) for r in group], right=True, drop=2))
    if any(r.design_effect > 1.1 for r in group):
        cols.insert(5, Col("deff", [f"{r.design_effect:.1f}" for r in group], right=True, drop=1))
    layer = "all records" if first.layer == "all" else f"{first.layer} layer"
    title = f"{first.claim_id}: {first.provider} at {pct(first.claimed_share)} % claimed — {layer} (the claim's own)"
    print_table(console, title, cols)


def _tail(r: ClaimResult) -> str:
    """The denominator without its layer prefix ("reachable/node")."""
    return r.denominator.name.split(":")[-1]


def _context_table(console: Console, group: Sequence[ClaimResult]) -> None:
    """The other layers, compactly: one row per denominator, one column per layer holding share and verdict."""
    if not group:
        return
    layers = list(dict.fromkeys(r.layer for r in group))
    names = list(dict.fromkeys(_tail(r) for r in group))
    by_key = {(r.layer, _tail(r)): r for r in group}
    cols = [Col("denominator", names)]
    for layer in layers:
        cells: list[str | Text] = []
        for name in names:
            r = by_key.get((layer, name))
            cells.append(
                "—" if r is None else Text(f"{pct(r.share)} {verdict_text(r)}", style=_VERDICT_STYLE[r.verdict])
            )
        cols.append(Col(f"{layer}: % verdict", cells))
    print_table(console, "  other layers (context, not the claim's own layer)", cols)


def render_claim_tables(console: Console, results: Sequence[ClaimResult], min_n: int) -> None:
    print_title(
        console,
        f"Claims against our measurement (% and 95% CI: Wilson, per node at the clustered effective n; no verdict "
        f"below n = {min_n})",
    )
    if not results:
        console.print("(no claims)")
    for group in _grouped(results):
        _primary_table(console, [r for r in group if r.primary])
        _context_table(console, [r for r in group if not r.primary])
    if any(r.unattributed for r in results):
        console.print(Text("if unk: the share if every unattributed unit were the claimed provider", style="dim"))


def render_external(console: Console, figures: Sequence[ExternalFigure]) -> None:
    """Short rows keyed by id; what each figure counted (long prose) and its source follow as numbered notes."""
    if not figures:
        return
    cols = [
        Col("id", [f.id for f in figures], label=True),
        Col("date", [f.date for f in figures]),
        Col("layer", [f.layer for f in figures]),
        Col("provider", [f.provider for f in figures]),
        Col("%", [f"{_RELATION_TEXT[f.relation]}{pct(f.share)}" for f in figures], right=True),
        Col("n", ["—" if f.population_n is None else f"{f.population_n:,}" for f in figures], right=True),
    ]
    title = "EXTERNAL published figures: context only, not our measurement; each has its own denominator"
    print_table(console, title, cols)
    notes = []
    for f in figures:
        counted = f.denominator + (f" ({f.population_note})" if f.population_note else "")
        notes.append((f.id, f"{f.source}. Of: {counted}."))
    console.print(Text("≈ about, > more than; n = their population, — when not published. Sources and denominators:"))
    print_pairs(console, notes)


def render_claims(
    console: Console,
    context: SnapshotContext,
    results: Sequence[ClaimResult],
    external: Sequence[ExternalFigure],
    min_n: int,
    conclusions_for: Sequence[str] | None = None,
) -> None:
    """Verdict tables, conclusions (all, or only for the named denominators) and the external figures."""
    if context.simulated:
        console.print()
    render_banner(console, context)
    render_claim_tables(console, results, min_n)
    for r in results:
        # The claim's own layer and all records under the focus denominators (the other layer is in the tables).
        if conclusions_for is None or (_tail(r) in conclusions_for and (r.primary or r.layer == "all")):
            console.print()
            console.print(Text.assemble((f"{r.claim_id} — {r.denominator.name}: ", "bold"), r.conclusion))
    render_external(console, external)
