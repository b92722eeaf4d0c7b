"""Run ``monitor crawl`` against the Sybil peer (``sybil.py``) and measure it: wall time, peak RSS, counters.

Standard library only; used by tests/robust/test_sybil.py and bench/sybil.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PEERS_DIR = Path(__file__).resolve().parent
ROOT = PEERS_DIR.parent.parent


@dataclass
class SybilRun:
    seconds: float  # process start to exit
    exited_at: float  # UNIX time; with meta's started_at / ended_at it splits start-up, crawl and write
    peak_rss_mb: float
    exit_code: int
    meta: dict[str, Any]
    nodes: int
    stderr: str


def run_against_sybil(
    out: Path, duration: float, extra: list[str], *, listen: str = "127.64.0.10:29200", port: int = 29100
) -> SybilRun:
    sybil = subprocess.Popen(
        [sys.executable, str(PEERS_DIR / "sybil.py"), "--ips", "32", "--ports", "16", "--port", str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=ROOT,
    )
    try:
        assert sybil.stdout is not None
        bootnode = json.loads(sybil.stdout.readline())["bootnode"]
        # SIGUSR1 dumps every thread's stack to stderr: a hung crawl says where it hangs before the watchdog kills it
        # The crawl's own peak RSS is VmHWM of its address space, written at exit. Not wait4's ru_maxrss: Linux
        # carries the parent's high-water mark into a forked child across exec, so a big pytest process showed
        # through as the crawl's (490 MB in a full test run, 110 MB alone).
        rss_path = out / "crawl.vmhwm"
        boot = (
            "import atexit, faulthandler, pathlib, signal, sys; faulthandler.register(signal.SIGUSR1); "
            f"atexit.register(lambda: pathlib.Path({str(rss_path)!r}).write_text("
            "next(l for l in open('/proc/self/status') if l.startswith('VmHWM'))));"
            "from monitor.cli import main; sys.exit(main())"
        )
        cmd = [sys.executable, "-c", boot, "crawl", "-q", "--bootnodes", bootnode, "--netrestrict",
               "127.64.0.0/15", "--listen", listen, "--duration", str(duration), "--no-rlpx", "--out", str(out),
               "--json", *extra]  # fmt: skip
        err_path = out / "crawl.stderr"
        out.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        with err_path.open("wb") as err:
            crawl = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT)
            watchdog = threading.Timer(duration + 60, _dump_and_kill, (crawl,))
            watchdog.start()
            _, status, _usage = os.wait4(crawl.pid, 0)
            watchdog.cancel()
        seconds = time.monotonic() - started
        exited_at = time.time()
        crawl.returncode = os.waitstatus_to_exitcode(status)
        rss_kb = float(rss_path.read_text().split()[1]) if rss_path.exists() else float("inf")
    finally:
        if sybil.stdin is not None:
            sybil.stdin.close()
        try:
            sybil.wait(timeout=10)
        except subprocess.TimeoutExpired:
            sybil.kill()
            sybil.wait()
    meta: dict[str, Any] = {}
    nodes = 0
    files = sorted(out.glob("crawl-*.jsonl"))
    if files:
        with files[-1].open(encoding="utf-8") as fh:
            meta = json.loads(fh.readline()).get("meta", {})
            nodes = sum(1 for _ in fh)
    stderr = err_path.read_text(encoding="utf-8", errors="replace")
    return SybilRun(seconds, exited_at, rss_kb / 1024, crawl.returncode, meta, nodes, stderr)


def _dump_and_kill(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGUSR1)
    time.sleep(1.0)
    proc.kill()
