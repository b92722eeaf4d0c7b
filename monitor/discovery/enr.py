"""EIP-778 Ethereum Node Records with the "v4" identity scheme.

A record is the RLP list ``[signature, seq, k1, v1, k2, v2, ...]`` with keys sorted and unique, at most 300 bytes.
The "v4" signature is a 64-byte ``r || s`` secp256k1 signature over ``keccak256(rlp([seq, k1, v1, ...]))`` by the
key in the ``secp256k1`` entry. Values stay as decoded RLP items (bytes, or tuples for lists) so that unknown
entries survive a round trip byte for byte; typed accessors decode the well-known keys on demand and return
``None`` for absent or malformed values, since the spec keeps a record valid whatever its extra entries hold.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address
from typing import TypeAlias

import rlp  # untyped (pyrlp has no py.typed; mypy override): every value crossing it is checked here

from monitor.discovery.enr_entries import ATTNETS_BITS, SYNCNETS_BITS, ClientEntry, ENRForkID, decode_bitvector
from monitor.discovery.forkid import ForkId
from monitor.errors import DecodeError, SignatureError
from monitor.p2p.keys import (
    NodeID,
    PrivateKey,
    PublicKey,
    compress_pubkey,
    decompress_pubkey,
    keccak256,
    node_id,
    verify_compact,
)
from monitor.p2p.rlp import uint_bytes

__all__ = ["ENR", "RlpItem", "MAX_RECORD_SIZE", "TEXT_PREFIX"]

RlpItem: TypeAlias = "bytes | tuple[RlpItem, ...]"

MAX_RECORD_SIZE = 300
TEXT_PREFIX = "enr:"

_UINT64_MAX = 2**64 - 1
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")
_PORT_KEYS = frozenset({b"tcp", b"udp", b"tcp6", b"udp6", b"quic", b"quic6"})
_TEXT_KEYS = frozenset({b"id"})

FieldValue: TypeAlias = "RlpItem | int | str | IPv4Address | IPv6Address | ForkId | ENRForkID | ClientEntry"


def _freeze(item: object) -> RlpItem:
    """Turn pyrlp's untyped output (bytes and lists) into our immutable, typed form."""
    if isinstance(item, bytes):
        return item
    if isinstance(item, list):
        return tuple(_freeze(x) for x in item)
    raise DecodeError(f"unexpected RLP item of type {type(item).__name__}")


def _decode_uint(raw: RlpItem, what: str, max_bytes: int) -> int:
    if not isinstance(raw, bytes) or len(raw) > max_bytes or raw[:1] == b"\x00":
        raise DecodeError(f"{what} must be a canonical integer of at most {max_bytes} bytes")
    return int.from_bytes(raw, "big")


def _to_item(value: FieldValue) -> RlpItem:
    """Encode a builder argument the way the spec stores it (ints big endian, addresses packed)."""
    if isinstance(value, bool):
        raise ValueError("booleans have no ENR encoding")
    if isinstance(value, int):
        return uint_bytes(value)
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, (IPv4Address, IPv6Address)):
        return value.packed
    if isinstance(value, ForkId):
        return (tuple(value.to_rlp_item()),)  # entry-value = [[hash, next]] (devp2p enr-entries/eth.md)
    if isinstance(value, ENRForkID):
        return value.to_ssz()
    if isinstance(value, ClientEntry):
        return value.to_rlp_item()
    return value


def _render(item: RlpItem) -> str:
    if isinstance(item, bytes):
        return "0x" + item.hex()
    return "[" + ", ".join(_render(x) for x in item) + "]"


def _key_text(key: bytes) -> str:
    try:
        text = key.decode("ascii")
    except UnicodeDecodeError:
        return "0x" + key.hex()
    return text if text.isprintable() else "0x" + key.hex()


