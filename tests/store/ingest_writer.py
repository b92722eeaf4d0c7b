"""A writer process for the kill -9 test: ingests one crawl of N nodes into STORE, then prints "committed".

python ingest_writer.py STORE N
"""

from __future__ import annotations

import asyncio
import sys

from monitor.snapshot import Attribution, NodeRecord
from monitor.store import open_store


async def main(spec: str, n: int) -> None:
    store = await open_store(spec)
    aws = Attribution("aws", "us-east-1", "US", 16509, category="cloud")
    nodes = [NodeRecord(f"{i:064x}", "", f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}", 30303, 30303,
                        answered_ping=True, attribution=aws) for i in range(n)]  # fmt: skip
    document = {
        "meta": {"id": "big", "vantage": "killed", "started_at": 1.8e9, "ended_at": 1.8e9 + 60, "network": "mainnet"},
        "analysis": {"populations": []},
    }
    print("ingesting", flush=True)
    await store.record_success(document, nodes, {"crawls:success": 1.0}, 60.0, 5)
    print("committed", flush=True)
    await store.close()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
