"""The whole analysis of one snapshot: every denominator x every dimension, clients per provider, nodes per IP, and
the claim verdicts."""

from __future__ import annotations

import operator
import random
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from monitor.analysis.bootstrap import DEFAULT_SAMPLES, generator
from monitor.analysis.claims import Claim, ClaimSet, ExternalFigure
from monitor.analysis.clients import ClientsByProvider
from monitor.analysis.clusters import RecordPairs, record_pairs
from monitor.analysis.columns import LAYER_CODES, NodeColumns, build_columns, collector_paused
from monitor.analysis.concentration import DIMENSIONS, Dimension, DimensionAnalysis
from monitor.analysis.context import SnapshotContext, snapshot_context
from monitor.analysis.engine import analyse_table
from monitor.analysis.population import (
    ALL_SPECS,
    SCOPES,
    Dedup,
    Denominator,
    NodesPerIp,
    PopulationSpec,
    nodes_per_ip_of,
)
from monitor.analysis.units import LAYER_VIEWS, unit_table
from monitor.analysis.verdict import (
    MIN_N_FOR_VERDICT,
    ClaimResult,
    claims_for_table,
    denominator_name,
    order_claim_results,
)
from monitor.snapshot import Snapshot

__all__ = ["PopulationAnalysis", "LayerAnalysis", "Analysis", "analyse", "PRIMARY_PREFERENCE", "BOOTSTRAP_DEDUPS"]

# The population the terminal report details first: reachable nodes are the ones we know to be live; fall back to all
# discovered ones when nothing answered (for instance an imported list of records without reachability).
PRIMARY_PREFERENCE: tuple[str, ...] = ("reachable/node", "discovered/node")

# The bootstrap is the one costly step (B replicates per population and dimension). By default it runs for the
# per-node populations only, which are the ones the report details; IP and prefix dedup can be added by the caller.
BOOTSTRAP_DEDUPS: tuple[Dedup, ...] = ("node",)


@dataclass(frozen=True, slots=True)
class PopulationAnalysis:
    denominator: Denominator
    excluded: Mapping[str, int]
    unattributed: int
    dimensions: tuple[DimensionAnalysis, ...]
    # provider x client cross-tab; None when the provider or the client dimension was not analysed
    clients_by_provider: ClientsByProvider | None = None
    layer: str = "all"  # the records counted: all, or one layer's ("execution", "consensus")

    def dimension(self, name: Dimension) -> DimensionAnalysis:
        for d in self.dimensions:
            if d.dimension == name:
                return d
        raise KeyError(name)

    def has_dimension(self, name: Dimension) -> bool:
        return any(d.dimension == name for d in self.dimensions)


@dataclass(frozen=True, slots=True)
class LayerAnalysis:
    """The same analysis restricted to the records of one layer (their denominators are named "layer:scope/dedup")."""

    layer: str
    nodes: int  # node records of this layer
    populations: tuple[PopulationAnalysis, ...]
    nodes_per_ip: tuple[NodesPerIp, ...]


@dataclass(frozen=True, slots=True)
class Analysis:
    context: SnapshotContext
    nodes_total: int
    populations: tuple[PopulationAnalysis, ...]
    nodes_per_ip: tuple[NodesPerIp, ...]  # one per scope
    claims: tuple[ClaimResult, ...]
    external: tuple[ExternalFigure, ...]
    claims_origin: str | None
    bootstrap_samples: int
    min_n_for_verdict: int
    nodes_with_client: int = 0  # node records with a client name (dialed over RLPx, Hello received)
    sources: tuple[tuple[str, int], ...] = ()  # node records by sampling source: discv4, rpc (only), discv4+rpc
    # The execution and consensus layers on their own; ``populations`` above count all records ("all").
    layers: tuple[LayerAnalysis, ...] = ()
    nodes_by_layer: tuple[tuple[str, int], ...] = ()  # node records by NodeRecord.layer

    def layer(self, name: str) -> LayerAnalysis:
        for view in self.layers:
            if view.layer == name:
                return view
        raise KeyError(name)

    def population(self, name: str) -> PopulationAnalysis:
        for p in self.populations:
            if p.denominator.name == name:
                return p
        raise KeyError(name)

    def primary(self) -> PopulationAnalysis | None:
        """The population to detail first (see PRIMARY_PREFERENCE), None when none of them is present."""
        present = {p.denominator.name: p for p in self.populations}
        candidates = [present[name] for name in PRIMARY_PREFERENCE if name in present]
        for p in candidates:
            if p.denominator.n > 0:
                return p
        return candidates[0] if candidates else None


