"""The protocol-agnostic engine, driven by a fake graph: dedup, revisits, concurrency bound, deadline."""

from __future__ import annotations

import asyncio
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


async def test_driver_bug_surfaces_instead_of_hanging() -> None:
    class Broken(GraphDriver):
        async def visit(self, task: Task) -> list[Task]:
            raise RuntimeError("bug")

    with pytest.raises(RuntimeError):
        await CrawlEngine(Broken({}), EngineConfig(concurrency=2)).run([Task(0)])
