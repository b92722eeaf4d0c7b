"""A prometheus_client collector over the service's current metric set.

It does no work at scrape time: ``collect()`` returns the families the crawl job rendered when it swapped its view
in. The HTTP endpoint serves the same set's pre-rendered exposition; this collector is for embedding the figures in
another registry (and for tests against a fresh ``CollectorRegistry``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from monitor.exporter.families import MetricSet

__all__ = ["SnapshotCollector"]


class SnapshotCollector(Collector):
    def __init__(self, current: Callable[[], MetricSet]) -> None:
        self._current = current

    def collect(self) -> Iterable[Metric]:
        # One read of the current set: a swap during the scrape cannot mix families of two crawls.
        return self._current().families

    def describe(self) -> Iterable[Metric]:
        # Names are fixed by the contract; describing them keeps a registry's duplicate-name check working.
        return self._current().families
