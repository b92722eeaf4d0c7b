"""Start independent discovery peers (Node.js, ``@ethereumjs/devp2p`` DPT) on loopback for interop tests.

``start_dpt_network`` runs ``dpt_network.mjs`` (next to this file), waits for its single JSON "ready" line and
yields the node list; on exit it closes the child's stdin (its shutdown signal), then terminates / kills it.
Standard library only, so any test or bench script can import it.
"""

from __future__ import annotations

import collections
import contextlib
import json
import queue
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PEERS_DIR = Path(__file__).resolve().parent
DPT_SCRIPT = PEERS_DIR / "dpt_network.mjs"
# The package the script needs first; its absence means `npm install` never ran here.
NODE_MODULES_MARKER = PEERS_DIR / "node_modules" / "@ethereumjs" / "devp2p" / "package.json"
STDERR_TAIL_LINES = 40

Node = dict[str, Any]


def node_binary() -> str | None:
    """Path of the ``node`` executable, or None when Node.js is not installed."""
    return shutil.which("node")


def _drain(stream: Any, sink: collections.deque[str] | queue.Queue[str | None]) -> None:
    # Runs in a daemon thread: a child whose pipe is not read blocks once the pipe buffer fills.
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", "replace").rstrip("\n")
        if isinstance(sink, queue.Queue):
            sink.put(line)
        else:
            sink.append(line)
    if isinstance(sink, queue.Queue):
        sink.put(None)  # EOF marker


def _stop(proc: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    if proc.poll() is None and proc.stdin is not None:
        with contextlib.suppress(OSError):
            proc.stdin.close()  # the script exits cleanly on EOF
    for action in (None, proc.terminate, proc.kill):
        if action is not None and proc.poll() is None:
            action()
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def script_argv(script: Path, *args: str) -> list[str]:
    """``node <script> args…``, after checking that Node.js and the npm packages are there."""
    node = node_binary()
    if node is None:
        raise RuntimeError("Node.js (`node`) is not installed; the interop peers need it")
    if not NODE_MODULES_MARKER.is_file():
        raise RuntimeError(f"npm packages for the test peers are missing in {PEERS_DIR}: run `make peers`")
    return [node, str(script), *args]


@contextmanager
def run_until_ready(argv: list[str], label: str, timeout: float) -> Iterator[dict[str, Any]]:
    """Start a peer script, wait for its one JSON ``{"ready": true, ...}`` line and yield it; stop it on exit.

    Raises RuntimeError with the tail of the script's stderr if it exits or is not ready within ``timeout`` s.
    """
    proc = subprocess.Popen(argv, cwd=PEERS_DIR, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    stderr_tail: collections.deque[str] = collections.deque(maxlen=STDERR_TAIL_LINES)
    stdout_lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_drain, args=(proc.stderr, stderr_tail), daemon=True).start()
    threading.Thread(target=_drain, args=(proc.stdout, stdout_lines), daemon=True).start()

    def failure(reason: str) -> RuntimeError:
        _stop(proc)
        time.sleep(0.05)  # let the drain thread catch the last stderr lines
        tail = "\n".join(stderr_tail) or "(no output on stderr)"
        hint = "\nhint: run `make peers`" if "ERR_MODULE_NOT_FOUND" in tail or "Cannot find" in tail else ""
        return RuntimeError(f"{label} {reason}; exit code {proc.returncode}.{hint}\n{tail}")

    try:
        deadline = time.monotonic() + timeout
        ready: dict[str, Any] | None = None
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
                continue  # not ours; the scripts print only the ready line
            if isinstance(message, dict) and message.get("ready") is True:
                ready = message
        yield ready
    finally:
        _stop(proc)


@contextmanager
def start_dpt_network(
    n: int,
    seed: int = 1,
    base: str = "127.2.0.1",
    k: int = 16,
    timeout: float = 60,
    *,
    udp_port: int = 30303,
    tcp_port: int = 20303,
    ping_back: bool = True,
) -> Iterator[list[Node]]:
    """Run ``n`` DPT nodes on ``base``, ``base+1``, ... and yield their descriptions.

    Each node is a dict with ``id`` (hex keccak256 of the public key), ``pubkey`` (128 hex), ``ip``, ``udp``,
    ``tcp``, ``enode`` and ``table`` (pubkeys of the peers in its k-bucket table when it started). With
    ``ping_back`` a node PINGed by an unknown peer pings the PING's ``from`` endpoint back, as live DPT nodes do.
    Raises RuntimeError (with the tail of Node's stderr) if the network is not ready within ``timeout`` seconds.
    """
    args = ["--nodes", str(n), "--seed", str(seed), "--base", base, "--k", str(k)]
    args += ["--udp-port", str(udp_port), "--tcp-port", str(tcp_port)]
    if not ping_back:
        args.append("--no-ping-back")
    with run_until_ready(script_argv(DPT_SCRIPT, *args), f"DPT test network ({n} nodes)", timeout) as ready:
        nodes: list[Node] = ready["nodes"]
        yield nodes
