"""The whole analysis of one snapshot: every denominator x every dimension, clients per provider, nodes per IP, and
the claim verdicts."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from monitor.analysis.bootstrap import DEFAULT_SAMPLES
from monitor.analysis.claims import ClaimSet, ExternalFigure
from monitor.analysis.clients import ClientsByProvider, clients_by_provider
from monitor.analysis.concentration import DIMENSIONS, Dimension, DimensionAnalysis, analyse_dimension
from monitor.analysis.context import SnapshotContext, snapshot_context
from monitor.analysis.population import (
    ALL_SPECS,
    SCOPES,
    Dedup,
    Denominator,
    NodesPerIp,
    Population,
    PopulationSpec,
    client_name,
    nodes_per_ip,
    select_population,
)
from monitor.analysis.verdict import MIN_N_FOR_VERDICT, ClaimResult, evaluate_claims
from monitor.snapshot import Snapshot

__all__ = ["PopulationAnalysis", "Analysis", "analyse", "PRIMARY_PREFERENCE", "BOOTSTRAP_DEDUPS"]

# The population the terminal report details first: reachable nodes are the ones we know to be live; fall back to all
# discovered ones when nothing answered (for instance an imported list of records without reachability).
PRIMARY_PREFERENCE: tuple[str, ...] = ("reachable/node", "discovered/node")

# The bootstrap is the one costly step (B replicates per population and dimension, pure Python: about 0.1-1.5 ms a
# replicate on a mainnet-sized snapshot). By default it runs for the per-node populations only, which are the ones the
# report details; IP and prefix dedup can be added by the caller when the time is worth it.
BOOTSTRAP_DEDUPS: tuple[Dedup, ...] = ("node",)


@dataclass(frozen=True, slots=True)
class PopulationAnalysis:
    denominator: Denominator
    excluded: Mapping[str, int]
    unattributed: int
    dimensions: tuple[DimensionAnalysis, ...]
    # provider x client cross-tab; None when the provider or the client dimension was not analysed
    clients_by_provider: ClientsByProvider | None = None

    def dimension(self, name: Dimension) -> DimensionAnalysis:
        for d in self.dimensions:
            if d.dimension == name:
                return d
        raise KeyError(name)

    def has_dimension(self, name: Dimension) -> bool:
        return any(d.dimension == name for d in self.dimensions)


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


def _analyse_population(
    population: Population, dimensions: Sequence[Dimension], rng: random.Random, samples: int
) -> PopulationAnalysis:
    crosstab = "provider" in dimensions and "client" in dimensions
    return PopulationAnalysis(
        denominator=population.denominator,
        excluded=population.excluded,
        unattributed=population.unattributed,
        dimensions=tuple(analyse_dimension(population, dim, rng, samples) for dim in dimensions),
        clients_by_provider=clients_by_provider(population) if crosstab else None,
    )


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

    Bootstrap intervals are computed for the populations whose dedup mode is in ``bootstrap_dedups`` (see
    BOOTSTRAP_DEDUPS); the other populations carry point indices with no interval.
    """
    if bootstrap_samples < 0:
        raise ValueError("bootstrap_samples must be non-negative")
    ctx = snapshot_context(snapshot)
    selected = [select_population(snapshot.nodes, spec) for spec in specs]
    populations = tuple(
        _analyse_population(p, dimensions, rng, bootstrap_samples if p.spec.dedup in bootstrap_dedups else 0)
        for p in selected
    )
    return Analysis(
        context=ctx,
        nodes_total=len(snapshot.nodes),
        populations=populations,
        nodes_per_ip=tuple(nodes_per_ip(snapshot.nodes, scope) for scope in SCOPES),
        claims=evaluate_claims(claims.claims, selected, ctx, min_n) if claims else (),
        external=claims.external if claims else (),
        claims_origin=claims.origin if claims else None,
        bootstrap_samples=bootstrap_samples,
        min_n_for_verdict=min_n,
        nodes_with_client=sum(1 for node in snapshot.nodes if client_name(node) is not None),
        sources=tuple(sorted(Counter(node.source for node in snapshot.nodes).items())),
    )
