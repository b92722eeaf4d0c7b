"""Shared fixtures: one resolver per test session (the bundled tables take ~1 s to build the first time)."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.hosting import Resolver, load_default_resolver

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hosting-data")


@pytest.fixture(scope="session")
def resolver(data_dir: Path) -> Resolver:
    return load_default_resolver(offline=True, data_dir=data_dir)
