"""The engine's deadline holds even when a visit swallows its cancellation.

Python 3.11's ``asyncio.wait_for`` can lose a cancellation that lands as its inner future completes (gh-86296);
a worker that lost it went on crawling, and the engine waited for it: a 30 s crawl against the Sybil peer was
still running after 120 s (issue 16). This driver swallows the first cancellation of every visit, on purpose.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Hashable, Iterable

from monitor.crawl.engine import CrawlEngine, EngineConfig


class StubbornDriver:
    def __init__(self) -> None:
        self.counter = 0

    def key(self, task: int) -> Hashable:
        return task

    def version(self, task: int) -> int:
        return 0

    def result_version(self, result: int) -> int:
        return 0

    def answered(self, result: int) -> bool:
        return True

    def discovered(self, result: int) -> Iterable[int]:
        self.counter += 2
        return (self.counter, self.counter + 1)  # an endless frontier

    async def visit(self, task: int) -> int:
        try:
            await asyncio.sleep(0.05)
        except asyncio.CancelledError:
            await asyncio.sleep(0.05)  # lost the cancellation, like wait_for in 3.11, and carry on
        return task


async def test_deadline_holds_when_visits_swallow_cancellation() -> None:
    engine: CrawlEngine[int, int] = CrawlEngine(StubbornDriver(), EngineConfig(concurrency=16, duration=0.5))
    started = time.monotonic()
    result = await asyncio.wait_for(engine.run([0]), 10)
    assert time.monotonic() - started < 2.0
    assert result.deadline_hit and len(result.results) > 0


async def test_node_table_cap_refuses_new_tasks_and_counts_them() -> None:
    engine: CrawlEngine[int, int] = CrawlEngine(
        StubbornDriver(), EngineConfig(concurrency=4, duration=1.0, max_tasks=50)
    )
    result = await engine.run([0])
    assert len(result.tasks) == 50 and result.capped > 0
