"""Start independent RLPx peers (Node.js, ``@ethereumjs/devp2p`` RLPx + ETH) on loopback for interop tests.

``start_rlpx_network`` runs ``rlpx_network.mjs`` (next to this file) and yields its ready line: ``nodes`` (each with
``id``, ``pubkey``, ``ip``, ``tcp``, ``full``, ``client_id``, ``enode``) and ``status`` (the network id, genesis and
fork id every peer announces). Process handling is ``harness.py``'s; standard library only.
"""

from __future__ import annotations

import collections
import json
import queue
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from peers.harness import NODE_MODULES_MARKER, PEERS_DIR, STDERR_TAIL_LINES, _drain, _stop, node_binary

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
    node = node_binary()
    if node is None:
        raise RuntimeError("Node.js (`node`) is not installed; the interop peers need it")
    if not NODE_MODULES_MARKER.is_file():
        raise RuntimeError(f"npm packages for the test peers are missing in {PEERS_DIR}: run `make peers`")
    argv = [node, str(RLPX_SCRIPT), "--nodes", str(n), "--seed", str(seed), "--base", base]
    argv += ["--tcp-port", str(tcp_port), "--full", str(full)]
    if client_id is not None:
        argv += ["--client-id", client_id]
    proc = subprocess.Popen(argv, cwd=PEERS_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    stderr_tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
    stdout_lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_drain, args=(proc.stderr, stderr_tail), daemon=True).start()
    threading.Thread(target=_drain, args=(proc.stdout, stdout_lines), daemon=True).start()

    def failure(reason: str) -> RuntimeError:
        _stop(proc)
        time.sleep(0.05)
        tail = "\n".join(stderr_tail) or "(no output on stderr)"
        return RuntimeError(f"RLPx test network ({n} peers) {reason}; exit code {proc.returncode}.\n{tail}")

    try:
        deadline = time.monotonic() + timeout
        ready: Network | None = None
        while ready is None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise failure(f"not ready after {timeout:g} s")
            try:
                line = stdout_lines.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                raise failure("exited before it was ready")
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if isinstance(message, dict) and message.get("ready") is True:
                ready = message
        yield ready
    finally:
        _stop(proc)


def rlpx_network_fixture(n: int = 24, *, scope: Any = "module", **kwargs: Any) -> Any:
    """A pytest fixture yielding a running RLPx network (skipped only when Node.js is missing)."""

    @pytest.fixture(scope=scope)
    def _rlpx_network() -> Iterator[Network]:
        if node_binary() is None:
            pytest.skip("Node.js (`node`) is not installed: the interop peers cannot run")
        with start_rlpx_network(n, **kwargs) as network:
            yield network

    return _rlpx_network
