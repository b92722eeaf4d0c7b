"""Node URLs: enode:// parsing and printing, enr: records as bootnodes, and bootnode lists and files."""

from __future__ import annotations

import json
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path

import pytest

from monitor.discovery.enode import Enode, load_node_urls, parse_node_url
from monitor.discovery.enr import ENR
from monitor.errors import ConfigError, DecodeError
from monitor.p2p.keys import PrivateKey

KEY = PrivateKey.from_seed(b"test-enode")
HEX = KEY.pubkey.hex()
SPEC_ENR = json.loads((Path(__file__).parent.parent / "vectors" / "enr.json").read_text())["vectors"][0]


def test_parse_ipv4_with_discport() -> None:
    node = Enode.parse(f"enode://{HEX}@10.3.58.6:30303?discport=30301")
    assert node.pubkey == KEY.pubkey
    assert node.ip == IPv4Address("10.3.58.6")
    assert (node.tcp_port, node.udp_port) == (30303, 30301)
    assert node.node_id == KEY.node_id
    assert node.enr is None
    assert str(node) == f"enode://{HEX}@10.3.58.6:30303?discport=30301"


def test_parse_without_discport_uses_tcp_port_for_udp() -> None:
    node = Enode.parse(f"enode://{HEX.upper()}@192.0.2.1:30303")
    assert (node.tcp_port, node.udp_port) == (30303, 30303)
    assert node.url == f"enode://{HEX}@192.0.2.1:30303"


def test_parse_bracketed_ipv6_round_trips() -> None:
    url = f"enode://{HEX}@[2001:db8::7]:30303?discport=30305"
    node = Enode.parse(url)
    assert node.ip == IPv6Address("2001:db8::7")
    assert node.udp_port == 30305
    assert str(node) == url
    assert Enode.parse(str(node)) == node


def test_tcp_port_zero_needs_discport() -> None:
    assert Enode.parse(f"enode://{HEX}@192.0.2.1:0?discport=30303").udp_port == 30303
    with pytest.raises(DecodeError, match="UDP port 0"):
        Enode.parse(f"enode://{HEX}@192.0.2.1:0")


def test_unknown_query_parameters_are_ignored() -> None:
    assert Enode.parse(f"enode://{HEX}@192.0.2.1:30303?foo=bar&discport=1").udp_port == 1


OFF_CURVE = "00" * 64


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "expected"),
        (f"http://{HEX}@192.0.2.1:30303", "expected"),
        (f"enode://{HEX}192.0.2.1:30303", "expected"),
        (f"enode://{HEX}@192.0.2.1", "expected"),
        (f"enode://{HEX[:-2]}@192.0.2.1:30303", "128 hex"),
        (f"enode://{HEX[:-1]}g@192.0.2.1:30303", "128 hex"),
        (f"enode://{OFF_CURVE}@192.0.2.1:30303", "public key"),
        (f"enode://{HEX}@bootnode.example.org:30303", "not an IP"),
        (f"enode://{HEX}@999.0.0.1:30303", "not an IP"),
        (f"enode://{HEX}@2001:db8::1:30303", "bracketed"),
        (f"enode://{HEX}@[192.0.2.1]:30303", "bracketed"),
        (f"enode://{HEX}@[::1:30303", "expected"),
        (f"enode://{HEX}@192.0.2.1:65536", "TCP port"),
        (f"enode://{HEX}@192.0.2.1:-1", "TCP port"),
        (f"enode://{HEX}@192.0.2.1:port", "TCP port"),
        (f"enode://{HEX}@192.0.2.1:30303?discport=0", "discport"),
        (f"enode://{HEX}@192.0.2.1:30303?discport=70000", "discport"),
        (f"enode://{HEX}@192.0.2.1:30303?discport=", "discport"),
        (f"enode://{HEX}@192.0.2.1:30303?discport=1&discport=2", "more than once"),
    ],
)
def test_bad_enode_urls_raise_decode_error(text: str, match: str) -> None:
    with pytest.raises(DecodeError, match=match):
        Enode.parse(text)


