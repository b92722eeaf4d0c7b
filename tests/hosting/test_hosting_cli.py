"""``monitor classify`` and reader error messages: clear per-line errors, never a traceback."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.errors import DatasetError
from monitor.hosting.formats import read_aws, read_azure, read_gcp, read_geofeed, read_oracle, read_overlay

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, data_dir: Path) -> None:
    monkeypatch.setenv("MONITOR_DATA_DIR", str(data_dir))


def test_classify_json_with_bad_lines(env: None, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["classify", "--offline", "--json", "18.138.108.67", "not-an-ip", "127.0.0.1", "192.168.1.1"])
    out = json.loads(capsys.readouterr().out)
    assert code == 2
    assert out[0]["provider"] == "aws" and out[0]["region"] == "ap-southeast-1" and out[0]["data_date"] == "2026-10-26"
    assert out[1] == {"ip": "not-an-ip", "error": "not an IP address"}
    assert out[2]["error"].startswith("private, loopback or reserved") and "error" in out[3]


def test_classify_stdin_table(env: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("# comment\n157.90.35.166\n\n2a05:d014::1\n"))
    assert main(["classify", "--offline", "-"]) == 0
    out = capsys.readouterr().out
    assert "hetzner" in out and "aws" in out


def test_classify_accepts_loopback_covered_by_overlay(
    env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    overlay = tmp_path / "demo.json"
    overlay.write_text(
        json.dumps(
            {"date": "2026-11-27", "ranges": [{"prefix": "127.0.0.0/24", "provider": "aws", "region": "us-east-1"}]}
        )
    )
    assert main(["classify", "--offline", "--json", "--ranges", str(overlay), "127.0.0.9"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert (row["provider"], row["region"], row["source"], row["data_date"]) == (
        "aws",
        "us-east-1",
        "overlay:demo.json",
        "2026-11-27",
    )


def test_classify_bad_overlay_is_a_clear_error(env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("prefix,provider,region\n300.0.0.0/8,x,y\n")
    assert main(["classify", "--offline", "--ranges", str(bad), "1.1.1.1"]) == 1
    err = capsys.readouterr().err
    assert "bad prefix '300.0.0.0/8'" in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("reader", "raw", "message"),
    [
        (read_aws, b"{", "invalid JSON"),
        (
            read_aws,
            b'{"createDate": "2026-01-01-00-00-00", "prefixes": [{"ip_prefix": "3.0.0.1/24"}], "ipv6_prefixes": []}',
            "bad prefix",
        ),
        (read_aws, b'{"createDate": "x", "prefixes": [], "ipv6_prefixes": []}', "no usable date"),
        (read_gcp, b'{"creationTime": "2026-01-01", "prefixes": []}', "no ranges"),
        (read_oracle, b'{"last_updated_timestamp": "2026-01-01", "regions": [{"cidrs": 5}]}', "malformed entry"),
        (read_overlay, b"prefix,provider\n10.0.0.0/8\n", "needs at least prefix and provider"),
    ],
)
def test_malformed_files_raise_dataset_error(reader: object, raw: bytes, message: str) -> None:
    with pytest.raises(DatasetError, match=message):
        reader(raw, "test", None)  # type: ignore[operator]


def test_readers_on_fixtures() -> None:
    aws = read_aws((FIXTURES / "aws-ip-ranges.json").read_bytes(), "f")
    assert aws.data_date == "2026-11-20" and {r.region for r in aws.records} == {
        "ap-southeast-1",
        "us-east-1",
        None,
        "eu-central-1",
    }
    azure = read_azure((FIXTURES / "azure-service-tags.json").read_bytes(), "f", "2026-11-23")
    assert {(r.region, r.service) for r in azure.records} == {(None, "AZURECLOUD"), ("eastus", "AZURECLOUD.EASTUS")}
    with pytest.raises(DatasetError, match="carries no date"):
        read_azure(b"{}", "f")
    feed = read_geofeed((FIXTURES / "linode-geofeed.csv").read_bytes(), "f", "2026-11-01", "linode")
    assert [(r.region, r.country) for r in feed.records] == [("Singapore", "SG"), ("Newark", "US")]  # city, not country
    gcp = read_gcp((FIXTURES / "gcp-cloud.json").read_bytes(), "f")
    assert [r.region for r in gcp.records] == ["europe-west4", "us-central1", None]
