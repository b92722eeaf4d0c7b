"""Shared fixtures. This directory is on sys.path (pytest's rootdir conftest), so helpers import as ``memnet``."""

from __future__ import annotations

import pytest
from peers.fixtures import dpt_network_fixture

# 200 independent @ethereumjs/devp2p nodes for the interop crawl (one Node.js process, ~0.5 s to start).
dpt_network_200 = dpt_network_fixture(n=200, seed=7, base="127.3.0.1", k=16, scope="module")


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test (or subprocess it starts) reads or writes the real user data directory (node key, datasets)."""
    monkeypatch.setenv("MONITOR_DATA_DIR", str(tmp_path_factory.mktemp("monitor-data")))
