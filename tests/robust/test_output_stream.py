"""Crawl output written node by node reads back exactly (JSONL and the JSON snapshot)."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.crawl.output import stream_json, stream_jsonl
from monitor.sim.synthetic import synthetic_snapshot
from monitor.snapshot import read_json, read_jsonl


def test_streamed_jsonl_and_json_round_trip(tmp_path: Path) -> None:
    snap = synthetic_snapshot(300, seed=4, started_at=1_800_000_000.0)
    stream_jsonl(snap.nodes, tmp_path / "c.jsonl", snap.meta)
    meta, nodes = read_jsonl(tmp_path / "c.jsonl")
    assert meta == snap.meta and tuple(nodes) == snap.nodes
    stream_json(snap, tmp_path / "s.json")
    assert read_json(tmp_path / "s.json") == snap


def test_empty_snapshot_streams_to_valid_json(tmp_path: Path) -> None:
    snap = synthetic_snapshot(0, seed=1).replace_nodes(())
    stream_json(snap, tmp_path / "s.json")
    assert read_json(tmp_path / "s.json").nodes == ()


def test_failed_write_leaves_no_partial_file(tmp_path: Path) -> None:
    snap = synthetic_snapshot(10, seed=2)

    def boom() -> object:
        yield snap.nodes[0]
        raise RuntimeError("crawl bug mid-write")

    path = tmp_path / "c.jsonl"
    with pytest.raises(RuntimeError):
        stream_jsonl(boom(), path, snap.meta)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []
