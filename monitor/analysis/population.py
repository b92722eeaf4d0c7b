"""Denominators: which node records a figure counts, and how often each one counts.

A :class:`PopulationSpec` combines a *scope* (which records: all discovered, those that answered a PING, those judged
mainnet by fork id) with a *dedup* mode (one unit per node id, per unique IP, or per /24 IPv4 / /48 IPv6 prefix). Many
node ids behind one IP are common, so the IP and prefix modes show how much a provider's share rests on a few
machines. Records are never silently dropped: everything a denominator leaves out is counted by reason, and records
without attribution stay in as "unknown".

A merged unit (an IP or a prefix standing for several records) carries one representative of each property: the most
common attribution among its records and, independently, the most common client name, known values preferred over
missing ones and ties broken by value so the result never depends on record order.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from monitor.snapshot import Attribution, NodeRecord

__all__ = [
    "Scope",
    "Dedup",
    "SCOPES",
    "DEDUPS",
    "PopulationSpec",
    "ALL_SPECS",
    "Denominator",
    "Unit",
    "Population",
    "select_population",
    "network_prefix",
    "client_name",
    "NodesPerIp",
    "nodes_per_ip",
]

Scope = Literal["discovered", "reachable", "mainnet"]
Dedup = Literal["node", "ip", "prefix"]

SCOPES: tuple[Scope, ...] = ("discovered", "reachable", "mainnet")
DEDUPS: tuple[Dedup, ...] = ("node", "ip", "prefix")

_SCOPE_TEXT: Mapping[Scope, str] = {
    "discovered": "all discovered nodes",
    "reachable": "reachable nodes (answered our PING)",
    "mainnet": "nodes judged to be on mainnet (fork id)",
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


@dataclass(frozen=True, slots=True)
class Population:
    spec: PopulationSpec
    denominator: Denominator
    units: tuple[Unit, ...]
    excluded: Mapping[str, int]  # reason -> node records this denominator leaves out (zeros included)
    unattributed: int  # units with no attribution, counted as "unknown"


def _in_scope(node: NodeRecord, scope: Scope) -> str | None:
    """The exclusion reason for a record outside ``scope``, or None when it is inside."""
    if scope == "reachable" and not node.answered_ping:
        return "not_reachable"
    if scope == "mainnet" and node.network != "mainnet":
        return f"network_{node.network}"
    return None


def network_prefix(ip: str) -> str | None:
    """The /24 (IPv4) or /48 (IPv6) containing ``ip``; None when it is not an address."""
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return None
    bits = 24 if addr.version == 4 else 48
    return str(ipaddress.ip_network(f"{addr}/{bits}", strict=False))


def _unit_key(node: NodeRecord, dedup: Dedup) -> tuple[str | None, str]:
    """(key, reason when there is no key)."""
    if dedup == "node":
        return node.node_id, ""
    if not node.ip:
        return None, "no_ip"
    if dedup == "ip":
        try:
            return str(ipaddress.ip_address(node.ip)), ""
        except ValueError:
            return None, "bad_ip"
    prefix = network_prefix(node.ip)
    return (prefix, "") if prefix is not None else (None, "bad_ip")


def _attribution_order(a: Attribution) -> tuple[str, str, str, int, str, str, str]:
    return (a.provider, a.region or "", a.country or "", a.asn or -1, a.as_name or "", a.source, a.data_date or "")


def _representative(attributions: Sequence[Attribution | None]) -> Attribution | None:
    """The attribution a merged unit carries: the most common among its records, attributed ones preferred.

    Records behind one IP normally agree; they can differ within a /24, or when one record missed enrichment. Ties
    break on the attribution's fields so the result never depends on record order.
    """
    known = Counter(a for a in attributions if a is not None)
    if not known:
        return None
    return min(known, key=lambda a: (-known[a], _attribution_order(a)))


def client_name(node: NodeRecord) -> str | None:
    """The node's client name as counted ("geth", "nethermind", ...); None when it was not dialed or said nothing."""
    if node.client is None:
        return None
    name = node.client.name.strip().lower()
    # A client that calls itself "unknown" would be counted with the nodes that said nothing, but not the other way
    # round (coverage figures count known names): treat it as saying nothing.
    return name if name and name != "unknown" else None


def _representative_client(names: Iterable[str | None]) -> str | None:
    """The client a merged unit carries: the most common known name among its records, ties by name."""
    known = Counter(n for n in names if n is not None)
    if not known:
        return None
    return min(known, key=lambda n: (-known[n], n))


def _unit(key: str, records: Sequence[NodeRecord]) -> Unit:
    if len(records) == 1:  # the common case (every per-node unit): nothing to choose between
        return Unit(key, 1, records[0].attribution, client_name(records[0]))
    return Unit(
        key,
        len(records),
        _representative([r.attribution for r in records]),
        _representative_client(client_name(r) for r in records),
    )


_MERGE_REASON: Mapping[Dedup, str] = {"node": "duplicate_node_id", "ip": "same_ip", "prefix": "same_prefix"}
_SCOPE_REASONS: Mapping[Scope, tuple[str, ...]] = {
    "discovered": (),
    "reachable": ("not_reachable",),
    "mainnet": ("network_other", "network_unknown"),
}


def _reasons(spec: PopulationSpec) -> tuple[str, ...]:
    keyless = () if spec.dedup == "node" else ("no_ip", "bad_ip")
    return (*_SCOPE_REASONS[spec.scope], *keyless, _MERGE_REASON[spec.dedup])


def select_population(nodes: Iterable[NodeRecord], spec: PopulationSpec) -> Population:
    """The units ``spec`` counts among ``nodes``, with per-reason counts of the records it leaves out."""
    excluded: Counter[str] = Counter({r: 0 for r in _reasons(spec)})
    groups: dict[str, list[NodeRecord]] = {}
    for node in nodes:
        reason = _in_scope(node, spec.scope)
        if reason is None:
            key, reason = _unit_key(node, spec.dedup)
            if key is not None:
                groups.setdefault(key, []).append(node)
                continue
        excluded[reason] += 1
    units = tuple(_unit(key, records) for key, records in sorted(groups.items()))
    excluded[_MERGE_REASON[spec.dedup]] += sum(u.nodes - 1 for u in units)
    denominator = Denominator(spec.name, spec.describe(), len(units))
    unattributed = sum(1 for u in units if u.attribution is None)
    return Population(spec, denominator, units, dict(excluded), unattributed)


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
    spec = PopulationSpec(scope, "ip")
    population = select_population(nodes, spec)
    sizes = Counter(u.nodes for u in population.units)
    without_ip = population.excluded["no_ip"] + population.excluded["bad_ip"]
    return NodesPerIp(
        denominator=population.denominator,
        histogram=tuple(sorted(sizes.items())),
        nodes=sum(u.nodes for u in population.units),
        without_ip=without_ip,
        max_nodes_per_ip=max(sizes, default=0),
        ips_with_several=sum(count for size, count in sizes.items() if size > 1),
    )
