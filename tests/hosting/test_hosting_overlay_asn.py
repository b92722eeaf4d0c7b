"""Overlays may name the AS of their ranges; it then wins over the AS table's answer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.errors import DatasetError
from monitor.hosting import load_default_resolver, load_overlay


def test_overlay_asn_and_name_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "ops.json"
    path.write_text(json.dumps({"date": "2026-11-01", "ranges": [
        {"prefix": "127.60.0.0/16", "provider": "hetzner", "region": "fsn1", "asn": "AS24940",
         "as_name": "Hetzner Online GmbH"},
        {"prefix": "127.61.0.0/16", "provider": "aws", "region": "us-east-1"},
    ]}))  # fmt: skip
    resolver = load_default_resolver(offline=True, overlays=[path])
    hit = resolver.lookup("127.60.1.2")
    assert (hit.provider, hit.region, hit.asn, hit.as_name) == ("hetzner", "fsn1", 24940, "Hetzner Online GmbH")
    plain = resolver.lookup("127.61.1.2")
    assert (plain.provider, plain.asn) == ("aws", None)


def test_csv_overlay_columns_and_bad_asn(tmp_path: Path) -> None:
    good = tmp_path / "ok.csv"
    good.write_text("127.62.0.0/16,ovh,gra,FR,16276,OVH SAS\n")
    record = load_overlay(good).records[0]
    assert (record.asn, record.as_name, record.country) == (16276, "OVH SAS", "FR")
    bad = tmp_path / "bad.csv"
    bad.write_text("127.63.0.0/16,ovh,gra,FR,notanumber\n")
    with pytest.raises(DatasetError, match="asn must be an AS number"):
        load_overlay(bad)
