"""The user data directory: refreshed dataset files plus a manifest of where and when each came from.

Layout: ``<data dir>/datasets/<file>`` and ``<data dir>/datasets/manifest.json`` (name → URL, file, data date, fetch
time, size, sha256). Files are replaced atomically (temporary file + ``os.replace``) and the manifest is written last,
so a crash or a bad download never leaves a half file or a manifest pointing at one. Standard library only.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from monitor.errors import DatasetError
from monitor.fileio import atomic_write_bytes as write_atomically
from monitor.paths import default_data_dir  # re-exported: callers import it from here

__all__ = ["DatasetSpec", "StoredDataset", "DatasetStore", "DATASETS", "default_data_dir", "atomic_write_bytes"]


@dataclass(frozen=True, slots=True)
class DatasetSpec:
    """A refreshable dataset: its canonical URL, the reader that validates it and a size floor against truncation."""

    name: str
    url: str
    kind: str  # key of formats.READERS, "geofeed:<provider>", "iptoasn" or "asnlist"
    filename: str
    min_bytes: int


# Azure publishes ServiceTags under a weekly URL with the date in its name; pass the current one with
# ``monitor data update --url azure-service-tags=<url>`` (the date is read from it).
DATASETS: tuple[DatasetSpec, ...] = (
    DatasetSpec(
        "aws-ip-ranges", "https://ip-ranges.amazonaws.com/ip-ranges.json", "aws", "aws-ip-ranges.json", 100_000
    ),
    DatasetSpec("gcp-cloud", "https://www.gstatic.com/ipranges/cloud.json", "gcp", "gcp-cloud.json", 10_000),
    DatasetSpec(
        "azure-service-tags",
        "https://download.microsoft.com/download/7/1/D/71D86715-5596-4529-9B13-DA13A5DE5B63/ServiceTags_Public_20261123.json",
        "azure",
        "azure-service-tags.json",
        1_000_000,
    ),
    DatasetSpec(
        "oracle-public-ip-ranges",
        "https://docs.oracle.com/en-us/iaas/tools/public_ip_ranges.json",
        "oracle",
        "oracle-public-ip-ranges.json",
        10_000,
    ),
    DatasetSpec(
        "digitalocean-geofeed", "https://digitalocean.com/geo/google.csv", "digitalocean", "do-geo.csv", 10_000
    ),
    DatasetSpec("linode-geofeed", "https://geoip.linode.com/", "geofeed:linode", "linode-geofeed.csv", 1_000),
    DatasetSpec("vultr-geofeed", "https://geofeed.constant.com/?text", "geofeed:vultr", "vultr-geofeed.csv", 1_000),
    DatasetSpec(
        "iptoasn", "https://iptoasn.com/data/ip2asn-combined.tsv.gz", "iptoasn", "ip2asn-combined.tsv.gz", 1_000_000
    ),
    # X4BNet's public datacenter ASN list: every AS on it gets category "hosting" unless the curated table says more
    DatasetSpec(
        "datacenter-asns",
        "https://raw.githubusercontent.com/X4BNet/lists_vpn/main/input/datacenter/ASN.txt",
        "asnlist",
        "datacenter-asns.txt",
        5_000,
    ),
)


@dataclass(frozen=True, slots=True)
class StoredDataset:
    name: str
    url: str
    file: str
    data_date: str
    fetched_at: float
    size: int
    sha256: str


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write a dataset file atomically; an OS failure is a DatasetError naming the file (previous file kept)."""
    write_atomically(path, data, DatasetError)


class DatasetStore:
    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "datasets"
        self.manifest_path = self.root / "manifest.json"

    def manifest(self) -> dict[str, StoredDataset]:
        if not self.manifest_path.exists():
            return {}
        try:
            doc = json.loads(self.manifest_path.read_text("utf-8"))
            return {name: StoredDataset(**entry) for name, entry in doc.items()}
        except (OSError, ValueError, TypeError, AttributeError) as err:
            raise DatasetError(f"unreadable dataset manifest {self.manifest_path}: {err}") from err

    def path_of(self, entry: StoredDataset) -> Path:
        return self.root / entry.file

    def read(self, entry: StoredDataset) -> bytes:
        try:
            data = self.path_of(entry).read_bytes()
        except OSError as err:
            raise DatasetError(f"dataset {entry.name}: cannot read {self.path_of(entry)}: {err}") from err
        if hashlib.sha256(data).hexdigest() != entry.sha256:
            raise DatasetError(f"dataset {entry.name}: checksum mismatch for {self.path_of(entry)}")
        return data

    def put(self, spec: DatasetSpec, url: str, data: bytes, data_date: str, now: float | None = None) -> StoredDataset:
        """Store an already validated download; the previous file stays until this one is complete."""
        entry = StoredDataset(
            spec.name, url, spec.filename, data_date, time.time() if now is None else now, len(data),
            hashlib.sha256(data).hexdigest(),
        )  # fmt: skip
        atomic_write_bytes(self.root / spec.filename, data)
        manifest = self.manifest()
        manifest[spec.name] = entry
        text = json.dumps({k: asdict(v) for k, v in sorted(manifest.items())}, indent=1)
        atomic_write_bytes(self.manifest_path, text.encode())
        return entry