@dataclass(slots=True)
class _Run:
    """What one analysis shares between its populations."""

    cols: NodeColumns
    ctx: SnapshotContext
    dimensions: tuple[Dimension, ...]
    pairs: dict[str, RecordPairs]
    samples: int
    bootstrap_dedups: Collection[Dedup]
    claims: tuple[Claim, ...]
    min_n: int


def _layer(
    run: _Run, layer: str, specs: Sequence[PopulationSpec], rng: random.Random
) -> tuple[tuple[PopulationAnalysis, ...], tuple[NodesPerIp, ...], dict[tuple[str, str], list[ClaimResult]]]:
    """One layer view: its populations, nodes per IP per scope and the claims under each population.

    Each unit table lives only while its population is analysed: 36 of them at once would hold ~250 MB.
    """
    gen = generator(rng)
    populations, per_ip, claims = [], {}, {}
    for spec in specs:
        table = unit_table(run.cols, spec.scope, spec.dedup, layer)
        denominator = Denominator(denominator_name(spec, layer), spec.describe(), table.n)
        samples = run.samples if spec.dedup in run.bootstrap_dedups else 0
        result = analyse_table(run.cols, table, denominator, run.dimensions, gen, samples, run.pairs)
        populations.append(
            PopulationAnalysis(
                denominator=denominator,
                excluded=table.excluded,
                unattributed=int(np.count_nonzero(table.codes["provider"] == 0)),
                dimensions=result.dimensions,
                clients_by_provider=result.clients_by_provider,
                layer=layer,
            )
        )
        if spec.dedup == "ip":
            per_ip[spec.scope] = nodes_per_ip_of(run.cols, spec.scope, layer, table)
        if run.claims:
            pairs = run.pairs["provider"]
            claims[(layer, spec.name)] = claims_for_table(run.claims, run.cols, table, spec, run.ctx, run.min_n, pairs)
    nodes_per_ip = tuple(per_ip.get(scope) or nodes_per_ip_of(run.cols, scope, layer) for scope in SCOPES)
    return tuple(populations), nodes_per_ip, claims


@collector_paused
def analyse(
    snapshot: Snapshot,
    *,
    rng: random.Random,
    claims: ClaimSet | None = None,
    bootstrap_samples: int = DEFAULT_SAMPLES,
    min_n: int = MIN_N_FOR_VERDICT,
    specs: Sequence[PopulationSpec] = ALL_SPECS,
    dimensions: Sequence[Dimension] = DIMENSIONS,
    bootstrap_dedups: Collection[Dedup] = BOOTSTRAP_DEDUPS,
) -> Analysis:
    """Analyse ``snapshot``; ``rng`` drives the bootstrap only, so a fixed seed reproduces the whole result.

    Every population exists for all records and for each layer. Bootstrap intervals are computed for the populations
    whose dedup mode is in ``bootstrap_dedups`` (see BOOTSTRAP_DEDUPS); the others carry point indices only.
    """
    if bootstrap_samples < 0:
        raise ValueError("bootstrap_samples must be non-negative")
    cols = build_columns(snapshot.nodes)
    dims = tuple(dimensions)
    run = _Run(
        cols=cols,
        ctx=snapshot_context(snapshot),
        dimensions=dims,
        pairs={d: record_pairs(cols, d) for d in {*dims, "provider"}},
        samples=bootstrap_samples,
        bootstrap_dedups=bootstrap_dedups,
        claims=claims.claims if claims else (),
        min_n=min_n,
    )
    views = {layer: _layer(run, layer, specs, rng) for layer in LAYER_VIEWS}
    per_table = {key: results for _, _, by_table in views.values() for key, results in by_table.items()}
    layer_counts = _by_layer(cols)
    return Analysis(
        context=run.ctx,
        nodes_total=len(snapshot.nodes),
        populations=views["all"][0],
        nodes_per_ip=views["all"][1],
        claims=order_claim_results(run.claims, specs, per_table) if claims else (),
        external=claims.external if claims else (),
        claims_origin=claims.origin if claims else None,
        bootstrap_samples=bootstrap_samples,
        min_n_for_verdict=min_n,
        nodes_with_client=int(np.count_nonzero(cols.codes["client"])),
        sources=tuple(sorted(Counter(map(operator.attrgetter("source"), snapshot.nodes)).items())),
        layers=tuple(
            LayerAnalysis(layer, layer_counts.get(layer, 0), views[layer][0], views[layer][1])
            for layer in LAYER_VIEWS
            if layer != "all"
        ),
        nodes_by_layer=tuple(sorted((k, v) for k, v in layer_counts.items() if v)),
    )


def _by_layer(cols: NodeColumns) -> dict[str, int]:
    counts = np.bincount(cols.layer, minlength=len(LAYER_CODES)).tolist()
    return {name: counts[code] for name, code in LAYER_CODES.items()}
