"""Run the analysis of a crawl in a child process, so that scrapes stay fast while it runs.

Why a process and not a thread: on a 100k-node snapshot the analysis allocates millions of objects; in the service's
own process that meant full garbage collections of up to 0.8 s (measured with ``gc.callbacks``) and steady GIL
contention, each one stalling the event loop and every scrape waiting on it. In a child neither touches the loop.

Only what the analysis reads crosses the pipe (node id, IP, reachability, network verdict, source, attribution with its
hosting category, client name, layer) as plain tuples: pickling the full records of 100k nodes took 2.7 s, the tuples
a small fraction of that. The child is killed if the crawl job is cancelled (shutdown), so nothing outlives the service.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import random
from collections.abc import Awaitable, Callable, Mapping
from multiprocessing.connection import Connection
from typing import Any

from monitor.analysis.claims import ClaimSet
from monitor.analysis.jsonform import analysis_to_dict
from monitor.analysis.population import client_name
from monitor.analysis.report import analyse
from monitor.errors import MonitorError
from monitor.snapshot import (
    Attribution,
    ClientInfo,
    CrawlMeta,
    HostingCategory,
    Layer,
    NetworkVerdict,
    NodeRecord,
    Snapshot,
)

__all__ = ["Analyser", "AnalysisError", "child_analyser", "thread_analyser", "analyse_snapshot"]

# Snapshot -> analysis_to_dict(...) of it.
Analyser = Callable[[Snapshot], Awaitable[Mapping[str, Any]]]

_AttrRow = tuple[str, str | None, str | None, int | None, str | None, str, str | None, HostingCategory]
_NodeRow = tuple[str, str | None, bool, NetworkVerdict, str, _AttrRow | None, str | None, Layer]


class AnalysisError(MonitorError):
    """The analysis child process failed or died."""


def analyse_snapshot(snapshot: Snapshot, claims: ClaimSet | None, bootstrap: int, seed: int) -> dict[str, Any]:
    analysis = analyse(snapshot, rng=random.Random(seed), claims=claims, bootstrap_samples=bootstrap)
    return analysis_to_dict(analysis)


def _attr_row(a: Attribution | None) -> _AttrRow | None:
    if a is None:
        return None
    return (a.provider, a.region, a.country, a.asn, a.as_name, a.source, a.data_date, a.category)


def _rows(snapshot: Snapshot) -> list[_NodeRow]:
    cache: dict[Attribution, _AttrRow | None] = {}  # records behind one IP share one attribution: convert it once
    rows: list[_NodeRow] = []
    for n in snapshot.nodes:
        a = n.attribution
        row = cache.setdefault(a, _attr_row(a)) if a is not None else None
        rows.append((n.node_id, n.ip, n.answered_ping, n.network, n.source, row, client_name(n), n.layer))
    return rows


def _rebuild(meta: CrawlMeta, rows: list[_NodeRow]) -> Snapshot:
    attrs: dict[_AttrRow, Attribution] = {}
    clients: dict[str, ClientInfo] = {}  # one object per client name: the analysis reads the name only
    nodes = tuple(
        NodeRecord(
            node_id=node_id,
            pubkey="",
            ip=ip,
            udp_port=None,
            tcp_port=None,
            answered_ping=reachable,
            network=network,
            source=source,
            attribution=attrs.setdefault(a, Attribution(*a)) if a is not None else None,
            client=clients.setdefault(c, ClientInfo(raw=c, name=c)) if c is not None else None,
            layer=layer,
        )
        for node_id, ip, reachable, network, source, a, c, layer in rows
    )
    return Snapshot(meta=meta, nodes=nodes)


def _child_main(conn: Connection) -> None:
    try:
        meta, rows, claims, bootstrap, seed = conn.recv()
        result: tuple[str, Any] = ("ok", analyse_snapshot(_rebuild(meta, rows), claims, bootstrap, seed))
    except EOFError:
        return  # the parent went away before sending: nothing to do
    except Exception as err:  # reported to the parent, which logs and counts it as a failed crawl
        result = ("error", f"{type(err).__name__}: {err}")
    try:
        conn.send(result)
    except (BrokenPipeError, OSError):
        pass  # the parent was killed or cancelled the job
    finally:
        conn.close()


def _exchange(conn: Connection, payload: tuple[Any, ...]) -> tuple[str, Any]:
    try:
        conn.send(payload)
        reply: tuple[str, Any] = conn.recv()
    except (EOFError, OSError) as err:
        raise AnalysisError(f"analysis process died: {type(err).__name__}") from err
    return reply


def child_analyser(claims: ClaimSet | None, bootstrap: int, seed: int) -> Analyser:
    """An analyser that runs each analysis in a fresh spawned process (killed when the job is cancelled)."""

    async def run(snapshot: Snapshot) -> Mapping[str, Any]:
        rows = await asyncio.to_thread(_rows, snapshot)
        ctx = multiprocessing.get_context("spawn")  # fork would copy the event loop and sockets of the service
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_child_main, args=(child,), name="monitor-analysis", daemon=True)
        await asyncio.to_thread(proc.start)
        child.close()
        try:
            status, value = await asyncio.to_thread(_exchange, parent, (snapshot.meta, rows, claims, bootstrap, seed))
        finally:
            if proc.is_alive():
                proc.kill()  # cancelled, or the reply was lost: the child must not outlive the job
            await asyncio.to_thread(proc.join, 10)
            parent.close()
        if status != "ok":
            raise AnalysisError(f"analysis failed: {value}")
        result: Mapping[str, Any] = value
        return result

    return run


def thread_analyser(claims: ClaimSet | None, bootstrap: int, seed: int) -> Analyser:
    """The same analysis in a worker thread: cheaper for small snapshots and for tests."""

    async def run(snapshot: Snapshot) -> Mapping[str, Any]:
        return await asyncio.to_thread(analyse_snapshot, snapshot, claims, bootstrap, seed)

    return run
