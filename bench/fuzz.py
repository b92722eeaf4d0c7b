"""Fuzz every decoder on demand: millions of cases, with hypothesis (see tests/fuzz_targets.py for why not atheris).

Usage::

    .venv/bin/python bench/fuzz.py --cases 10000000                # every target, 10 M cases each
    .venv/bin/python bench/fuzz.py --targets discv4 enr --cases 100000
    .venv/bin/python bench/fuzz.py --write-corpus                  # (re)write tests/fuzz_corpus/<target>/seed-*.bin

Cases run in chunks of 10,000 hypothesis examples; a failure stops the run with the shrunk input, which hypothesis
also keeps in bench/.fuzz-db (its example database: the next run replays it first). Prints cases per second.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from fuzz_targets import TARGETS  # noqa: E402
from fuzzing import CORPUS, check, inputs  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis.database import DirectoryBasedExampleDatabase  # noqa: E402

CHUNK = 10_000


def write_corpus() -> None:
    for name, target in TARGETS.items():
        folder = CORPUS / name
        folder.mkdir(parents=True, exist_ok=True)
        for i, data in enumerate(target.seeds()):
            (folder / f"seed-{i}.bin").write_bytes(data)
        print(f"{name}: {len(target.seeds())} seeds in {folder.relative_to(ROOT)}")


def fuzz(name: str, cases: int, database: DirectoryBasedExampleDatabase) -> None:
    for data in TARGETS[name].seeds():
        check(name, data)  # warm the target's caches first
    done, started = 0, time.monotonic()
    while done < cases:
        chunk = min(CHUNK, cases - done)

        @settings(max_examples=chunk, deadline=None, database=database, suppress_health_check=list(HealthCheck))
        @given(inputs(name))
        def run(data: bytes) -> None:
            check(name, data)

        run()
        done += chunk
        rate = done / (time.monotonic() - started)
        print(f"\r{name}: {done:,} / {cases:,} cases, {rate:,.0f}/s", end="", flush=True)
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000, help="cases per target (100000)")
    parser.add_argument("--targets", nargs="+", choices=sorted(TARGETS), default=sorted(TARGETS))
    parser.add_argument("--write-corpus", action="store_true", help="write the seed corpus and exit")
    args = parser.parse_args()
    if args.write_corpus:
        write_corpus()
        return
    database = DirectoryBasedExampleDatabase(str(Path(__file__).resolve().parent / ".fuzz-db"))
    for name in args.targets:
        fuzz(name, args.cases, database)


if __name__ == "__main__":
    main()
