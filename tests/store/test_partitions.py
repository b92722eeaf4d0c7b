"""Month arithmetic of the observation partitions (UTC months, across year ends)."""

from __future__ import annotations

import datetime as dt

import pytest

from monitor.store.partitions import create_partition_sql, month_start, partition_month, partition_name

UTC = dt.UTC


@pytest.mark.parametrize(
    ("when", "add", "expected"),
    [
        (dt.datetime(2026, 12, 31, 23, 59, tzinfo=UTC), 0, dt.datetime(2026, 12, 1, tzinfo=UTC)),
        (dt.datetime(2026, 12, 6, tzinfo=UTC), 1, dt.datetime(2027, 1, 1, tzinfo=UTC)),
        (dt.datetime(2026, 12, 6, tzinfo=UTC), 2, dt.datetime(2027, 2, 1, tzinfo=UTC)),
        (dt.datetime(2026, 1, 15, tzinfo=UTC), -1, dt.datetime(2025, 12, 1, tzinfo=UTC)),
        (dt.datetime(2026, 3, 1, tzinfo=UTC), -14, dt.datetime(2025, 1, 1, tzinfo=UTC)),
    ],
)
def test_month_start(when: dt.datetime, add: int, expected: dt.datetime) -> None:
    assert month_start(when, add) == expected


def test_names_round_trip_and_foreign_tables_are_ignored() -> None:
    start = dt.datetime(2027, 1, 1, tzinfo=UTC)
    assert partition_name(start) == "observations_p202701" and partition_month("observations_p202701") == start
    assert partition_month("observations") is None and partition_month("observations_pold") is None
    sql = create_partition_sql(start)
    assert "FROM ('2027-01-01T00:00:00+00:00') TO ('2027-02-01T00:00:00+00:00')" in sql
