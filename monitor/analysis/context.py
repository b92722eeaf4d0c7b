"""What a reader needs to know about the snapshot behind a figure: when, which network, which datasets, simulated?"""

from __future__ import annotations

import operator
from dataclasses import dataclass

from monitor.snapshot import Snapshot, iso_utc

__all__ = ["SnapshotContext", "snapshot_context"]


@dataclass(frozen=True, slots=True)
class SnapshotContext:
    snapshot_id: str
    network: str
    started_at: float
    ended_at: float
    simulated: bool
    datasets: tuple[tuple[str, str], ...]  # (dataset, data date), sorted by name
    sources: tuple[str, ...]  # discovery protocols the records came from ("discv4", ...)
    filtered: tuple[tuple[str, int], ...]  # crawl-time filters: (reason, count)

    @property
    def period(self) -> str:
        return f"{iso_utc(self.started_at)} to {iso_utc(self.ended_at)}"

    def datasets_text(self) -> str:
        if not self.datasets:
            return "no attribution dataset recorded"
        return ", ".join(f"{name} ({date})" for name, date in self.datasets)


def snapshot_context(snapshot: Snapshot) -> SnapshotContext:
    """Dataset dates come from the crawl metadata, completed by the dates the node attributions themselves carry.

    The metadata can lag behind the records (an ipwhois fallback added at attribution time, a re-attributed old
    snapshot), and a figure must name every dataset it rests on.
    """
    meta = snapshot.meta
    datasets = dict(meta.datasets)
    # Distinct (source, date) pairs first: a handful, however many records carry them. A dataset seen with several
    # dates is named with its earliest (a dated one before none), whatever the record order.
    # attrgetter/filter keep the pass over every record in C (an Attribution is always truthy, None is not).
    attributions = filter(None, map(operator.attrgetter("attribution"), snapshot.nodes))
    pairs = set(map(operator.attrgetter("source", "data_date"), attributions))
    for source, data_date in sorted(pairs, key=lambda p: (p[0], p[1] is None, p[1] or "")):
        # The resolver labels ASN-table hits "asn:<dataset>" and records without an address "none: ..." (no dataset).
        name = source.removeprefix("asn:")
        if name and not name.startswith("none") and name not in datasets:
            datasets[name] = data_date or "undated"
    return SnapshotContext(
        snapshot_id=meta.id,
        network=meta.network,
        started_at=meta.started_at,
        ended_at=meta.ended_at,
        simulated=meta.simulated,
        datasets=tuple(sorted(datasets.items())),
        sources=tuple(sorted(set(map(operator.attrgetter("source"), snapshot.nodes)))),
        filtered=tuple(sorted(meta.filtered.items())),
    )
