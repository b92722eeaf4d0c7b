"""Node URLs: ``enode://<pubkey hex>@<ip>:<tcp>?discport=<udp>`` and ``enr:`` records, as given on the command line.

The host must be an IP literal (IPv6 in brackets): resolving names is I/O, and bootnode lists name addresses.
Without ``discport`` the UDP port equals the TCP port. A record given as ``enr:`` lends its endpoint (IPv4 first,
else IPv6) and is kept, so the crawler knows the node's sequence number before asking.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_address
from pathlib import Path
from urllib.parse import parse_qs

from monitor.discovery.enr import ENR, TEXT_PREFIX
from monitor.errors import ConfigError, DecodeError
from monitor.p2p.keys import NodeID, PublicKey, decompress_pubkey, node_id

__all__ = ["Enode", "parse_node_url", "load_node_urls"]

_ENODE = re.compile(r"enode://(?P<key>[^@]*)@(?P<host>\[[^\]]*\]|[^:\[\]]*):(?P<port>[^?]*)(?:\?(?P<query>.*))?")
_HEX128 = re.compile(r"[0-9a-fA-F]{128}")
_PORT = re.compile(r"[0-9]{1,5}")


def _port(text: str, what: str, *, allow_zero: bool) -> int:
    if _PORT.fullmatch(text) is None or int(text) > 0xFFFF or (int(text) == 0 and not allow_zero):
        raise DecodeError(f"invalid {what} {text!r}")
    return int(text)


@dataclass(frozen=True, slots=True)
class Enode:
    """A node's identity and endpoint; ``tcp_port`` 0 means none advertised (a record may lack ``tcp``)."""

    pubkey: PublicKey
    ip: IPv4Address | IPv6Address
    udp_port: int
    tcp_port: int
    enr: ENR | None = None

    @property
    def node_id(self) -> NodeID:
        return node_id(self.pubkey)

    @classmethod
    def parse(cls, text: str) -> Enode:
        """Parse an ``enode://`` URL; raises DecodeError saying what is wrong."""
        match = _ENODE.fullmatch(text.strip())
        if match is None:
            raise DecodeError("expected enode://<128 hex digits>@<ip>:<port>[?discport=<port>]")
        key = match["key"]
        if _HEX128.fullmatch(key) is None:
            raise DecodeError(f"node key must be 128 hex digits, got {len(key)} characters")
        pubkey = decompress_pubkey(bytes.fromhex(key))  # rejects points off the curve
        host = match["host"]
        bracketed = host.startswith("[")
        if ":" in match["port"]:
            raise DecodeError("IPv6 addresses must be bracketed: enode://<key>@[<ipv6>]:<port>")
        try:
            ip = ip_address(host[1:-1] if bracketed else host)
        except ValueError as err:
            raise DecodeError(f"host {host!r} is not an IP address (names are not resolved)") from err
        if isinstance(ip, IPv6Address) != bracketed:
            raise DecodeError(f"IPv6 addresses must be bracketed and IPv4 ones must not: {host!r}")
        tcp = _port(match["port"], "TCP port", allow_zero=True)
        udp = tcp
        if match["query"]:
            discport = parse_qs(match["query"], keep_blank_values=True).get("discport")
            if discport is not None:
                if len(discport) != 1:
                    raise DecodeError("discport given more than once")
                udp = _port(discport[0], "discport", allow_zero=False)
        if udp == 0:
            raise DecodeError("UDP port 0: add ?discport=<port>")
        return cls(pubkey=pubkey, ip=ip, udp_port=udp, tcp_port=tcp)

    @classmethod
    def from_enr(cls, record: ENR) -> Enode:
        """Take the endpoint from a record: IPv4 with ``udp``, else IPv6 with ``udp6`` (or ``udp``)."""
        if record.ip is not None and record.udp:
            return cls(record.pubkey, record.ip, record.udp, record.tcp or 0, record)
        udp6 = record.udp6 or record.udp
        if record.ip6 is not None and udp6:
            return cls(record.pubkey, record.ip6, udp6, record.tcp6 or record.tcp or 0, record)
        raise DecodeError("record has no IP address with a UDP port")

    @property
    def url(self) -> str:
        host = f"[{self.ip}]" if isinstance(self.ip, IPv6Address) else str(self.ip)
        url = f"enode://{self.pubkey.hex()}@{host}:{self.tcp_port}"
        return url if self.udp_port == self.tcp_port else f"{url}?discport={self.udp_port}"

    def __str__(self) -> str:
        return self.url


def parse_node_url(text: str) -> Enode:
    """Parse an ``enode://`` URL or an ``enr:`` record; raises DecodeError."""
    text = text.strip()
    if text.startswith(TEXT_PREFIX):
        return Enode.from_enr(ENR.from_text(text))
    return Enode.parse(text)


def _short(entry: str) -> str:
    return entry if len(entry) <= 60 else entry[:57] + "..."


def _parse_entries(entries: list[tuple[str, str]]) -> list[Enode]:
    nodes = []
    for where, entry in entries:
        try:
            nodes.append(parse_node_url(entry))
        except DecodeError as err:
            raise ConfigError(f"{where}: bad node URL {_short(entry)!r}: {err}") from err
    return nodes


def load_node_urls(arg: str) -> list[Enode]:
    """Nodes from a comma-separated list of URLs, or from a file with one URL a line (``#`` comments).

    Every bad entry raises ConfigError naming the entry and where it is (file line, or position in the list).
    """
    path = Path(arg)
    looks_like_url = "://" in arg or arg.lstrip().startswith(TEXT_PREFIX)
    if not looks_like_url and path.is_file():
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as err:
            raise ConfigError(f"cannot read node list {arg}: {err}") from err
        entries = [
            (f"{arg} line {n}", entry) for n, line in enumerate(lines, 1) if (entry := line.split("#", 1)[0].strip())
        ]
    elif looks_like_url:
        parts = [p.strip() for p in arg.split(",")]
        entries = [(f"entry {n}", p) for n, p in enumerate(parts, 1) if p]
    else:
        raise ConfigError(f"{_short(arg)!r} is neither a node URL list nor a readable file")
    if not entries:
        raise ConfigError(f"no node URLs in {_short(arg)!r}")
    return _parse_entries(entries)
