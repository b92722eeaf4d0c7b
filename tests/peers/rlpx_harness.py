"""Start independent RLPx peers (Node.js, ``@ethereumjs/devp2p`` RLPx + ETH) on loopback for interop tests.

``start_rlpx_network`` runs ``rlpx_network.mjs`` (next to this file) and yields its ready line: ``nodes`` (each with
``id``, ``pubkey``, ``ip``, ``tcp``, ``full``, ``client_id``, ``enode``) and ``status`` (the network id, genesis and
fork id every peer announces). Process handling is ``harness.py``'s; standard library only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from peers.fixtures import require_node
from peers.harness import PEERS_DIR, run_until_ready, script_argv

RLPX_SCRIPT = PEERS_DIR / "rlpx_network.mjs"

Network = dict[str, Any]


@contextmanager
def start_rlpx_network(
    n: int,
    *,
    seed: int = 1,
    base: str = "127.4.0.1",
    tcp_port: int = 40303,
    full: int = 0,
    client_id: str | None = None,
    timeout: float = 60,
) -> Iterator[Network]:
    """Run ``n`` RLPx peers on ``base``, ``base+1``, ...; the last ``full`` ones answer TOO_MANY_PEERS."""
    args = ["--nodes", str(n), "--seed", str(seed), "--base", base, "--tcp-port", str(tcp_port), "--full", str(full)]
    if client_id is not None:
        args += ["--client-id", client_id]
    with run_until_ready(script_argv(RLPX_SCRIPT, *args), f"RLPx test network ({n} peers)", timeout) as ready:
        yield ready


def rlpx_network_fixture(n: int = 24, *, scope: Any = "module", **kwargs: Any) -> Any:
    """A pytest fixture yielding a running RLPx network (skipped only when Node.js is missing, failed then under CI)."""

    @pytest.fixture(scope=scope)
    def _rlpx_network() -> Iterator[Network]:
        require_node()
        with start_rlpx_network(n, **kwargs) as network:
            yield network

    return _rlpx_network
