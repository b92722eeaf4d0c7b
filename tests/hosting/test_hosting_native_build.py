"""Optional C extensions: the built ones are accepted, a stale build (older C source) is dropped with a warning."""

from __future__ import annotations

import importlib.util
import logging
from types import ModuleType

import pytest

from monitor.hosting import asn, bundled, fused, resolver
from monitor.hosting.native import usable

BUILT = {name: importlib.util.find_spec(f"monitor.hosting.{name}") is not None
         for name in ("_fastlookup", "_cloudip", "_columns")}  # fmt: skip


@pytest.mark.parametrize(("owner", "name"), [(resolver, "_fastlookup"), (bundled, "_cloudip"), (asn, "_columns"),
                                             (fused, "_columns")])  # fmt: skip
def test_built_extensions_are_the_ones_the_code_expects(owner: ModuleType, name: str) -> None:
    if not BUILT[name]:
        pytest.skip(f"{name} not built")
    # the INTERFACE the C source states matches what the importing module asks for: it was not dropped as stale
    assert getattr(owner, name) is not None


def test_a_stale_build_is_dropped_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    old = ModuleType("monitor.hosting._example")
    old.INTERFACE = 1  # type: ignore[attr-defined]
    with caplog.at_level(logging.WARNING, logger="monitor.hosting.native"):
        assert usable(old, 2) is None
        assert usable(old, 2) is None
    assert len(caplog.records) == 1 and "pip install -e ." in caplog.text
    assert usable(old, 1) is old
    assert usable(ModuleType("monitor.hosting._before_interfaces"), 1) is None  # built before INTERFACE existed
    assert usable(None, 1) is None
