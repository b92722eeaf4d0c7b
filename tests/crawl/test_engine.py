"""The protocol-agnostic engine, driven by a fake graph: dedup, revisits, concurrency bound, deadline."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

import pytest

from monitor.crawl.engine import CrawlEngine, EngineConfig, EngineProgress

pytestmark = pytest.mark.timeout(20)


@dataclass(frozen=True)
class Task:
    name: int
    version: int = 0


class GraphDriver:
    def __init__(self, graph: dict[int, list[int]], delay: float = 0.0, dead: frozenset[int] = frozenset()) -> None:
        self.graph, self.delay, self.dead = graph, delay, dead
        self.visits: list[Task] = []
        self.running = self.max_running = 0
        self.bump: dict[int, int] = {}  # node -> version it advertises for its neighbours to pass on

    def key(self, task: Task) -> Hashable:
        return task.name

    def version(self, task: Task) -> int:
        return task.version

    async def visit(self, task: Task) -> list[Task]:
        self.visits.append(task)
        self.running += 1
        self.max_running = max(self.max_running, self.running)
        await asyncio.sleep(self.delay)
        self.running -= 1
        if task.name in self.dead:
            return []
        return [Task(n, self.bump.get(n, 0)) for n in self.graph.get(task.name, [])]

    def discovered(self, result: list[Task]) -> Iterable[Task]:
        return result

    def answered(self, result: list[Task]) -> bool:
        return True

    def result_version(self, result: list[Task]) -> int:
        return 0


def ring(n: int) -> dict[int, list[int]]:
    return {i: [(i + 1) % n, (i + 7) % n] for i in range(n)}


async def test_visits_every_reachable_node_once() -> None:
    driver = GraphDriver(ring(500))
    result = await CrawlEngine(driver, EngineConfig(concurrency=16)).run([Task(0)])
    assert sorted(result.results) == list(range(500))
    assert len(driver.visits) == 500  # dedup: each node visited exactly once


async def test_unreachable_part_is_not_invented() -> None:
    graph = {0: [1], 1: [0], 2: [3], 3: [2]}
    result = await CrawlEngine(GraphDriver(graph), EngineConfig()).run([Task(0)])
    assert set(result.tasks) == {0, 1}


async def test_concurrency_is_bounded() -> None:
    driver = GraphDriver({0: list(range(1, 101))}, delay=0.01)
    await CrawlEngine(driver, EngineConfig(concurrency=7)).run([Task(0)])
    assert driver.max_running == 7


async def test_newer_version_is_revisited_at_most_max_revisits() -> None:
    graph = {0: [1, 2], 1: [2], 2: [0]}
    driver = GraphDriver(graph)
    driver.bump = {2: 5}  # node 1 reports node 2 with a newer record after 0 reported it plain
    engine = CrawlEngine(driver, EngineConfig(concurrency=1, max_revisits=1))
    result = await engine.run([Task(0)])
    versions = [t.version for t in driver.visits if t.name == 2]
    assert versions == [5] or versions == [0, 5]
    assert result.revisits == len(versions) - 1


async def test_deadline_stops_the_crawl_and_says_so() -> None:
    graph = {i: [i + 1] for i in range(10_000)}
    progress: list[EngineProgress] = []
    engine = CrawlEngine(
        GraphDriver(graph, delay=0.01),
        EngineConfig(concurrency=1, duration=0.2, progress_interval=0.05),
        on_progress=progress.append,
    )
    result = await engine.run([Task(0)])
    assert result.deadline_hit
    assert 3 < len(result.results) < 100
    assert progress and progress[-1].visited == len(result.results)


async def test_deadline_holds_when_a_visit_swallows_its_cancellation() -> None:
    """A visit that ignores the deadline's cancel once (as Python 3.11's wait_for can) must not hang the crawl."""

    class Stubborn(GraphDriver):
        async def visit(self, task: Task) -> list[Task]:
            with contextlib.suppress(asyncio.CancelledError):  # swallowed: the worker goes back to the empty queue
                await asyncio.sleep(10)
            return []

    engine = CrawlEngine(Stubborn({}), EngineConfig(concurrency=2, duration=0.2))
    result = await asyncio.wait_for(engine.run([Task(0), Task(1)]), 5)
    assert result.deadline_hit and not engine.running


async def test_driver_bug_surfaces_instead_of_hanging() -> None:
    class Broken(GraphDriver):
        async def visit(self, task: Task) -> list[Task]:
            raise RuntimeError("bug")

    with pytest.raises(RuntimeError):
        await CrawlEngine(Broken({}), EngineConfig(concurrency=2)).run([Task(0)])


async def test_version_announced_during_a_visit_is_decided_after_it() -> None:
    """A newer version seen mid-visit is revisited only if the visit itself did not already observe it."""

    class SeesVersion(GraphDriver):
        def __init__(self, observed: int) -> None:
            super().__init__({0: [1], 1: []}, delay=0.05)
            self.observed = observed
            self.engine: CrawlEngine[Task, list[Task]] | None = None

        async def visit(self, task: Task) -> list[Task]:
            if task.name == 1 and self.engine is not None and len(self.visits) < 3:
                self.engine.submit(Task(1, 3))  # node 1 announces version 3 while we are visiting it
            return await super().visit(task)

        def result_version(self, result: list[Task]) -> int:
            return self.observed

    for observed, expected_visits_of_1 in ((3, 1), (2, 2)):
        driver = SeesVersion(observed)
        engine = CrawlEngine(driver, EngineConfig(concurrency=4))
        driver.engine = engine
        result = await engine.run([Task(0)])
        assert [t.name for t in driver.visits].count(1) == expected_visits_of_1
        assert result.revisits == expected_visits_of_1 - 1


async def test_failed_revisit_keeps_the_earlier_answer() -> None:
    class Flaky(GraphDriver):
        engine: CrawlEngine[Task, list[Task]]

        async def visit(self, task: Task) -> list[Task]:
            if task.name == 2:
                self.engine.submit(Task(1, 5))  # node 1 announces a newer record after its first visit
            if task.name == 1 and task.version == 5:
                self.visits.append(task)
                return [Task(-1)]  # marker: this visit got no answer
            return await super().visit(task)

        def answered(self, result: list[Task]) -> bool:
            return Task(-1) not in result

        def discovered(self, result: list[Task]) -> Iterable[Task]:
            return [t for t in result if t.name >= 0]

    driver = Flaky({0: [1, 2], 1: [], 2: []})
    driver.engine = CrawlEngine(driver, EngineConfig(concurrency=1))
    result = await driver.engine.run([Task(0)])
    assert [t for t in driver.visits if t.name == 1] == [Task(1, 0), Task(1, 5)]
    assert result.results[1] == []  # the answered first visit, not the failed revisit
