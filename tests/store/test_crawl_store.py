"""`monitor crawl --store ... --vantage ...`: one-shot crawls from two vantage points land in one store (SQLite and
PostgreSQL), where the api role's read (`latest_crawls`) finds both; a store that cannot be opened fails before the
crawl. Everything binds in this task's block 127.68.0.0/16, ports 32000-32700.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from monitor.sim.devnet import DevnetSpec, run_devnet
from monitor.store import open_store

pytestmark = pytest.mark.timeout(180)

ROOT = Path(__file__).resolve().parents[2]
# A well-formed enode nobody listens on: the cases below must stop before any packet is sent.
SILENT = (
    "enode://c0d0cfecbcd831b5007d4a7523830a920855e8a334d1046d6a97a3bd9438e1b5a2d203654412d39bb5d05e62ecc5926f58a"
    "700018e67cdfb157a1e23a4a03f34@127.68.3.1:32121"
)


def crawl_cmd(tmp: Path, bootnode: str, port: int, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "monitor", "crawl", "-q", "--bootnodes", bootnode, "--network", "devnet",
        "--netrestrict", "127.68.0.0/16", "--listen", f"127.68.0.1:{port}", "--timeout", "0.5", "--duration", "20",
        "--no-rlpx", "--nodekey", str(tmp / "nodekey"), "--out", str(tmp / "out"), *extra,
    ]  # fmt: skip


async def run(cmd: list[str], env: dict[str, str] | None = None) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        *cmd, cwd=ROOT, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_two_vantage_crawls_are_stored_and_read_back_together(tmp_path: Path, store_spec: str) -> None:
    async with run_devnet(DevnetSpec(nodes=24, seed=7, first_ip="127.68.1.1", port=32101)) as net:
        boot = str(net.bootnodes[0])
        results = {}
        for vantage, port in (("a", 32201), ("b", 32202)):
            cmd = crawl_cmd(tmp_path / vantage, boot, port, "--store", store_spec, "--vantage", vantage, "--json")
            code, out, err = await run(cmd)
            assert code == 0, err
            results[vantage] = json.loads(out)
    for vantage, summary in results.items():
        assert summary["discovered"] == 24
        text = await asyncio.to_thread(Path(summary["file"]).read_text)  # the JSON lines are still written
        assert json.loads(text.splitlines()[0])["meta"]["vantage"] == vantage
        assert summary["stored"].endswith(f"(vantage {vantage})")
    store = await open_store(store_spec, apply_migrations=False)
    try:
        crawls = await store.latest_crawls(0)
        document = await store.latest_document("a")
    finally:
        await store.close()
    assert sorted(c.vantage for c in crawls) == ["a", "b"]
    assert all(len(c.nodes) == 24 and c.network == "devnet" for c in crawls)
    assert document is not None and document["meta"]["vantage"] == "a"
    assert document["analysis"]["populations"]  # analysed as serve does


async def test_store_from_the_environment_and_where_it_went_on_stdout(tmp_path: Path) -> None:
    spec = str(tmp_path / "h.sqlite3")
    env = {**os.environ, "MONITOR_STORE": spec}
    async with run_devnet(DevnetSpec(nodes=8, seed=3, first_ip="127.68.2.1", port=32111)) as net:
        code, out, err = await run(crawl_cmd(tmp_path, str(net.bootnodes[0]), 32211, "--vantage", "x"), env)
    assert code == 0, err
    assert out.splitlines()[-1] == f"stored in {spec} (vantage x)"


async def test_unopenable_store_fails_before_the_crawl(tmp_path: Path) -> None:
    (tmp_path / "a-directory").mkdir()
    cmd = crawl_cmd(tmp_path, SILENT, 32221, "--store", str(tmp_path / "a-directory"))
    code, out, err = await run(cmd)
    assert code == 1 and out == ""
    assert len(err.strip().splitlines()) == 1 and "a-directory" in err
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


async def test_bad_vantage_is_a_usage_error(tmp_path: Path) -> None:
    cmd = crawl_cmd(tmp_path, SILENT, 32222, "--store", str(tmp_path / "h.db"))
    code, _, err = await run([*cmd, "--vantage", "combined"])
    assert code == 2 and "--vantage" in err
