"""Where the crawler may send packets: ``--netrestrict`` and the global-only default, for every protocol.

Two guards use it: drivers never queue a node it refuses (counted with the reason), and the UDP transport and the
RLPx dialer refuse any send outside it (counted too), so a driver bug cannot reach a network it must not.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import TypeAlias

from monitor.errors import ConfigError

__all__ = ["IPNetwork", "NetRestrict", "admissible"]

IPNetwork: TypeAlias = ipaddress.IPv4Network | ipaddress.IPv6Network


class NetRestrict:
    """The set of networks we may send to (``None``: anywhere)."""

    def __init__(self, networks: Sequence[IPNetwork] | None) -> None:
        self.networks = tuple(networks) if networks is not None else None

    @classmethod
    def parse(cls, text: str | None) -> NetRestrict:
        if not text:
            return cls(None)
        try:
            return cls([ipaddress.ip_network(part.strip(), strict=False) for part in text.split(",") if part.strip()])
        except ValueError as err:
            raise ConfigError(f"--netrestrict: {err}") from err

    def allows(self, ip: str | ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
        if self.networks is None:
            return True
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(addr in net for net in self.networks)

    def __str__(self) -> str:
        return ",".join(map(str, self.networks)) if self.networks is not None else "any"


def admissible(
    entry_ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None, port: int, netrestrict: NetRestrict
) -> str | None:
    """None if we may contact the node, else the (counted) reason we will not.

    Without --netrestrict only globally routable addresses are contacted: peers leak their LAN addresses into
    NEIGHBORS, and a crawler must never probe someone's private network.
    """
    if entry_ip is None or entry_ip.is_unspecified:
        return "no_ip"
    if port == 0:
        return "no_udp_port"
    if netrestrict.networks is not None:
        return None if netrestrict.allows(entry_ip) else "outside_netrestrict"
    if not entry_ip.is_global:
        return "non_global_ip"
    return None
