"""Type stub of the optional C extension ``monitor/hosting/_fastlookup.c``."""

from collections.abc import Callable
from typing import Any

from typing_extensions import Buffer

INDEX_BITS: int

class Table:
    """Single-address lookups in a fused interval table; keeps the buffers it is given alive (read-only)."""

    def __init__(
        self,
        starts4: Buffer,
        ids4: Buffer,
        bounds4: Buffer,
        hi6: Buffer,
        lo6: Buffer,
        ids6: Buffer,
        bounds6: Buffer,
        results: list[Any] | None = None,
        compose: Callable[[int], Any] | None = None,
    ) -> None:
        """``compose`` (needs ``results``): ``get`` calls ``compose(id)`` to fill a ``results`` entry that is None."""

    def lookup(self, ip: str, /) -> int:
        """Interval id of one address (-1 if no interval covers it); ``ValueError`` if ``ip`` is not an address."""

    def get(self, ip: str, /) -> Any:
        """``results[lookup(ip)]``; ValueError if ``ip`` is not an address, IndexError if its id has no result.

        An entry that is None is first filled with ``compose(id)`` when a ``compose`` callable was given (stored in
        ``results``; an exception from ``compose`` propagates and stores nothing).
        """

    def sizes(self) -> tuple[int, int]:
        """(IPv4 intervals, IPv6 intervals)."""

INTERFACE: int  # see monitor.hosting.native.usable
