"""The ASN dimension's key: the number when a table gave one, else the AS name (offline GeoLite2 has no numbers)."""

from __future__ import annotations

from monitor.analysis.concentration import dimension_key
from monitor.snapshot import Attribution


def test_asn_key_prefers_number_then_name_then_unknown() -> None:
    assert dimension_key(Attribution("aws", asn=16509, as_name="AMAZON-02"), "asn") == "AS16509"
    assert dimension_key(Attribution("hetzner", as_name="Hetzner Online GmbH"), "asn") == "AS-name:Hetzner Online GmbH"
    assert dimension_key(Attribution("other:x"), "asn") == "unknown"
    assert dimension_key(None, "asn") == "unknown"
