"""``monitor devnet``: a local discovery network on 127.0.0.0/8 with ground truth and a simulated hosting overlay.

``--discovery v4`` (default) runs discv4 nodes; ``v5`` and ``both`` run :class:`~monitor.sim.devnet_mixed.MixedDevnet`
(discv5 nodes only, or a mix of discv4-only, discv5-only and dual nodes): discv4 on ``--port``, discv5 on ``--port``
+ 1. ``bootnodes.txt`` holds ``enode://`` lines for discv4 and ``enr:`` lines for discv5.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from pathlib import Path
from typing import Any, Protocol

from monitor.errors import ConfigError
from monitor.sim.devnet import DevnetSpec, run_devnet
from monitor.sim.devnet_mixed import MixedSpec, run_mixed_devnet
from monitor.sim.overlay import build_overlay

__all__ = ["register"]


class _Net(Protocol):
    def bootnode_lines(self) -> list[str]: ...
    def ground_truth(self) -> dict[str, Any]: ...


def register(subparsers: Any) -> None:
    devnet = subparsers.add_parser("devnet", help="run a local discovery network on 127.0.0.0/8 until Ctrl-C")
    devnet.add_argument("--nodes", type=int, default=100, help="number of nodes (100)")
    devnet.add_argument(
        "--discovery",
        choices=("v4", "v5", "both"),
        default="v4",
        help="v4: discv4 nodes (default); v5: discv5 nodes; both: discv4-only, discv5-only and dual nodes (one key)",
    )
    devnet.add_argument("--seed", type=int, default=1)
    devnet.add_argument("--first-ip", default="127.10.0.1", help="an address in the /16 the nodes use (127.10.0.1)")
    devnet.add_argument("--port", type=int, default=30303, help="discv4 port; discv5 listens on PORT+1 (30303)")
    devnet.add_argument("--latency", type=float, default=0.0, help="seconds added to every datagram nodes send")
    devnet.add_argument("--loss", type=float, default=0.0, help="share of datagrams nodes drop (0..1)")
    devnet.add_argument("--out", type=Path, default=Path("devnet"), help="where to write bootnodes and truth")
    devnet.add_argument("--duration", type=float, default=None, help="stop after SECONDS (default: run until Ctrl-C)")
    devnet.set_defaults(func=cmd_devnet)


def cmd_devnet(args: argparse.Namespace) -> int:
    if not 1 <= args.nodes <= 254 * 254:
        raise ConfigError("--nodes must be between 1 and 64516")
    if not 0 <= args.loss < 1 or args.latency < 0:
        raise ConfigError("--loss must be in [0, 1) and --latency non-negative")
    if not 1 <= args.port <= 65534:
        raise ConfigError("--port must be between 1 and 65534 (discv5 takes PORT+1)")
    common = {"nodes": args.nodes, "seed": args.seed, "first_ip": args.first_ip, "port": args.port,
              "latency": args.latency, "loss": args.loss}  # fmt: skip
    if args.discovery == "v4":
        network: contextlib.AbstractAsyncContextManager[Any] = run_devnet(DevnetSpec(**common))
    else:
        network = run_mixed_devnet(MixedSpec.for_discovery(args.discovery, **common))
    asyncio.run(_serve_devnet(network, args.out, args.duration, args.quiet))
    return 0


def _write_devnet_files(net: _Net, ips: list[str], seed: int, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    (out / "bootnodes.txt").write_text("\n".join(net.bootnode_lines()) + "\n", encoding="utf-8")
    overlay = build_overlay(ips, seed)
    (out / "overlay.json").write_text(json.dumps(overlay, indent=1) + "\n", encoding="utf-8")
    truth = out / "truth.json"
    tmp = truth.with_suffix(".tmp")
    tmp.write_text(json.dumps(net.ground_truth()), encoding="utf-8")
    tmp.replace(truth)  # the file appearing means: every node is listening
    return truth


async def _serve_devnet(
    network: contextlib.AbstractAsyncContextManager[Any], out: Path, duration: float | None, quiet: bool
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with network as net:
        truth = _write_devnet_files(net, [n.ip for n in net.nodes], net.spec.seed, out)
        if not quiet:
            sys.stderr.write(
                f"devnet: {len(net.nodes)} nodes on {net.nodes[0].ip}..{net.nodes[-1].ip} {_roles(net)}; "
                f"bootnodes in {out / 'bootnodes.txt'}, ground truth in {truth}, simulated hosting "
                f"overlay in {out / 'overlay.json'}; Ctrl-C to stop\n"
            )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), duration)


def _roles(net: Any) -> str:
    """Which ports serve which protocol, and how many nodes run what."""
    port = net.spec.port
    if not hasattr(net, "running"):
        return f"port {port} (discv4)"
    counts = {"discv4 only": 0, "discv5 only": 0, "both": 0}
    for node in net.nodes:
        counts["both" if len(node.protocols) == 2 else f"{node.protocols[0]} only"] += 1
    shown = ", ".join(f"{v} {k}" for k, v in counts.items() if v)
    ports = [f"{port} (discv4)"] * bool(net.running("discv4")) + [f"{port + 1} (discv5)"] * bool(net.running("discv5"))
    return f"port {' / '.join(ports)}: {shown}"
