"""Type checks for node records read from disk: a bad field fails the load, naming the record and the field.

Before (issue 16) a snapshot with ``ip: "not-an-ip"`` or ``first_seen: "yesterday"`` loaded, and a report was
written from it with exit 0. ``NodeRecord(**d)`` checks names, not types; these checks cover every field.
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable, Mapping
from typing import Any

from monitor.errors import SnapshotError

__all__ = ["check_node"]


def _text(v: Any) -> str | None:
    return None if isinstance(v, str) else "is not a string"


def _opt_text(v: Any) -> str | None:
    return None if v is None else _text(v)


def _ip(v: Any) -> str | None:
    if v is None:
        return None
    try:
        ipaddress.ip_address(v)
    except ValueError:
        return "is not an IP address"
    return None


def _port(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 65535:
        return "is not a port number (0-65535)"
    return None


def _count(v: Any) -> str | None:
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        return "is not a non-negative integer"
    return None


def _opt_count(v: Any) -> str | None:
    return None if v is None else _count(v)


def _time(v: Any) -> str | None:
    if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or v < 0:
        return "is not a UNIX time in seconds"
    return None


def _flag(v: Any) -> str | None:
    return None if isinstance(v, bool) else "is not true or false"


def _one_of(*allowed: str) -> Callable[[Any], str | None]:
    def check(v: Any) -> str | None:
        return None if v in allowed else f"is not one of {', '.join(allowed)}"

    return check


def _hex(v: Any) -> str | None:
    if not isinstance(v, str):
        return "is not a hex string"
    try:
        bytes.fromhex(v)
    except ValueError:
        return "is not a hex string"
    return None


def _texts(v: Any) -> str | None:
    if v is None:
        return None
    if not isinstance(v, list | tuple) or not all(isinstance(x, str) for x in v):
        return "is not a list of strings"
    return None


def _text_map(v: Any) -> str | None:
    if v is None:
        return None
    if not isinstance(v, Mapping) or not all(isinstance(k, str) and isinstance(x, str) for k, x in v.items()):
        return "is not an object of strings"
    return None


def _object(v: Any) -> str | None:
    return None if v is None or isinstance(v, Mapping) else "is not an object"


_FIELDS: dict[str, Callable[[Any], str | None]] = {
    "node_id": _hex,
    "pubkey": _hex,
    "ip": _ip,
    "udp_port": _port,
    "tcp_port": _port,
    "advertised_ip": _ip,
    "enr": _opt_text,
    "enr_seq": _opt_count,
    "enr_fields": _text_map,
    "fork_id": _object,
    "first_seen": _time,
    "last_seen": _time,
    "answered_ping": _flag,
    "bonded": _flag,
    "answered_findnode": _flag,
    "neighbors_returned": _count,
    "network": _one_of("mainnet", "other", "unknown"),
    "network_reason": _text,
    "source": _text,
    "client": _object,
    "rlpx": _opt_text,
    "attribution": _object,
    "protocols": _texts,
    "layer": _one_of("execution", "consensus", "unknown"),
    "eth2": _object,
}
_REQUIRED = ("node_id", "pubkey", "ip", "udp_port", "tcp_port")


def check_node(data: Any) -> None:
    """Raise SnapshotError naming the first bad field of one node record (a JSON object)."""
    if not isinstance(data, Mapping):
        raise SnapshotError("is not an object")
    for name in _REQUIRED:
        if name not in data:
            raise SnapshotError(f"field {name!r} is missing")
    for name, value in data.items():
        check = _FIELDS.get(name)
        if check is None:
            raise SnapshotError(f"unknown field {name!r}")
        problem = check(value)
        if problem is not None:
            raise SnapshotError(f"field {name!r}: {_show(value)} {problem}")


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
