"""The snapshot: one data model shared by the crawler, attribution, analysis and every output.

A snapshot is crawl metadata plus one record per node. On disk it is versioned JSON (``"schema": 2``) that
round-trips losslessly, and a CSV of nodes for spreadsheets. Timestamps are UNIX seconds (float, UTC).

On disk: ``.json`` (indented, diffable) or ``.json.gz`` (compact, gzip); both are read and written by msgspec, which
decodes straight into these dataclasses with their types checked (see pyproject.toml for why msgspec).

Schema 2 added, with defaults that keep schema-1 files readable: per node ``protocols`` (which discovery protocols
saw it), ``layer`` (execution / consensus / unknown) and ``eth2`` (the consensus ENR entry); per attribution
``category`` (cloud / hosting / isp / education / government / unknown); per crawl ``vantage``.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import gc
import gzip
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from monitor.errors import SnapshotError
from monitor.fileio import atomic_write_bytes, atomic_write_lines, atomic_write_text
from monitor.snapshot_check import check_node

__all__ = [
    "SCHEMA_VERSION",
    "NetworkVerdict",
    "Layer",
    "HostingCategory",
    "Eth2Info",
    "ForkIdInfo",
    "ClientInfo",
    "Attribution",
    "NodeRecord",
    "CrawlMeta",
    "Snapshot",
    "iso_utc",
    "to_plain",
    "write_json",
    "read_json",
    "encode_json",
    "decode_json",
    "gc_paused",
    "write_csv",
    "write_jsonl",
    "read_jsonl",
]

SCHEMA_VERSION = 2
READABLE_SCHEMAS = frozenset({1, 2})

NetworkVerdict = Literal["mainnet", "other", "unknown"]
Layer = Literal["execution", "consensus", "unknown"]
"""Which Ethereum layer a node serves: ``execution`` from an ENR ``eth`` entry or an RLPx eth Status,
``consensus`` from an ENR ``eth2`` entry. The discovery protocol alone never decides it (execution clients run
discv5 too)."""
HostingCategory = Literal["cloud", "hosting", "isp", "education", "government", "unknown"]
LAYERS: tuple[Layer, ...] = ("execution", "consensus", "unknown")
HOSTING_CATEGORIES: tuple[HostingCategory, ...] = ("cloud", "hosting", "isp", "education", "government", "unknown")


# Constraints the typed decoder checks while it reads (in C, at no measurable cost); a record that breaks one takes
# the checked path of ``decode_json``, which names the record and the field. Python code sees plain str/int/float.
IPText = Annotated[str, msgspec.Meta(pattern=r"^[0-9A-Fa-f:.]{2,45}$")]
Port = Annotated[int, msgspec.Meta(ge=0, le=65535)]
Seconds = Annotated[float, msgspec.Meta(ge=0)]


def iso_utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class ForkIdInfo:
    hash: str  # 4 bytes, hex without 0x
    next: int


@dataclass(frozen=True, slots=True)
class Eth2Info:
    """The consensus-layer ENR entry ``eth2``: SSZ ENRForkID (consensus-specs phase0 p2p interface)."""

    fork_digest: str  # 4 bytes, hex without 0x
    next_fork_version: str  # 4 bytes, hex
    next_fork_epoch: int


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """What an RLPx Hello / eth Status (or an admin_peers entry) said about the node."""

    raw: str
    name: str = ""
    version: str = ""
    os: str = ""
    language: str = ""
    capabilities: tuple[str, ...] = ()
    network_id: int | None = None
    genesis: str | None = None
    disconnect_reason: str | None = None
    fork_id: ForkIdInfo | None = None  # from the eth Status (the ENR's own is NodeRecord.fork_id)


@dataclass(frozen=True, slots=True)
class Attribution:
    """Where an IP is hosted, and which dataset (of which date) said so."""

    provider: str  # "aws", "hetzner", ... or "other:<AS name>" / "unknown"
    region: str | None = None
    country: str | None = None
    asn: int | None = None
    as_name: str | None = None
    source: str = ""
    data_date: str | None = None  # YYYY-MM-DD of the dataset
    category: HostingCategory = "unknown"  # cloud / hosting (data centres) / isp (access networks) / ...


@dataclass(frozen=True, slots=True)
class NodeRecord:
    node_id: str  # hex keccak256(pubkey)
    pubkey: str  # hex, 64 bytes
    ip: IPText | None  # as observed: UDP source of its packets (or the address we reached it at)
    udp_port: Port | None
    tcp_port: Port | None
    advertised_ip: IPText | None = None  # as the node itself advertised (ENR / PING from-endpoint)
    enr: str | None = None  # "enr:..." text form
    enr_seq: int | None = None
    enr_fields: Mapping[str, str] = field(default_factory=dict)  # decoded extra keys, text values
    fork_id: ForkIdInfo | None = None
    first_seen: Seconds = 0.0
    last_seen: Seconds = 0.0
    answered_ping: bool = False
    bonded: bool = False
    answered_findnode: bool = False
    neighbors_returned: int = 0
    network: NetworkVerdict = "unknown"
    network_reason: str = ""
    source: str = "discv4"
    client: ClientInfo | None = None
    rlpx: str | None = None  # outcome of our RLPx dial ("ok", "too_many_peers", "timeout", ...); None: not dialled
    attribution: Attribution | None = None
    protocols: tuple[str, ...] = ()  # discovery protocols that saw the node: "discv4", "discv5"
    layer: Layer = "unknown"
    eth2: Eth2Info | None = None

    @property
    def reachable(self) -> bool:
        return self.answered_ping


@dataclass(frozen=True, slots=True)
class CrawlMeta:
    id: str
    network: str  # "mainnet", "devnet", ...
    started_at: float
    ended_at: float
    tool_version: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    datasets: Mapping[str, str] = field(default_factory=dict)  # dataset name -> data date
    counters: Mapping[str, int] = field(default_factory=dict)
    filtered: Mapping[str, int] = field(default_factory=dict)  # reason -> count (never silently dropped)
    simulated: bool = False
    vantage: str = ""  # name of the crawler's vantage point (default: the host name)


@dataclass(frozen=True, slots=True, repr=False)
class Snapshot:
    meta: CrawlMeta
    nodes: tuple[NodeRecord, ...]

    def __repr__(self) -> str:
        # Short on purpose: asyncio.run() may repr its main task's result (see CrawlOutcome.__repr__).
        return f"Snapshot({self.meta.network}, {len(self.nodes)} nodes, id {self.meta.id})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "meta": to_plain(self.meta),
            "nodes": [to_plain(n) for n in self.nodes],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Snapshot:
        schema = data.get("schema")
        if schema not in READABLE_SCHEMAS:
            raise SnapshotError(
                f"unsupported snapshot schema {schema!r} (this version reads {sorted(READABLE_SCHEMAS)})"
            )
        try:
            meta = CrawlMeta(**data["meta"])
        except (KeyError, TypeError, ValueError) as err:
            raise SnapshotError(f"malformed snapshot: meta: {err}") from err
        raw = data.get("nodes")
        if not isinstance(raw, list):
            raise SnapshotError("malformed snapshot: 'nodes' is not a list")
        return cls(meta=meta, nodes=tuple(_node_at(i, n) for i, n in enumerate(raw)))

    def replace_nodes(self, nodes: Iterable[NodeRecord]) -> Snapshot:
        return dataclasses.replace(self, nodes=tuple(nodes))


def node_to_dict(node: NodeRecord) -> dict[str, Any]:
    plain: dict[str, Any] = to_plain(node)
    return plain


def _node_at(index: int, data: Any, where: str = "node") -> NodeRecord:
    try:
        return node_from_dict(data)
    except (SnapshotError, KeyError, TypeError, ValueError) as err:
        node_id = data.get("node_id") if isinstance(data, Mapping) else None
        name = f" ({str(node_id)[:16]})" if isinstance(node_id, str) else ""
        raise SnapshotError(f"malformed snapshot: {where} {index}{name}: {err}") from err


def node_from_dict(data: Mapping[str, Any]) -> NodeRecord:
    check_node(data)  # types too, so a bad field fails here and not in a report (SnapshotError names it)
    d = dict(data)
    if d.get("fork_id") is not None:
        d["fork_id"] = ForkIdInfo(**d["fork_id"])
    if d.get("client") is not None:
        c = dict(d["client"])
        c["capabilities"] = tuple(c.get("capabilities", ()))
        if c.get("fork_id") is not None:
            c["fork_id"] = ForkIdInfo(**c["fork_id"])
        d["client"] = ClientInfo(**c)
    if d.get("attribution") is not None:
        d["attribution"] = Attribution(**d["attribution"])
    if d.get("eth2") is not None:
        d["eth2"] = Eth2Info(**d["eth2"])
    d["protocols"] = tuple(d.get("protocols") or ())
    d["enr_fields"] = dict(d.get("enr_fields") or {})
    return NodeRecord(**d)


def to_plain(obj: Any) -> Any:
    """Dataclasses, mappings and sequences as JSON-ready dicts and lists (dates as ISO text)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Mapping):
        return {str(k): to_plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_plain(v) for v in obj]
    if isinstance(obj, date):
        return obj.isoformat()
    return obj


