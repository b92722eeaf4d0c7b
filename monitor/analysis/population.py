"""Denominators: which node records a figure counts, and how often each one counts.

A :class:`PopulationSpec` combines a *scope* (which records: all discovered, those that answered a PING, those judged
mainnet by fork id, those hosted in data centres) with a *dedup* mode (one unit per node id, per unique IP, or per
/24 IPv4 / /48 IPv6 prefix). Many node ids behind one IP are common, so the IP and prefix modes show how much a
provider's share rests on a few machines. Records are never silently dropped: everything a denominator leaves out is
counted by reason, and records without attribution stay in as "unknown".

A merged unit takes, in each dimension separately, the majority known value of its records (see
:mod:`monitor.analysis.units`, which computes all of this on columns; :func:`select_population` is its object form).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from monitor.analysis.columns import (
    COLUMN_DIMENSIONS,
    NodeColumns,
    build_columns,
    client_name,
    ip_text,
    parse_ip,
    prefix_text,
)
from monitor.analysis.units import LAYER_VIEWS, UnitTable, unit_table
from monitor.snapshot import Attribution, NodeRecord

__all__ = [
    "Scope",
    "LAYER_VIEWS",
    "Dedup",
    "SCOPES",
    "DEDUPS",
    "PopulationSpec",
    "ALL_SPECS",
    "Denominator",
    "Unit",
    "Population",
    "select_population",
    "population_of",
    "nodes_per_ip_of",
    "network_prefix",
    "client_name",
    "NodesPerIp",
    "nodes_per_ip",
]

Scope = Literal["discovered", "reachable", "mainnet", "hosted"]
Dedup = Literal["node", "ip", "prefix"]

SCOPES: tuple[Scope, ...] = ("discovered", "reachable", "mainnet", "hosted")
DEDUPS: tuple[Dedup, ...] = ("node", "ip", "prefix")

_SCOPE_TEXT: Mapping[Scope, str] = {
    "discovered": "all discovered nodes",
    "reachable": "reachable nodes (answered our PING)",
    "mainnet": "nodes judged to be on mainnet (fork id)",
    "hosted": "nodes hosted in data centres (cloud or hosting networks)",
}
_DEDUP_TEXT: Mapping[Dedup, str] = {
    "node": "counted once per node id",
    "ip": "counted once per unique IP",
    "prefix": "counted once per /24 (IPv4) or /48 (IPv6) prefix",
}


@dataclass(frozen=True, slots=True)
class PopulationSpec:
    scope: Scope
    dedup: Dedup

    @property
    def name(self) -> str:
        return f"{self.scope}/{self.dedup}"

    def describe(self) -> str:
        return f"{_SCOPE_TEXT[self.scope]}, {_DEDUP_TEXT[self.dedup]}"


ALL_SPECS: tuple[PopulationSpec, ...] = tuple(PopulationSpec(s, d) for s in SCOPES for d in DEDUPS)


@dataclass(frozen=True, slots=True)
class Denominator:
    """What a figure counts: carried inside every result so no number travels without it."""

    name: str  # e.g. "reachable/ip"
    description: str
    n: int


@dataclass(frozen=True, slots=True)
class Unit:
    """One counted thing: a node, an IP or a prefix, with the node records it stands for."""

    key: str
    nodes: int
    attribution: Attribution | None
    client: str | None = None  # representative client name ("geth", ...); None when no record said
    keys: Mapping[str, str] | None = None  # dimension -> key of a merged unit (majority per dimension)


@dataclass(frozen=True, slots=True)
class Population:
    spec: PopulationSpec
    denominator: Denominator
    units: tuple[Unit, ...]
    excluded: Mapping[str, int]  # reason -> node records this denominator leaves out (zeros included)
    unattributed: int  # units with no attribution, counted as "unknown"


def network_prefix(ip: str) -> str | None:
    """The /24 (IPv4) or /48 (IPv6) containing ``ip``; None when it is not an address. IPv4-mapped IPv6 is IPv4."""
    key = parse_ip(ip)
    if key is None:
        return None
    return prefix_text((4, key[1] >> 8) if key[0] == 4 else (6, key[1] >> 80))


def _unit_text(cols: NodeColumns, dedup: Dedup, key: int) -> str:
    if dedup == "node":
        return cols.node_ids[key]
    return ip_text(cols.ip_keys[key]) if dedup == "ip" else prefix_text(cols.prefix_keys[key])


def population_of(cols: NodeColumns, table: UnitTable, spec: PopulationSpec, name: str | None = None) -> Population:
    """The object form of a unit table: one :class:`Unit` per unit, sorted by key text."""
    keys = [_unit_text(cols, spec.dedup, k) for k in table.keys.tolist()]
    sizes = table.sizes.tolist()
    first = np.full(table.n, -1, dtype=np.int64)
    first[table.record_unit[::-1]] = table.records[::-1]  # the first record of each unit
    codes = {d: table.codes[d].tolist() for d in COLUMN_DIMENSIONS}
    units = []
    for i in sorted(range(table.n), key=keys.__getitem__):
        unit_keys = {d: cols.vocab[d][codes[d][i]] for d in COLUMN_DIMENSIONS}
        merged = sizes[i] > 1
        attribution = cols.attributions[int(first[i])] if not merged else _member_attribution(cols, table, i, unit_keys)
        client = None if unit_keys["client"] == "unknown" else unit_keys["client"]
        units.append(Unit(keys[i], sizes[i], attribution, client, unit_keys if merged else None))
    denominator = Denominator(name or spec.name, spec.describe(), table.n)
    unattributed = int(np.count_nonzero(table.codes["provider"] == 0))
    return Population(spec, denominator, tuple(units), table.excluded, unattributed)


def _member_attribution(cols: NodeColumns, table: UnitTable, unit: int, keys: Mapping[str, str]) -> Attribution | None:
    """An attribution of the unit's records that has its majority provider (its first such record)."""
    members: list[int] = table.records[table.record_unit == unit].tolist()
    for r in members:
        a = cols.attributions[r]
        if a is not None and a.provider == keys["provider"]:
            return a
    return next((cols.attributions[r] for r in members if cols.attributions[r] is not None), None)


