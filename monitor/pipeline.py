"""One snapshot end to end: crawl -> attribute -> (the caller analyses and renders).

Both ``monitor snapshot`` and the scheduled job of ``monitor serve`` go through :func:`take_snapshot`, so a
scheduled figure and a one-off figure are computed the same way.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from monitor.crawl.engine import EngineProgress
from monitor.crawl.merge import merge_rpc, sample_rpc
from monitor.crawl.output import stream_json
from monitor.crawl.runner import CrawlSettings, run_crawl
from monitor.hosting import Resolver, attribute_snapshot_online
from monitor.snapshot import Snapshot, write_csv

__all__ = ["take_snapshot", "snapshot_paths", "save_snapshot"]


async def take_snapshot(
    settings: CrawlSettings,
    resolver: Resolver,
    *,
    simulated: bool = False,
    rpc_urls: Sequence[str] = (),
    on_progress: Callable[[EngineProgress], None] | None = None,
    clock: Callable[[], float] = time.time,
) -> Snapshot:
    outcome = await run_crawl(settings, on_progress=on_progress, clock=clock)
    nodes, counters = list(outcome.nodes), dict(outcome.meta.counters)
    if rpc_urls:
        samples = await sample_rpc(rpc_urls, per_call=max(settings.timeout * 5, 5.0))
        nodes, rpc_counters = merge_rpc(nodes, samples, clock())
        counters.update(rpc_counters)
    meta = dataclasses.replace(outcome.meta, simulated=simulated, counters=counters)
    snapshot = Snapshot(meta=meta, nodes=tuple(nodes))
    return await attribute_snapshot_online(snapshot, resolver)


def snapshot_paths(snapshot: Snapshot, out: Path) -> tuple[Path, Path]:
    stamp = datetime.fromtimestamp(snapshot.meta.started_at, UTC).strftime("%Y%m%dT%H%M%SZ")
    return out / f"snapshot-{stamp}.json", out / f"snapshot-{stamp}.csv"


def save_snapshot(snapshot: Snapshot, out: Path) -> tuple[Path, Path]:
    json_path, csv_path = snapshot_paths(snapshot, out)
    stream_json(snapshot, json_path)  # node by node: no second copy of the snapshot in memory
    write_csv(snapshot, csv_path)
    return json_path, csv_path
