"""Interop: crawl 200 independent @ethereumjs/devp2p DPT nodes (discv4, Node.js) on loopback."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from monitor.crawl.runner import CrawlSettings, run_crawl
from monitor.discovery.enode import parse_node_url

pytestmark = [pytest.mark.interop, pytest.mark.timeout(120)]


async def test_crawl_finds_at_least_99_percent_of_dpt_network(dpt_network_200: list[dict[str, Any]]) -> None:
    nodes = dpt_network_200
    boot = [parse_node_url(nodes[0]["enode"])]
    outcome = await run_crawl(
        CrawlSettings(bootnodes=boot, network="dpt", netrestrict="127.0.0.0/8", timeout=1.0, retries=1, duration=90)
    )
    truth = {n["id"] for n in nodes}
    found = {r.node_id for r in outcome.nodes}
    coverage = len(found & truth) / len(truth)
    assert coverage >= 0.99, f"found {len(found & truth)} of {len(truth)}"
    assert found <= truth  # nothing invented, and never the crawler itself
    answered = [r for r in outcome.nodes if r.answered_ping]
    assert len(answered) >= 0.99 * len(truth)
    assert all(r.answered_findnode for r in answered)
    # devp2p 10.x serves no ENR (ENRREQUEST unanswered): every node is then "unknown", and said why.
    assert outcome.meta.counters["enr_fetched"] == 0
    assert all(r.network == "unknown" and "ENR" in r.network_reason for r in answered)
    for record in outcome.nodes:
        assert ipaddress.ip_address(record.ip) in ipaddress.ip_network("127.3.0.0/16")
