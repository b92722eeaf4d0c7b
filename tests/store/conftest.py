"""Fixtures of the store tests: one throwaway PostgreSQL cluster per session, a fresh database per test, and the
``store_spec`` parameter that runs the same contract tests against SQLite and PostgreSQL.

Without PostgreSQL the PostgreSQL cases skip on a developer machine and FAIL in CI (CI=true): .ci/run installs
Debian's ``postgresql`` package, so a missing server there is a broken set-up, not a reason to test less.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from pgcluster import DEFAULT_HOST, Cluster, find_bindir, throwaway_cluster


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    bindir = find_bindir()
    if bindir is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("PostgreSQL (initdb, pg_ctl) is not installed; .ci/run must install Debian's 'postgresql'")
        pytest.skip("PostgreSQL not installed (apt-get install postgresql)")
    # fsync off: the cluster is thrown away; crash safety is the server's, what we test is our transactions.
    with throwaway_cluster(bindir, host=DEFAULT_HOST, port=24543, settings={"fsync": "off"}) as cluster:
        yield cluster


@pytest.fixture
def pg_url(pg_cluster: Cluster) -> Iterator[str]:
    """A new empty database on the session's cluster, dropped after the test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_cluster.url(), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield pg_cluster.url(name)
    finally:
        with psycopg.connect(pg_cluster.url(), autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgresql"])
def store_spec(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The spec of an empty store of each backend."""
    if request.param == "sqlite":
        return str(tmp_path / "history.sqlite3")
    url: str = request.getfixturevalue("pg_url")
    return url
