"""``make demo``: the whole pipeline offline, against a simulated network on loopback.

Starts ``monitor devnet`` (our own discv4 nodes on 127.10.0.0/16, a simulated hosting overlay), takes a snapshot
of it with ``--netrestrict 127.0.0.0/8`` and the overlay as the only provider data, prints the report and writes
the HTML report. Every output says SIMULATED: none of these figures describes Ethereum.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from monitor.errors import CrawlError

__all__ = ["run_demo"]

# Two short lines: the demo is read in 80-column terminals and in files.
BANNER = "SIMULATED DEMO: a loopback devnet with made-up hosting labels.\nNone of these figures describes Ethereum."


def _wait_for(path: Path, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if proc.poll() is not None:
            raise CrawlError(f"the devnet exited early (code {proc.returncode})")
        if time.monotonic() > deadline:
            raise CrawlError(f"the devnet did not come up within {timeout:.0f} s")
        time.sleep(0.1)


def _monitor(*args: str) -> int:
    """Run one ``monitor`` command as a user would, in its own process."""
    return subprocess.run([sys.executable, "-m", "monitor", *args], check=False).returncode


def run_demo(out: Path, nodes: int) -> int:
    devnet_dir = out / "devnet"
    (devnet_dir / "truth.json").unlink(missing_ok=True)
    devnet = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--quiet", "devnet", "--nodes", str(nodes), "--out", str(devnet_dir)]
    )
    try:
        _wait_for(devnet_dir / "truth.json", devnet, 60)
        sys.stdout.write(f"{BANNER}\n\n")
        code = _monitor(
            "snapshot", "--bootnodes", str(devnet_dir / "bootnodes.txt"), "--netrestrict", "127.0.0.0/8",
            "--network", "devnet", "--ranges", str(devnet_dir / "overlay.json"), "--offline", "--simulated",
            "--out", str(out), "--timeout", "1.0", "--concurrency", "64", "--duration", "120", "--bootstrap", "300",
        )  # fmt: skip
        if code != 0:
            return code
        snapshots = sorted(out.glob("snapshot-*.json"))
        html = out / "report.html"
        code = _monitor("report", str(snapshots[-1]), "--html", str(html), "--bootstrap", "300")
        if code == 0:
            sys.stdout.write(f"\nHTML report: {html}\n")
        sys.stdout.write(f"\n{BANNER}\n")
        return code
    finally:
        devnet.terminate()
        try:
            devnet.wait(10)
        except subprocess.TimeoutExpired:
            devnet.kill()


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m monitor.sim.demo", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("demo-out"))
    parser.add_argument("--nodes", type=int, default=300)
    args = parser.parse_args()
    try:
        return run_demo(args.out, args.nodes)
    except CrawlError as err:
        sys.stderr.write(f"demo: {err}\n")
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
