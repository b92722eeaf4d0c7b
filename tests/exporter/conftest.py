"""Registers tests/stack.py as a plugin: the session fixture ``real_stack`` (devnet + `monitor serve` + Prometheus)."""

from __future__ import annotations

import pytest
import stack


def pytest_configure(config: pytest.Config) -> None:
    stack.register(config)