def select_population(nodes: Iterable[NodeRecord], spec: PopulationSpec) -> Population:
    """The units ``spec`` counts among ``nodes``, with per-reason counts of the records it leaves out."""
    cols = build_columns(tuple(nodes))
    return population_of(cols, unit_table(cols, spec.scope, spec.dedup), spec)


@dataclass(frozen=True, slots=True)
class NodesPerIp:
    """How many node ids share an IP: ``histogram`` maps nodes-at-one-IP to the number of such IPs."""

    denominator: Denominator  # the unique IPs in the scope
    histogram: tuple[tuple[int, int], ...]
    nodes: int  # node records with an IP in the scope
    without_ip: int
    max_nodes_per_ip: int
    ips_with_several: int


def nodes_per_ip(nodes: Iterable[NodeRecord], scope: Scope = "discovered") -> NodesPerIp:
    return nodes_per_ip_of(build_columns(tuple(nodes)), scope)


def nodes_per_ip_of(
    cols: NodeColumns, scope: Scope = "discovered", layer: str = "all", table: UnitTable | None = None
) -> NodesPerIp:
    """How many node ids share an IP in ``scope`` (``table``: its ip unit table when already made)."""
    spec = PopulationSpec(scope, "ip")
    table = table if table is not None else unit_table(cols, scope, "ip", layer, dimensions=())
    sizes = Counter(table.sizes.tolist())
    name = spec.name if layer == "all" else f"{layer}:{spec.name}"
    return NodesPerIp(
        denominator=Denominator(name, spec.describe(), table.n),
        histogram=tuple(sorted(sizes.items())),
        nodes=int(table.sizes.sum()),
        without_ip=table.excluded["no_ip"] + table.excluded["bad_ip"],
        max_nodes_per_ip=max(sizes, default=0),
        ips_with_several=sum(count for size, count in sizes.items() if size > 1),
    )
