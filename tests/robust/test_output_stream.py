"""Crawl output reads back exactly (JSONL written line by line, the JSON snapshot); a failed write leaves nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.sim.synthetic import synthetic_snapshot
from monitor.snapshot import read_json, read_jsonl, write_json, write_jsonl


def test_streamed_jsonl_and_json_round_trip(tmp_path: Path) -> None:
    snap = synthetic_snapshot(300, seed=4, started_at=1_800_000_000.0)
    write_jsonl(snap.nodes, tmp_path / "c.jsonl", snap.meta)
    meta, nodes = read_jsonl(tmp_path / "c.jsonl")
    assert meta == snap.meta and tuple(nodes) == snap.nodes
    write_json(snap, tmp_path / "s.json")
    assert read_json(tmp_path / "s.json") == snap


def test_empty_snapshot_streams_to_valid_json(tmp_path: Path) -> None:
    snap = synthetic_snapshot(0, seed=1).replace_nodes(())
    write_json(snap, tmp_path / "s.json")
    assert read_json(tmp_path / "s.json").nodes == ()


def test_failed_write_leaves_no_partial_file(tmp_path: Path) -> None:
    snap = synthetic_snapshot(10, seed=2)

    def boom() -> object:
        yield snap.nodes[0]
        raise RuntimeError("crawl bug mid-write")

    path = tmp_path / "c.jsonl"
    with pytest.raises(RuntimeError):
        write_jsonl(boom(), path, snap.meta)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []
