"""Every IP dataset the tool uses, with its source, data date and age (``monitor data status``)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor.hosting.asn import ProviderAsns, load_geoip2fast
from monitor.hosting.bundled import cloudip_path, load_cloudip
from monitor.hosting.store import DATASETS, DatasetStore

__all__ = ["dataset_status"]


def _age_days(date: str | None, now: float) -> float | None:
    try:
        then = datetime.strptime(date or "", "%Y-%m-%d").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None
    return round((now - then) / 86_400, 1)


def dataset_status(data_dir: Path, now: float | None = None) -> list[dict[str, Any]]:
    now = time.time() if now is None else now
    cloud = load_cloudip()  # columns: only its name and date are shown
    geo = load_geoip2fast()
    rows: list[dict[str, Any]] = [
        {"name": cloud.name, "kind": "bundled", "source": str(cloudip_path()), "data_date": cloud.data_date},
        {"name": geo.source, "kind": "bundled", "source": "geoip2fast package (GeoLite2)", "data_date": geo.data_date},
        {"name": "asn-providers", "kind": "bundled", "source": "monitor/hosting/data/asn_providers.csv",
         "data_date": ProviderAsns.bundled().data_date},
    ]  # fmt: skip
    manifest = DatasetStore(data_dir).manifest()
    for spec in DATASETS:
        entry = manifest.get(spec.name)
        rows.append({
            "name": spec.name, "kind": "refreshed" if entry else "not fetched",
            "source": entry.url if entry else spec.url, "data_date": entry.data_date if entry else None,
            "fetched_at": datetime.fromtimestamp(entry.fetched_at, UTC).isoformat() if entry else None,
            "size": entry.size if entry else None, "sha256": entry.sha256 if entry else None,
        })  # fmt: skip
    for row in rows:
        row["age_days"] = _age_days(row["data_date"], now)
    return rows
