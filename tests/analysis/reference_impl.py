"""The analysis as it was before the columnar core (record objects, Counters, a pure-Python bootstrap sampler), kept
out of the package as the reference the property test (test_columnar_equivalence.py) compares the columnar core with.

Updated only where issue 15 changed a *definition* (each marked "DEFINITION CHANGE"):
- a merged unit takes the majority *value of each dimension* among known values (ties: the key that sorts first),
  not the most common whole attribution record with "unknown" as a candidate;
- the country is kept when the provider is unknown;
- IPv4-mapped IPv6 addresses are the IPv4 address they carry;
- the Nakamoto thresholds are exactly 1/3 and 1/2;
plus the two dimensions added since (the hosted scope, the layer views, the category dimension).
"""

from __future__ import annotations

import ipaddress
import math
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from monitor.snapshot import Attribution, NodeRecord

UNKNOWN = "unknown"
HOSTED_CATEGORIES = frozenset({"cloud", "hosting"})
DIMENSIONS = ("provider", "region", "country", "asn", "client", "category")
THRESHOLDS = (Fraction(1, 3), Fraction(1, 2))  # DEFINITION CHANGE: were 0.33 and 0.50


# --- populations -------------------------------------------------------------------------------------------------


def _in_scope(node: NodeRecord, scope: str) -> str | None:
    if scope == "reachable" and not node.answered_ping:
        return "not_reachable"
    if scope == "mainnet" and node.network != "mainnet":
        return f"network_{node.network}"
    if scope == "hosted" and (node.attribution is None or node.attribution.category not in HOSTED_CATEGORIES):
        return "not_hosted"
    return None


def _address(ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        addr = ipaddress.ip_address(ip)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped  # DEFINITION CHANGE: mapped addresses were IPv6 to the dedup
    return addr


def _unit_key(node: NodeRecord, dedup: str) -> tuple[str | None, str]:
    if dedup == "node":
        return node.node_id, ""
    if not node.ip:
        return None, "no_ip"
    addr = _address(node.ip)
    if addr is None:
        return None, "bad_ip"
    if dedup == "ip":
        return str(addr), ""
    bits = 24 if addr.version == 4 else 48
    return str(ipaddress.ip_network(f"{addr}/{bits}", strict=False)), ""


def client_name(node: NodeRecord) -> str | None:
    if node.client is None:
        return None
    name = node.client.name.strip().lower()
    return name if name and name != "unknown" else None


def dimension_key(a: Attribution | None, dimension: str) -> str:
    if a is None:
        return UNKNOWN
    if dimension == "country":
        return a.country or UNKNOWN  # DEFINITION CHANGE: was unknown whenever the provider was
    if dimension == "category":
        if a.category in HOSTED_CATEGORIES:
            return "hosted"
        return UNKNOWN if a.category == UNKNOWN else "other"
    if a.provider in ("", UNKNOWN):
        return UNKNOWN
    if dimension == "provider":
        return a.provider
    if dimension == "region":
        return f"{a.provider}/{a.region or UNKNOWN}"
    if a.asn is not None:
        return f"AS{a.asn}"
    return f"AS-name:{a.as_name}" if a.as_name else UNKNOWN


def record_key(node: NodeRecord, dimension: str) -> str:
    if dimension == "client":
        return client_name(node) or UNKNOWN
    return dimension_key(node.attribution, dimension)


def _majority(values: Iterable[str]) -> str:
    """DEFINITION CHANGE: per dimension, known values only, ties to the first key; was the whole record."""
    known = Counter(v for v in values if v != UNKNOWN)
    if not known:
        return UNKNOWN
    return min(known, key=lambda v: (-known[v], v))


@dataclass(frozen=True)
class RefUnit:
    key: str
    nodes: int
    keys: dict[str, str]


@dataclass(frozen=True)
class RefPopulation:
    n: int
    units: tuple[RefUnit, ...]
    excluded: dict[str, int]
    unattributed: int


_MERGE = {"node": "duplicate_node_id", "ip": "same_ip", "prefix": "same_prefix"}
_SCOPE_REASONS = {
    "discovered": (),
    "reachable": ("not_reachable",),
    "mainnet": ("network_other", "network_unknown"),
    "hosted": ("not_hosted",),
}


def select_population(nodes: Iterable[NodeRecord], scope: str, dedup: str, layer: str = "all") -> RefPopulation:
    reasons = [*_SCOPE_REASONS[scope], *(() if dedup == "node" else ("no_ip", "bad_ip")), _MERGE[dedup]]
    excluded: Counter[str] = Counter({r: 0 for r in reasons})
    if layer != "all":
        excluded["other_layer"] += 0
    groups: dict[str, list[NodeRecord]] = {}
    for node in nodes:
        if layer != "all" and node.layer != layer:
            excluded["other_layer"] += 1
            continue
        reason = _in_scope(node, scope)
        if reason is None:
            key, reason = _unit_key(node, dedup)
            if key is not None:
                groups.setdefault(key, []).append(node)
                continue
        excluded[reason] += 1
    units = tuple(
        RefUnit(key, len(rs), {d: _majority(record_key(r, d) for r in rs) for d in DIMENSIONS})
        for key, rs in sorted(groups.items())
    )
    excluded[_MERGE[dedup]] += sum(u.nodes - 1 for u in units)
    unattributed = sum(1 for u in units if u.keys["provider"] == UNKNOWN)
    return RefPopulation(len(units), units, dict(excluded), unattributed)


# --- tables and indices -------------------------------------------------------------------------------------------


def counts(population: RefPopulation, dimension: str) -> Counter[str]:
    return Counter(u.keys[dimension] for u in population.units)


def wilson(successes: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    z2 = z * z
    denom = 1.0 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1.0 - p) / n + z2 / (4 * n * n))
    return max(0.0, min(centre - half, p)), min(1.0, max(centre + half, p))


