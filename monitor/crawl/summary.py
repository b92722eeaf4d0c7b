"""A crawl's metadata: per-protocol and merged counters, what was filtered and why, packets and errors by kind.

Honest results: ``found_late`` counts nodes first listed in the last tenth of the crawl's duration (many of them: the
crawl had not converged when it ended); ``listed_unanswered`` nodes only ever seen in others' tables (contacted, never
answered PING: dead, NAT'd or gone; unprefixed ``seen_only_in_tables``: merged records no protocol heard from);
``silent_after_pong`` nodes that answered PING and then nothing (left during the
crawl, or serve neither FINDNODE nor ENR); ``not_contacted_deadline`` nodes listed but not visited before the deadline.

Counter names: unprefixed ones count the merged node records (``discovered``, ``answered_ping``, ...) or add up
over the protocols (``contacted``, ``findnode_sent``, ...); ``discv4_*`` and ``discv5_*`` are each protocol's own.
discv4's packet and error counters keep their historical names (``packets_*``, ``error_*``: the exporter's crawl
health metrics read them); discv5's are ``discv5_packets_*`` and ``discv5_error_*``. ``filtered`` holds discv4's
reasons as they are and discv5's prefixed ``discv5_``, so no node is counted under one reason twice.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from typing import Any

from monitor import __version__
from monitor.crawl.protocols import ProtocolPart
from monitor.snapshot import LAYERS, CrawlMeta, NodeRecord

__all__ = ["crawl_meta"]


def _part_counters(part: ProtocolPart[Any, Any]) -> dict[str, int]:
    result = part.result
    if result is None:
        return {"discovered": 0, "contacted": 0}
    visits = list(result.results.values())
    late_from = result.started_at + 0.9 * (result.ended_at - result.started_at)
    return {
        "discovered": len(result.tasks),
        "contacted": len(visits),
        "not_contacted_deadline": len(result.tasks) - len(visits),
        "answered_ping": sum(v.answered_ping for v in visits),
        "answered_findnode": sum(v.findnode_answered > 0 for v in visits),
        "enr_fetched": sum(v.enr is not None for v in visits),
        "findnode_sent": sum(v.findnode_sent for v in visits),
        "revisits": result.revisits,
        "deadline_hit": int(result.deadline_hit),
        "cap_refused": result.capped,
        "cap_reached": int(result.capped > 0),
        "found_late": sum(t >= late_from for t in result.first_seen.values()),
        "listed_unanswered": sum(not v.answered_ping for v in visits),
        "silent_after_pong": sum(getattr(v, "silent_after_pong", False) for v in visits),
    }


def _prefix(part: ProtocolPart[Any, Any]) -> str:
    return "" if part.name == "discv4" else f"{part.name}_"


def crawl_meta(settings: Any, parts: Sequence[ProtocolPart[Any, Any]], nodes: Sequence[NodeRecord]) -> CrawlMeta:
    """``settings`` is the crawl's ``CrawlSettings`` (its ``network`` and ``public_dict()`` are recorded)."""
    counters: Counter[str] = Counter()
    filtered: dict[str, int] = {}
    for part in parts:
        own = _part_counters(part)
        counters.update({f"{part.name}_{k}": v for k, v in own.items()})
        for k in (
            "contacted",
            "not_contacted_deadline",
            "findnode_sent",
            "revisits",
            "found_late",
            "silent_after_pong",
        ):
            counters[k] += own.get(k, 0)
        counters["deadline_hit"] = max(counters["deadline_hit"], own.get("deadline_hit", 0))
        counters["cap_reached"] = max(counters["cap_reached"], own.get("cap_reached", 0))
        if part.vouching is not None:
            counters[f"{part.name}_limit_released"] = part.vouching.released
            counters[f"{part.name}_limit_held_overflow"] = part.vouching.held_overflow
        packets = "packets_" if part.name == "discv4" else f"{part.name}_packets_"
        counters.update({f"{packets}{k.replace(':', '_')}": v for k, v in sorted(part.stats.items())})
        counters.update({f"{_prefix(part)}error_{k}": v for k, v in sorted(part.errors.items())})
        filtered.update({f"{_prefix(part)}{k}": v for k, v in sorted(part.filtered.items())})
    counters["discovered"] = len(nodes)
    counters["answered_ping"] = sum(n.answered_ping for n in nodes)
    counters["answered_findnode"] = sum(n.answered_findnode for n in nodes)
    counters["enr_fetched"] = sum(n.enr is not None for n in nodes)
    counters["seen_only_in_tables"] = sum(not n.answered_ping for n in nodes)  # over every protocol
    for verdict in ("mainnet", "other", "unknown"):
        counters[f"network_{verdict}"] = sum(n.network == verdict for n in nodes)
    for layer in LAYERS:
        counters[f"layer_{layer}"] = sum(n.layer == layer for n in nodes)
    if len(parts) > 1:
        seen = Counter("+".join(n.protocols) for n in nodes)
        counters.update({f"seen_by_{k.replace('+', '_and_')}": v for k, v in seen.items() if k})
    results = [p.result for p in parts if p.result is not None]
    return CrawlMeta(
        id=str(uuid.uuid4()),
        network=settings.network,
        started_at=min((r.started_at for r in results), default=0.0),
        ended_at=max((r.ended_at for r in results), default=0.0),
        tool_version=__version__,
        settings=settings.public_dict(),
        counters=dict(counters),
        filtered=filtered,
    )
