"""One fuzzing entry point per decoder of untrusted bytes, and seed inputs for each (issue 16).

A target takes bytes and must either return or raise the decoder's documented error (``DecodeError`` and its
children, ``SnapshotError``, ``DatasetError``, ``ConfigError``); any other exception is a bug. The seeds are valid
encodings built with fixed keys, so that mutations of them reach past the first length or checksum test.

Driven by hypothesis (tests/robust/test_fuzz.py: a bounded number of cases in CI) and by ``bench/fuzz.py`` (millions
on demand). Hypothesis rather than atheris: atheris needs a libFuzzer-instrumented build and has no wheel for this
interpreter offline, while hypothesis is already a dev dependency, runs inside pytest, shrinks a failure to a
minimal input and keeps it in its example database for replay. Coverage guidance, atheris's strength, is
approximated by mutating valid seeds (the committed corpus, tests/fuzz_corpus/).
"""

from __future__ import annotations

import ipaddress
import json
import os
import tempfile
from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from monitor.discovery.enode import Enode
from monitor.discovery.enr import ENR
from monitor.discovery.v4.wire import Endpoint, ENRResponse, Neighbors, NodeEntry, Packet, Ping
from monitor.discovery.v4.wire import decode as decode_v4
from monitor.discovery.v4.wire import encode as encode_v4
from monitor.discovery.v5.messages import FindNode as FindNode5
from monitor.discovery.v5.messages import decode_message, encode_message
from monitor.discovery.v5.session import SessionLayer
from monitor.discovery.v5.wire import Ordinary, WhoAreYou, encode_packet
from monitor.errors import ConfigError, DatasetError, DecodeError, SnapshotError
from monitor.p2p.keys import PrivateKey
from monitor.rlpx.eth import decode_status
from monitor.rlpx.frame import FrameCodec
from monitor.rlpx.handshake import Secrets
from monitor.rlpx.messages import decode_p2p, split_frame
from monitor.rlpx.snappy import decompress
from monitor.snapshot import Snapshot

__all__ = ["Target", "TARGETS", "seeds"]

KEY = PrivateKey.from_seed(b"fuzz/local")
REMOTE = PrivateKey.from_seed(b"fuzz/remote")
NOW = 1_800_000_000.0


@dataclass(frozen=True)
class Target:
    run: Callable[[bytes], None]
    expected: tuple[type[Exception], ...]  # what the decoder may raise on bad input
    seeds: Callable[[], list[bytes]]


def _discv4(data: bytes) -> None:
    decode_v4(data)


def _discv4_seeds() -> list[bytes]:
    here = Endpoint(ipaddress.IPv4Address("10.0.0.1"), 30303, 30303)
    entries = tuple(
        NodeEntry(ipaddress.IPv4Address(f"10.0.0.{i + 2}"), 30303, 30303, PrivateKey.from_seed(bytes([i])).pubkey)
        for i in range(12)
    )
    record = ENR.create(REMOTE, 3, ip=ipaddress.IPv4Address("10.0.0.9"), udp=30303, tcp=30303).to_rlp()
    packets: list[Packet] = [
        Ping(4, here, here, int(NOW) + 20, 7),
        Neighbors(entries, int(NOW) + 20),
        ENRResponse(b"\x01" * 32, record),
    ]
    return [encode_v4(p, REMOTE)[0] for p in packets]


@cache
def _session() -> SessionLayer:
    return SessionLayer(KEY, ENR.create(KEY, 1), rng=lambda n: bytes(n), stats=Counter())


def _discv5(data: bytes) -> None:
    _session().receive(data, ("10.0.0.2", 9000), NOW)  # the real entry point: never raises on bad input
    with suppress(DecodeError):
        decode_message(data)  # and the message layer on its own, as if decrypted


def _discv5_seeds() -> list[bytes]:
    src = REMOTE.node_id
    whoareyou = encode_packet(WhoAreYou(bytes(12), bytes(16), 0, bytes(16)), KEY.node_id)
    ordinary = encode_packet(Ordinary(src, bytes(12), bytes(16), bytes(48)), KEY.node_id)
    return [whoareyou, ordinary, encode_message(FindNode5(b"\x01\x02", (256, 255)))]


def _enr(data: bytes) -> None:
    with suppress(DecodeError):
        ENR.from_rlp(data)
    ENR.from_text(data.decode("latin-1"))


def _enr_seeds() -> list[bytes]:
    record = ENR.create(REMOTE, 5, ip=ipaddress.IPv4Address("10.1.2.3"), udp=30303, tcp=30303)
    return [record.to_rlp(), record.to_text().encode()]