def indices(known: Sequence[int]) -> dict[str, object]:
    known = [c for c in known if c > 0]
    total = sum(known)
    if total == 0:
        return {"hhi": None, "nakamoto": (None, None), "top": (None, None, None), "entropy": None, "categories": 0}
    ordered = sorted(known, reverse=True)
    nak = []
    for t in THRESHOLDS:
        running = 0
        for k, c in enumerate(ordered, start=1):
            running += c
            if running > t * total:
                nak.append(k)
                break
    return {
        "hhi": sum(c * c for c in known) / (total * total),
        "nakamoto": tuple(nak),
        "top": tuple(sum(ordered[:k]) / total for k in (1, 3, 5)),
        "entropy": abs(-sum((c / total) * math.log2(c / total) for c in known)),
        "categories": len(known),
    }


def hosted_known(population: RefPopulation, dimension: str) -> list[int]:
    c = Counter(u.keys[dimension] for u in population.units if u.keys["category"] == "hosted")
    return [v for k, v in c.items() if k != UNKNOWN]


# --- the pure-Python bootstrap sampler (binomial / multinomial on counts) -----------------------------------------

# Below this mean the CDF walk is cheaper than the rejection sampler and exact without any tuning constants.
_INVERSION_MAX_MEAN = 10.0


def binomial(rng: random.Random, n: int, p: float) -> int:
    """One Binomial(n, p) variate (``random.binomialvariate`` only arrived in Python 3.12)."""
    if n < 0:
        raise ValueError("n must be non-negative")
    if n == 0 or p <= 0.0:
        return 0
    if p >= 1.0:
        return n
    if p > 0.5:
        # Both samplers below assume p <= 1/2; the count of failures is Binomial(n, 1 - p).
        return n - binomial(rng, n, 1.0 - p)
    if n * p < _INVERSION_MAX_MEAN:
        return _binomial_inversion(rng, n, p)
    return _binomial_btrs(rng, n, p)


