"""The web3 sampling source: read ``admin_nodeInfo`` and ``admin_peers`` of the user's own node over web3.py.

    sample = await sample_node("http://127.0.0.1:8545")      # also ws://, wss://, an IPC path or ipc://path
    sample.peers                                              # typed admin_peers entries, inbound ones included

The admin namespace is what makes this useful (it lists inbound peers that no crawl can reach behind NAT) and it
is off by default on HTTP/WS in geth: a node that refuses it raises :class:`AdminUnavailable` saying how to
enable it. Every third-party error is translated here into the project's own (RPCError, RequestTimeout).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import urlsplit

import aiohttp
from web3.exceptions import Web3Exception
from web3.providers import AsyncHTTPProvider, AsyncIPCProvider, WebSocketProvider
from web3.providers.async_base import AsyncBaseProvider
from web3.types import RPCEndpoint

from monitor.errors import NetworkError, RequestTimeout
from monitor.rpc.admin import RPCFormatError, RPCNodeInfo, RPCPeer, parse_node_info, parse_peers

__all__ = ["RPCError", "AdminUnavailable", "RPCSample", "redact", "provider_for", "sample_node"]

_METHOD_NOT_FOUND: Final = -32601
_ENABLE_HINT: Final = (
    "enable the admin API on that node (geth: --http.api eth,net,web3,admin or --ws.api ...; the IPC endpoint "
    "serves it by default) and keep the endpoint private"
)


class RPCError(NetworkError):
    """A JSON-RPC endpoint that cannot be reached or answers with an error."""


class AdminUnavailable(RPCError):
    """The node does not expose the ``admin`` namespace on this endpoint."""


@dataclass(frozen=True, slots=True)
class RPCSample:
    endpoint: str  # redacted: no credentials, path or query
    node: RPCNodeInfo
    peers: tuple[RPCPeer, ...]
    skipped: int  # admin_peers entries without a usable enode

    @property
    def inbound(self) -> int:
        return sum(1 for p in self.peers if p.inbound)


def redact(url: str) -> str:
    """What may be logged of an endpoint: scheme, host and port (API keys live in paths, users and queries)."""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname:
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{parts.hostname}{port}"
    return "ipc"


def provider_for(url: str, timeout: float) -> AsyncBaseProvider:
    scheme = urlsplit(url).scheme
    if scheme in ("http", "https"):
        return AsyncHTTPProvider(url, request_kwargs={"timeout": aiohttp.ClientTimeout(total=timeout)})
    if scheme in ("ws", "wss"):
        return WebSocketProvider(url, request_timeout=timeout)
    return AsyncIPCProvider(url.removeprefix("ipc://"), request_timeout=timeout)


async def _call(provider: AsyncBaseProvider, method: str, endpoint: str) -> Any:
    response = await provider.make_request(RPCEndpoint(method), [])
    error = response.get("error")
    if error is not None:
        code = error.get("code") if isinstance(error, dict) else None
        message = str(error.get("message", error)) if isinstance(error, dict) else str(error)
        unavailable = "not available" in message or "does not exist" in message or "not found" in message
        if code == _METHOD_NOT_FOUND or unavailable:
            raise AdminUnavailable(f"{endpoint} does not serve {method} ({message}): {_ENABLE_HINT}")
        raise RPCError(f"{endpoint}: {method} failed: {message}")
    if "result" not in response:
        raise RPCFormatError(f"{endpoint}: {method} answer has neither result nor error")
    return response["result"]


async def sample_node(url: str, *, timeout: float = 10.0) -> RPCSample:  # noqa: ASYNC109 -- passed to web3 too
    """One admin_nodeInfo + admin_peers round against ``url``; raises RPCError / AdminUnavailable / RequestTimeout."""
    endpoint = redact(url)
    provider = provider_for(url, timeout)
    persistent = isinstance(provider, WebSocketProvider | AsyncIPCProvider)
    try:
        async with asyncio.timeout(timeout):
            if persistent:
                await provider.connect()
            info = parse_node_info(await _call(provider, "admin_nodeInfo", endpoint))
            peers, skipped = parse_peers(await _call(provider, "admin_peers", endpoint))
    except TimeoutError as err:
        raise RequestTimeout(f"{endpoint}: no answer within {timeout:g} s") from err
    except (Web3Exception, aiohttp.ClientError, OSError, ValueError) as err:
        raise RPCError(f"{endpoint}: {type(err).__name__}: {err}") from err
    finally:
        with contextlib.suppress(Exception):  # closing a half-open connection must not mask the real error
            await provider.disconnect()
    return RPCSample(endpoint, info, tuple(peers), skipped)