def _enode(data: bytes) -> None:
    Enode.parse(data.decode("latin-1"))


def _enode_seeds() -> list[bytes]:
    return [f"enode://{REMOTE.pubkey.hex()}@10.0.0.1:30303?discport=30301".encode()]


_SECRETS = Secrets(REMOTE.pubkey, bytes(range(32)), bytes(range(32, 64)), b"\x01" * 32, b"\x02" * 32)
_PEER_SECRETS = Secrets(KEY.pubkey, bytes(range(32)), bytes(range(32, 64)), b"\x02" * 32, b"\x01" * 32)


def _rlpx_frame(data: bytes) -> None:
    codec = FrameCodec(_SECRETS, max_frame_size=1 << 16)
    codec.feed(data)
    frame = codec.next_frame()
    while frame is not None:
        _rlpx_message(frame)
        frame = codec.next_frame()


def _rlpx_frame_seeds() -> list[bytes]:
    peer = FrameCodec(_PEER_SECRETS)
    hello = bytes.fromhex("80") + bytes.fromhex("c0")  # msg id 0, an empty list
    return [peer.encode(hello) + peer.encode(b"\x01\xc1\x04")]


def _rlpx_message(data: bytes) -> None:
    with suppress(DecodeError):
        decompress(data)
    msg_id, payload = split_frame(data)
    for compressed in (False, True):
        with suppress(DecodeError):
            decode_p2p(msg_id, payload, compressed=compressed)
    with suppress(DecodeError):
        decode_status(payload, compressed=False)


def _rlpx_message_seeds() -> list[bytes]:
    return [b"\x80\xc0", b"\x01\xc1\x04", b"\x01\x03\x08\xc1\x04"]


def _snapshot_json(data: bytes) -> None:
    try:
        doc = json.loads(data.decode("utf-8"))
    except ValueError:
        return  # read_json turns these into SnapshotError before from_dict is reached
    if isinstance(doc, dict):
        Snapshot.from_dict(doc)


def _snapshot_seeds() -> list[bytes]:
    from monitor.sim.synthetic import synthetic_snapshot

    snap = synthetic_snapshot(3, seed=1, started_at=NOW)
    return [json.dumps(snap.to_dict()).encode()]


def _overlay(data: bytes) -> None:
    from monitor.hosting.formats import read_overlay

    with suppress(DatasetError):
        read_overlay(data, "fuzz/overlay.csv", None)
    read_overlay(data, "fuzz/overlay.json", "2026-01-01")


def _overlay_seeds() -> list[bytes]:
    doc = {"date": "2026-01-01", "ranges": [{"prefix": "10.0.0.0/8", "provider": "lab", "region": "r1", "asn": 64512}]}
    return [b"prefix,provider,region\n10.0.0.0/8,lab,r1,DE,64512,Lab\n", json.dumps(doc).encode()]


@cache
def _parser() -> object:
    from monitor.cli import build_parser

    return build_parser()


def _config(data: bytes) -> None:
    from monitor.cli.config import apply_defaults

    fd, name = tempfile.mkstemp(suffix=".toml")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        apply_defaults(_parser(), ["--config", name], env={})  # type: ignore[arg-type]
    finally:
        Path(name).unlink(missing_ok=True)


def _config_seeds() -> list[bytes]:
    return [b'netrestrict = "127.0.0.0/8"\nconcurrency = 128\nduration = 60.5\n', b"[monitor]\ntimeout = 2\n"]


TARGETS: dict[str, Target] = {
    "discv4": Target(_discv4, (DecodeError,), _discv4_seeds),
    "discv5": Target(_discv5, (DecodeError,), _discv5_seeds),
    "enr": Target(_enr, (DecodeError,), _enr_seeds),
    "enode": Target(_enode, (DecodeError,), _enode_seeds),
    "rlpx_frame": Target(_rlpx_frame, (DecodeError,), _rlpx_frame_seeds),
    "rlpx_message": Target(_rlpx_message, (DecodeError,), _rlpx_message_seeds),
    "snapshot_json": Target(_snapshot_json, (SnapshotError,), _snapshot_seeds),
    "overlay": Target(_overlay, (DatasetError,), _overlay_seeds),
    "config": Target(_config, (ConfigError,), _config_seeds),
}


def seeds(name: str, corpus: Path | None = None) -> list[bytes]:
    """The built-in seeds of a target, plus the files of ``corpus/<name>/`` if given."""
    found = list(TARGETS[name].seeds())
    folder = corpus / name if corpus is not None else None
    if folder is not None and folder.is_dir():
        found.extend(p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file())
    return found
