"""Crawl output written record by record: JSON lines, and the JSON snapshot, never whole in memory.

``snapshot.write_jsonl`` joins every line into one string and ``write_json`` serialises ``to_dict()`` (a second
copy of every record as dicts) before writing: a 300k-node crawl peaked at 1.12 GB while writing (issue 16). Here
each record is serialised and written on its own; the files read back with ``read_jsonl`` / ``read_json``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from monitor.errors import SnapshotError
from monitor.fileio import atomic_write_lines
from monitor.snapshot import SCHEMA_VERSION, CrawlMeta, NodeRecord, Snapshot, to_plain

__all__ = ["stream_jsonl", "stream_json"]


def stream_jsonl(nodes: Iterable[NodeRecord], path: Path, meta: CrawlMeta | None = None) -> None:
    """The same lines as ``write_jsonl``: an optional ``{"schema", "meta"}`` line, then one node per line."""
    atomic_write_lines(path, _jsonl(nodes, meta), SnapshotError)


def _jsonl(nodes: Iterable[NodeRecord], meta: CrawlMeta | None) -> Iterator[str]:
    if meta is not None:
        yield json.dumps({"schema": SCHEMA_VERSION, "meta": to_plain(meta)}) + "\n"
    for node in nodes:
        yield json.dumps(to_plain(node)) + "\n"


def stream_json(snapshot: Snapshot, path: Path) -> None:
    """A snapshot document ``read_json`` reads (one node per line inside ``"nodes"``), written node by node."""
    atomic_write_lines(path, _json(snapshot), SnapshotError)


def _json(snapshot: Snapshot) -> Iterator[str]:
    yield f'{{"schema": {SCHEMA_VERSION},\n"meta": {json.dumps(to_plain(snapshot.meta), indent=1)},\n"nodes": ['
    for i, node in enumerate(snapshot.nodes):
        yield ("\n" if i == 0 else ",\n") + json.dumps(to_plain(node))
    yield "\n]}\n"
