"""What the service knows between crawls: the latest snapshot document and the crawl health, both immutable.

The scheduled job builds a new :class:`View` after every crawl attempt and swaps it in with one assignment; request
handlers and the collector read whichever view is current and never see half of an update.
"""

from __future__ import annotations

from collections.abc import Mapping

from monitor.exporter.metrics import CRAWL_RESULTS, ERROR_KINDS, PACKET_DIRECTIONS, PACKET_ERROR_COUNTERS, PACKET_TYPES
from monitor.store.base import CrawlHealth, Document

__all__ = ["CrawlHealth", "Document", "crawl_totals", "failure_totals", "total_key", "TOTAL_KEYS"]


def total_key(family: str, *labels: str) -> str:
    """Key of one cumulative counter in :attr:`CrawlHealth.totals` and the database ("packets:sent:ping")."""
    return ":".join((family, *labels))


TOTAL_KEYS: tuple[str, ...] = (
    *(total_key("crawls", r) for r in CRAWL_RESULTS),
    *(total_key("packets", d, t) for d in PACKET_DIRECTIONS.values() for t in PACKET_TYPES),
    *(total_key("errors", k) for k in ERROR_KINDS),
)


def crawl_totals(counters: Mapping[str, int]) -> dict[str, float]:
    """The counter increments one successful crawl contributes, read from its meta counters."""
    inc: dict[str, float] = {total_key("crawls", "success"): 1.0}
    for short, direction in PACKET_DIRECTIONS.items():
        for kind in PACKET_TYPES:
            inc[total_key("packets", direction, kind)] = float(counters.get(f"packets_{short}_{kind}", 0))
    for kind, counter in PACKET_ERROR_COUNTERS.items():
        inc[total_key("errors", kind)] = float(counters.get(counter, 0))
    return inc


def failure_totals(kind: str) -> dict[str, float]:
    """The counter increments of one failed crawl attempt (its packets are lost with it)."""
    return {total_key("crawls", "failure"): 1.0, total_key("errors", kind): 1.0}
