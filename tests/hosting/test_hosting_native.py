"""The optional C single lookup (monitor/hosting/_fastlookup.c) answers exactly like the pure-Python path.

Every outcome is compared bit for bit: the same shared Attribution object, or the same exception type and message
(junk strings, zone ids, IPv4-mapped addresses, whitespace, NULs, lone surrogates). The fallback path is covered by
``native=False`` and by ``MONITOR_NO_CEXT=1``.
"""

from __future__ import annotations

import ipaddress
from array import array
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from native_tables import table_columns

from monitor.hosting import Resolver
from monitor.hosting.asn import ProviderAsns
from monitor.hosting.fused import INDEX_BITS
from monitor.hosting.resolver import NO_CEXT_ENV, native_available

fastlookup = pytest.importorskip("monitor.hosting._fastlookup", reason="C extension not built")

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def pair(resolver: Resolver) -> tuple[Resolver, Resolver]:
    """(C path, pure-Python path) over the same fused table."""
    native = Resolver.from_table(resolver.table, ProviderAsns.bundled(), native=True)
    python = Resolver.from_table(resolver.table, ProviderAsns.bundled(), native=False)
    assert native.native and not python.native
    return native, python


def outcome(resolver: Resolver, text: Any) -> tuple[str, Any]:
    try:
        return "ok", resolver.lookup(text)
    except Exception as err:  # the exception itself is what is compared
        return type(err).__name__, str(err)


def same(pair: tuple[Resolver, Resolver], text: Any) -> None:
    native, python = pair
    got, want = outcome(native, text), outcome(python, text)
    # identical Attribution objects are shared between the two resolvers only through the table, so compare values
    if got[0] == want[0] == "ok":
        assert native.lookup(text) == python.lookup(text), text
    else:
        assert got == want, text


def v4(value: int) -> str:
    return str(ipaddress.IPv4Address(value))


def v6(value: int, exploded: bool = False) -> str:
    addr = ipaddress.IPv6Address(value)
    return addr.exploded if exploded else addr.compressed


@SETTINGS
@given(st.integers(0, 2**32 - 1))
@example(0)
@example(2**32 - 1)
def test_random_ipv4(pair: tuple[Resolver, Resolver], value: int) -> None:
    same(pair, v4(value))
    same(pair, f"::ffff:{v4(value)}")  # IPv4-mapped, dotted
    same(pair, v6(0xFFFF << 32 | value))  # IPv4-mapped, hex
    same(pair, f"::{v4(value)}")  # IPv4-compatible (deprecated): an IPv6 address


@SETTINGS
@given(st.integers(0, 2**128 - 1), st.booleans())
@example(0, False)
@example(2**128 - 1, True)
def test_random_ipv6(pair: tuple[Resolver, Resolver], value: int, exploded: bool) -> None:
    same(pair, v6(value, exploded))
    same(pair, v6(value).upper())


@SETTINGS
@given(st.data())
def test_interval_edges(pair: tuple[Resolver, Resolver], data: st.DataObject) -> None:
    table = pair[0].table
    i = data.draw(st.integers(0, len(table.starts4) - 1))
    start = table.starts4[i]
    for value in (start - 1, start, start + 1):
        if 0 <= value < 2**32:
            same(pair, v4(value))
    j = data.draw(st.integers(0, len(table.hi6) - 1))
    start6 = table.hi6[j] << 64 | table.lo6[j]
    for value in (start6 - 1, start6, start6 + 1):
        if 0 <= value < 2**128:
            same(pair, v6(value))
    same(pair, v4((i * 4099) % 2**32 >> (32 - INDEX_BITS) << (32 - INDEX_BITS)))  # a top-prefix block's first address


JUNK = st.one_of(
    st.text(max_size=50),
    st.text(alphabet="0123456789abcdefABCDEF:.%/ \t\n\x00x[]-", max_size=50),
    st.text(alphabet=st.characters(categories=["Cs", "Nd", "Zs"]), max_size=8),  # surrogates, non-ASCII digits
)