@dataclass(frozen=True, slots=True)
class ENR:
    """A signed node record. Build one with :meth:`from_rlp`, :meth:`from_text` or :meth:`create`."""

    seq: int
    pairs: tuple[tuple[bytes, RlpItem], ...]
    signature: bytes

    def __post_init__(self) -> None:
        keys = [k for k, _ in self.pairs]
        if any(a >= b for a, b in itertools.pairwise(keys)):
            raise ValueError("ENR keys must be sorted and unique")

    # -- decoding -------------------------------------------------------------------------------------------

    @classmethod
    def from_rlp(cls, data: bytes) -> ENR:
        """Decode and verify a record; raises :class:`DecodeError` (or :class:`SignatureError`) on any fault."""
        if len(data) > MAX_RECORD_SIZE:
            raise DecodeError(f"record is {len(data)} bytes, over the {MAX_RECORD_SIZE}-byte limit")
        try:
            decoded = rlp.decode(bytes(data), strict=True)
        except (rlp.DecodingError, IndexError, ValueError, TypeError) as err:
            raise DecodeError(f"record is not valid RLP: {err}") from err
        items = _freeze(decoded)
        if isinstance(items, bytes):
            raise DecodeError("record must be an RLP list")
        if len(items) < 2 or len(items) % 2 != 0:
            raise DecodeError("record must be [signature, seq, k, v, ...] with whole key/value pairs")
        signature, raw_seq = items[0], items[1]
        if not isinstance(signature, bytes):
            raise DecodeError("signature must be a byte string")
        seq = _decode_uint(raw_seq, "seq", 8)
        pairs = cls._pairs(items[2:])
        record = cls(seq=seq, pairs=pairs, signature=signature)
        record._verify(record._content())
        return record

    @staticmethod
    def _pairs(flat: Sequence[RlpItem]) -> tuple[tuple[bytes, RlpItem], ...]:
        pairs: list[tuple[bytes, RlpItem]] = []
        for i in range(0, len(flat), 2):
            key = flat[i]
            if not isinstance(key, bytes):
                raise DecodeError("record keys must be byte strings")
            if pairs and key <= pairs[-1][0]:
                raise DecodeError(f"record keys not sorted and unique at {_key_text(key)!r}")
            pairs.append((key, flat[i + 1]))
        return tuple(pairs)

    @classmethod
    def from_text(cls, text: str) -> ENR:
        """Decode ``enr:<base64url>`` (padding tolerated, though the spec omits it)."""
        if not text.startswith(TEXT_PREFIX):
            raise DecodeError(f"record text must start with {TEXT_PREFIX!r}")
        body = text[len(TEXT_PREFIX) :].rstrip("=")
        # b64decode silently skips characters outside the alphabet, so check the alphabet first.
        if _BASE64URL.fullmatch(body) is None:
            raise DecodeError("record text is not URL-safe base64")
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (binascii.Error, ValueError) as err:
            raise DecodeError(f"record text is not valid base64: {err}") from err
        return cls.from_rlp(raw)

    def _verify(self, content: bytes) -> None:
        scheme = self.get(b"id")
        if scheme is None:
            raise DecodeError("record has no identity scheme ('id' entry)")
        if scheme != b"v4":
            raise DecodeError(f"unsupported identity scheme {_render(scheme)}")
        raw_key = self.get(b"secp256k1")
        if not isinstance(raw_key, bytes) or len(raw_key) != 33:
            raise DecodeError("v4 record needs a 33-byte compressed 'secp256k1' entry")
        pubkey = decompress_pubkey(raw_key)
        if not verify_compact(pubkey, self.signature, keccak256(content)):
            raise SignatureError("record signature does not verify against its secp256k1 key")

    # -- encoding -------------------------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        key: PrivateKey,
        seq: int = 1,
        *,
        ip: IPv4Address | None = None,
        udp: int | None = None,
        tcp: int | None = None,
        ip6: IPv6Address | None = None,
        udp6: int | None = None,
        tcp6: int | None = None,
        eth: ForkId | None = None,
        extra: Mapping[str | bytes, FieldValue] | None = None,
    ) -> ENR:
        """Sign a new "v4" record. Raises ValueError for bad arguments or a record over 300 bytes."""
        if not 0 <= seq <= _UINT64_MAX:
            raise ValueError(f"seq out of uint64 range: {seq}")
        for name, port in (("udp", udp), ("tcp", tcp), ("udp6", udp6), ("tcp6", tcp6)):
            if port is not None and not 0 <= port <= 0xFFFF:
                raise ValueError(f"{name} port out of range: {port}")
        fields: dict[bytes, FieldValue] = {b"id": "v4", b"secp256k1": compress_pubkey(key.pubkey)}
        named = {"ip": ip, "udp": udp, "tcp": tcp, "ip6": ip6, "udp6": udp6, "tcp6": tcp6, "eth": eth}
        fields.update({k.encode(): v for k, v in named.items() if v is not None})
        for k, v in (extra or {}).items():
            fields[k.encode() if isinstance(k, str) else k] = v
        pairs = tuple((k, _to_item(fields[k])) for k in sorted(fields))
        unsigned = cls(seq=seq, pairs=pairs, signature=b"")
        record = cls(seq=seq, pairs=pairs, signature=key.sign_compact(keccak256(unsigned._content())))
        size = len(record.to_rlp())
        if size > MAX_RECORD_SIZE:
            raise ValueError(f"record would be {size} bytes, over the {MAX_RECORD_SIZE}-byte limit")
        return record

    def _flat(self) -> list[RlpItem]:
        flat: list[RlpItem] = [uint_bytes(self.seq)]
        for k, v in self.pairs:
            flat.extend((k, v))
        return flat

    def _content(self) -> bytes:
        """The signed part: ``rlp([seq, k, v, ...])``."""
        encoded: bytes = rlp.encode(self._flat())
        return encoded

    def to_rlp(self) -> bytes:
        encoded: bytes = rlp.encode([self.signature, *self._flat()])
        return encoded

    def to_text(self) -> str:
        return TEXT_PREFIX + base64.urlsafe_b64encode(self.to_rlp()).decode("ascii").rstrip("=")

    def __str__(self) -> str:
        return self.to_text()

    # -- typed accessors ------------------------------------------------------------------------------------

    def get(self, key: str | bytes) -> RlpItem | None:
        wanted = key.encode() if isinstance(key, str) else key
        for k, v in self.pairs:
            if k == wanted:
                return v
        return None

    @property
    def pubkey(self) -> PublicKey:
        """The 64-byte public key; raises DecodeError only for records built without a valid key."""
        raw = self.get(b"secp256k1")
        if not isinstance(raw, bytes):
            raise DecodeError("record has no secp256k1 key")
        return decompress_pubkey(raw)

    @property
    def node_id(self) -> NodeID:
        return node_id(self.pubkey)

    @property
    def identity_scheme(self) -> str | None:
        raw = self.get(b"id")
        return raw.decode("ascii", "replace") if isinstance(raw, bytes) else None

    @property
    def ip(self) -> IPv4Address | None:
        raw = self.get(b"ip")
        return IPv4Address(raw) if isinstance(raw, bytes) and len(raw) == 4 else None

    @property
    def ip6(self) -> IPv6Address | None:
        raw = self.get(b"ip6")
        return IPv6Address(raw) if isinstance(raw, bytes) and len(raw) == 16 else None

    def _port(self, key: bytes) -> int | None:
        raw = self.get(key)
        if raw is None:
            return None
        try:
            return _decode_uint(raw, key.decode(), 2)
        except DecodeError:
            return None

    @property
    def udp(self) -> int | None:
        return self._port(b"udp")

    @property
    def tcp(self) -> int | None:
        return self._port(b"tcp")

    @property
    def udp6(self) -> int | None:
        return self._port(b"udp6")

    @property
    def tcp6(self) -> int | None:
        return self._port(b"tcp6")

    @property
    def eth_fork_id(self) -> ForkId | None:
        """The ``eth`` entry ``[[fork_hash, fork_next], ...]``; extra items are ignored as the spec asks."""
        raw = self.get(b"eth")
        if isinstance(raw, bytes) or not raw:
            return None
        try:
            return ForkId.from_rlp_item(raw[0])
        except DecodeError:
            return None

    # Consensus-layer entries (consensus-specs p2p-interface.md, phase0/altair/fulu) and EIP-7636 ``client``.

    @property
    def quic(self) -> int | None:
        return self._port(b"quic")

    @property
    def quic6(self) -> int | None:
        return self._port(b"quic6")

    @property
    def eth2(self) -> ENRForkID | None:
        """The ``eth2`` entry (SSZ ``ENRForkID``), None when absent or not 16 bytes."""
        raw = self.get(b"eth2")
        return ENRForkID.from_ssz(raw) if isinstance(raw, bytes) else None

    def _bitvector(self, key: bytes, bits: int) -> frozenset[int] | None:
        raw = self.get(key)
        return decode_bitvector(raw, bits) if isinstance(raw, bytes) else None

    @property
    def attnets(self) -> frozenset[int] | None:
        """Attestation subnets the node serves (SSZ ``Bitvector[64]``)."""
        return self._bitvector(b"attnets", ATTNETS_BITS)

    @property
    def syncnets(self) -> frozenset[int] | None:
        """Sync-committee subnets the node serves (SSZ ``Bitvector[4]``)."""
        return self._bitvector(b"syncnets", SYNCNETS_BITS)

    @property
    def next_fork_digest(self) -> bytes | None:
        """Fulu's ``nfd`` entry (SSZ Bytes4)."""
        raw = self.get(b"nfd")
        return raw if isinstance(raw, bytes) and len(raw) == 4 else None

    @property
    def custody_group_count(self) -> int | None:
        """Fulu's ``cgc`` entry (uint64, big endian, no leading zeros)."""
        raw = self.get(b"cgc")
        if raw is None:
            return None
        try:
            return _decode_uint(raw, "cgc", 8)
        except DecodeError:
            return None

    @property
    def client(self) -> ClientEntry | None:
        """EIP-7636 ``client``: ``[name, version, (build)]``."""
        return ClientEntry.from_rlp_item(self.get(b"client"))

    def fields_text(self) -> dict[str, str]:
        """Every entry as text for JSON/CSV: addresses and ports readable, unknown values as 0x-hex."""
        out: dict[str, str] = {}
        for key, value in self.pairs:
            out[_key_text(key)] = self._value_text(key, value)
        return out

    def _value_text(self, key: bytes, value: RlpItem) -> str:
        if key in _TEXT_KEYS and isinstance(value, bytes) and value.isascii() and value.decode().isprintable():
            return value.decode()
        if key == b"ip" and self.ip is not None:
            return str(self.ip)
        if key == b"ip6" and self.ip6 is not None:
            return str(self.ip6)
        if key in _PORT_KEYS and (port := self._port(key)) is not None:
            return str(port)
        if key == b"eth" and (fid := self.eth_fork_id) is not None:
            return str(fid)
        return self._consensus_text(key) or _render(value)

    def _consensus_text(self, key: bytes) -> str | None:
        readable: object = None
        if key == b"eth2":
            readable = self.eth2
        elif key == b"client":
            readable = self.client
        elif key == b"cgc":
            readable = self.custody_group_count
        elif key in (b"attnets", b"syncnets"):
            nets = self.attnets if key == b"attnets" else self.syncnets
            readable = None if nets is None else ",".join(map(str, sorted(nets))) or "none"
        return None if readable is None else str(readable)
