"""Crawl health rebuilt from stored rows, identically for every backend."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from monitor.store.base import CrawlHealth

__all__ = ["health_from"]


def health_from(last: Sequence[Any] | None, last_success_at: float | None, totals: Mapping[str, float]) -> CrawlHealth:
    """``last`` = (started_at, ended_at, result, failure, detail) of the latest attempt, or None."""
    if last is None:
        return CrawlHealth(last_success_at=last_success_at, totals=dict(totals))
    started, ended, result, failure, detail = last
    return CrawlHealth(
        last_attempt_at=float(ended),
        last_attempt_ok=result == "success",
        last_failure=failure,
        last_failure_detail=detail or "",
        last_success_at=last_success_at,
        last_duration_s=float(ended) - float(started),
        totals={str(k): float(v) for k, v in totals.items()},
    )
