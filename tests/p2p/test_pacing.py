"""The global send-rate limit (monitor/p2p/pacing.py) on an injected clock and sleep."""

from __future__ import annotations

import pytest

from monitor.p2p.pacing import Pacer


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def test_burst_then_one_token_per_interval() -> None:
    clock = FakeTime()
    pacer = Pacer(rate=100.0, burst=3, clock=clock)
    assert [pacer.try_take() for _ in range(3)] == [0.0, 0.0, 0.0]
    assert [round(pacer.try_take(), 4) for _ in range(3)] == [0.01, 0.02, 0.03]  # reservations queue up
    clock.now += 0.03  # the debt is paid
    assert pacer.try_take() == pytest.approx(0.01)
    clock.now += 10
    assert pacer.try_take() == 0.0  # refilled, but never beyond the burst
    assert [pacer.try_take() for _ in range(2)] == [0.0, 0.0]
    assert pacer.try_take() > 0


async def test_acquire_sleeps_only_when_out_of_tokens() -> None:
    clock = FakeTime()
    pacer = Pacer(rate=50.0, burst=1, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        await pacer.acquire()
    assert clock.slept == pytest.approx([0.02, 0.04])
    assert pacer.waited == 2


def test_governor_cuts_on_lag_or_late_answers_and_grows_back() -> None:
    pacer = Pacer(rate=1000.0, clock=FakeTime())
    pacer.adapt(lag=0.5)
    assert pacer.rate == pytest.approx(800.0) and pacer.slowed == 1
    pacer.adapt(lag=0.0)
    assert pacer.rate == pytest.approx(820.0)
    for _ in range(100):
        pacer.try_take()
    for _ in range(6):
        pacer.note_late()  # 6 % of the step's requests answered after their timeout
    pacer.adapt(lag=0.0)
    assert pacer.rate == pytest.approx(656.0)
    for _ in range(100):
        pacer.adapt(lag=1.0)
    assert pacer.rate == pytest.approx(50.0)  # the floor: 5 % of the maximum
    for _ in range(1000):
        pacer.adapt(lag=0.0)
    assert pacer.rate == 1000.0


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        Pacer(rate=0)
    with pytest.raises(ValueError):
        Pacer(rate=10, burst=0.5)
