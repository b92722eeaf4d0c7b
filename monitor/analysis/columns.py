"""The snapshot's node records as columns: parsed once, then every denominator is a mask and every table a count.

Everything the analysis asks of a record is turned into a small integer here, in one pass over the records: its
scope flags, its layer, its unit key under each dedup mode (node id, IP, /24 or /48 prefix) and its category code in
each dimension. A population is then a boolean mask and an integer key array, and a share table one
``np.bincount``. Text is parsed once per distinct value (IPs repeat behind shared hosts, attributions repeat per
provider), never once per population.

Dimension codes: code 0 is always ``unknown``; the known keys follow in ascending text order, so "the smallest code"
and "the first key alphabetically" are the same tie rule everywhere.

IPv4-mapped IPv6 addresses (``::ffff:a.b.c.d``) are the IPv4 address they carry, here and therefore for every
consumer of the columns: one host is one IP whichever way the packet arrived.
"""

from __future__ import annotations

import functools
import ipaddress
import operator
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, ParamSpec, TypeVar

import numpy as np
import numpy.typing as npt

from monitor.snapshot import Attribution, ClientInfo, NodeRecord, gc_paused

__all__ = [
    "UNKNOWN",
    "ATTRIBUTE_DIMENSIONS",
    "COLUMN_DIMENSIONS",
    "HOSTED_CATEGORIES",
    "LAYER_CODES",
    "KEYLESS_NO_IP",
    "KEYLESS_BAD_IP",
    "IpKey",
    "NodeColumns",
    "build_columns",
    "parse_ip",
    "ip_text",
    "prefix_text",
    "dimension_text",
    "client_name",
    "collector_paused",
]

UNKNOWN: Final = "unknown"
# Dimensions read from the attribution; "client" comes from the Hello, "category" is the hosted / other split.
ATTRIBUTE_DIMENSIONS: Final = ("provider", "region", "country", "asn")
COLUMN_DIMENSIONS: Final = ("provider", "region", "country", "asn", "client", "category")
# Data centres: what "hosted" means for the hosted scope, the hosted-only indices and the category dimension.
HOSTED_CATEGORIES: Final = frozenset({"cloud", "hosting"})
HOSTED: Final = "hosted"
NOT_HOSTED: Final = "other"  # residential and other access networks (isp, education, government)
LAYER_CODES: Final = {"execution": 0, "consensus": 1, "unknown": 2}
KEYLESS_NO_IP: Final = 1
KEYLESS_BAD_IP: Final = 2

_P = ParamSpec("_P")
_R = TypeVar("_R")
_T = TypeVar("_T")

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
IpKey = tuple[int, int]  # (IP version, address as an integer); IPv4-mapped IPv6 is version 4


