"""Turn a snapshot document and the crawl health into the metric families of the contract (see metrics.py).

Everything here runs once per crawl attempt, off the event loop; the result is immutable and scrapes only read it.
Cardinality is capped: per population and dimension the top-K categories are kept (for the provider dimension also
every known provider, for the client dimension also ``unknown``, so their series exist at 0) and the rest is summed
into ``other``. The provider x client table keeps the top-K providers and, per provider, the population's top-K
clients, ``other`` and ``unknown``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector, CollectorRegistry

from monitor.analysis.concentration import UNKNOWN
from monitor.analysis.stats import Interval, wilson_interval
from monitor.analysis.verdict import VERDICTS
from monitor.exporter import metrics as m
from monitor.exporter.state import CrawlHealth, Document, total_key
from monitor.store.vantage import COMBINED, VantageSummary

__all__ = [
    "MetricSet",
    "build_metric_set",
    "snapshot_families",
    "health_families",
    "capped_counts",
    "vantage_families",
    "client_by_provider_rows",
    "DEFAULT_TOP_K",
]

DEFAULT_TOP_K = 10

_SHARE_LABELS = ["network", "layer", "scope", "dedup", "dimension", "key"]
_INDEX_LABELS = ["network", "layer", "scope", "dedup", "dimension", "family"]
_CLAIM_LABELS = ["claim", "layer", "denominator"]
_CLIENT_BY_PROVIDER_LABELS = ["network", "layer", "scope", "provider", "client"]


@dataclass(frozen=True, slots=True)
class MetricSet:
    """Families plus their text exposition, rendered once so a scrape is a memory copy."""

    families: tuple[Metric, ...]
    exposition: bytes


class _Fixed(Collector):
    def __init__(self, families: Sequence[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterable[Metric]:
        return self._families


def _gauge(name: str, labels: Sequence[str] = ()) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, m.HELP[name], labels=list(labels))


def _counter(name: str, labels: Sequence[str]) -> CounterMetricFamily:
    return CounterMetricFamily(name, m.HELP[name], labels=list(labels))


@dataclass(slots=True)
class _ShareFamilies:
    share: GaugeMetricFamily
    low: GaugeMetricFamily
    high: GaugeMetricFamily

    def add(self, labels: list[str], count: int, n: int, ci: Interval | None = None) -> None:
        """``ci``: the analysis' own interval (cluster-robust for per-node populations); plain Wilson otherwise."""
        ci = ci or wilson_interval(count, n)
        self.share.add_metric(labels, count / n)
        self.low.add_metric(labels, ci.low)
        self.high.add_metric(labels, ci.high)


def capped_counts(
    shares: Sequence[Mapping[str, Any]], n: int, top_k: int, always: Iterable[str] = ()
) -> list[tuple[str, int]]:
    """(key, count) for the top-K keys and every key of ``always``, then ``other`` with the remainder."""
    counts = {str(s["key"]): int(s["count"]) for s in shares}
    kept = [str(s["key"]) for s in shares[:top_k]]
    kept += sorted(k for k in always if k not in kept)
    # A category literally named "other" joins the remainder: two series with one label set would be invalid.
    rows = [(k, counts.get(k, 0)) for k in kept if k != m.OTHER_KEY]
    rows.append((m.OTHER_KEY, n - sum(c for _, c in rows)))
    return rows


def _always(dimension: str, known: Sequence[str]) -> Sequence[str]:
    """Keys whose series exist even at 0: every known provider; "unknown" clients, so a crawl that dialed nobody
    still says so (share 1) and a dashboard can show how much of the population has client info; the three
    categories, so that key="other" of dimension="category" is always the residential / other share (never a
    remainder that would swallow "unknown" under a small top-K)."""
    if dimension == "provider":
        return known
    if dimension == "category":
        return m.CATEGORY_KEYS
    return (UNKNOWN,) if dimension == "client" else ()