def test_parse_node_url_accepts_the_spec_enr() -> None:
    node = parse_node_url("  " + SPEC_ENR["text"] + "\n")
    assert node.ip == IPv4Address("127.0.0.1")
    assert node.udp_port == 30303
    assert node.tcp_port == 0  # the record advertises no tcp port
    assert node.node_id.hex() == SPEC_ENR["node_id"]
    assert node.enr is not None and node.enr.seq == 1


def test_parse_node_url_takes_ipv6_endpoint_when_record_has_no_ipv4() -> None:
    record = ENR.create(KEY, 2, ip6=IPv6Address("2001:db8::2"), udp6=30311, tcp6=30312)
    node = parse_node_url(record.to_text())
    assert (node.ip, node.udp_port, node.tcp_port) == (IPv6Address("2001:db8::2"), 30311, 30312)
    assert node.enr == record


def test_parse_node_url_rejects_records_without_endpoint() -> None:
    with pytest.raises(DecodeError, match="no IP"):
        parse_node_url(ENR.create(KEY, 1, tcp=30303).to_text())
    with pytest.raises(DecodeError, match="no IP"):
        parse_node_url(ENR.create(KEY, 1, ip=IPv4Address("192.0.2.1")).to_text())


def test_parse_node_url_passes_enode_through() -> None:
    assert parse_node_url(f"enode://{HEX}@192.0.2.1:30303") == Enode.parse(f"enode://{HEX}@192.0.2.1:30303")


def test_load_comma_separated_list() -> None:
    other = PrivateKey.from_seed(b"other").pubkey.hex()
    nodes = load_node_urls(f"enode://{HEX}@192.0.2.1:30303, {SPEC_ENR['text']},enode://{other}@[::1]:1,")
    assert [str(n.ip) for n in nodes] == ["192.0.2.1", "127.0.0.1", "::1"]


def test_load_file_skips_comments_and_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "bootnodes.txt"
    path.write_text(
        f"# mainnet-ish\n\nenode://{HEX}@192.0.2.1:30303  # trailing comment\n   \n{SPEC_ENR['text']}\n", "utf-8"
    )
    nodes = load_node_urls(str(path))
    assert len(nodes) == 2
    assert nodes[1].enr is not None


def test_bad_entry_in_file_names_line_and_entry(tmp_path: Path) -> None:
    path = tmp_path / "bootnodes.txt"
    path.write_text(f"enode://{HEX}@192.0.2.1:30303\n# comment\nenode://nothex@192.0.2.1:30303\n", "utf-8")
    with pytest.raises(ConfigError, match=r"line 3: bad node URL 'enode://nothex@192\.0\.2\.1:30303'"):
        load_node_urls(str(path))


def test_bad_entry_in_list_names_position_and_entry() -> None:
    with pytest.raises(ConfigError, match=r"entry 2: bad node URL 'enr:xyz'"):
        load_node_urls(f"enode://{HEX}@192.0.2.1:30303,enr:xyz")


def test_long_bad_entries_are_shortened_in_messages() -> None:
    with pytest.raises(ConfigError, match=r"\.\.\.'"):
        load_node_urls(f"enode://{HEX}@bootnode.example.org:30303")


def test_missing_file_and_empty_inputs_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="neither"):
        load_node_urls(str(tmp_path / "missing.txt"))
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing here\n\n", "utf-8")
    with pytest.raises(ConfigError, match="no node URLs"):
        load_node_urls(str(empty))
    with pytest.raises(ConfigError, match="entry 1: bad node URL 'enode://'"):
        load_node_urls("enode://, ,")
    with pytest.raises(ConfigError):
        load_node_urls("")


def test_unreadable_file_is_config_error(tmp_path: Path) -> None:
    path = tmp_path / "binary.txt"
    path.write_bytes(b"\xff\xfe\x00enode")
    with pytest.raises(ConfigError, match="cannot read"):
        load_node_urls(str(path))
