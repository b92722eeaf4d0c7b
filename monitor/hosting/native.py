"""The one switch for the optional C extensions (``_fastlookup``, ``_fastload``): ``MONITOR_NO_CEXT``.

Each extension is built by ``pip install`` when a compiler is at hand and skipped otherwise; the modules that use one
import it themselves (it may be missing) and ask :func:`cext_enabled` before every use, so setting the variable (to
anything but ``""`` or ``"0"``) forces the pure-Python / numpy paths at any time, e.g. to compare or debug them.
"""

from __future__ import annotations

import os

__all__ = ["NO_CEXT_ENV", "cext_enabled"]

NO_CEXT_ENV = "MONITOR_NO_CEXT"


def cext_enabled() -> bool:
    """False when ``MONITOR_NO_CEXT`` is set to anything but ``""`` or ``"0"``."""
    return os.environ.get(NO_CEXT_ENV, "") in ("", "0")
