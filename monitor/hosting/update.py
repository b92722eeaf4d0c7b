"""``monitor data update``: fetch each dataset's canonical file over aiohttp, validate it, then replace atomically.

A download must pass every check before it touches the data dir: HTTP 200, body length equal to ``Content-Length``
when the server sent one (a cut connection), at least the spec's ``min_bytes`` (a truncated or wrong file), and a
full parse by the same reader the resolver uses (invalid JSON, bad prefixes, no ranges). Anything else leaves the
previous file and manifest entry untouched. Server errors (5xx), timeouts and connection errors are retried with
exponential backoff; client errors (4xx) are not. aiohttp is the project's HTTP client.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import aiohttp

from monitor.errors import DatasetError, NetworkError
from monitor.hosting.asn import read_iptoasn
from monitor.hosting.asntable import read_asn_list
from monitor.hosting.formats import READERS, read_geofeed
from monitor.hosting.store import DATASETS, DatasetSpec, DatasetStore, StoredDataset

__all__ = ["HttpStatusError", "UpdateResult", "update_datasets", "validate"]

Progress = Callable[[str, int, int | None], None]  # (dataset name, bytes so far, total or None)

_DATED_INSIDE = {"aws", "gcp", "oracle"}  # formats whose file states its own date


class HttpStatusError(NetworkError):
    """A non-200 answer; 5xx is worth retrying, 4xx is not."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class UpdateResult:
    name: str
    ok: bool
    message: str
    entry: StoredDataset | None = None


def _date_hint(url: str, last_modified: str | None, now: float) -> str:
    """A date for files that carry none: ``YYYYMMDD`` in the URL (Azure), else Last-Modified, else today."""
    m = re.search(r"(20\d{2})(\d{2})(\d{2})", url.rsplit("/", 1)[-1])
    if m:
        return f"{m[1]}-{m[2]}-{m[3]}"
    if last_modified:
        try:
            return parsedate_to_datetime(last_modified).astimezone(UTC).strftime("%Y-%m-%d")
        except (TypeError, ValueError):
            pass
    return datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d")


def validate(spec: DatasetSpec, raw: bytes, url: str, date_hint: str) -> str:
    """Parse ``raw`` as ``spec`` says; return its data date or raise :class:`DatasetError`."""
    if len(raw) < spec.min_bytes:
        raise DatasetError(f"{spec.name}: {len(raw)} bytes, expected at least {spec.min_bytes} (truncated?)")
    if spec.kind == "iptoasn":
        read_iptoasn(raw, spec.name)
        return date_hint
    if spec.kind == "asnlist":
        read_asn_list(raw, spec.name)
        return date_hint
    if spec.kind.startswith("geofeed:"):
        return read_geofeed(raw, url, date_hint, spec.kind.split(":", 1)[1], spec.name).data_date
    reader = READERS.get(spec.kind)
    if reader is None:
        raise DatasetError(f"{spec.name}: unknown dataset kind {spec.kind!r}")
    return reader(raw, url, None if spec.kind in _DATED_INSIDE else date_hint).data_date


async def _fetch_once(
    session: aiohttp.ClientSession, name: str, url: str, progress: Progress | None
) -> tuple[bytes, str | None]:
    async with session.get(url) as resp:
        if resp.status != 200:
            raise HttpStatusError(f"{name}: HTTP {resp.status} from {url}", resp.status)
        total = resp.content_length
        chunks = []
        done = 0
        async for chunk in resp.content.iter_chunked(1 << 16):
            chunks.append(chunk)
            done += len(chunk)
            if progress is not None:
                progress(name, done, total)
        body = b"".join(chunks)
        if total is not None and len(body) != total:
            raise DatasetError(f"{name}: got {len(body)} of {total} bytes from {url} (truncated)")
        return body, resp.headers.get("Last-Modified")


async def _fetch(
    session: aiohttp.ClientSession, name: str, url: str, retries: int, backoff: float, progress: Progress | None
) -> tuple[bytes, str | None]:
    for attempt in range(retries + 1):
        try:
            return await _fetch_once(session, name, url, progress)
        except HttpStatusError as err:
            if err.status < 500 or attempt == retries:
                raise
        except (aiohttp.ClientError, TimeoutError) as err:
            if attempt == retries:
                raise NetworkError(f"{name}: {type(err).__name__} fetching {url}: {err}") from err
        await asyncio.sleep(backoff * 2**attempt)
    raise AssertionError("unreachable")


async def update_datasets(
    store: DatasetStore,
    specs: Iterable[DatasetSpec] = DATASETS,
    *,
    urls: Mapping[str, str] | None = None,
    timeout_s: float = 60.0,
    retries: int = 3,
    backoff: float = 0.5,
    concurrency: int = 4,
    progress: Progress | None = None,
    now: Callable[[], float] = time.time,
) -> list[UpdateResult]:
    """Refresh every spec (``urls`` overrides a spec's URL by name); one result per dataset, never raises for one."""
    sem = asyncio.Semaphore(concurrency)
    client_timeout = aiohttp.ClientTimeout(total=timeout_s, sock_read=min(timeout_s, 30.0))

    async def one(session: aiohttp.ClientSession, spec: DatasetSpec) -> UpdateResult:
        url = (urls or {}).get(spec.name, spec.url)
        async with sem:
            try:
                raw, last_modified = await _fetch(session, spec.name, url, retries, backoff, progress)
                date = validate(spec, raw, url, _date_hint(url, last_modified, now()))
                entry = store.put(spec, url, raw, date, now())
            except (DatasetError, NetworkError) as err:
                return UpdateResult(spec.name, False, f"{err} (previous data kept)")
            except OSError as err:
                return UpdateResult(spec.name, False, f"{spec.name}: cannot write: {err} (previous data kept)")
        return UpdateResult(spec.name, True, f"{spec.name}: {len(raw):,} bytes, data of {date}", entry)

    async with aiohttp.ClientSession(timeout=client_timeout) as session:
        return list(await asyncio.gather(*(one(session, s) for s in specs)))
