"""Client id strings -> name / version / OS / language; total on any input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.crawl.records import client_info
from monitor.rlpx.clientid import parse_client_id

CASES = [
    ("Geth/v1.14.11-stable-f3c696fa/linux-amd64/go1.23.2", "geth", "1.14.11-stable-f3c696fa", "linux-amd64", "go", ""),
    ("Geth/my-node/v1.13.5-stable/linux-amd64/go1.21.4", "geth", "1.13.5-stable", "linux-amd64", "go", "my-node"),
    ("Nethermind/v1.29.1+dfea5240/linux-x64/dotnet8.0.10", "nethermind", "1.29.1+dfea5240", "linux-x64", "dotnet", ""),
    ("erigon/v2.60.10-3e1a5a76/linux-amd64/go1.22.9", "erigon", "2.60.10-3e1a5a76", "linux-amd64", "go", ""),
    ("besu/v24.10.0/linux-x86_64/openjdk-java-21", "besu", "24.10.0", "linux-x86_64", "java", ""),
    ("Besu/node-7/v23.4.1/linux-aarch_64/oracle-java-17", "besu", "23.4.1", "linux-aarch_64", "java", "node-7"),
    ("reth/v1.1.2-496bf0b/x86_64-unknown-linux-gnu", "reth", "1.1.2-496bf0b", "x86_64-unknown-linux-gnu", "rust", ""),
    ("ethereumjs-devp2p/linux-x64/nodejs", "ethereumjs", "", "linux-x64", "nodejs", ""),
    (
        "OpenEthereum/v3.3.5-stable/x86_64-linux-musl/rustc1.59.0",
        "openethereum",
        "3.3.5-stable",
        "x86_64-linux-musl",
        "rust",
        "",
    ),
    ("go-ethereum/v1.9.0/windows-amd64/go1.12", "geth", "1.9.0", "windows-amd64", "go", ""),
    ("", "", "", "", "", ""),
    ("weird", "weird", "", "", "", ""),
    ("Bor/v1.5.3/linux-amd64/go1.22.1", "bor", "1.5.3", "linux-amd64", "go", ""),
]


@pytest.mark.parametrize(
    ("raw", "name", "version", "os_name", "language", "identity"), CASES, ids=[c[0] or "empty" for c in CASES]
)
def test_known_formats(raw: str, name: str, version: str, os_name: str, language: str, identity: str) -> None:
    parsed = parse_client_id(raw)
    assert (parsed.name, parsed.version, parsed.os, parsed.language, parsed.identity) == (
        name,
        version,
        os_name,
        language,
        identity,
    )
    assert parsed.raw == raw


def test_client_info_carries_hello_and_status_fields() -> None:
    info = client_info("Geth/v1.14.11-stable-f3c696fa/linux-amd64/go1.23.2", ("eth/68",), 1, "d4e5", "too_many_peers")
    assert (info.name, info.version, info.os, info.language) == ("geth", "1.14.11-stable-f3c696fa", "linux-amd64", "go")
    assert info.capabilities == ("eth/68",) and info.network_id == 1 and info.disconnect_reason == "too_many_peers"


@given(st.text(max_size=200))
def test_never_raises(raw: str) -> None:
    assert parse_client_id(raw).raw == raw
