"""The storage contract of ``monitor serve``'s history, shared by the SQLite and the PostgreSQL backend.

What is stored per crawl attempt: the crawl row (with the crawler's ``vantage`` name), its per-node observations,
the per-population aggregates that /api/history serves, the snapshot document that /api/snapshot serves, and the
increments of the persisted counters (kept per vantage). A backend writes one crawl in one transaction: a writer
killed at any moment leaves either the whole crawl or nothing.

Every method is a coroutine: the PostgreSQL backend is natively async, the SQLite one runs its blocking calls in a
worker thread. Figures over several vantage points are computed from :meth:`Store.latest_crawls` by
:mod:`monitor.store.vantage`, identically for both backends.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from monitor.errors import MonitorError
from monitor.snapshot import NodeRecord

__all__ = [
    "CrawlHealth",
    "Document",
    "Store",
    "StoreError",
    "StoredState",
    "ObservedNode",
    "VantageCrawl",
    "SchemaStatus",
    "aggregate_rows",
    "history_rows",
    "observed",
    "CRAWL_FIELDS",
]


# A snapshot as the service keeps it: {"meta": CrawlMeta as a dict, "analysis": analysis_to_dict(...)}. The same
# plain form is stored in the history database, served by /api/snapshot and turned into metrics, so a restart
# rebuilds exactly what was served before it without re-running the analysis.
Document = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class CrawlHealth:
    last_attempt_at: float | None = None
    last_attempt_ok: bool | None = None
    last_failure: str | None = None  # an error kind: crawl_failed | crawl_timeout
    last_failure_detail: str = ""  # for /healthz and the log only, never a label
    last_success_at: float | None = None  # when the last successful crawl ended
    last_duration_s: float | None = None
    totals: Mapping[str, float] = field(default_factory=dict)  # total_key -> value, persisted


class StoreError(MonitorError):
    """The history database cannot be opened, migrated, read or written."""


@dataclass(frozen=True, slots=True)
class StoredState:
    document: Document | None
    health: CrawlHealth


@dataclass(frozen=True, slots=True)
class ObservedNode:
    """One node as a crawl saw it: what the combined analysis over several vantage points needs."""

    node_id: str  # hex
    ip: str | None
    reachable: bool
    network: str
    provider: str | None
    region: str | None
    country: str | None
    asn: int | None
    category: str | None
    client: str | None


@dataclass(frozen=True, slots=True)
class VantageCrawl:
    """The latest successful crawl of one vantage point with its observations."""

    vantage: str
    snapshot_id: str
    started_at: float
    ended_at: float
    network: str
    simulated: bool
    nodes: tuple[ObservedNode, ...]


@dataclass(frozen=True, slots=True)
class SchemaStatus:
    backend: str  # "sqlite" | "postgresql"
    location: str  # file path or URL without the password
    applied: tuple[int, ...]
    available: tuple[int, ...]
    details: Mapping[str, Any] = field(default_factory=dict)  # e.g. partitions

    @property
    def pending(self) -> tuple[int, ...]:
        return tuple(v for v in self.available if v not in self.applied)


class Store(Protocol):
    """A history database. Migrations are applied by :func:`monitor.store.open_store` before the store is used."""

    @property
    def location(self) -> str: ...

    async def record_success(
        self,
        document: Document,
        nodes: Sequence[NodeRecord],
        increments: Mapping[str, float],
        duration: float,
        top_k: int,
    ) -> None:
        """One successful crawl (vantage = ``document["meta"]["vantage"]``), all or nothing."""
        ...

    async def record_failure(
        self,
        vantage: str,
        started_at: float,
        ended_at: float,
        kind: str,
        detail: str,
        increments: Mapping[str, float],
    ) -> None: ...

    async def prune(self, older_than: float, details_older_than: float | None = None) -> int:
        """Delete crawls started before ``older_than`` (the latest success of each vantage is kept); returns how
        many. ``details_older_than`` drops only observations and documents of older crawls."""
        ...

    async def load_state(self, vantage: str | None) -> StoredState:
        """The latest successful document and the health figures of one vantage, or of all of them (None)."""
        ...

    async def latest_document(self, vantage: str | None) -> Document | None: ...

    async def history(self, since: float, limit: int = 10_000, vantage: str | None = None) -> list[dict[str, Any]]:
        """Per-crawl aggregates of the crawls started at or after ``since``, oldest first."""
        ...

    async def latest_crawls(self, since: float) -> list[VantageCrawl]:
        """The latest successful crawl of every vantage whose latest successful crawl started at or after ``since``."""
        ...

    async def schema_status(self) -> SchemaStatus: ...

    async def close(self) -> None: ...


def aggregate_rows(analysis: Mapping[str, Any], top_k: int) -> list[tuple[str, str, str, str, float]]:
    """(population, dimension, name, key, value): n, HHI, Nakamoto and top-K shares of every population/dimension."""
    rows: list[tuple[str, str, str, str, float]] = []
    for pop in analysis["populations"]:
        name, n = str(pop["denominator"]["name"]), int(pop["denominator"]["n"])
        rows.append((name, "", "n", "", float(n)))
        for dim in pop["dimensions"]:
            dimension, idx = str(dim["dimension"]), dim["indices"]
            if idx.get("hhi") is not None:
                rows.append((name, dimension, "hhi", "", float(idx["hhi"])))
            for fig in idx.get("nakamoto", ()):
                if fig.get("value") is not None:
                    rows.append((name, dimension, f"nakamoto_{float(fig['threshold']):g}", "", float(fig["value"])))
            rows.extend((name, dimension, "share", str(s["key"]), float(s["share"])) for s in dim["shares"][:top_k])
    return rows


def observed(n: NodeRecord) -> ObservedNode:
    a = n.attribution
    return ObservedNode(
        node_id=n.node_id,
        ip=n.ip,
        reachable=n.answered_ping,
        network=n.network,
        provider=a.provider if a else None,
        region=a.region if a else None,
        country=a.country if a else None,
        asn=a.asn if a else None,
        category=a.category if a else None,
        client=n.client.name if n.client is not None and n.client.name else None,
    )


# Columns of a crawl as /api/history returns them, after the row id.
CRAWL_FIELDS = (
    "snapshot_id", "vantage", "started_at", "ended_at", "result", "failure", "network", "simulated", "nodes",
    "duration",
)  # fmt: skip


def history_rows(crawls: Sequence[Sequence[Any]], aggs: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    """/api/history items from (id, *CRAWL_FIELDS) crawl rows and (crawl_id, population, dimension, name, key,
    value) aggregate rows."""
    figures: dict[int, dict[str, Any]] = {}
    for crawl_id, population, dimension, name, key, value in aggs:
        pop = figures.setdefault(crawl_id, {}).setdefault(population, {})
        if name == "n":
            pop["n"] = int(value)
            continue
        dim = pop.setdefault(dimension, {})
        if name == "share":
            dim.setdefault("top", {})[key] = value
        else:
            dim[name] = value
    out = []
    for row in crawls:
        item = dict(zip(CRAWL_FIELDS, row[1:], strict=True))
        item["simulated"] = bool(item["simulated"])
        item["populations"] = figures.get(row[0], {})
        out.append(item)
    return out
