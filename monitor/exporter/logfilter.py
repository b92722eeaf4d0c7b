"""Malformed HTTP requests: logged at most once a minute per kind, in one line.

aiohttp logs every request it cannot parse at ERROR with a traceback; a scanner's junk made 1,550 tracebacks and
1.5 MB of log in one run (issue 16). This filter lets the first of each kind (exception type) through per window,
as one line that says how many like it were held back since, and drops the rest.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

__all__ = ["RateLimitedErrors", "install_request_log_limit"]

SERVER_LOGGER = "aiohttp.server"


class RateLimitedErrors(logging.Filter):
    def __init__(self, window: float = 60.0, now: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.window = window
        self.now = now
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        kind = type(exc).__name__ if exc is not None else record.getMessage()[:80]
        now = self.now()
        last = self._last.get(kind)
        if last is not None and now - last < self.window:
            self._held[kind] = self._held.get(kind, 0) + 1
            return False
        self._last[kind] = now
        held = self._held.pop(kind, 0)
        detail = f": {type(exc).__name__}: {' '.join(str(exc).split())}" if exc is not None else ""
        more = f" ({held} more like it in the last {self.window:g} s)" if held else ""
        record.msg, record.args = " ".join(f"{record.getMessage()}{detail}{more}".split()), ()
        record.exc_info, record.exc_text = None, None  # one line: the traceback of a client's bad bytes says nothing
        return True


def install_request_log_limit(window: float = 60.0) -> RateLimitedErrors:
    """Attach the filter to aiohttp's server logger once (idempotent: build_app may run several times)."""
    logger = logging.getLogger(SERVER_LOGGER)
    for existing in logger.filters:
        if isinstance(existing, RateLimitedErrors):
            return existing
    limiter = RateLimitedErrors(window)
    logger.addFilter(limiter)
    return limiter
