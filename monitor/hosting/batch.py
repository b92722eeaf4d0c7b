"""Batched lookups: parse a whole list of distinct addresses in bulk and search the fused table with numpy.

Parsing is the cost that dominates once searching is vectorised, so the common case (every string a valid address of
one family) is one C-level pass: ``b"".join(map(inet_pton, ...))`` then ``np.frombuffer``. Only when that pass meets
a bad string (``""`` for a node without an address, junk, an IPv6 zone id) does the group fall back to parsing one
string at a time with :func:`~monitor.hosting.prefixes.parse_ip`, which gives exactly the single-lookup semantics.
"""

from __future__ import annotations

import socket
from itertools import repeat
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from monitor.hosting.prefixes import parse_ip
from monitor.hosting.steps import split_v6
from monitor.snapshot import Attribution

if TYPE_CHECKING:
    from monitor.hosting.resolver import Resolver

__all__ = ["Parsed", "parse_batch", "resolve_batch"]

_inet_pton = socket.inet_pton
_MAPPED_HIGH = 0xFFFF  # ::ffff:a.b.c.d has upper half 0 and 0xffff in bits 32..47
IntArray = npt.NDArray[np.int64]


class Parsed:
    """Addresses of a batch by family: positions in the input and values (IPv6 as high/low halves)."""

    __slots__ = ("hi6", "in_order", "lo6", "pos4", "pos6", "v4")

    def __init__(self, pos4: IntArray, v4: npt.NDArray[np.uint32], pos6: IntArray,
                 hi6: npt.NDArray[np.uint64], lo6: npt.NDArray[np.uint64]) -> None:  # fmt: skip
        self.pos4, self.v4, self.pos6, self.hi6, self.lo6 = pos4, v4, pos6, hi6, lo6
        self.in_order = False  # True when the input was all IPv4, in order (pos4 is 0..n-1)


def _pack(family: int, ips: list[str]) -> bytes | None:
    try:
        return b"".join(map(_inet_pton, repeat(family, len(ips)), ips))
    except (OSError, ValueError):
        return None


def _one_by_one(ips: list[str], where: list[int]) -> tuple[list[int], list[int], list[int], list[int]]:
    pos4: list[int] = []
    v4: list[int] = []
    pos6: list[int] = []
    v6: list[int] = []
    for k, ip in zip(where, ips, strict=True):
        try:
            version, value = parse_ip(ip)
        except ValueError:
            continue
        (pos4 if version == 4 else pos6).append(k)
        (v4 if version == 4 else v6).append(value)
    return pos4, v4, pos6, v6


def parse_batch(ips: list[str]) -> Parsed:
    """Parse every string; invalid ones appear in neither family (IPv4-mapped IPv6 counts as IPv4, as in parse_ip)."""
    packed = _pack(socket.AF_INET, ips)
    empty = np.zeros(0, dtype=np.int64)
    if packed is not None:  # the common case: a list of IPv4 strings
        v4 = np.frombuffer(packed, ">u4").astype(np.uint32)
        parsed = Parsed(np.arange(len(ips)), v4, empty, np.zeros(0, np.uint64), np.zeros(0, np.uint64))
        parsed.in_order = True
        return parsed
    six = [k for k, ip in enumerate(ips) if ":" in ip]
    four = [k for k, ip in enumerate(ips) if ":" not in ip] if six else list(range(len(ips)))
    strs4 = [ips[k] for k in four]
    packed = _pack(socket.AF_INET, strs4)
    if packed is not None:
        pos4, vals4 = four, np.frombuffer(packed, ">u4").astype(np.uint32)
    else:  # without ':' nothing parses as IPv6
        pos4, list4, _, _ = _one_by_one(strs4, four)
        vals4 = np.array(list4, dtype=np.uint32)
    strs6 = [ips[k] for k in six]
    packed = _pack(socket.AF_INET6, strs6)
    if packed is not None:
        halves = np.frombuffer(packed, ">u8").reshape(-1, 2)
        hi, lo, pos6 = halves[:, 0].astype(np.uint64), halves[:, 1].astype(np.uint64), np.array(six, dtype=np.int64)
    else:
        more4, more4_vals, six_ok, six_vals = _one_by_one(strs6, six)
        pos4, vals4 = [*pos4, *more4], np.concatenate([vals4, np.array(more4_vals, dtype=np.uint32)])
        hi, lo = split_v6(six_vals)
        pos6 = np.array(six_ok, dtype=np.int64)
    mapped = (hi == 0) & ((lo >> np.uint64(32)) == _MAPPED_HIGH)
    if mapped.any():
        pos4 = [*pos4, *pos6[mapped].tolist()]
        vals4 = np.concatenate([vals4, (lo[mapped] & np.uint64(0xFFFFFFFF)).astype(np.uint32)])
        pos6, hi, lo = pos6[~mapped], hi[~mapped], lo[~mapped]
    return Parsed(np.array(pos4, dtype=np.int64), vals4, pos6, hi, lo)


def resolve_batch(resolver: Resolver, ips: list[str]) -> list[Attribution | None]:
    """The attribution of each string (``None`` if it is not an address); ``ips`` should be distinct."""
    parsed = parse_batch(ips)
    table = resolver.table
    out: list[Attribution | None]
    tids4 = table.indices4(parsed.v4)
    found4 = resolver.triple_results(tids4)
    if resolver.has_overlays:
        hits4 = resolver.overlay_hits(4, parsed.v4.tolist())
        found4 = [
            f if h is None else resolver.with_overlay(h, t)
            for f, h, t in zip(found4, hits4, tids4.tolist(), strict=True)
        ]
    if parsed.in_order:
        return list(found4)
    out = [None] * len(ips)
    for k, found in zip(parsed.pos4.tolist(), found4, strict=True):
        out[k] = found
    if len(parsed.pos6):
        tids6 = table.indices6(parsed.hi6, parsed.lo6)
        found6 = resolver.triple_results(tids6)
        if resolver.has_overlays:
            values6 = [(h << 64) | lo for h, lo in zip(parsed.hi6.tolist(), parsed.lo6.tolist(), strict=True)]
            hits6 = resolver.overlay_hits(6, values6)
            found6 = [
                f if h is None else resolver.with_overlay(h, t)
                for f, h, t in zip(found6, hits6, tids6.tolist(), strict=True)
            ]
        for k, found in zip(parsed.pos6.tolist(), found6, strict=True):
            out[k] = found
    return out
