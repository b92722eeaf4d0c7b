"""Coverage of the cluster-robust 95 % share interval (IP as cluster) on simulated snapshots with known truth.

    .venv/bin/python bench/coverage.py [--runs 1000]

Prints, per setting (hosts per snapshot, true share), the coverage of our interval, of the plain Wilson interval on
node counts, and the mean design effect; exits non-zero when the main setting (1,000 and 3,000 hosts, true share
20 %: a mainnet-sized per-node population) leaves 93-97 %. The simulation itself: tests/analysis/coverage_sim.py.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "analysis"))

from coverage_sim import simulate

MAIN = ((1000, 0.2), (3000, 0.2))
OTHER = ((3000, 0.05), (400, 0.2), (400, 0.05))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    args = parser.parse_args()
    print(f"{'hosts':>6} {'truth':>6} {'clustered':>10} {'wilson':>7} {'deff':>6}")
    ok = True
    for ips, truth in MAIN + OTHER:
        coverage, naive, deff = simulate(args.runs, ips, truth, seed=ips + int(truth * 1000))
        flag = ""
        if (ips, truth) in MAIN:
            good = 0.93 <= coverage <= 0.97
            ok &= good
            flag = "" if good else "  <- outside 93-97 %"
        print(f"{ips:>6} {truth:>6.2f} {coverage:>10.3f} {naive:>7.3f} {deff:>6.1f}{flag}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
