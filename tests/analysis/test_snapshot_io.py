"""Snapshot I/O through msgspec (issue 18 item 3): same document as before, gzip on request, old files readable."""

from __future__ import annotations

import dataclasses
import gzip
import json
from pathlib import Path

import pytest

from monitor.errors import SnapshotError
from monitor.sim.synthetic import synthetic_snapshot
from monitor.snapshot import Eth2Info, ForkIdInfo, decode_json, encode_json, read_json, write_json


def _snap():  # type: ignore[no-untyped-def]
    snap = synthetic_snapshot(300, seed=4)
    first = dataclasses.replace(
        snap.nodes[0],
        enr_fields={"x": "ü"},
        fork_id=ForkIdInfo("fc64ec04", 1150000),
        eth2=Eth2Info("6a95a1a9", "05000000", 2**64 - 1),
        protocols=("discv4", "discv5"),
    )
    return snap.replace_nodes((first, *snap.nodes[1:]))


def test_document_is_the_same_json_as_to_dict() -> None:
    snap = _snap()
    assert json.loads(encode_json(snap)) == json.loads(json.dumps(snap.to_dict()))
    assert json.loads(encode_json(snap, indent=False)) == snap.to_dict()


@pytest.mark.parametrize("name", ["s.json", "s.json.gz"])
def test_round_trip(tmp_path: Path, name: str) -> None:
    snap = _snap()
    path = tmp_path / name
    write_json(snap, path)
    assert read_json(path) == snap
    if name.endswith(".gz"):
        assert json.loads(gzip.decompress(path.read_bytes())) == snap.to_dict()
    else:
        assert path.read_text(encoding="utf-8").startswith('{\n "schema": 2')


def test_schema_one_document_is_read_with_defaults() -> None:
    data = _snap().to_dict()
    data["schema"] = 1
    for n in data["nodes"]:
        for key in ("protocols", "layer", "eth2"):
            n.pop(key)
        if n["attribution"] is not None:
            n["attribution"].pop("category")
    data["meta"].pop("vantage")
    snap = decode_json(json.dumps(data).encode())
    assert snap.nodes[0].layer == "unknown" and snap.nodes[0].protocols == ()
    assert all(n.attribution is None or n.attribution.category == "unknown" for n in snap.nodes)


def test_bad_documents_raise_snapshot_errors(tmp_path: Path) -> None:
    data = _snap().to_dict()
    data["schema"] = 99
    with pytest.raises(SnapshotError, match="unsupported snapshot schema 99"):
        decode_json(json.dumps(data).encode())
    with pytest.raises(SnapshotError, match="malformed"):
        decode_json(b'{"schema": 2, "meta": {"id": "x"}, "nodes": []}')
    with pytest.raises(SnapshotError):
        decode_json(b"[1, 2")
    (tmp_path / "bad.json.gz").write_bytes(b"not gzip")
    with pytest.raises(SnapshotError, match="cannot read"):
        read_json(tmp_path / "bad.json.gz")