def client_by_provider_rows(
    crosstab: Mapping[str, Any], clients: Sequence[str], top_k: int, providers: Collection[str] | None = None
) -> list[tuple[str, str, float]]:
    """(provider, client, share within the provider) for the first ``top_k`` rows of an analysis'
    ``clients_by_provider`` (among ``providers`` when given): each client of ``clients``, then ``other`` (every other
    known client) and ``unknown``; the shares of a row sum to 1."""
    named = [c for c in clients if c not in (m.OTHER_KEY, UNKNOWN)]
    rows = [r for r in crosstab["rows"] if int(r["n"]) > 0 and (providers is None or str(r["provider"]) in providers)]
    out: list[tuple[str, str, float]] = []
    for row in rows[:top_k]:
        n = int(row["n"])
        counts = {str(s["key"]): int(s["count"]) for s in row["shares"]}
        unknown = counts.get(UNKNOWN, 0)
        kept = [(c, counts.get(c, 0)) for c in named]
        provider = str(row["provider"])
        out += [(provider, c, count / n) for c, count in kept]
        out.append((provider, m.OTHER_KEY, (n - unknown - sum(c for _, c in kept)) / n))
        out.append((provider, UNKNOWN, unknown / n))
    return out


def _scope_dedup(pop: Mapping[str, Any]) -> tuple[str, str, str]:
    """(layer, scope, dedup) of a population; layer views are named "execution:reachable/node"."""
    layer = str(pop.get("layer", m.ALL_LAYERS))
    name = str(pop["denominator"]["name"]).removeprefix(f"{layer}:")
    scope, _, dedup = name.partition("/")
    return layer, scope, dedup


def _population_metrics(
    pop: Mapping[str, Any],
    network: str,
    top_k: int,
    known: Sequence[str],
    out: dict[str, GaugeMetricFamily],
    shares: _ShareFamilies,
) -> None:
    layer, scope, dedup = _scope_dedup(pop)
    n = int(pop["denominator"]["n"])
    out[m.POPULATION_UNITS].add_metric([network, layer, scope, dedup], n)
    capped: dict[str, list[tuple[str, int]]] = {}
    for dim in pop["dimensions"]:
        dimension = str(dim["dimension"])
        rows = capped[dimension] = capped_counts(dim["shares"], n, top_k, _always(dimension, known))
        if dedup == "node" and dimension == "provider":
            for key, count in rows:
                out[m.NODES].add_metric([network, layer, scope, key], count)
        if n > 0:
            intervals = {str(s["key"]): Interval(float(s["ci"]["low"]), float(s["ci"]["high"])) for s in dim["shares"]}
            for key, count in rows:
                # "other" is a remainder the analysis has no interval for (and a key named "other" was folded into it)
                ci = intervals.get(key) if key != m.OTHER_KEY else None
                shares.add([network, layer, scope, dedup, dimension, key], count, n, ci)
        labels = [network, layer, scope, dedup, dimension]
        _index_metrics(dim["indices"], [*labels, m.FAMILY_OPERATORS], out)
        if dim.get("hosted_indices") is not None:
            _index_metrics(dim["hosted_indices"], [*labels, m.FAMILY_HOSTED], out)
    crosstab = pop.get("clients_by_provider")
    if dedup == "node" and crosstab and "client" in capped:
        # Only providers with their own eth_hosting_nodes series, so every row's n can be looked up.
        providers = {key for key, _ in capped.get("provider", ())}
        clients = [key for key, _ in capped["client"]]
        for provider, client, value in client_by_provider_rows(crosstab, clients, top_k, providers):
            out[m.CLIENT_SHARE_BY_PROVIDER].add_metric([network, layer, scope, provider, client], value)


def _index_metrics(idx: Mapping[str, Any], labels: list[str], out: dict[str, GaugeMetricFamily]) -> None:
    if idx.get("hhi") is not None:
        out[m.HHI].add_metric(labels, float(idx["hhi"]))
    for fig in idx.get("nakamoto", ()):
        label = m.THRESHOLD_LABELS.get(float(fig["threshold"]), f"{float(fig['threshold']):g}")
        if fig.get("value") is not None:
            out[m.NAKAMOTO].add_metric([*labels, label], float(fig["value"]))


def _claim_metrics(claims: Sequence[Mapping[str, Any]], out: dict[str, GaugeMetricFamily]) -> None:
    for c in claims:
        layer = str(c.get("layer", m.ALL_LAYERS))
        # The layer is its own label: "execution:reachable/ip" is exported as layer="execution", "reachable/ip".
        labels = [str(c["claim_id"]), layer, str(c["denominator"]["name"]).removeprefix(f"{layer}:")]
        if c.get("share") is not None:
            out[m.CLAIM_SHARE].add_metric(labels, float(c["share"]))
        out[m.CLAIM_SHARE_CI_LOW].add_metric(labels, float(c["ci"]["low"]))
        out[m.CLAIM_SHARE_CI_HIGH].add_metric(labels, float(c["ci"]["high"]))
        out[m.CLAIM_CONSISTENT].add_metric(labels, 1.0 if c["verdict"] == "consistent" else 0.0)
        for verdict in VERDICTS:
            out[m.CLAIM_VERDICT].add_metric([*labels, verdict], 1.0 if c["verdict"] == verdict else 0.0)
        out[m.CLAIM_PRIMARY].add_metric(labels, 1.0 if c.get("primary", True) else 0.0)
        if c.get("design_effect") is not None:
            out[m.CLAIM_DESIGN_EFFECT].add_metric(labels, float(c["design_effect"]))


