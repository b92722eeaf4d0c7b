"""A simulated hosting overlay for the devnet: loopback blocks labelled with providers and regions.

The mix is stated, not measured: loosely shaped like published execution-layer figures (a large AWS and
Hetzner presence, a long tail of smaller clouds, about 40 % residential / business networks) so that the demo's
tables and charts look like the real thing. Every figure computed from it is marked "simulated".
"""

from __future__ import annotations

import ipaddress
import random
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Final

__all__ = ["SIMULATED_MIX", "BLOCK_PREFIX", "build_overlay"]

# provider -> (weight, AS number, AS name, [(region, country), ...]); the AS facts are the providers' real ones.
SIMULATED_MIX: Final[dict[str, tuple[float, int, str, list[tuple[str, str]]]]] = {
    "aws": (0.20, 16509, "AMAZON-02", [("us-east-1", "US"), ("us-east-2", "US"), ("eu-central-1", "DE"),
                                       ("ap-northeast-1", "JP")]),
    "hetzner": (0.16, 24940, "Hetzner Online GmbH", [("fsn1", "DE"), ("nbg1", "DE"), ("hel1", "FI"), ("ash", "US")]),
    "ovh": (0.06, 16276, "OVH SAS", [("gra", "FR"), ("rbx", "FR"), ("bhs", "CA")]),
    "gcp": (0.05, 396982, "GOOGLE-CLOUD-PLATFORM", [("us-central1", "US"), ("europe-west1", "BE")]),
    "contabo": (0.04, 51167, "Contabo GmbH", [("nuremberg", "DE"), ("st-louis", "US")]),
    "digitalocean": (0.03, 14061, "DIGITALOCEAN-ASN", [("fra1", "DE"), ("nyc3", "US")]),
    "azure": (0.02, 8075, "MICROSOFT-CORP-MSN-AS-BLOCK", [("eastus", "US"), ("westeurope", "NL")]),
    "other:Comcast Cable": (0.12, 7922, "COMCAST-7922", [("", "US")]),
    "other:Deutsche Telekom AG": (0.10, 3320, "Deutsche Telekom AG", [("", "DE")]),
    "other:Orange S.A.": (0.07, 3215, "Orange S.A.", [("", "FR")]),
    "other:KDDI Corporation": (0.05, 2516, "KDDI CORPORATION", [("", "JP")]),
    "other:Rogers Communications": (0.04, 812, "ROGERS-COMMUNICATIONS", [("", "CA")]),
    "other:Telstra Limited": (0.06, 1221, "Telstra Limited", [("", "AU")]),
}  # fmt: skip

BLOCK_PREFIX: Final = 30  # four addresses share a label, like a small hosted subnet


def build_overlay(ips: Sequence[str], seed: int, date: str | None = None) -> dict[str, Any]:
    """An overlay (the JSON form ``monitor snapshot --ranges`` reads) covering every address in ``ips``."""
    rng = random.Random(seed)
    providers = list(SIMULATED_MIX)
    weights = [SIMULATED_MIX[p][0] for p in providers]
    blocks = sorted({ipaddress.ip_network(f"{ip}/{BLOCK_PREFIX}", strict=False) for ip in ips})
    ranges = []
    for block in blocks:
        provider = rng.choices(providers, weights)[0]
        _, asn, as_name, places = SIMULATED_MIX[provider]
        region, country = rng.choice(places)
        ranges.append({"prefix": str(block), "provider": provider, "region": region, "country": country,
                       "asn": asn, "as_name": as_name})  # fmt: skip
    return {
        "date": date or datetime.now(UTC).strftime("%Y-%m-%d"),
        "note": "SIMULATED hosting labels for a loopback devnet; see monitor/sim/overlay.py for the stated mix",
        "ranges": ranges,
    }