def _binomial_inversion(rng: random.Random, n: int, p: float) -> int:
    """Walk the CDF from 0: expected n*p + 1 steps, so only used for small means."""
    q = 1.0 - p
    ratio = p / q
    pmf = q**n  # >= exp(-2 * _INVERSION_MAX_MEAN) for p <= 1/2, so no underflow
    u = rng.random()
    x = 0
    while u > pmf and x < n:
        u -= pmf
        x += 1
        pmf *= (n - x + 1) / x * ratio
    return x


def _binomial_btrs(rng: random.Random, n: int, p: float) -> int:
    """Transformed rejection with squeeze (Hörmann 1993, "The generation of binomial random variates"), p <= 1/2."""
    q = 1.0 - p
    spq = math.sqrt(n * p * q)
    b = 1.15 + 2.53 * spq
    a = -0.0873 + 0.0248 * b + 0.01 * p
    c = n * p + 0.5
    v_r = 0.92 - 4.2 / b
    alpha = (2.83 + 5.1 / b) * spq
    log_odds = math.log(p / q)
    mode = math.floor((n + 1) * p)
    h = math.lgamma(mode + 1) + math.lgamma(n - mode + 1)
    while True:
        u = rng.random() - 0.5
        v = rng.random()
        us = 0.5 - abs(u)
        k = math.floor((2.0 * a / us + b) * u + c)
        if k < 0 or k > n:
            continue
        # The squeeze accepts most candidates without evaluating the log-pmf.
        if us >= 0.07 and v <= v_r:
            return k
        log_v = math.log(v * alpha / (a / (us * us) + b))
        if log_v <= h - math.lgamma(k + 1) - math.lgamma(n - k + 1) + (k - mode) * log_odds:
            return k


def multinomial(rng: random.Random, n: int, weights: Sequence[int]) -> list[int]:
    """Counts of n draws over categories with probabilities proportional to the integer ``weights``, in their order.

    Drawn as a chain of conditional binomials: category i gets Binomial(draws left, w_i / weight left).
    """
    if any(w < 0 for w in weights):
        raise ValueError("weights must be non-negative")
    left = n
    weight_left = sum(weights)
    if weight_left == 0 and n > 0:
        raise ValueError("cannot draw from categories that all have weight 0")
    out: list[int] = []
    for w in weights:
        x = _draw(rng, left, w, weight_left)
        out.append(x)
        left -= x
        weight_left -= w
    return out


def _draw(rng: random.Random, left: int, w: int, weight_left: int) -> int:
    if left == 0 or w == 0:
        return 0
    if w >= weight_left:
        return left
    return binomial(rng, left, w / weight_left)


def resample_counts(rng: random.Random, weights: Sequence[int]) -> list[int]:
    """One bootstrap replicate of a population given by its category counts, *without labels*.

    Returns the non-zero counts of sum(weights) draws with probabilities proportional to ``weights``, in no
    particular order. Dropping labels lets categories of equal weight be drawn as one: the group's total is one
    binomial, and its split over m equally likely bins is m-way uniform, which for sparse groups costs one cheap draw
    per unit instead of one binomial per category. Snapshots have long tails of ASes with one or two nodes.
    HHI and Nakamoto do not depend on labels, so nothing is lost for them.
    """
    if any(w < 0 for w in weights):
        raise ValueError("weights must be non-negative")
    groups = sorted(Counter(w for w in weights if w > 0).items(), reverse=True)
    left = weight_left = sum(weights)
    out: list[int] = []
    for w, m in groups:
        x = _draw(rng, left, w * m, weight_left)
        left -= x
        weight_left -= w * m
        if m == 1 or x <= 1:
            out.append(x)
        elif x <= 3 * m:
            out.extend(Counter(rng.choices(range(m), k=x)).values())
        else:
            # Several draws per bin: a small-mean binomial per bin costs less than three uniform draws.
            out.extend(multinomial(rng, x, [1] * m))
        if left == 0:
            break
    return [c for c in out if c]
