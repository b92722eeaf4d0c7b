"""Monthly range partitions of PostgreSQL's ``observations`` (by the crawl's start time, UTC months).

Names are ``observations_pYYYYMM``; a partition holds [first of the month, first of the next month). Pure functions:
the SQL runs in :mod:`monitor.store.postgres`.
"""

from __future__ import annotations

import datetime as dt

__all__ = ["month_start", "partition_name", "partition_month", "create_partition_sql", "utc"]

_PREFIX = "observations_p"


def utc(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, dt.UTC)


def month_start(when: dt.datetime, add: int = 0) -> dt.datetime:
    """The first instant of the month of ``when`` (UTC), ``add`` months later (or earlier when negative)."""
    index = when.year * 12 + when.month - 1 + add
    return dt.datetime(index // 12, index % 12 + 1, 1, tzinfo=dt.UTC)


def partition_name(start: dt.datetime) -> str:
    return f"{_PREFIX}{start:%Y%m}"


def partition_month(name: str) -> dt.datetime | None:
    """The month a partition of ours covers, or None for any other table name."""
    if not name.startswith(_PREFIX):
        return None
    try:
        return dt.datetime.strptime(name.removeprefix(_PREFIX), "%Y%m").replace(tzinfo=dt.UTC)
    except ValueError:
        return None


def create_partition_sql(start: dt.datetime) -> str:
    # Identifiers and bounds come from a datetime, never from input: no quoting issue.
    return (
        f"CREATE TABLE IF NOT EXISTS {partition_name(start)} PARTITION OF observations "
        f"FOR VALUES FROM ('{start.isoformat()}') TO ('{month_start(start, 1).isoformat()}')"
    )
