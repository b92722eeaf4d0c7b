"""The C table's lazy results: ``Table(..., results, compose)`` fills a ``None`` entry with ``compose(id)`` on first
``get`` (monitor/hosting/_fastlookup.c), caches it in the list, and lets compose's exceptions through."""

from __future__ import annotations

import gc
import sys
import weakref
from typing import Any

import pytest
from native_tables import table_columns

fastlookup = pytest.importorskip("monitor.hosting._fastlookup", reason="C extension not built")


COLS = table_columns([0, 10, 2**31], [1, 2, 3])  # 0.0.0.0 -> id 1, 0.0.0.10 -> id 2, 128.0.0.0 -> id 3, IPv6 -> id 0


class Result:
    """A fresh object per compose call, so identity tells a cached result from a recomposed one."""

    def __init__(self, tid: int) -> None:
        self.tid = tid


class Boom(Exception):
    pass


def test_compose_is_called_once_per_id_and_cached() -> None:
    calls: list[int] = []

    def compose(tid: int) -> Result:
        calls.append(tid)
        return Result(tid)

    results: list[Any] = [None] * 4
    table = fastlookup.Table(**COLS, results=results, compose=compose)
    first = table.get("0.0.0.10")
    assert isinstance(first, Result) and first.tid == 2
    assert calls == [2] and results[2] is first and results.count(None) == 3
    assert table.get("0.0.0.11") is first  # same interval
    assert table.get("127.255.255.255") is first  # same id, other end of the interval
    assert calls == [2]
    v6 = table.get("2001:db8::1")
    assert table.get("::1") is v6 and v6.tid == 0
    assert table.get("::ffff:128.0.0.1").tid == 3  # IPv4-mapped: the IPv4 interval's id
    assert table.get("0.0.0.1").tid == 1
    assert calls == [2, 0, 3, 1]
    assert results == [v6, table.get("0.0.0.0"), first, table.get("200.1.2.3")]
    assert calls == [2, 0, 3, 1]
    # lookup() never composes
    assert table.lookup("0.0.0.10") == 2 and calls == [2, 0, 3, 1]


def test_prefilled_entries_are_returned_without_compose() -> None:
    calls: list[int] = []
    results: list[Any] = ["zero", None, "two", None]

    def compose(tid: int) -> str:
        calls.append(tid)
        return f"made {tid}"

    table = fastlookup.Table(**COLS, results=results, compose=compose)
    assert table.get("0.0.0.10") == "two" and table.get("::1") == "zero"
    assert table.get("0.0.0.1") == "made 1" and results[1] == "made 1"
    assert calls == [1]


def test_compose_exception_propagates_and_stores_nothing() -> None:
    fail = True

    def compose(tid: int) -> str:
        if fail:
            raise Boom(f"cannot compose {tid}")
        return f"ok {tid}"

    results: list[Any] = [None] * 4
    table = fastlookup.Table(**COLS, results=results, compose=compose)
    with pytest.raises(Boom, match="cannot compose 2"):
        table.get("0.0.0.10")
    assert results == [None] * 4
    with pytest.raises(Boom, match="cannot compose 0"):
        table.get("::1")
    fail = False  # a later get tries again
    assert table.get("0.0.0.10") == "ok 2" and results[2] == "ok 2"
    # address errors still come first, without calling compose
    fail = True
    with pytest.raises(ValueError, match="not an IP address"):
        table.get("nope")


def test_without_compose_a_none_entry_is_returned() -> None:
    results: list[Any] = [None, "one", None, None]
    table = fastlookup.Table(**COLS, results=results)
    assert table.get("0.0.0.10") is None
    assert table.get("0.0.0.1") == "one"
    assert results == [None, "one", None, None]
    explicit = fastlookup.Table(**COLS, results=results, compose=None)
    assert explicit.get("0.0.0.10") is None