def _populations(analysis: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Every population of the analysis: all records (layer "all"), then each layer view's."""
    yield from analysis["populations"]
    for view in analysis.get("layers", ()):
        yield from view["populations"]


def _dataset_age(date_text: str, now: float) -> float | None:
    try:
        day = dt.date.fromisoformat(date_text)
    except ValueError:
        return None  # "undated" and the like: no age to state
    return now - dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp()


def snapshot_families(doc: Document | None, *, now: float, top_k: int, known: Sequence[str]) -> list[Metric]:
    """The gauges read from the latest snapshot; empty families (no series) when there is none yet."""
    out: dict[str, GaugeMetricFamily] = {
        m.NODES: _gauge(m.NODES, ["network", "layer", "scope", "provider"]),
        m.POPULATION_UNITS: _gauge(m.POPULATION_UNITS, ["network", "layer", "scope", "dedup"]),
        m.HHI: _gauge(m.HHI, _INDEX_LABELS),
        m.NAKAMOTO: _gauge(m.NAKAMOTO, [*_INDEX_LABELS, "threshold"]),
        m.CLIENT_SHARE_BY_PROVIDER: _gauge(m.CLIENT_SHARE_BY_PROVIDER, _CLIENT_BY_PROVIDER_LABELS),
        m.CLAIM_SHARE: _gauge(m.CLAIM_SHARE, _CLAIM_LABELS),
        m.CLAIM_SHARE_CI_LOW: _gauge(m.CLAIM_SHARE_CI_LOW, _CLAIM_LABELS),
        m.CLAIM_SHARE_CI_HIGH: _gauge(m.CLAIM_SHARE_CI_HIGH, _CLAIM_LABELS),
        m.CLAIM_CONSISTENT: _gauge(m.CLAIM_CONSISTENT, _CLAIM_LABELS),
        m.CLAIM_VERDICT: _gauge(m.CLAIM_VERDICT, [*_CLAIM_LABELS, "verdict"]),
        m.CLAIM_PRIMARY: _gauge(m.CLAIM_PRIMARY, _CLAIM_LABELS),
        m.CLAIM_DESIGN_EFFECT: _gauge(m.CLAIM_DESIGN_EFFECT, _CLAIM_LABELS),
        m.CRAWL_NODES_DISCOVERED: _gauge(m.CRAWL_NODES_DISCOVERED),
        m.DATASET_AGE: _gauge(m.DATASET_AGE, ["dataset"]),
        m.SNAPSHOT_TIMESTAMP: _gauge(m.SNAPSHOT_TIMESTAMP),
        m.SIMULATED: _gauge(m.SIMULATED),
    }
    shares = _ShareFamilies(
        _gauge(m.SHARE, _SHARE_LABELS), _gauge(m.SHARE_CI_LOW, _SHARE_LABELS), _gauge(m.SHARE_CI_HIGH, _SHARE_LABELS)
    )
    if doc is not None:
        meta, analysis = doc["meta"], doc["analysis"]
        network = str(meta["network"])
        for pop in _populations(analysis):
            _population_metrics(pop, network, top_k, known, out, shares)
        _claim_metrics(analysis.get("claims", ()), out)
        out[m.CRAWL_NODES_DISCOVERED].add_metric([], float(meta.get("counters", {}).get("discovered", 0)))
        for name, date in sorted(dict(analysis["context"].get("datasets", ())).items()):
            age = _dataset_age(str(date), now)
            if age is not None:
                out[m.DATASET_AGE].add_metric([str(name)], age)
        out[m.SNAPSHOT_TIMESTAMP].add_metric([], float(meta["started_at"]))
        out[m.SIMULATED].add_metric([], 1.0 if meta.get("simulated") else 0.0)
    return [*out.values(), shares.share, shares.low, shares.high]


def health_families(health: CrawlHealth, version: str) -> list[Metric]:
    """Crawl health: counters from the persisted totals (every label pre-created at 0) and the last attempt."""
    totals = health.totals
    duration = _gauge(m.CRAWL_DURATION)
    if health.last_duration_s is not None:
        duration.add_metric([], health.last_duration_s)
    last_success = _gauge(m.CRAWL_LAST_SUCCESS)
    if health.last_success_at is not None:
        last_success.add_metric([], health.last_success_at)
    packets = _counter(m.CRAWL_PACKETS, ["direction", "type"])
    for direction in m.PACKET_DIRECTIONS.values():
        for kind in m.PACKET_TYPES:
            packets.add_metric([direction, kind], totals.get(total_key("packets", direction, kind), 0.0))
    errors = _counter(m.CRAWL_ERRORS, ["kind"])
    for kind in m.ERROR_KINDS:
        errors.add_metric([kind], totals.get(total_key("errors", kind), 0.0))
    crawls = _counter(m.CRAWLS, ["result"])
    for result in m.CRAWL_RESULTS:
        crawls.add_metric([result], totals.get(total_key("crawls", result), 0.0))
    build = _gauge(m.BUILD_INFO, ["version"])
    build.add_metric([version], 1.0)
    return [duration, last_success, packets, errors, crawls, build]


def vantage_families(summary: VantageSummary | None) -> list[Metric]:
    """Coverage and overlap of the vantage points (empty families when the store has none)."""
    points, overlap = _gauge(m.VANTAGE_POINTS), _gauge(m.VANTAGE_OVERLAP_NODES)
    nodes = _gauge(m.VANTAGE_NODES, ["vantage", "scope"])
    exclusive, coverage = _gauge(m.VANTAGE_EXCLUSIVE_NODES, ["vantage"]), _gauge(m.VANTAGE_COVERAGE, ["vantage"])
    providers = _gauge(m.VANTAGE_PROVIDER_SHARE, ["vantage", "provider"])
    started = _gauge(m.VANTAGE_SNAPSHOT_TIMESTAMP, ["vantage"])
    if summary is not None and summary.vantage_points > 0:
        points.add_metric([], summary.vantage_points)
        overlap.add_metric([], summary.intersection)
        nodes.add_metric([COMBINED, "discovered"], summary.union)
        nodes.add_metric([COMBINED, "reachable"], summary.union_reachable)
        for provider, share in summary.union_providers:
            providers.add_metric([COMBINED, provider], share)
        for v in summary.vantages:
            nodes.add_metric([v.vantage, "discovered"], v.nodes)
            nodes.add_metric([v.vantage, "reachable"], v.reachable)
            exclusive.add_metric([v.vantage], v.exclusive)
            if v.coverage is not None:
                coverage.add_metric([v.vantage], v.coverage)
            started.add_metric([v.vantage], v.started_at)
            for provider, share in v.providers:
                providers.add_metric([v.vantage, provider], share)
    return [points, overlap, nodes, exclusive, coverage, providers, started]


def build_metric_set(
    doc: Document | None,
    health: CrawlHealth,
    *,
    now: float,
    version: str,
    top_k: int = DEFAULT_TOP_K,
    known_providers: Sequence[str] = (),
    vantages: VantageSummary | None = None,
) -> MetricSet:
    families = tuple(
        sorted(
            (
                *snapshot_families(doc, now=now, top_k=top_k, known=known_providers),
                *health_families(health, version),
                *vantage_families(vantages),
            ),
            key=lambda f: f.name,
        )
    )
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Fixed(families))
    return MetricSet(families, generate_latest(registry))


def iter_samples(metric_set: MetricSet) -> Iterator[tuple[str, Mapping[str, str], float]]:
    """Every (name, labels, value) of a metric set, for tests and the benchmark."""
    for family in metric_set.families:
        for sample in family.samples:
            yield sample.name, sample.labels, sample.value
