"""Generate the Grafana dashboards of eth-hosting-monitor from code.

    .venv/bin/python dashboards/generate.py           # rewrite the committed JSON
    .venv/bin/python dashboards/generate.py --check   # exit 1 if the committed JSON is not what this script makes

Needs ``grafana-foundation-sdk==1769699379!11.6.0`` (a Grafana 11.6 build of the SDK; an unpinned install picks an old
build). The JSON is committed so that Grafana provisioning (docker-compose.yml) needs no Python at all; the tests in
tests/dashboards/ check that the committed file equals this script's output, validate it against the dashboard schema of
``@grafana/schema`` 11.6.0 and run every query against a real Prometheus.

The dashboards themselves are built by the package dashboards/dashgen/ (one module per row group); this script is its
command line. Metric names are the contract of ``monitor serve`` (see dashboards/README.md). Recording rules named
``eth_hosting:*`` come from dashboards/prometheus/rules/eth-hosting-recording.yml.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OUT_DIR = HERE / "grafana" / "dashboards"
OVERVIEW_FILE = OUT_DIR / "eth-hosting-overview.json"

# dashgen sits next to this script; the tests load the script by path, so its folder is not always on sys.path.
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from dashgen import build_overview  # noqa: E402


def dashboards() -> dict[Path, dict[str, Any]]:
    """Every generated dashboard by its output path."""
    return {OVERVIEW_FILE: build_overview()}


def render(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare with the committed files; exit 1 if stale")
    args = parser.parse_args(argv)
    stale = []
    for path, doc in dashboards().items():
        text = render(doc)
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            sys.stdout.write(f"wrote {path.relative_to(HERE.parent)}\n")
    for path in stale:
        sys.stderr.write(f"stale: {path.relative_to(HERE.parent)} (run dashboards/generate.py)\n")
    return 1 if stale else 0


if __name__ == "__main__":
    raise SystemExit(main())
