"""The optional C extensions (``_fastlookup``, ``_cloudip``, ``_columns``): one switch and one staleness check.

Each extension is built by ``pip install`` when a compiler is at hand and skipped otherwise; the modules that use one
import it themselves (it may be missing) and ask :func:`cext_enabled` before every use, so setting
``MONITOR_NO_CEXT`` (to anything but ``""`` or ``"0"``) forces the pure-Python / numpy paths at any time, e.g. to
compare or debug them.

An editable install does not rebuild an extension when its C source changes, so after a ``git pull`` the built
module may be older than the Python code calling it. Each module states an ``INTERFACE`` number, bumped whenever the
Python side starts relying on something new; :func:`usable` drops a module whose number differs (with a warning saying
how to rebuild), and the fallback path runs instead of failing on a missing function.
"""

from __future__ import annotations

import logging
import os
from types import ModuleType
from typing import TypeVar

__all__ = ["NO_CEXT_ENV", "cext_enabled", "usable"]

NO_CEXT_ENV = "MONITOR_NO_CEXT"
M = TypeVar("M", bound=ModuleType)
log = logging.getLogger(__name__)
_warned: set[str] = set()


def cext_enabled() -> bool:
    """False when ``MONITOR_NO_CEXT`` is set to anything but ``""`` or ``"0"``."""
    return os.environ.get(NO_CEXT_ENV, "") in ("", "0")


def usable(module: M | None, interface: int) -> M | None:
    """``module`` if it was built from the C source this code expects (its ``INTERFACE`` is ``interface``)."""
    if module is None:
        return None
    built = getattr(module, "INTERFACE", None)
    if built != interface:
        if module.__name__ in _warned:
            return None
        _warned.add(module.__name__)
        log.warning(
            "ignoring %s: built from an older C source (interface %s, this code needs %s); the slower fallback "
            "runs. Rebuild it with `pip install -e .` (or `make venv`).",
            module.__name__, built, interface,
        )  # fmt: skip
        return None
    return module
