"""The web3 sampling source against JSON-RPC servers on 127.0.0.1 answering in geth's format (HTTP, WebSocket,
IPC), a node that refuses the admin namespace, and one that does not answer."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import WSMsgType, web

from monitor.crawl.records import rpc_records
from monitor.discovery.forkid import MAINNET_GENESIS_HASH
from monitor.errors import RequestTimeout
from monitor.p2p.keys import PrivateKey, node_id
from monitor.rpc.admin import parse_node_info, parse_peers
from monitor.rpc.client import AdminUnavailable, RPCError, redact, sample_node

pytestmark = pytest.mark.timeout(30)

NODE = PrivateKey.from_seed(b"rpc-node")
OUT = PrivateKey.from_seed(b"rpc-outbound")
IN = PrivateKey.from_seed(b"rpc-inbound")
SNAP_ONLY = PrivateKey.from_seed(b"rpc-handshaking")

NODE_INFO = {
    "id": node_id(NODE.pubkey).hex(),
    "name": "Geth/v1.14.11-stable-f3c696fa/linux-amd64/go1.23.2",
    "enode": f"enode://{NODE.pubkey.hex()}@127.0.0.1:30303?discport=0",
    "enr": "enr:-placeholder",
    "ip": "127.0.0.1",
    "ports": {"discovery": 0, "listener": 30303},
    "listenAddr": "[::]:30303",
    "protocols": {
        "eth": {
            "network": 1,
            "difficulty": 5.875e22,
            "genesis": "0x" + MAINNET_GENESIS_HASH.hex(),
            "head": "0x" + "ab" * 32,
        },
        "snap": {},
    },
}
PEERS = [
    {
        "enode": f"enode://{OUT.pubkey.hex()}@127.9.0.1:30303",
        "id": node_id(OUT.pubkey).hex(),
        "name": "Nethermind/v1.29.1+dfea5240/linux-x64/dotnet8.0.10",
        "caps": ["eth/68", "snap/1"],
        "network": {
            "localAddress": "127.0.0.1:51234",
            "remoteAddress": "127.9.0.1:30303",
            "inbound": False,
            "trusted": False,
            "static": False,
        },
        "protocols": {"eth": {"version": 68}, "snap": {"version": 1}},
    },
    {
        "enode": f"enode://{IN.pubkey.hex()}@127.9.0.2:30303",
        "id": node_id(IN.pubkey).hex(),
        "name": "reth/v1.1.2-496bf0b/x86_64-unknown-linux-gnu",
        "caps": ["eth/68", "eth/69"],
        "network": {"localAddress": "127.0.0.1:30303", "remoteAddress": "127.9.0.2:41822", "inbound": True},
        "protocols": {"eth": {"version": 69}},
    },
    {
        "enode": f"enode://{SNAP_ONLY.pubkey.hex()}@127.9.0.3:30303",
        "name": "erigon/v2.60.10-3e1a5a76/linux-amd64/go1.22.9",
        "caps": ["eth/68"],
        "network": {"remoteAddress": "127.9.0.3:30303", "inbound": False},
        "protocols": {"eth": "handshake"},
    },
    {"enode": "not an enode", "name": "broken"},
]

Answer = Callable[[dict[str, Any]], dict[str, Any]]


def geth(request: dict[str, Any]) -> dict[str, Any]:
    results = {"admin_nodeInfo": NODE_INFO, "admin_peers": PEERS}
    method = request.get("method")
    if method in results:
        return {"jsonrpc": "2.0", "id": request["id"], "result": results[method]}
    return _not_available(request)


def _not_available(request: dict[str, Any]) -> dict[str, Any]:
    message = f"the method {request.get('method')} does not exist/is not available"
    return {"jsonrpc": "2.0", "id": request.get("id"), "error": {"code": -32601, "message": message}}


def no_admin(request: dict[str, Any]) -> dict[str, Any]:
    return _not_available(request)


def failing(request: dict[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request["id"], "error": {"code": -32000, "message": "internal trouble"}}


async def _start(app: web.Application) -> tuple[web.AppRunner, int]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, port


def _http_app(answer: Answer, delay: float = 0.0) -> web.Application:
    async def handle(request: web.Request) -> web.Response:
        await asyncio.sleep(delay)
        return web.json_response(answer(await request.json()))

    app = web.Application()
    app.router.add_post("/", handle)
    return app


def _ws_app(answer: Answer) -> web.Application:
    async def handle(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                await ws.send_str(json.dumps(answer(json.loads(msg.data))))
        return ws

    app = web.Application()
    app.router.add_get("/", handle)
    return app


@pytest.fixture
async def http_url() -> AsyncIterator[Callable[..., Any]]:
    runners: list[web.AppRunner] = []

    async def make(answer: Answer, delay: float = 0.0, ws: bool = False) -> str:
        runner, port = await _start(_ws_app(answer) if ws else _http_app(answer, delay))
        runners.append(runner)
        return f"{'ws' if ws else 'http'}://127.0.0.1:{port}/"

    yield make
    for runner in runners:
        await runner.cleanup()


async def test_http_geth_answers_become_records(http_url: Callable[..., Any]) -> None:
    sample = await sample_node(await http_url(geth))
    assert sample.endpoint.startswith("http://127.0.0.1:")
    assert sample.node.mainnet and sample.node.pubkey == NODE.pubkey and sample.node.listener_port == 30303
    assert len(sample.peers) == 3 and sample.skipped == 1 and sample.inbound == 1
    records = {r.pubkey: r for r in rpc_records(sample.node, sample.peers, now=1_700_000_000.0)}
    out, inbound, handshaking = records[OUT.pubkey.hex()], records[IN.pubkey.hex()], records[SNAP_ONLY.pubkey.hex()]
    assert all(r.source == "rpc" for r in records.values())
    assert (out.ip, out.tcp_port, out.network) == ("127.9.0.1", 30303, "mainnet")
    assert (
        out.client is not None and out.client.name == "nethermind" and out.client.capabilities == ("eth/68", "snap/1")
    )
    # inbound: the address the connection came from, the listen port it announced (not its ephemeral port)
    assert (inbound.ip, inbound.tcp_port, inbound.network) == ("127.9.0.2", 30303, "mainnet")
    assert inbound.client is not None and inbound.client.name == "reth" and inbound.client.language == "rust"
    assert handshaking.network == "unknown" and out.node_id == node_id(OUT.pubkey).hex()


async def test_websocket_endpoint(http_url: Callable[..., Any]) -> None:
    sample = await sample_node(await http_url(geth, ws=True))
    assert sample.endpoint.startswith("ws://") and len(sample.peers) == 3


async def test_ipc_endpoint(tmp_path: Path) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        decoder, buf = json.JSONDecoder(), ""
        while data := await reader.read(65536):
            buf += data.decode()
            while buf.strip():
                try:
                    request, end = decoder.raw_decode(buf.lstrip())
                except ValueError:
                    break
                buf = buf.lstrip()[end:]
                writer.write(json.dumps(geth(request)).encode() + b"\n")  # geth ends each answer with a newline
                await writer.drain()
        writer.close()

    path = tmp_path / "geth.ipc"
    server = await asyncio.start_unix_server(handle, path=str(path))
    try:
        sample = await sample_node(str(path))
    finally:
        server.close()
    assert sample.endpoint == "ipc" and sample.node.mainnet and len(sample.peers) == 3


async def test_node_refusing_admin_namespace_says_how_to_enable_it(http_url: Callable[..., Any]) -> None:
    with pytest.raises(AdminUnavailable, match=r"does not serve admin_nodeInfo.*--http.api"):
        await sample_node(await http_url(no_admin))


async def test_other_errors_and_timeouts(http_url: Callable[..., Any]) -> None:
    with pytest.raises(RPCError, match="internal trouble") as info:
        await sample_node(await http_url(failing))
    assert not isinstance(info.value, AdminUnavailable)
    with pytest.raises(RequestTimeout):
        await sample_node(await http_url(geth, delay=1.0), timeout=0.3)
    with pytest.raises(RPCError):
        await sample_node("http://127.0.0.1:9/")  # nothing listens on the discard port


def test_redact_keeps_no_secrets() -> None:
    assert redact("https://user:pw@mainnet.example:8545/v3/APIKEY?token=x") == "https://mainnet.example:8545"
    assert redact("/home/me/.ethereum/geth.ipc") == "ipc"


def test_parsers_tolerate_odd_shapes() -> None:
    assert parse_peers([]) == ([], 0)
    assert parse_peers([1, "x", {"enode": 3}]) == ([], 3)
    info = parse_node_info({"name": "x"})
    assert info.pubkey is None and info.network_id is None and not info.mainnet