def _atomic_write(path: Path, text: str) -> None:
    atomic_write_text(path, text, SnapshotError)


@dataclass(frozen=True, slots=True)
class _Document:
    """The snapshot file as msgspec decodes it: typed, so records come out as NodeRecords in one C pass."""

    schema: int
    meta: CrawlMeta
    nodes: tuple[NodeRecord, ...]


_DECODER = msgspec.json.Decoder(_Document)
_ENCODER = msgspec.json.Encoder()
_GZIP_LEVEL = 1  # 100,000 records: level 1 writes in well under a second and still shrinks the file about 8-fold


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """The collector paused for a block that allocates many long-lived or acyclic objects.

    Decoding a large snapshot allocates millions of objects that live on; every allocation burst would start a
    full garbage collection over all the earlier ones (measured: 3-4 of the 4.5 s of a 100,000-node load). The
    analysis of such a snapshot likewise triggers full collections that traverse the snapshot's records again and
    again. Neither forms reference cycles, so pausing the collector loses nothing; it resumes afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _is_gzip(path: Path) -> bool:
    return path.name.endswith(".gz")


def encode_json(snapshot: Snapshot, *, indent: bool = True) -> bytes:
    """The file form of ``snapshot`` (the same document as ``to_dict``), indented unless ``indent`` is False."""
    raw = _ENCODER.encode(_Document(SCHEMA_VERSION, snapshot.meta, snapshot.nodes))
    return msgspec.json.format(raw, indent=1) + b"\n" if indent else raw + b"\n"


def decode_json(raw: bytes, origin: str = "<bytes>") -> Snapshot:
    """Parse a snapshot document; schema-1 files and anything the typed decoder refuses take the checked path."""
    with gc_paused():
        try:
            doc = _DECODER.decode(raw)
        except msgspec.MsgspecError:
            doc = None
        if doc is not None and doc.schema in READABLE_SCHEMAS:
            return Snapshot(meta=doc.meta, nodes=doc.nodes)
        try:
            data = msgspec.json.decode(raw)
        except msgspec.MsgspecError as err:
            raise SnapshotError(f"cannot read snapshot {origin}: {err}") from err
        if not isinstance(data, dict):
            raise SnapshotError(f"{origin}: not a snapshot object")
        return Snapshot.from_dict(data)


def write_json(snapshot: Snapshot, path: Path) -> None:
    """Write ``path``: indented JSON, or compact gzipped JSON when the name ends in ``.gz``."""
    if _is_gzip(path):
        atomic_write_bytes(path, gzip.compress(encode_json(snapshot, indent=False), _GZIP_LEVEL), SnapshotError)
    else:
        atomic_write_bytes(path, encode_json(snapshot), SnapshotError)


def read_json(path: Path) -> Snapshot:
    """Read a snapshot written by :func:`write_json` (``.json`` or ``.json.gz``)."""
    try:
        raw = path.read_bytes()
        if _is_gzip(path):
            raw = gzip.decompress(raw)
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        raise SnapshotError(f"cannot read snapshot {path}: {err}") from err
    return decode_json(raw, str(path))


CSV_COLUMNS = (
    "node_id", "ip", "udp_port", "tcp_port", "advertised_ip", "network", "network_reason", "fork_hash", "fork_next",
    "enr_seq", "answered_ping", "bonded", "answered_findnode", "neighbors_returned", "first_seen", "last_seen",
    "source", "client", "rlpx", "provider", "region", "country", "asn", "as_name", "attribution_source", "data_date",
    "category", "protocols", "layer", "fork_digest",
)  # fmt: skip


def _csv_row(n: NodeRecord) -> list[Any]:
    a = n.attribution
    return [
        n.node_id, n.ip, n.udp_port, n.tcp_port, n.advertised_ip, n.network, n.network_reason,
        n.fork_id.hash if n.fork_id else "", n.fork_id.next if n.fork_id else "",
        n.enr_seq, n.answered_ping, n.bonded, n.answered_findnode, n.neighbors_returned,
        iso_utc(n.first_seen), iso_utc(n.last_seen), n.source, n.client.raw if n.client else "", n.rlpx,
        a.provider if a else "", a.region if a else "", a.country if a else "", a.asn if a else "",
        a.as_name if a else "", a.source if a else "", a.data_date if a else "",
        a.category if a else "", "+".join(n.protocols), n.layer, n.eth2.fork_digest if n.eth2 else "",
    ]  # fmt: skip


def write_csv(snapshot: Snapshot, path: Path) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(CSV_COLUMNS)
    for node in snapshot.nodes:
        writer.writerow(["" if v is None else v for v in _csv_row(node)])
    _atomic_write(path, buf.getvalue())


def write_jsonl(nodes: Iterable[NodeRecord], path: Path, meta: CrawlMeta | None = None) -> None:
    """Raw crawl output: an optional first line ``{"schema", "meta"}``, then one node object per line, each line
    encoded and written on its own (the whole file never exists in memory: a Sybil-sized crawl's was 215 MB)."""

    def lines() -> Iterator[str]:
        if meta is not None:
            yield _ENCODER.encode({"schema": SCHEMA_VERSION, "meta": meta}).decode() + "\n"
        for node in nodes:
            yield _ENCODER.encode(node).decode() + "\n"

    atomic_write_lines(path, lines(), SnapshotError)


def read_jsonl(path: Path) -> tuple[CrawlMeta | None, list[NodeRecord]]:
    meta: CrawlMeta | None = None
    nodes: list[NodeRecord] = []
    try:
        with path.open(encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                obj = json.loads(line)
                if isinstance(obj, dict) and "meta" in obj:
                    meta = CrawlMeta(**obj["meta"])
                else:
                    nodes.append(_node_at(number, obj, "line"))
    except (OSError, ValueError, TypeError, KeyError) as err:
        raise SnapshotError(f"cannot read {path}: {err}") from err
    return meta, nodes
