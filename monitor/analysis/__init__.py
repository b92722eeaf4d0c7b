"""Pure concentration analysis: denominators, shares with Wilson intervals, HHI, Nakamoto, entropy, claim verdicts.

Nothing here touches the network or the clock; randomness (the bootstrap) comes from an injected ``random.Random``.
The records are parsed once into columns (:mod:`monitor.analysis.columns`); populations are masks over them
(:mod:`monitor.analysis.units`) and tables grouped counts (:mod:`monitor.analysis.engine`). The definitions behind
every figure: ``docs/METHOD.md``. Rendering lives in :mod:`monitor.outputs`, the JSON form in
:mod:`monitor.analysis.jsonform`.
"""

from monitor.analysis.bootstrap import DEFAULT_SAMPLES, BootstrapIntervals, bootstrap_indices
from monitor.analysis.claims import Claim, ClaimSet, ClaimSource, ExternalFigure, parse_claims
from monitor.analysis.clients import ClientsByProvider, ProviderClients, clients_by_provider
from monitor.analysis.concentration import (
    DIMENSIONS,
    NAKAMOTO_THRESHOLDS,
    UNKNOWN,
    Dimension,
    DimensionAnalysis,
    Indices,
    NakamotoFigure,
    Share,
    TopShare,
    analyse_dimension,
    dimension_key,
    unit_key,
)
from monitor.analysis.context import SnapshotContext, snapshot_context
from monitor.analysis.population import (
    ALL_SPECS,
    Denominator,
    NodesPerIp,
    Population,
    PopulationSpec,
    client_name,
    nodes_per_ip,
    select_population,
)
from monitor.analysis.report import Analysis, LayerAnalysis, PopulationAnalysis, analyse
from monitor.analysis.stats import Interval, hhi, nakamoto, shannon_entropy, top_k_share, wilson_interval
from monitor.analysis.units import LAYER_VIEWS
from monitor.analysis.verdict import (
    MIN_ATTRIBUTED_FRACTION,
    MIN_N_FOR_VERDICT,
    ClaimResult,
    Verdict,
    check_claims,
    verdict_for,
)

__all__ = [
    "ALL_SPECS",
    "DEFAULT_SAMPLES",
    "DIMENSIONS",
    "LAYER_VIEWS",
    "MIN_ATTRIBUTED_FRACTION",
    "MIN_N_FOR_VERDICT",
    "NAKAMOTO_THRESHOLDS",
    "UNKNOWN",
    "Analysis",
    "BootstrapIntervals",
    "Claim",
    "ClaimResult",
    "ClaimSet",
    "ClaimSource",
    "ClientsByProvider",
    "Denominator",
    "Dimension",
    "DimensionAnalysis",
    "ExternalFigure",
    "Indices",
    "Interval",
    "LayerAnalysis",
    "NakamotoFigure",
    "NodesPerIp",
    "Population",
    "PopulationAnalysis",
    "PopulationSpec",
    "ProviderClients",
    "Share",
    "SnapshotContext",
    "TopShare",
    "Verdict",
    "analyse",
    "analyse_dimension",
    "bootstrap_indices",
    "check_claims",
    "client_name",
    "clients_by_provider",
    "dimension_key",
    "hhi",
    "nakamoto",
    "nodes_per_ip",
    "parse_claims",
    "select_population",
    "shannon_entropy",
    "snapshot_context",
    "top_k_share",
    "unit_key",
    "verdict_for",
    "wilson_interval",
]
