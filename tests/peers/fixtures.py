"""Pytest fixture factories for the DPT (discv4) and chainsafe discv5 test networks; ``tests/conftest.py`` imports
them.

    # tests/conftest.py
    from peers.fixtures import discv5_network_fixture, dpt_network_fixture
    dpt_network = dpt_network_fixture(n=20)                    # module-scoped by default
    dpt_network_big = dpt_network_fixture(n=300, seed=2, base="127.3.0.1", scope="session")
    discv5_network = discv5_network_fixture(n=200, seed=3, base="127.6.0.1", k=16)  # consensus-layer peers

A test then takes ``dpt_network`` as an argument and gets the node list of ``harness.start_dpt_network``
(``discv5_network``: that of ``discv5_harness.start_discv5_network``). It is skipped only when Node.js itself is
missing (failed under CI); missing npm packages make it fail ("run `make peers`").
Give networks that may run at the same time different ``base`` addresses (or ports).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from external_tools import missing
from peers.harness import Node, node_binary, start_dpt_network


def require_node() -> None:
    """Skip the calling test when the ``node`` executable is not installed (fail it under CI)."""
    if node_binary() is None:
        missing("Node.js (`node`) is not installed: the interop peers cannot run")


def dpt_network_fixture(
    n: int = 20,
    seed: int = 1,
    base: str = "127.2.0.1",
    k: int = 16,
    *,
    scope: Any = "module",
    timeout: float = 60,
    ping_back: bool = True,
) -> Callable[..., Iterator[list[Node]]]:
    """A pytest fixture that yields the nodes of a running DPT network and stops it afterwards."""

    @pytest.fixture(scope=scope)
    def _dpt_network() -> Iterator[list[Node]]:
        require_node()
        with start_dpt_network(n, seed=seed, base=base, k=k, timeout=timeout, ping_back=ping_back) as nodes:
            yield nodes

    return _dpt_network


def discv5_network_fixture(
    n: int = 20,
    seed: int = 1,
    base: str = "127.5.0.1",
    k: int = 16,
    *,
    scope: Any = "module",
    timeout: float = 60,
    udp_port: int = 9000,
    other_every: int = 10,
) -> Callable[..., Iterator[list[Node]]]:
    """A pytest fixture that yields the nodes of a running @chainsafe/discv5 network and stops it afterwards.

    Nodes are described as by ``discv5_harness.start_discv5_network``; their ``eth2`` entries are mainnet's as of
    the moment the fixture starts (every ``other_every``-th node another network's).
    """

    @pytest.fixture(scope=scope)
    def _discv5_network() -> Iterator[list[Node]]:
        require_node()
        from peers.discv5_harness import start_discv5_network  # imports monitor: only when a test asks for it

        with start_discv5_network(
            n, seed=seed, base=base, k=k, timeout=timeout, udp_port=udp_port, other_every=other_every
        ) as nodes:
            yield nodes

    return _discv5_network
