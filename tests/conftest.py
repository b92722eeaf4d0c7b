"""Shared fixtures. This directory is on sys.path (pytest's rootdir conftest), so helpers import as ``memnet``."""

from __future__ import annotations

from peers.fixtures import dpt_network_fixture

# 200 independent @ethereumjs/devp2p nodes for the interop crawl (one Node.js process, ~0.5 s to start).
dpt_network_200 = dpt_network_fixture(n=200, seed=7, base="127.3.0.1", k=16, scope="module")
