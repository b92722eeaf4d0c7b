"""ipwhois fallback against a fake Team Cymru DNS responder on 127.0.0.1 (no public address is ever contacted)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import dns.message
import dns.rcode
import dns.rrset
import pytest

from monitor.hosting import Resolver, WhoisFallback, attribute_snapshot_online
from monitor.snapshot import CrawlMeta, NodeRecord, Snapshot

# Cymru's TXT formats: origin "ASN | prefix | CC | registry | date", AS "ASN | CC | registry | date | name, CC"
ORIGIN = {
    "1.0.0.203.origin.asn.cymru.com.": '"64500 | 203.0.0.0/24 | AU | apnic | 2011-08-11"',
    "9.9.99.88.origin.asn.cymru.com.": '"24940 | 88.99.0.0/16 | DE | ripencc | 2008-01-01"',
}
VERBOSE = {
    "AS64500.asn.cymru.com.": '"64500 | AU | apnic | 2011-08-11 | EXAMPLE-NET, AU"',
    "AS24940.asn.cymru.com.": '"24940 | DE | ripencc | 2002-06-03 | HETZNER-AS, DE"',
}


class FakeCymru(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.queries: list[str] = []
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        query = dns.message.from_wire(data)
        name = query.question[0].name.to_text()
        self.queries.append(name)
        reply = dns.message.make_response(query)
        text = ORIGIN.get(name) or VERBOSE.get(name)
        if text is None:
            reply.set_rcode(dns.rcode.NXDOMAIN)
        else:
            reply.answer.append(dns.rrset.from_text(name, 60, "IN", "TXT", text))
        assert self.transport is not None
        self.transport.sendto(reply.to_wire(), addr)


@pytest.fixture
async def cymru() -> AsyncIterator[tuple[FakeCymru, int]]:
    loop = asyncio.get_running_loop()
    transport, proto = await loop.create_datagram_endpoint(FakeCymru, local_addr=("127.0.0.1", 0))
    yield proto, transport.get_extra_info("sockname")[1]
    transport.close()


def fallback(tmp_path: Path, port: int, now: float = 1_790_000_000.0) -> WhoisFallback:
    return WhoisFallback(tmp_path, nameserver=("127.0.0.1", port), rdap=False, rate_per_second=100, timeout=2,
                         now=lambda: now)  # fmt: skip


async def test_cymru_lookup_is_parsed_and_cached(cymru: tuple[FakeCymru, int], tmp_path: Path) -> None:
    _, port = cymru
    fb = fallback(tmp_path, port)
    answers = await asyncio.wait_for(fb.lookup_many(["203.0.0.1", "88.99.9.9", "10.0.0.1", "junk"]), 20)
    assert answers["203.0.0.1"].asn == 64500 and answers["203.0.0.1"].as_name == "EXAMPLE-NET"
    assert answers["88.99.9.9"].cidr == "88.99.0.0/16" and answers["88.99.9.9"].country == "DE"
    assert "10.0.0.1" not in answers and "junk" not in answers  # private / invalid: never queried
    assert fb.queries == 2
    # a fresh instance reads the disk cache: no new DNS query within the TTL
    again = fallback(tmp_path, port)
    assert (await again.lookup_many(["203.0.0.1"]))["203.0.0.1"].asn == 64500 and again.queries == 0
    # past the TTL it asks again
    stale = fallback(tmp_path, port, now=1_790_000_000.0 + 31 * 86_400)
    await asyncio.wait_for(stale.lookup_many(["203.0.0.1"]), 20)
    assert stale.queries == 1


async def test_unknown_to_cymru_is_left_out(cymru: tuple[FakeCymru, int], tmp_path: Path) -> None:
    _, port = cymru
    answers = await asyncio.wait_for(
        fallback(tmp_path, port).lookup_many(["198.51.100.77", "192.0.2.1", "5.5.5.5"]), 20
    )
    assert answers == {}


async def test_snapshot_unknowns_are_filled_online(
    cymru: tuple[FakeCymru, int], tmp_path: Path, resolver: Resolver
) -> None:
    _, port = cymru
    meta = CrawlMeta("id", "mainnet", 0.0, 1.0, "0.1.0")
    nodes = (NodeRecord("a" * 64, "00" * 64, "203.0.0.1", 1, 1), NodeRecord("b" * 64, "00" * 64, "18.138.108.67", 1, 1))
    out = await asyncio.wait_for(
        attribute_snapshot_online(Snapshot(meta, nodes), resolver, fallback(tmp_path, port)), 20
    )
    first, second = (n.attribution for n in out.nodes)
    assert second is not None and second.provider == "aws"
    assert resolver.lookup("203.0.0.1").provider == "unknown"  # the bundled GeoLite2 tables have no AS for it
    assert first is not None
    assert (first.provider, first.asn, first.source) == ("other:EXAMPLE-NET", 64500, "ipwhois:cymru-dns")