def collector_paused(func: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run ``func`` with the garbage collector paused (see :func:`monitor.snapshot.gc_paused`): the analysis of a
    100,000-node snapshot otherwise spends about a third of its time in full collections over the snapshot."""

    @functools.wraps(func)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with gc_paused():
            return func(*args, **kwargs)

    return wrapper


def parse_ip(text: str) -> IpKey | None:
    """The address ``text`` names, or None when it is not one. Dotted-quad IPv4 takes the fast path."""
    try:
        return 4, int.from_bytes(socket.inet_pton(socket.AF_INET, text), "big")
    except OSError:
        pass
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return 4, int(addr.ipv4_mapped)
    return addr.version, int(addr)


def ip_text(key: IpKey) -> str:
    return str(ipaddress.IPv4Address(key[1]) if key[0] == 4 else ipaddress.IPv6Address(key[1]))


def prefix_text(key: IpKey) -> str:
    """Text of a prefix key as made by :func:`_prefix_key` (the network address shifted right)."""
    if key[0] == 4:
        return f"{ipaddress.IPv4Address(key[1] << 8)}/24"
    return f"{ipaddress.IPv6Address(key[1] << 80)}/48"


def _prefix_key(key: IpKey) -> IpKey:
    return (4, key[1] >> 8) if key[0] == 4 else (6, key[1] >> 80)


def client_name(node: NodeRecord) -> str | None:
    """The node's client name as counted ("geth", "nethermind", ...); None when it was not dialed or said nothing."""
    if node.client is None:
        return None
    name = node.client.name.strip().lower()
    # A client that calls itself "unknown" would be counted with the nodes that said nothing, but not the other way
    # round (coverage figures count known names): treat it as saying nothing.
    return name if name and name != UNKNOWN else None


def dimension_text(attribution: Attribution | None, dimension: str) -> str:
    """The category an attribution falls in. Regions are qualified by provider ("aws/us-east-1"): names collide.

    The country is kept whenever the attribution has one, even when no provider was named: geolocation and provider
    attribution come from different datasets, and one failing says nothing about the other.
    """
    if attribution is None:
        return UNKNOWN
    if dimension == "country":
        return attribution.country or UNKNOWN
    if dimension == "category":
        if attribution.category in HOSTED_CATEGORIES:
            return HOSTED
        return UNKNOWN if attribution.category == UNKNOWN else NOT_HOSTED
    if attribution.provider in ("", UNKNOWN):
        return UNKNOWN
    if dimension == "provider":
        return attribution.provider
    if dimension == "region":
        return f"{attribution.provider}/{attribution.region or UNKNOWN}"
    if attribution.asn is not None:
        return f"AS{attribution.asn}"
    # The offline AS table (GeoLite2 via geoip2fast) names networks but carries no numbers: the name still
    # identifies the operator, which is what the ASN dimension is for.
    return f"AS-name:{attribution.as_name}" if attribution.as_name else UNKNOWN


@dataclass(frozen=True, slots=True)
class NodeColumns:
    """One entry per node record, in snapshot order."""

    n: int
    answered_ping: BoolArray
    network: tuple[IntArray, tuple[str, ...]]  # code per record, names by code
    layer: IntArray  # LAYER_CODES
    hosted: BoolArray  # attribution category is cloud or hosting
    node_key: IntArray  # one code per distinct node id
    ip_key: IntArray  # one code per distinct IP; -1 without a usable IP
    prefix_key: IntArray  # one code per distinct /24 or /48; -1 without a usable IP
    keyless: IntArray  # 0, KEYLESS_NO_IP or KEYLESS_BAD_IP
    ip_keys: tuple[IpKey, ...]  # the IP of each ip_key code
    prefix_keys: tuple[IpKey, ...]  # the prefix of each prefix_key code
    node_ids: tuple[str, ...]  # the node id of each node_key code
    key_order: dict[str, IntArray]  # dedup -> record indices sorted by that key (stable: snapshot order in a key)
    # dedup -> dimension -> codes[dimension][key_order[dedup]]: a population reads its records' codes with its mask
    # in key order (a sequential pass), not by gathering them record by record.
    codes_by_key: dict[str, dict[str, IntArray]]
    codes: dict[str, IntArray]  # dimension -> code per record (0 = unknown)
    vocab: dict[str, tuple[str, ...]]  # dimension -> key text by code ("unknown" first, then ascending)
    attributions: tuple[Attribution | None, ...]  # per record, for the object-level adapters

    def code_of(self, dimension: str, key: str) -> int | None:
        """The code of ``key`` in ``dimension``; None when no record has it."""
        vocab = self.vocab[dimension]
        return vocab.index(key) if key in vocab else (0 if key == UNKNOWN else None)


class _Factor:
    """Consecutive integer codes for hashable values in order of first appearance."""

    def __init__(self) -> None:
        self.codes: dict[object, int] = {}

    def __call__(self, value: object) -> int:
        code = self.codes.get(value)
        if code is None:
            code = self.codes[value] = len(self.codes)
        return code


def _sorted_vocab(first_seen: dict[str, int], raw: IntArray) -> tuple[IntArray, tuple[str, ...]]:
    """Recode so that 0 is ``unknown`` and the known keys follow in ascending order."""
    known = sorted(k for k in first_seen if k != UNKNOWN)
    vocab = (UNKNOWN, *known)
    remap = np.zeros(max(len(first_seen), 1), dtype=np.int64)
    position = {k: i for i, k in enumerate(vocab)}
    for key, code in first_seen.items():
        remap[code] = position[key]
    return remap[raw] if raw.size else np.zeros(0, dtype=np.int64), vocab


def _factorize(values: Sequence[_T]) -> tuple[IntArray, list[_T]]:
    """(code per value, distinct values by code), codes in order of first appearance: one hash lookup per value."""
    index: dict[_T, int] = {}
    codes = [index.setdefault(v, len(index)) for v in values]
    return np.array(codes, dtype=np.int64).reshape(len(codes)), list(index)


def _ipv4_values(texts: Sequence[str]) -> IntArray | None:
    """The integer value of each dotted-quad text in one C-level pass; None when any of them is not one."""
    pton = functools.partial(socket.inet_pton, socket.AF_INET)
    try:
        packed = b"".join(map(pton, texts))
    except OSError:
        return None
    return np.frombuffer(packed, dtype=">u4").astype(np.int64)


def _parse_distinct(texts: Sequence[str | None]) -> tuple[IntArray, dict[int, IpKey], list[int]]:
    """:func:`parse_ip` of distinct texts as (IPv4 value or -1 per text, IPv6 key by text index, unparseable texts).

    Otherwise the texts without a colon are tried as IPv4 all at once; the per-text path runs only for the rest (IPv6,
    or every text when that batch holds something that is not a dotted quad).
    """
    # The common case first: every text a dotted quad, one batch and nothing else.
    everything = _ipv4_values(texts) if None not in texts else None  # type: ignore[arg-type]
    if everything is not None:
        return everything, {}, []
    v4 = np.full(len(texts), -1, dtype=np.int64)
    dotted = [i for i, t in enumerate(texts) if t and ":" not in t]
    values = _ipv4_values([texts[i] for i in dotted])  # type: ignore[misc]
    if values is not None:
        v4[dotted] = values
        rest = [i for i, t in enumerate(texts) if t and ":" in t]
    else:
        rest = [i for i, t in enumerate(texts) if t]
    v6: dict[int, IpKey] = {}
    bad: list[int] = []
    for i in rest:
        key = parse_ip(texts[i])  # type: ignore[arg-type]
        if key is None:
            bad.append(i)
        elif key[0] == 4:
            v4[i] = key[1]
        else:
            v6[i] = key
    return v4, v6, bad


def _ip_codes(ips: Sequence[str | None]) -> tuple[IntArray, IntArray, IntArray, list[IpKey], list[IpKey]]:
    """(ip code, prefix code, keyless reason) per record; each distinct text is parsed once.

    IPv4 addresses (nearly all) are numbered with ``np.unique`` on their integer values; IPv6 ones through a dict.
    """
    row, texts = _factorize(ips)
    v4, v6, bad = _parse_distinct(texts)
    is_v4 = v4 >= 0
    ip_values, ip_of_v4 = np.unique(v4[is_v4], return_inverse=True)
    prefix_values, prefix_of_v4 = np.unique(v4[is_v4] >> 8, return_inverse=True)
    ip_code = np.full(len(texts), -1, dtype=np.int64)
    prefix_code = np.full(len(texts), -1, dtype=np.int64)
    ip_code[is_v4] = ip_of_v4.reshape(-1)
    prefix_code[is_v4] = prefix_of_v4.reshape(-1)
    ip_keys: list[IpKey] = [(4, v) for v in ip_values.tolist()]
    prefix_keys: list[IpKey] = [(4, v) for v in prefix_values.tolist()]
    ip_factor, prefix_factor = _Factor(), _Factor()
    for i, key in sorted(v6.items()):
        ip_code[i] = len(ip_keys) + ip_factor(key)
        prefix_code[i] = len(prefix_keys) + prefix_factor(_prefix_key(key))
    ip_keys += list(ip_factor.codes)  # type: ignore[arg-type]
    prefix_keys += list(prefix_factor.codes)  # type: ignore[arg-type]
    keyless = np.zeros(len(texts), dtype=np.int64)
    keyless[bad] = KEYLESS_BAD_IP
    keyless[[i for i, t in enumerate(texts) if not t]] = KEYLESS_NO_IP
    return ip_code[row], prefix_code[row], keyless[row], ip_keys, prefix_keys


_ATTRIBUTION_FIELDS: Final = operator.attrgetter("provider", "region", "country", "asn", "as_name", "category")


def _first_of_codes(codes: IntArray) -> IntArray:
    """The first index of each code, for codes numbered in order of first appearance (where the running maximum
    grows)."""
    if codes.size == 0:
        return codes
    new = np.ones(codes.size, dtype=np.bool_)
    new[1:] = codes[1:] > np.maximum.accumulate(codes)[:-1]
    return np.flatnonzero(new)


def _by_identity(objects: Sequence[_T]) -> tuple[IntArray, list[_T]]:
    """(code per element, the distinct objects by code): equal codes for the same object. Codes follow no particular
    order (callers recode by text, :func:`_sorted_vocab`).

    Records share their client objects (one per client build), so the name is read once per object.
    """
    if not objects:
        return np.zeros(0, dtype=np.int64), []
    # Identities are integers: numpy numbers them in one sort instead of one dict lookup per record.
    _, first, codes = np.unique(np.fromiter(map(id, objects), np.uint64, len(objects)), True, True)
    return codes.reshape(-1).astype(np.int64), [objects[i] for i in first.tolist()]


def _attribution_rows(attrs: Sequence[Attribution | None]) -> tuple[IntArray, list[Attribution | None]]:
    """(row per record, one representative attribution per row): records whose attributions agree in every field the
    dimensions read share a row. The field tuple hashes in C, unlike the dataclass's generated __hash__."""
    rows, _ = _factorize([None if a is None else _ATTRIBUTION_FIELDS(a) for a in attrs])
    return rows, [attrs[i] for i in _first_of_codes(rows).tolist()]


def _dimension_codes(
    attrs: Sequence[Attribution | None], clients: Sequence[ClientInfo | None]
) -> tuple[dict[str, IntArray], dict[str, tuple[str, ...]]]:
    """Codes per dimension, with the texts derived once per distinct attribution and client name."""
    row_of, distinct = _attribution_rows(attrs)
    codes: dict[str, IntArray] = {}
    vocab: dict[str, tuple[str, ...]] = {}
    for d in (*ATTRIBUTE_DIMENSIONS, "category"):
        factor = _Factor()
        per_distinct = [factor(dimension_text(a, d)) for a in distinct]
        raw = np.asarray(per_distinct, dtype=np.int64)[row_of] if distinct else np.zeros(0, dtype=np.int64)
        codes[d], vocab[d] = _sorted_vocab(factor.codes, raw)  # type: ignore[arg-type]
    by_object, objects = _by_identity(clients)
    factor = _Factor()
    per_object = [factor(_normal_client(None if c is None else c.name)) for c in objects]
    raw = np.asarray(per_object, dtype=np.int64)[by_object] if objects else np.zeros(0, dtype=np.int64)
    codes["client"], vocab["client"] = _sorted_vocab(factor.codes, raw)  # type: ignore[arg-type]
    return codes, vocab


def _normal_client(name: str | None) -> str:
    if name is None:
        return UNKNOWN
    name = name.strip().lower()
    return name or UNKNOWN


def _coded(values: Sequence[str], names: tuple[str, ...]) -> IntArray:
    index = {n: i for i, n in enumerate(names)}
    return np.fromiter(map(index.__getitem__, values), dtype=np.int64, count=len(values))


def build_columns(nodes: Sequence[NodeRecord]) -> NodeColumns:
    """Parse ``nodes`` once into columns."""
    nodes = tuple(nodes)
    n = len(nodes)
    # One list per field, read once: every later step works on these lists and arrays, not on the records.
    ids = [r.node_id for r in nodes]
    ips = [r.ip for r in nodes]
    attrs = [r.attribution for r in nodes]
    clients = [r.client for r in nodes]
    network_col = [r.network for r in nodes]
    layer_col = [r.layer for r in nodes]
    pings = [r.answered_ping for r in nodes]
    node_ids = list(dict.fromkeys(ids))
    # Node ids are nearly always distinct: then a record's code is its position.
    node_key = np.arange(n, dtype=np.int64) if len(node_ids) == n else _factorize(ids)[0]
    ip_key, prefix_key, keyless, ip_keys, prefix_keys = _ip_codes(ips)
    codes, vocab = _dimension_codes(attrs, clients)
    networks = tuple(sorted(set(network_col)))
    key_order = {
        "node": np.argsort(node_key, kind="stable"),
        "ip": np.argsort(ip_key, kind="stable"),
        "prefix": np.argsort(prefix_key, kind="stable"),
    }
    hosted_code = vocab["category"].index(HOSTED) if HOSTED in vocab["category"] else -1
    return NodeColumns(
        n=n,
        answered_ping=np.array(pings, dtype=np.bool_).reshape(n),
        network=(_coded(network_col, networks), networks),
        layer=_coded(layer_col, tuple(LAYER_CODES)),
        hosted=codes["category"] == hosted_code,
        node_key=node_key,
        ip_key=ip_key,
        prefix_key=prefix_key,
        keyless=keyless,
        ip_keys=tuple(ip_keys),
        prefix_keys=tuple(prefix_keys),
        node_ids=tuple(node_ids),
        key_order=key_order,
        codes_by_key={dedup: {d: c[order] for d, c in codes.items()} for dedup, order in key_order.items()},
        codes=codes,
        vocab=vocab,
        attributions=tuple(attrs),
    )