def test_compose_returning_none_is_returned() -> None:
    calls: list[int] = []
    results: list[Any] = [None] * 4
    table = fastlookup.Table(**COLS, results=results, compose=calls.append)  # returns None
    assert table.get("0.0.0.10") is None
    assert table.get("0.0.0.10") is None
    assert calls == [2, 2]  # nothing was stored, so it is asked again


def test_first_store_wins_when_compose_lets_another_writer_in() -> None:
    """compose() runs Python code, so another thread may fill the entry meanwhile: get() returns that object."""
    results: list[Any] = [None] * 4
    theirs = Result(2)

    def compose(tid: int) -> Result:
        results[tid] = theirs  # what a racing thread's get() would have stored
        return Result(tid)

    table = fastlookup.Table(**COLS, results=results, compose=compose)
    assert table.get("0.0.0.10") is theirs
    assert results[2] is theirs


def test_compose_shrinking_the_list_does_not_crash() -> None:
    results: list[Any] = [None] * 4

    def compose(tid: int) -> str:
        del results[:]
        return f"made {tid}"

    table = fastlookup.Table(**COLS, results=results, compose=compose)
    assert table.get("128.0.0.1") == "made 3"  # returned, but nowhere to store it
    assert results == []
    with pytest.raises(IndexError):
        table.get("128.0.0.1")


def test_reference_counts() -> None:
    results: list[Any] = [None] * 4
    table = fastlookup.Table(**COLS, results=results, compose=Result)
    got = table.get("0.0.0.10")
    # held by: results[2], `got`, getrefcount's argument: nothing leaked, nothing over-released
    assert sys.getrefcount(got) == 3
    for _ in range(100):
        table.get("0.0.0.10")
    assert sys.getrefcount(got) == 3
    del results[2]  # the list's reference goes away with the item
    assert sys.getrefcount(got) == 2
    theirs = Result(2)
    results2: list[Any] = [None] * 4

    def compose(tid: int) -> Result:
        results2[tid] = theirs
        return Result(tid)  # dropped by get(): must be freed, not leaked

    dropped = weakref.WeakSet[Result]()

    def tracking(tid: int) -> Result:
        mine = compose(tid)
        dropped.add(mine)
        return mine

    before = sys.getrefcount(theirs)
    table2 = fastlookup.Table(**COLS, results=results2, compose=tracking)
    assert table2.get("0.0.0.10") is theirs  # (the returned reference is dropped right away)
    assert len(dropped) == 0  # ours was freed
    assert sys.getrefcount(theirs) == before + 1  # + results2[2] only: the returned reference was not leaked
    again = table2.get("0.0.0.10")
    assert sys.getrefcount(theirs) == before + 2  # + `again`
    del again


class Marker:
    pass


def _table_in_a_cycle() -> weakref.ref[Marker]:
    """A table whose compose refers back to it (table -> compose -> holder -> table); a weak reference to a marker
    object that only that cycle keeps alive."""
    marker = Marker()
    holder: list[Any] = []

    def compose(tid: int) -> Any:
        return (holder, marker, tid)

    holder.append(fastlookup.Table(**COLS, results=[None] * 4, compose=compose))
    return weakref.ref(marker)


def test_compose_cycle_is_collected() -> None:
    """GC support covers the compose reference: a table whose compose refers back to it is collected."""
    ref = _table_in_a_cycle()
    assert ref() is not None  # only the cycle holds it
    gc.collect()
    assert ref() is None


def test_compose_argument_checks() -> None:
    with pytest.raises(TypeError, match="callable"):
        fastlookup.Table(**COLS, results=[None] * 4, compose=42)
    with pytest.raises(TypeError, match="results"):
        fastlookup.Table(**COLS, compose=Result)
    table = fastlookup.Table(**COLS, results=[None] * 4, compose=Result)
    with pytest.raises(TypeError, match="already initialised"):
        table.__init__(**COLS, results=[None] * 4, compose=Result)
    assert table.get("0.0.0.9").tid == 1
