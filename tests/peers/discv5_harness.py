"""Start independent discv5 peers (Node.js, ``@chainsafe/discv5``) on loopback for consensus-layer interop tests.

``start_discv5_network`` runs ``discv5_network.mjs`` (next to this file), waits for its single JSON "ready" line and
yields the node list; on exit it closes the child's stdin (its shutdown signal), then terminates / kills it.
Every node's record carries an ``eth2`` entry: mainnet's current one (computed by ``monitor.discovery.forkdigest``
for ``now``) for most nodes, another network's for every ``other_every``-th node, so a crawl test can check both
verdicts. ``probe_findnode`` asks one node for its table through a throwaway chainsafe node (``discv5_probe.mjs``),
to tell a broken network from a broken crawler. Unlike harness.py it imports ``monitor`` (for the eth2 values).
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from peers.harness import PEERS_DIR, Node, run_until_ready, script_argv

from monitor.discovery.enr_entries import FAR_FUTURE_EPOCH, ENRForkID
from monitor.discovery.forkdigest import MAINNET, compute_fork_data_root

DISCV5_SCRIPT = PEERS_DIR / "discv5_network.mjs"
PROBE_SCRIPT = PEERS_DIR / "discv5_probe.mjs"

# A devnet's record: Fulu's version over an all-zero genesis validators root, a digest mainnet never had.
OTHER_ETH2 = ENRForkID(compute_fork_data_root(bytes.fromhex("06000000"), bytes(32))[:4], bytes(4), FAR_FUTURE_EPOCH)


def mainnet_eth2(now: float) -> ENRForkID:
    """The ``eth2`` entry an up-to-date mainnet node publishes at ``now``: the digest in force and the next fork."""
    points = MAINNET.digest_points()
    epoch = MAINNET.epoch_at(now)
    current = [p for p in points if p.epoch <= epoch][-1]
    upcoming = [p for p in points if p.epoch > epoch]
    if upcoming:
        return ENRForkID(current.digest, upcoming[0].version, upcoming[0].epoch)
    return ENRForkID(current.digest, current.version, FAR_FUTURE_EPOCH)


@contextmanager
def start_discv5_network(
    n: int,
    seed: int = 1,
    base: str = "127.5.0.1",
    k: int = 16,
    timeout: float = 60,
    *,
    udp_port: int = 9000,
    other_every: int = 10,
    now: float | None = None,
    other_eth2: ENRForkID = OTHER_ETH2,
) -> Iterator[list[Node]]:
    """Run ``n`` discv5 nodes on ``base``, ``base+1``, ... (UDP ports ``udp_port + i``) and yield their descriptions.

    Each node is a dict with ``id`` (hex node id), ``pubkey`` (33-byte compressed, hex), ``ip``, ``udp``, ``enr``
    (text), ``eth2`` (the entry's 16 bytes, hex), ``mainnet`` (whether ``eth2`` is mainnet's), ``attnets`` (its two
    attestation subnets) and ``table`` (node ids in its routing table, the crawl ground truth). Node ``i`` carries
    ``other_eth2`` when ``i % other_every == other_every - 1`` (never when ``other_every`` is 0). The default 9000
    is the consensus clients' default discovery port. Raises RuntimeError (with the tail of Node's stderr) if the
    network is not ready within ``timeout`` seconds.
    """
    mainnet = mainnet_eth2(time.time() if now is None else now)
    args = ["--nodes", str(n), "--seed", str(seed), "--base", base, "--k", str(k), "--udp-port", str(udp_port)]
    args += ["--eth2", mainnet.to_ssz().hex(), "--other-eth2", other_eth2.to_ssz().hex()]
    args += ["--other-every", str(other_every)]
    with run_until_ready(script_argv(DISCV5_SCRIPT, *args), f"discv5 test network ({n} nodes)", timeout) as ready:
        nodes: list[Node] = ready["nodes"]
        yield nodes


def probe_findnode(enr: str, bind: str, distances: Sequence[int], timeout: float = 20) -> tuple[str, list[str]]:
    """One FINDNODE from a fresh chainsafe node bound to ``bind`` (``ip:port``): ``(probe's node id, ENR texts)``.

    The answer may include the probe itself: the asked node adds every peer it has a session with to its table.
    """
    argv = script_argv(PROBE_SCRIPT, "--enr", enr, "--bind", bind, "--distances", ",".join(map(str, distances)))
    done = subprocess.run(argv, cwd=PEERS_DIR, capture_output=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"discv5 probe failed ({done.returncode}): {done.stderr.decode(errors='replace')[-2000:]}")
    answer = json.loads(done.stdout)
    return str(answer["self"]), list(answer["enrs"])
