"""A protocol-agnostic crawl engine: frontier, dedup, bounded concurrency, deadline, progress.

A protocol plugs in through :class:`Driver` (after Nebula's engine/driver split): the engine knows nothing about
packets, only that visiting a task yields a result and more tasks. Tasks are deduplicated by ``driver.key``;
a task seen again with a higher ``driver.version`` (for discv4: a newer ENR sequence number) is visited again,
at most ``max_revisits`` times, so a flapping peer cannot keep the crawl alive.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

__all__ = ["Driver", "EngineConfig", "EngineProgress", "EngineResult", "CrawlEngine"]

T = TypeVar("T")
R = TypeVar("R")


class Driver(Protocol[T, R]):
    def key(self, task: T) -> Hashable:
        """Identity used for deduplication (a node id)."""

    def version(self, task: T) -> int:
        """Monotonic freshness of what we know about the task (an ENR seq); higher means revisit."""

    async def visit(self, task: T) -> R:
        """Do the work for one task. Must not raise for expected network failures: put them in the result."""

    def discovered(self, result: R) -> Iterable[T]:
        """New tasks learned from a result."""

    def result_version(self, result: R) -> int:
        """The freshness a visit actually observed (the fetched ENR's seq): only newer versions trigger a revisit."""

    def answered(self, result: R) -> bool:
        """Did the peer respond at all (for progress and stats)."""


@dataclass(frozen=True)
class EngineConfig:
    concurrency: int = 256
    duration: float | None = None  # global deadline in seconds; None: until the frontier is exhausted
    max_revisits: int = 1
    progress_interval: float = 0.25


@dataclass(frozen=True)
class EngineProgress:
    found: int
    visited: int
    answered: int
    in_flight: int
    queued: int
    elapsed: float

    @property
    def rate(self) -> float:
        return self.visited / self.elapsed if self.elapsed > 0 else 0.0


@dataclass(repr=False)
class EngineResult(Generic[T, R]):
    tasks: dict[Hashable, T] = field(default_factory=dict)  # every distinct task ever seen, by key
    results: dict[Hashable, R] = field(default_factory=dict)  # the latest result per visited key
    first_seen: dict[Hashable, float] = field(default_factory=dict)
    revisits: int = 0
    deadline_hit: bool = False
    started_at: float = 0.0
    ended_at: float = 0.0

    def __repr__(self) -> str:  # a crawl's full repr is huge; see CrawlOutcome.__repr__
        return f"EngineResult({len(self.tasks)} tasks, {len(self.results)} results)"


class CrawlEngine(Generic[T, R]):
    def __init__(
        self,
        driver: Driver[T, R],
        config: EngineConfig,
        *,
        on_progress: Callable[[EngineProgress], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._driver = driver
        self._config = config
        self._on_progress = on_progress
        self._clock = clock
        self._queue: asyncio.Queue[T] = asyncio.Queue()
        self._result: EngineResult[T, R] = EngineResult()
        self._visited_version: dict[Hashable, int] = {}
        self._revisits: dict[Hashable, int] = {}
        self._answered: set[Hashable] = set()
        self._busy: set[Hashable] = set()  # keys being visited now
        self._deferred: dict[Hashable, T] = {}  # newer versions announced during a visit
        self._in_flight = 0
        self._started = 0.0
        self.running = False  # True while run() is active; submissions outside it are ignored by callers

    def submit(self, task: T) -> bool:
        """Offer a task; return True if it was queued (new, or known with a newer version)."""
        key = self._driver.key(task)
        res = self._result
        if key not in res.tasks:
            res.tasks[key] = task
            res.first_seen[key] = self._clock()
            self._queue.put_nowait(task)
            return True
        version = self._driver.version(task)
        if key in self._busy:
            # Being visited right now: decide once the visit has shown which version it actually saw.
            held = self._deferred.get(key)
            if held is None or version > self._driver.version(held):
                self._deferred[key] = task
            return False
        seen_version = self._visited_version.get(key)
        if (
            seen_version is not None
            and version > seen_version
            and self._revisits.get(key, 0) < self._config.max_revisits
        ):
            self._revisits[key] = self._revisits.get(key, 0) + 1
            self._visited_version[key] = version  # queue it once per newer version
            res.tasks[key] = task
            res.revisits += 1
            self._queue.put_nowait(task)
            return True
        return False

    def progress(self) -> EngineProgress:
        return EngineProgress(
            found=len(self._result.tasks),
            visited=len(self._result.results),
            answered=len(self._answered),
            in_flight=self._in_flight,
            queued=self._queue.qsize(),
            elapsed=self._clock() - self._started,
        )

    async def _worker(self) -> None:
        while True:
            task = await self._queue.get()
            self._in_flight += 1
            key = self._driver.key(task)
            self._busy.add(key)
            try:
                self._visited_version[key] = max(self._visited_version.get(key, -1), self._driver.version(task))
                result = await self._driver.visit(task)
                self._visited_version[key] = max(self._visited_version[key], self._driver.result_version(result))
                self._record(key, result)
                for new in self._driver.discovered(result):
                    self.submit(new)
            finally:
                self._busy.discard(key)
                held = self._deferred.pop(key, None)
                if held is not None:
                    self.submit(held)  # before task_done, so the queue cannot look finished in between
                self._in_flight -= 1
                self._queue.task_done()

    def _record(self, key: Hashable, result: R) -> None:
        """Keep the latest result, except that a failed revisit never hides an earlier answer."""
        if self._driver.answered(result):
            self._answered.add(key)
        elif key in self._answered:
            return
        self._result.results[key] = result

    async def _report(self) -> None:
        while True:
            await asyncio.sleep(self._config.progress_interval)
            if self._on_progress is not None:
                self._on_progress(self.progress())

    async def run(self, seeds: Iterable[T]) -> EngineResult[T, R]:
        self._started = self._result.started_at = self._clock()
        self.running = True
        for seed in seeds:
            self.submit(seed)
        workers = [asyncio.create_task(self._worker()) for _ in range(max(1, self._config.concurrency))]
        reporter = asyncio.create_task(self._report())
        try:
            done = asyncio.create_task(self._queue.join())
            finished, _ = await asyncio.wait(
                [done, *workers], timeout=self._config.duration, return_when=asyncio.FIRST_COMPLETED
            )
            for worker in workers:
                if worker in finished and worker.exception() is not None:
                    raise worker.exception()  # type: ignore[misc]  # a driver bug: surface it, do not hang
            if done not in finished:
                self._result.deadline_hit = True
                done.cancel()
        finally:
            await _cancel_all([*workers, reporter])
            self.running = False
            self._result.ended_at = self._clock()
            if self._on_progress is not None:
                self._on_progress(self.progress())
        return self._result


async def _cancel_all(tasks: list[asyncio.Task[None]]) -> None:
    """Cancel the tasks and wait until every one has ended.

    A cancellation can be swallowed (Python 3.11's ``asyncio.wait_for`` drops one that arrives together with the
    awaited result; a driver might catch it), leaving a worker to wait on the empty queue for ever: cancel again
    until none is left, so the crawl's deadline always holds.
    """
    pending: set[asyncio.Task[None]] = set(tasks)
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=0.5)
    for task in tasks:
        if not task.cancelled():
            task.exception()  # retrieved: a worker's error was already raised above or is moot after the deadline
