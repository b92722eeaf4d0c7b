"""The HTTP side of ``monitor serve``: /metrics, /api/snapshot, /api/history, /api/vantages, /healthz.

Handlers read the service's current immutable view; /metrics and /api/snapshot send bytes rendered when the view was
built, so a scrape costs the same whatever the snapshot size and never waits for a crawl. Only /api/history and
/api/snapshot?vantage=NAME (one vantage point's latest snapshot from the shared store) touch the database.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from monitor.exporter.logfilter import install_request_log_limit
from monitor.exporter.service import ExporterService, strict_json

__all__ = ["build_app", "parse_since", "strict_json", "SERVICE_KEY"]

SERVICE_KEY: web.AppKey[ExporterService] = web.AppKey("service", ExporterService)
_CLOCK_KEY: web.AppKey[Callable[[], float]] = web.AppKey("clock")


def _json(body: Any, status: int = 200) -> web.Response:
    # Strict JSON: NaN and Infinity are not JSON (strict parsers reject the whole body); they become null.
    text = json.dumps(strict_json(body), separators=(",", ":"), allow_nan=False)
    return web.Response(body=text.encode("utf-8"), status=status, content_type="application/json")


def parse_since(text: str | None) -> float:
    """UNIX seconds, or an ISO 8601 time (UTC when it names no zone); absent means the whole history."""
    if text is None or text == "":
        return 0.0
    try:
        value = float(text)
    except ValueError:
        pass
    else:
        if not math.isfinite(value):  # since=nan answered {"since":NaN}, since=1e400 Infinity (issue 16)
            raise ValueError(f"since must be a finite number of UNIX seconds, got {text!r}")
        return value
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError as err:
        raise ValueError(f"since must be UNIX seconds or an ISO 8601 time, got {text!r}") from err
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.timestamp()


async def metrics(request: web.Request) -> web.Response:
    view = request.app[SERVICE_KEY].view
    return web.Response(body=view.metrics.exposition, headers={"Content-Type": CONTENT_TYPE_LATEST})


async def snapshot(request: web.Request) -> web.Response:
    service = request.app[SERVICE_KEY]
    vantage = request.query.get("vantage")
    if vantage:
        document = await service.store.latest_document(vantage)
        if document is None:
            return _json({"error": f"no snapshot of vantage {vantage!r}"}, status=404)
        return _json(document)
    view = service.view
    if view.snapshot_json is None:
        return _json({"error": "no snapshot yet: the first crawl has not finished"}, status=503)
    return web.Response(body=view.snapshot_json, content_type="application/json")


async def history(request: web.Request) -> web.Response:
    try:
        since = parse_since(request.query.get("since"))
    except ValueError as err:
        return _json({"error": str(err)}, status=400)
    service = request.app[SERVICE_KEY]
    vantage = request.query.get("vantage") or None
    rows = await service.store.history(since, vantage=vantage)
    return _json({"since": since, "vantage": vantage, "crawls": rows})


async def vantages(request: web.Request) -> web.Response:
    summary = request.app[SERVICE_KEY].view.vantages
    if summary is None:
        return _json({"vantage_points": 0, "vantages": []})
    return _json(summary.to_dict())


async def healthz(request: web.Request) -> web.Response:
    ok, body = request.app[SERVICE_KEY].health_report(request.app[_CLOCK_KEY]())
    return _json(body, status=200 if ok else 503)


def build_app(service: ExporterService, clock: Callable[[], float] = time.time) -> web.Application:
    install_request_log_limit()
    app = web.Application()
    app[SERVICE_KEY] = service
    app[_CLOCK_KEY] = clock
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/api/snapshot", snapshot)
    app.router.add_get("/api/history", history)
    app.router.add_get("/api/vantages", vantages)
    app.router.add_get("/healthz", healthz)
    return app
