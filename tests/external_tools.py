"""External programs some tests drive: Chromium, Prometheus and its tools, docker-compose, Node.js, ``unshare``.

Only the absence of a program this project does not ship may skip a test, and only outside CI: there the test skips
with the way to install the program. Under CI (``CI`` set, as .ci/run does) a missing program fails the test, so a
green CI means every check ran. Anything of our own that does not work (a command, a module, a build) fails the test
everywhere: it is never a reason to skip.
"""

from __future__ import annotations

import os
import shutil
from typing import NoReturn

import pytest

__all__ = ["APT_PACKAGE", "in_ci", "missing", "require_tool"]

# program -> the Debian package that provides it (what the skip message tells a developer to install)
APT_PACKAGE = {
    "promtool": "prometheus",
    "prometheus": "prometheus",
    "amtool": "prometheus-alertmanager",
    "docker-compose": "docker-compose",
    "node": "nodejs",
    "chromium": "chromium",
    "unshare": "util-linux",
}


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing(reason: str) -> NoReturn:
    """Skip the calling test, or fail it under CI."""
    if in_ci():
        pytest.fail(f"{reason} (CI is set: a missing tool is a failure, not a skip)", pytrace=False)
    pytest.skip(reason)


def require_tool(name: str) -> str:
    """The program's path; see the module docstring for what happens when it is not installed."""
    path = shutil.which(name)
    if path is None:
        missing(f"`{name}` not found: install the Debian package `{APT_PACKAGE.get(name, name)}`")
    return path
