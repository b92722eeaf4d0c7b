"""``monitor devnet``: a local discovery network on 127.0.0.0/8 with ground truth and a simulated hosting overlay."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from pathlib import Path
from typing import Any

from monitor.errors import ConfigError
from monitor.sim.devnet import Devnet, DevnetSpec, run_devnet
from monitor.sim.overlay import build_overlay

__all__ = ["register"]


def register(subparsers: Any) -> None:
    devnet = subparsers.add_parser("devnet", help="run a local discovery network on 127.0.0.0/8 until Ctrl-C")
    devnet.add_argument("--nodes", type=int, default=100, help="number of nodes (100)")
    devnet.add_argument("--seed", type=int, default=1)
    devnet.add_argument("--first-ip", default="127.10.0.1", help="an address in the /16 the nodes use (127.10.0.1)")
    devnet.add_argument("--port", type=int, default=30303)
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
    spec = DevnetSpec(nodes=args.nodes, seed=args.seed, first_ip=args.first_ip, port=args.port,
                      latency=args.latency, loss=args.loss)  # fmt: skip
    asyncio.run(_serve_devnet(spec, args.out, args.duration, args.quiet))
    return 0


def _write_devnet_files(net: Devnet, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    (out / "bootnodes.txt").write_text("\n".join(str(e) for e in net.bootnodes) + "\n", encoding="utf-8")
    overlay = build_overlay([n.ip for n in net.nodes], net.spec.seed)
    (out / "overlay.json").write_text(json.dumps(overlay, indent=1) + "\n", encoding="utf-8")
    truth = out / "truth.json"
    tmp = truth.with_suffix(".tmp")
    tmp.write_text(json.dumps(net.ground_truth()), encoding="utf-8")
    tmp.replace(truth)  # the file appearing means: every node is listening
    return truth


async def _serve_devnet(spec: DevnetSpec, out: Path, duration: float | None, quiet: bool) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with run_devnet(spec) as net:
        truth = _write_devnet_files(net, out)
        if not quiet:
            sys.stderr.write(
                f"devnet: {spec.nodes} nodes on {net.nodes[0].ip}..{net.nodes[-1].ip} port {spec.port}; "
                f"bootnodes in {out / 'bootnodes.txt'}, ground truth in {truth}, simulated hosting overlay in "
                f"{out / 'overlay.json'}; Ctrl-C to stop\n"
            )
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), duration)