@SETTINGS
@given(JUNK)
@example("")
@example(" 1.2.3.4")
@example("1.2.3.4 ")
@example("1.2.3.4\x00")
@example("::1\x00")
@example("1.2.3")
@example("01.2.3.4")
@example("1.2.3.256")
@example("\ud800")
@example("::\ud800")
@example("1.2.3.4%eth0")
@example("fe80::1%")
@example("fe80::1%%")
@example("::ffff:1.2.3.4%x")
@example("[::1]")
@example("1:2:3:4:5:6:7:8:9")
@example("0000:0000:0000:0000:0000:ffff:255.255.255.255")
@example("0000:0000:0000:0000:0000:ffff:255.255.255.255%" + "z" * 100)
@example("0000:0000:0000:0000:0000:0000:0000:0000:0000:0000:0001%eth0")
def test_junk_strings(pair: tuple[Resolver, Resolver], text: str) -> None:
    same(pair, text)


@SETTINGS
@given(st.integers(0, 2**128 - 1), st.text(max_size=20))
def test_zone_ids(pair: tuple[Resolver, Resolver], value: int, zone: str) -> None:
    same(pair, f"{v6(value)}%{zone}")
    same(pair, f"fe80::{value % 65536:x}%{zone}")


def test_non_str_raises_type_error(pair: tuple[Resolver, Resolver]) -> None:
    for resolver in pair:
        with pytest.raises(TypeError):
            resolver.lookup(b"1.2.3.4")  # type: ignore[arg-type]


def test_overlays_take_the_python_path(pair: tuple[Resolver, Resolver], tmp_path: Any) -> None:
    from monitor.hosting.loading import load_overlay

    path = tmp_path / "o.csv"
    path.write_text("1.2.3.0/24,acme,x1\n")
    with_overlay = Resolver.from_table(pair[0].table, ProviderAsns.bundled(), [load_overlay(path)], native=True)
    assert not with_overlay.native
    assert with_overlay.lookup("1.2.3.4").provider == "acme"


def test_env_var_forces_the_fallback(pair: tuple[Resolver, Resolver], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(NO_CEXT_ENV, "1")
    assert not native_available()
    assert not Resolver.from_table(pair[0].table, ProviderAsns.bundled()).native
    monkeypatch.setenv(NO_CEXT_ENV, "0")
    assert native_available()
    assert Resolver.from_table(pair[0].table, ProviderAsns.bundled()).native


def test_table_directly() -> None:
    cols = table_columns([0, 10, 2**31], [7, 8, 9])
    table = fastlookup.Table(**cols, results=["a"] * 7 + ["b", "c", "d"])
    assert [table.lookup(v4(v)) for v in (0, 9, 10, 2**31 - 1, 2**31, 2**32 - 1)] == [7, 7, 8, 8, 9, 9]
    assert table.lookup("::ffff:0.0.0.10") == 8
    assert table.lookup("2001:db8::1") == 0
    assert table.get("0.0.0.10") == "c"  # results[8]
    assert table.sizes() == (3, 1)
    with pytest.raises(BufferError):  # the table holds a view: the array cannot be resized under it
        cols["starts4"].append(5)
    no_results = fastlookup.Table(**cols)
    with pytest.raises(TypeError):
        no_results.get("1.2.3.4")


def test_table_rejects_bad_buffers() -> None:
    cols = table_columns([0, 10], [1, 2])
    with pytest.raises(TypeError):
        fastlookup.Table(**{**cols, "starts4": np.zeros(2, np.uint64)})
    with pytest.raises(TypeError):
        fastlookup.Table(**{**cols, "starts4": np.zeros(2, np.int32)})
    with pytest.raises(ValueError, match="same length"):
        fastlookup.Table(**{**cols, "ids4": array("I", [1])})
    with pytest.raises(ValueError, match="bounds4"):
        fastlookup.Table(**{**cols, "bounds4": np.full((1 << INDEX_BITS) + 1, 5, np.uint32)})
    with pytest.raises(ValueError, match="bounds6"):
        fastlookup.Table(**{**cols, "bounds6": np.zeros(5, np.uint32)})
    with pytest.raises(TypeError):
        fastlookup.Table(**cols, results=("a",))
    with pytest.raises(RuntimeError):
        fastlookup.Table.__new__(fastlookup.Table).lookup("1.2.3.4")
